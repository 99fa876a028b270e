package handlers

import (
	"net/http"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// Points that expire: a street's policy (set with PATCH /api/v1/units/{id}
// {"expiry_years": N}), the warning in a balance, and the preview.

// patchExpiry sets the expiry policy of current, a street in the caller's
// scope (an administrator, or the street's own organiser: an organiser of a
// community does not reach the street at all). The policy goes alone.
func (s *server) patchExpiry(c echo.Context, current ledger.Unit, req unitPatch) error {
	switch {
	case current.Kind != ledger.UnitStreet:
		return ledger.Errorf(ledger.EINVALID, "unit.expiry_street")
	case req.Name != "" || req.Posts != nil || !req.NoticePatch.Empty():
		return ledger.Errorf(ledger.EINVALID, "unit.expiry_alone")
	}
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	unit, err := s.cfg.Expiry.SetExpiryPolicy(ctx, current.ID, req.ExpiryPatch, u.ID)
	if err != nil {
		return err
	}
	s.cfg.Logger.InfoContext(ctx, "expiry policy changed", "street_id", unit.ID.String(), "street", unit.Name,
		"from_years", current.ExpiryYears, "to_years", unit.ExpiryYears,
		"user_id", u.ID.String(), "user_login", u.Login, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	unit.CreatedAt = unit.CreatedAt.In(s.cfg.Location)
	unit.ExpirySetAt = unit.ExpirySetAt.In(s.cfg.Location)
	return c.JSON(http.StatusOK, unit)
}

// expiring is the warning of a balance: what expires at the next cutoff,
// from ledger.ExpiryWarningDays before it; nil otherwise.
func (s *server) expiring(c echo.Context, a ledger.Account) (*ledger.Expiring, error) {
	x, ok, err := s.cfg.Expiry.Expiring(c.Request().Context(), a)
	if err != nil || !ok {
		return nil, err
	}
	x.At = x.At.In(s.cfg.Location)
	return &x, nil
}

// expiryPreviewView is a street's preview with the records of its runs.
type expiryPreviewView struct {
	ledger.ExpiryPreview
	Runs []ledger.ExpiryRun `json:"runs"`
}

// expiryPreview answers what a street's policy (or the one given by years)
// would take, for a street in the caller's scope.
func (s *server) expiryPreview(c echo.Context) error {
	street, err := queryID(c, "street")
	if err != nil {
		return err
	}
	if street == uuid.Nil {
		return ledger.Errorf(ledger.EINVALID, "expiry.street_required")
	}
	years, err := queryUint(c, "years", 0)
	if err != nil {
		return err
	}
	if years > ledger.MaxExpiryYears {
		return ledger.Errorf(ledger.EINVALID, "unit.expiry_years_invalid", ledger.MinExpiryYears, ledger.MaxExpiryYears)
	}
	limit, err := queryLimit(c, 50, 500)
	if err != nil {
		return err
	}
	if _, err := s.unitInScope(c, street); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := s.cfg.Expiry.ExpiryPreview(ctx, street, int(years), limit)
	if err != nil {
		return err
	}
	runs, err := s.cfg.Expiry.ExpiryRuns(ctx, street)
	if err != nil {
		return err
	}
	p.DueCutoff, p.NextCutoff = p.DueCutoff.In(s.cfg.Location), p.NextCutoff.In(s.cfg.Location)
	view := expiryPreviewView{ExpiryPreview: p, Runs: make([]ledger.ExpiryRun, 0, len(runs))}
	for _, r := range runs {
		r.Cutoff, r.At = r.Cutoff.In(s.cfg.Location), r.At.In(s.cfg.Location)
		view.Runs = append(view.Runs, r)
	}
	return c.JSON(http.StatusOK, view)
}
