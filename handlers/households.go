package handlers

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"aixin/ledger"
	"aixin/natural"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// Households (户, 一家亲): an organiser (over their subtree) or a grid worker
// (over their grid) makes a household at an address in a grid or building,
// puts members in it, marks the minors and chooses the head; the household's
// points, held points and entries are shown apart from each member's own.
// A volunteer sees only the household they belong to, and its entries when
// they are an adult of it; they change nothing. Another community's
// household is "not found", as every object is.

// householdRoles may make and change households; volunteers may read their own.
var householdRoles = []ledger.Role{ledger.RoleAdmin, ledger.RoleOrganizer, ledger.RoleGridWorker}

// householdRoutes registers the households' API.
func (s *server) householdRoutes(api *echo.Group) {
	manage := []echo.MiddlewareFunc{s.loadSession, requireRole(householdRoles...)}
	read := []echo.MiddlewareFunc{s.loadSession, requireRole(append(slices.Clone(householdRoles), ledger.RoleVolunteer)...)}
	api.POST("/households", s.createHousehold, manage...)
	api.GET("/households", s.listHouseholds, manage...)
	api.GET("/households/:id", s.getHousehold, read...)
	api.PUT("/households/:id/members", s.setHouseholdMembers, manage...)
	api.GET("/households/:id/balance", s.householdBalance, read...)
	api.GET("/households/:id/entries", s.householdEntries, read...)
	api.GET("/households/:id/candidates", s.householdCandidates, manage...)
	api.GET("/members/:id/household", s.memberHousehold, read...)
	api.PATCH("/shops/:id", s.updateShop, s.loadSession, requireRole(organiserRoles...))
}

// householdView is a household as its pages show it: the address with its
// grid or building, the members by name with the head and the minors, and
// its points apart from anyone's own.
type householdView struct {
	ID       uuid.UUID `json:"id"`
	Address  string    `json:"address"`
	UnitID   uuid.UUID `json:"unit_id"`
	UnitName string    `json:"unit_name"`
	// UnitLabel is the unit with the units above it that the caller may see
	// (第一网格 / 5号楼).
	UnitLabel string                `json:"unit_label"`
	HeadID    uuid.UUID             `json:"head_id,omitzero"`
	HeadName  string                `json:"head_name,omitempty"`
	Members   []householdMemberView `json:"members"`
	CreatedAt time.Time             `json:"created_at"`
	UpdatedAt time.Time             `json:"updated_at,omitzero"`
	// Points the household owns: Available to spend and Held in open vouchers.
	Points    ledger.Points `json:"points"`
	Held      ledger.Points `json:"held"`
	Available ledger.Points `json:"available"`
	// MaySpend says whether the caller (a volunteer) may spend its points:
	// an adult member of it.
	MaySpend bool `json:"may_spend"`
	// Expiring is what of the household's points expires at its street's
	// next cutoff, from 30 days before it (as a member's balance says).
	Expiring *ledger.Expiring `json:"expiring,omitempty"`
}

// householdMemberView is one member of a household. Staff see the phone
// masked and the member's own points (held ones included), apart from the
// household's.
type householdMemberView struct {
	MemberID uuid.UUID           `json:"member_id"`
	Minor    bool                `json:"minor"`
	Head     bool                `json:"head"`
	Name     string              `json:"name"`
	Phone    string              `json:"phone,omitempty"`
	Status   ledger.MemberStatus `json:"status,omitempty"`
	Points   *ledger.Points      `json:"points,omitempty"`
}

// householdFor loads household id and its unit if the caller may see it:
// staff whose scope covers its unit, or a volunteer who belongs to it.
func (s *server) householdFor(c echo.Context, id uuid.UUID) (ledger.Household, ledger.Unit, error) {
	ctx := c.Request().Context()
	notFound := ledger.Errorf(ledger.ENOTFOUND, "household.not_found")
	h, err := s.cfg.Households.Household(ctx, id)
	if err != nil {
		return h, ledger.Unit{}, err
	}
	u, _ := currentUser(c)
	if u.Role == ledger.RoleVolunteer {
		if u.MemberID == uuid.Nil || !h.Has(u.MemberID) {
			return h, ledger.Unit{}, notFound
		}
		unit, err := s.cfg.Directory.Unit(ctx, h.UnitID)
		return h, unit, err
	}
	unit, err := s.unitInScope(c, h.UnitID)
	if ledger.ErrorCode(err) == ledger.ENOTFOUND {
		return h, unit, notFound
	}
	return h, unit, err
}

