package handlers

import (
	"bytes"
	"cmp"
	"maps"
	"net/http"
	"slices"
	"strings"

	"aixin/ledger"
	"aixin/natural"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// The member-card sheet (志愿者卡): organisers print the member cards of
// many people on A4 for those without a smartphone, several to a page with
// lines to cut along. Each card has the name, the phone masked, the
// community and the member-card QR, which holds the signed card code
// (ledger.SignCard, as /api/v1/members/{id}/card.png draws it), never the phone.

// maxCardsPerSheet bounds one request of member cards: a printer's
// afternoon, and a page that still loads at once.
const maxCardsPerSheet = 200

// memberCardView is one card of the sheet.
type memberCardView struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	Phone     string    `json:"phone"` // masked
	Community string    `json:"community"`
	Unit      string    `json:"unit"`
	QRURL     string    `json:"qr_url"`
}

// memberCards answers the cards of the members given by ids (comma
// separated), or else of the members the list's filters select, in the
// order of the unit tree and then by name. More than maxCardsPerSheet is
// refused with a message that says how to narrow it; a member outside the
// caller's scope is 404.
func (s *server) memberCards(c echo.Context) error {
	ctx := c.Request().Context()
	var members []ledger.Member
	if raw := c.QueryParam("ids"); raw != "" {
		parts := strings.Split(raw, ",")
		if len(parts) > maxCardsPerSheet {
			return ledger.Errorf(ledger.EINVALID, "cards.too_many", maxCardsPerSheet)
		}
		seen := map[uuid.UUID]bool{}
		for _, p := range parts {
			id, err := uuid.Parse(strings.TrimSpace(p))
			if err != nil || len(strings.TrimSpace(p)) != 36 {
				return ledger.Errorf(ledger.EINVALID, "query.id_invalid", "ids", truncate(p, 40))
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			m, err := s.cfg.Directory.Member(ctx, id)
			if err == nil {
				_, err = s.unitInScope(c, m.UnitID)
			}
			if err != nil {
				return ledger.Errorf(ledger.ENOTFOUND, "member.not_found")
			}
			members = append(members, m)
		}
	} else {
		f, err := s.memberFilter(c)
		if err != nil {
			return err
		}
		f.Limit = maxCardsPerSheet + 1
		if members, err = s.cfg.Directory.Members(ctx, f); err != nil {
			return err
		}
		if len(members) > maxCardsPerSheet {
			return ledger.Errorf(ledger.EINVALID, "cards.too_many", maxCardsPerSheet)
		}
	}
	units, err := s.unitsByID(c)
	if err != nil {
		return err
	}
	place := map[uuid.UUID]int{}
	for i, u := range natural.UnitTree(slices.Collect(maps.Values(units))) {
		place[u.ID] = i
	}
	col := collate.New(language.Chinese)
	var buf collate.Buffer
	keys := make(map[uuid.UUID][]byte, len(members))
	for _, m := range members {
		keys[m.ID] = col.KeyFromString(&buf, m.Name)
	}
	slices.SortStableFunc(members, func(a, b ledger.Member) int {
		return cmp.Or(cmp.Compare(place[a.UnitID], place[b.UnitID]), bytes.Compare(keys[a.ID], keys[b.ID]))
	})
	out := make([]memberCardView, 0, len(members))
	for _, m := range members {
		unit := units[m.UnitID]
		v := memberCardView{ID: m.ID, Name: m.Name, Phone: ledger.MaskPhone(m.Phone), Community: issuerOf(unit, units).Name,
			QRURL: "/api/v1/members/" + m.ID.String() + "/card.png"}
		if v.Community != unit.Name {
			v.Unit = unit.Name
		}
		out = append(out, v)
	}
	u, _ := currentUser(c)
	s.cfg.Logger.InfoContext(ctx, "member card sheet", "cards", len(out), "user_id", u.ID.String(), "user_login", u.Login,
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	return c.JSON(http.StatusOK, map[string]any{"cards": out, "max": maxCardsPerSheet})
}
