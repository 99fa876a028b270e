package handlers

import (
	"net/http"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// staffPatch is the body of PATCH /api/v1/users/{id}: what to change.
type staffPatch struct {
	Name     *string `json:"name"`
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
}

// updateUser changes a staff account: its name, whether it is disabled,
// its password (a reset). ledger.ChangeStaff decides who may; the answer
// is the account as the staff list shows it. Every change is logged with
// the actor.
func (s *server) updateUser(c echo.Context) error {
	id, err := paramID(c, "id", "user.not_found")
	if err != nil {
		return err
	}
	var req staffPatch
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	ch := ledger.StaffChange{Name: req.Name, Disabled: req.Disabled}
	if req.Password != nil {
		if err := checkPasswordRule(*req.Password); err != nil {
			return err
		}
		if ch.PasswordHash, err = s.hashPassword(*req.Password); err != nil {
			return err
		}
	}
	actor, _ := currentUser(c)
	current, _ := c.Get(ctxSession).(ledger.Hash)
	ctx := c.Request().Context()
	up, err := s.cfg.Users.ChangeStaff(ctx, actor.ID, id, ch, current)
	if err != nil {
		return err
	}
	if len(up.Changed) > 0 {
		s.cfg.Logger.InfoContext(ctx, "staff account changed",
			"user_id", up.User.ID.String(), "user_login", up.User.Login, "changed", up.Changed,
			"actor_id", actor.ID.String(), "actor_login", actor.Login,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	view := staffView{User: s.userView(up.User)}
	if up.User.ShopID != uuid.Nil {
		if sh, err := s.cfg.Shops.Shop(ctx, up.User.ShopID); err == nil {
			view.ShopName = sh.Name
		}
	}
	if up.User.UpdatedBy != uuid.Nil {
		if by, err := s.cfg.Users.UserByID(ctx, up.User.UpdatedBy); err == nil {
			view.UpdatedByName = displayName(by)
		}
	}
	return c.JSON(http.StatusOK, view)
}

// displayName is a user's name, or their login when they have none.
func displayName(u ledger.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Login
}