// householdInPath is householdFor of the path parameter id.
func (s *server) householdInPath(c echo.Context) (ledger.Household, ledger.Unit, error) {
	id, err := paramID(c, "id", "household.not_found")
	if err != nil {
		return ledger.Household{}, ledger.Unit{}, err
	}
	return s.householdFor(c, id)
}

// householdFigures reads a household's available and held points.
func (s *server) householdFigures(ctx context.Context, h ledger.Household) (avail, held ledger.Points, err error) {
	b, err := s.cfg.Journal.Balance(ctx, h.Account())
	if err != nil {
		return 0, 0, err
	}
	held, err = s.cfg.Households.HouseholdHeld(ctx, h.ID)
	return b.Points, held, err
}

// viewHousehold renders h for the caller. units are the units by id; staff
// get each member's phone (masked) and own points when full is set.
func (s *server) viewHousehold(c echo.Context, h ledger.Household, units map[uuid.UUID]ledger.Unit, full bool) (householdView, error) {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	staff := u.Role != ledger.RoleVolunteer
	unit := units[h.UnitID]
	v := householdView{ID: h.ID, Address: h.Address, UnitID: h.UnitID, UnitName: unit.Name, HeadID: h.HeadID,
		Members: make([]householdMemberView, 0, len(h.Members)), CreatedAt: h.CreatedAt.In(s.cfg.Location)}
	if !h.UpdatedAt.IsZero() {
		v.UpdatedAt = h.UpdatedAt.In(s.cfg.Location)
	}
	// Staff see the units of the path in their scope (东河园社区 / 第一网格),
	// a volunteer the grid and building.
	var path []string
	for _, id := range unit.Path {
		p, ok := units[id]
		switch {
		case !ok:
		case staff && scopeOf(u).Covers(p), !staff && (p.Kind == ledger.UnitGrid || p.Kind == ledger.UnitBuilding):
			path = append(path, p.Name)
		}
	}
	v.UnitLabel = strings.Join(path, " / ")
	for _, hm := range h.Members {
		mv := householdMemberView{MemberID: hm.MemberID, Minor: hm.Minor, Head: hm.MemberID == h.HeadID}
		m, err := s.cfg.Directory.Member(ctx, hm.MemberID)
		if err != nil && ledger.ErrorCode(err) != ledger.ENOTFOUND {
			return v, err
		}
		mv.Name = m.Name
		if staff {
			mv.Phone, mv.Status = ledger.MaskPhone(m.Phone), m.Status
			if full {
				points, _, err := s.memberFigures(ctx, hm.MemberID)
				if err != nil {
					return v, err
				}
				mv.Points = &points
			}
		}
		if mv.Head {
			v.HeadName = m.Name
		}
		v.Members = append(v.Members, mv)
	}
	avail, held, err := s.householdFigures(ctx, h)
	if err != nil {
		return v, err
	}
	v.Points, v.Held, v.Available = avail+held, held, avail
	v.MaySpend = u.Role == ledger.RoleVolunteer && h.MaySpend(u.MemberID)
	v.Expiring, err = s.expiring(c, h.Account())
	return v, err
}

func (s *server) createHousehold(c echo.Context) error {
	var req struct {
		Address string    `json:"address"`
		UnitID  uuid.UUID `json:"unit_id"`
	}
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	if _, err := s.unitInScope(c, req.UnitID); err != nil {
		return err
	}
	// A new household may start with points: organisers make them, grid
	// workers look after their members.
	if u, _ := currentUser(c); u.Role != ledger.RoleAdmin && u.Role != ledger.RoleOrganizer {
		return ledger.Errorf(ledger.EFORBIDDEN, "household.create_staff")
	}
	ctx := c.Request().Context()
	h, err := s.cfg.Households.CreateHousehold(ctx, req.Address, req.UnitID, s.cfg.HouseholdOpeningPoints)
	if err != nil {
		return err
	}
	units, err := s.unitsMap(ctx)
	if err != nil {
		return err
	}
	v, err := s.viewHousehold(c, h, units, true)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

// maxHouseholdsLimit caps one page of the household list.
const maxHouseholdsLimit = 200

type householdsPage struct {
	Households []householdView `json:"households"`
	// NextAfter is the cursor of the next page (the last household's id);
	// empty on the last page.
	NextAfter string `json:"next_after"`
	Total     int    `json:"total"`
}

// listHouseholds lists the households in the caller's scope, in the order
// of the unit tree and then of their addresses (2单元 before 10单元),
// filtered by unit (its subtree) and by q, a part of the address or of a
// member's name (or the last digits of their phone), a page at a time.
func (s *server) listHouseholds(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	for k := range c.QueryParams() {
		switch k {
		case "unit_id", "q", "limit", "after", "lang":
		default:
			return ledger.Errorf(ledger.EINVALID, "household.param_unknown", truncate(k, 32))
		}
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	if utf8.RuneCountInString(q) > 64 {
		return ledger.Errorf(ledger.EINVALID, "query.too_long", "q")
	}
	unitID, err := queryID(c, "unit_id")
	if err != nil {
		return err
	}
	after, err := queryID(c, "after")
	if err != nil {
		return err
	}
	limit, err := queryLimit(c, 50, maxHouseholdsLimit)
	if err != nil {
		return err
	}
	scope := scopeOf(u)
	if unitID != uuid.Nil {
		if _, err := s.unitInScope(c, unitID); err != nil {
			return err
		}
		scope = ledger.Scope{Unit: unitID}
	}
	all, err := s.cfg.Households.Households(ctx, scope)
	if err != nil {
		return err
	}
	if q != "" {
		// Members whose name (or phone) matches, in the caller's scope.
		found, err := s.cfg.Directory.Members(ctx, ledger.MemberFilter{Scope: scopeOf(u), Query: q, Limit: 10000})
		if err != nil {
			return err
		}
		match := make(map[uuid.UUID]bool, len(found))
		for _, m := range found {
			match[m.ID] = true
		}
		all = slices.DeleteFunc(all, func(h ledger.Household) bool {
			if strings.Contains(h.Address, q) {
				return false
			}
			return !slices.ContainsFunc(h.Members, func(hm ledger.HouseholdMember) bool { return match[hm.MemberID] })
		})
	}
	units, err := s.unitsMap(ctx)
	if err != nil {
		return err
	}
	natural.SortHouseholds(all, units)
	page := householdsPage{Households: []householdView{}, Total: len(all)}
	start := 0
	if after != uuid.Nil {
		i := slices.IndexFunc(all, func(h ledger.Household) bool { return h.ID == after })
		if i < 0 {
			return ledger.Errorf(ledger.EINVALID, "query.id_invalid", "after", after.String())
		}
		start = i + 1
	}
	end := min(len(all), start+limit)
	for _, h := range all[start:end] {
		v, err := s.viewHousehold(c, h, units, false)
		if err != nil {
			return err
		}
		page.Households = append(page.Households, v)
	}
	if end < len(all) {
		page.NextAfter = all[end-1].ID.String()
	}
	return c.JSON(http.StatusOK, page)
}

func (s *server) getHousehold(c echo.Context) error {
	h, _, err := s.householdInPath(c)
	if err != nil {
		return err
	}
	units, err := s.unitsMap(c.Request().Context())
	if err != nil {
		return err
	}
	v, err := s.viewHousehold(c, h, units, true)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// setHouseholdMembers replaces a household's members and head. Members it
// does not have yet must lie in the caller's scope (anyone else is "not
// found", as on every list); the rule (ledger.ChangeHouseholdMembers) wants
// them in the household's community and in no other household.
func (s *server) setHouseholdMembers(c echo.Context) error {
	h, _, err := s.householdInPath(c)
	if err != nil {
		return err
	}
	var req ledger.HouseholdChange
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	if len(req.Members) > ledger.MaxHouseholdMembers {
		return ledger.Errorf(ledger.EINVALID, "household.too_many", ledger.MaxHouseholdMembers)
	}
	ctx := c.Request().Context()
	for _, m := range req.Members {
		if h.Has(m.MemberID) {
			continue
		}
		mem, err := s.cfg.Directory.Member(ctx, m.MemberID)
		if err != nil {
			return err
		}
		if _, err := s.unitInScope(c, mem.UnitID); err != nil {
			return ledger.Errorf(ledger.ENOTFOUND, "member.not_found")
		}
	}
	if h, err = s.cfg.Households.SetHouseholdMembers(ctx, h.ID, req); err != nil {
		return err
	}
	units, err := s.unitsMap(ctx)
	if err != nil {
		return err
	}
	v, err := s.viewHousehold(c, h, units, true)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// householdBalanceView is a household's points: Points it owns, Held in
// open vouchers, Available to spend.
type householdBalanceView struct {
	Points    ledger.Points `json:"points"`
	Held      ledger.Points `json:"held"`
	Available ledger.Points `json:"available"`
}

func (s *server) householdBalance(c echo.Context) error {
	h, _, err := s.householdInPath(c)
	if err != nil {
		return err
	}
	avail, held, err := s.householdFigures(c.Request().Context(), h)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, householdBalanceView{Points: avail + held, Held: held, Available: avail})
}

// householdEntries pages a household's journal entries, newest first, as a
// member's are paged: for staff over it and the household's adults.
func (s *server) householdEntries(c echo.Context) error {
	h, _, err := s.householdInPath(c)
	if err != nil {
		return err
	}
	if u, _ := currentUser(c); u.Role == ledger.RoleVolunteer && !h.MaySpend(u.MemberID) {
		return ledger.Errorf(ledger.EFORBIDDEN, "household.minor_entries")
	}
	before, err := queryUint(c, "before", 0)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c, 20, 200)
	if err != nil {
		return err
	}
	entries, err := s.cfg.Journal.AccountEntries(c.Request().Context(), h.Account(), before, limit)
	if err != nil {
		return err
	}
	page := memberEntriesPage{Entries: make([]ledger.Entry, 0, len(entries))}
	for _, e := range entries {
		e.Time = e.Time.In(s.cfg.Location)
		page.Entries = append(page.Entries, e)
	}
	if len(entries) == limit {
		page.NextBefore = entries[len(entries)-1].Seq
	}
	return c.JSON(http.StatusOK, page)
}

// candidateView is a member who could join a household, with the household
// they belong to now, if any.
type candidateView struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	Phone       string    `json:"phone"` // masked
	UnitName    string    `json:"unit_name"`
	HouseholdID uuid.UUID `json:"household_id,omitzero"`
	// HouseholdAddress names the household they are in now (when it lies in
	// the caller's scope).
	HouseholdAddress string `json:"household_address,omitempty"`
}

// householdCandidates finds active members of the household's community in
// the caller's scope by a part of their name or the last digits of their
// phone, at most 20, saying which of them are in a household already.
func (s *server) householdCandidates(c echo.Context) error {
	h, unit, err := s.householdInPath(c)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	switch {
	case utf8.RuneCountInString(q) > 64:
		return ledger.Errorf(ledger.EINVALID, "query.too_long", "q")
	case q == "":
		return c.JSON(http.StatusOK, map[string][]candidateView{"members": {}})
	}
	var community uuid.UUID
	if len(unit.Path) > 1 {
		community = unit.Path[1]
	}
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	found, err := s.cfg.Directory.Members(ctx, ledger.MemberFilter{Scope: scopeOf(u), Query: q, Status: ledger.MemberActive, Limit: 200})
	if err != nil {
		return err
	}
	units, err := s.unitsMap(ctx)
	if err != nil {
		return err
	}
	out := []candidateView{}
	for _, m := range found {
		if len(out) == 20 {
			break
		}
		if mu, ok := units[m.UnitID]; !ok || !mu.Within(community) {
			continue
		}
		cv := candidateView{ID: m.ID, Name: m.Name, Phone: ledger.MaskPhone(m.Phone), UnitName: units[m.UnitID].Name}
		if other, err := s.cfg.Households.MemberHousehold(ctx, m.ID); err == nil {
			cv.HouseholdID = other.ID
			if ou, ok := units[other.UnitID]; other.ID == h.ID || (ok && scopeOf(u).Covers(ou)) {
				cv.HouseholdAddress = ou.Name + " " + other.Address
			}
		} else if ledger.ErrorCode(err) != ledger.ENOTFOUND {
			return err
		}
		out = append(out, cv)
	}
	return c.JSON(http.StatusOK, map[string][]candidateView{"members": out})
}

// memberHousehold answers the household a member belongs to, for the member
// and staff over them: ENOTFOUND ("household.none") when they belong to none.
func (s *server) memberHousehold(c echo.Context) error {
	m, err := s.memberInScope(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	h, err := s.cfg.Households.MemberHousehold(ctx, m.ID)
	if err != nil {
		return err
	}
	units, err := s.unitsMap(ctx)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	v, err := s.viewHousehold(c, h, units, u.Role != ledger.RoleVolunteer)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// updateShop changes a shop's settings: whether it accepts household points.
func (s *server) updateShop(c echo.Context) error {
	id, err := paramID(c, "id", "shop.not_found")
	if err != nil {
		return err
	}
	var req struct {
		Households *bool `json:"households"`
	}
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	sh, unit, err := s.shopFor(c, id)
	if err != nil {
		return err
	}
	if req.Households == nil {
		return ledger.Errorf(ledger.EINVALID, "shop.nothing_to_change")
	}
	if sh, err = s.cfg.Households.SetShopHouseholds(c.Request().Context(), sh.ID, *req.Households); err != nil {
		return err
	}
	sh.CreatedAt = sh.CreatedAt.In(s.cfg.Location)
	return c.JSON(http.StatusOK, shopView{Shop: sh, UnitName: unit.Name})
}
