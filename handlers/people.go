package handlers

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"aixin/ledger"
	"aixin/natural"
	"aixin/report"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"
)

// Who may see what: an administrator everything; an organiser the subtree of
// their unit; a volunteer only themself. An object outside the caller's
// scope is "not found", so that its existence is not revealed; a role that
// may not do an action at all is "forbidden" (requireRole).

// scopeOf returns the part of the tree a staff user acts on.
func scopeOf(u ledger.User) ledger.Scope {
	switch u.Role {
	case ledger.RoleAdmin:
		return ledger.Scope{All: true}
	case ledger.RoleOrganizer, ledger.RoleGridWorker:
		return ledger.Scope{Unit: u.UnitID}
	}
	return ledger.Scope{}
}

// paramID parses the path parameter name as a UUID; anything else is the
// object's "not found" (notFound is its catalogue key).
func paramID(c echo.Context, name, notFound string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param(name))
	if err != nil || len(c.Param(name)) != 36 {
		return uuid.Nil, ledger.Errorf(ledger.ENOTFOUND, notFound)
	}
	return id, nil
}

// queryID parses an optional UUID query parameter.
func queryID(c echo.Context, name string) (uuid.UUID, error) {
	v := c.QueryParam(name)
	if v == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return uuid.Nil, ledger.Errorf(ledger.EINVALID, "query.id_invalid", name, truncate(v, 40))
	}
	return id, nil
}

// queryBool parses an optional true/false query parameter.
func queryBool(c echo.Context, name string) (*bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, ledger.Errorf(ledger.EINVALID, "query.bool_invalid", name, truncate(v, 40))
	}
	return &b, nil
}

// unitInScope loads a unit the caller may act on.
func (s *server) unitInScope(c echo.Context, id uuid.UUID) (ledger.Unit, error) {
	u, _ := currentUser(c)
	unit, err := s.cfg.Directory.Unit(c.Request().Context(), id)
	if err != nil {
		return unit, err
	}
	if !scopeOf(u).Covers(unit) {
		return unit, ledger.Errorf(ledger.ENOTFOUND, "unit.not_found")
	}
	return unit, nil
}

// Units.

type unitsPage struct {
	Units []ledger.Unit `json:"units"`
}

func (s *server) listUnits(c echo.Context) error {
	u, _ := currentUser(c)
	all, err := s.cfg.Directory.Units(c.Request().Context())
	if err != nil {
		return err
	}
	page := unitsPage{Units: []ledger.Unit{}}
	for _, unit := range all {
		if scopeOf(u).Covers(unit) {
			unit.CreatedAt = unit.CreatedAt.In(s.cfg.Location)
			page.Units = append(page.Units, unit)
		}
	}
	page.Units = natural.UnitTree(page.Units)
	return c.JSON(http.StatusOK, page)
}

type unitRequest struct {
	Name     string          `json:"name"`
	Kind     ledger.UnitKind `json:"kind"`
	ParentID uuid.UUID       `json:"parent_id"`
	Posts    []string        `json:"posts"`
}

func (s *server) createUnit(c echo.Context) error {
	var req unitRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	if req.ParentID == uuid.Nil {
		if u.Role != ledger.RoleAdmin {
			return ledger.Errorf(ledger.EFORBIDDEN, "unit.street_admin_only")
		}
	} else if _, err := s.unitInScope(c, req.ParentID); err != nil {
		return err
	}
	unit, err := s.cfg.Directory.CreateUnit(c.Request().Context(), req.Name, req.Kind, req.ParentID, req.Posts)
	if err != nil {
		return err
	}
	unit.CreatedAt = unit.CreatedAt.In(s.cfg.Location)
	return c.JSON(http.StatusCreated, unit)
}

type unitPatch struct {
	Name  string    `json:"name"`
	Posts *[]string `json:"posts"`
	ledger.NoticePatch
	ledger.ExpiryPatch
}

func (s *server) updateUnit(c echo.Context) error {
	id, err := paramID(c, "id", "unit.not_found")
	if err != nil {
		return err
	}
	var req unitPatch
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	current, err := s.unitInScope(c, id)
	if err != nil {
		return err
	}
	if !req.ExpiryPatch.Empty() {
		return s.patchExpiry(c, current, req)
	}
	if !req.NoticePatch.Empty() {
		// The notice alone, in one transaction: nothing else changes with it.
		switch {
		case current.Kind != ledger.UnitCommunity:
			return ledger.Errorf(ledger.EINVALID, "unit.notice_community")
		case req.Name != "" || req.Posts != nil:
			return ledger.Errorf(ledger.EINVALID, "unit.notice_alone")
		}
		unit, err := s.cfg.Directory.SetPublicNotice(c.Request().Context(), id, req.NoticePatch)
		if err != nil {
			return err
		}
		unit.CreatedAt = unit.CreatedAt.In(s.cfg.Location)
		return c.JSON(http.StatusOK, unit)
	}
	var posts []string
	if req.Posts != nil {
		posts = append([]string{}, *req.Posts...)
	}
	unit, err := s.cfg.Directory.UpdateUnit(c.Request().Context(), id, req.Name, posts)
	if err != nil {
		return err
	}

	unit.CreatedAt = unit.CreatedAt.In(s.cfg.Location)
	return c.JSON(http.StatusOK, unit)
}

// Teams.

type teamsPage struct {
	Teams []ledger.Team `json:"teams"`
}

func (s *server) listTeams(c echo.Context) error {
	unitID, err := queryID(c, "unit_id")
	if err != nil {
		return err
	}
	if unitID != uuid.Nil {
		if _, err := s.unitInScope(c, unitID); err != nil {
			return err
		}
	}
	ctx := c.Request().Context()
	units, err := s.unitsByID(c)
	if err != nil {
		return err
	}
	all, err := s.cfg.Directory.Teams(ctx)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	page := teamsPage{Teams: []ledger.Team{}}
	for _, t := range all {
		tu := units[t.UnitID]
		if scopeOf(u).Covers(tu) && (unitID == uuid.Nil || tu.Within(unitID)) {
			page.Teams = append(page.Teams, t)
		}
	}
	natural.SortTeams(page.Teams, natural.UnitTree(slices.Collect(maps.Values(units))))
	return c.JSON(http.StatusOK, page)
}

func (s *server) unitsByID(c echo.Context) (map[uuid.UUID]ledger.Unit, error) {
	return s.unitsMap(c.Request().Context())
}

// unitsMap is unitsByID outside a request.
func (s *server) unitsMap(ctx context.Context) (map[uuid.UUID]ledger.Unit, error) {
	return report.UnitsByID(ctx, s.cfg.Directory)
}

type teamRequest struct {
	Name   string          `json:"name"`
	Kind   ledger.TeamKind `json:"kind"`
	UnitID uuid.UUID       `json:"unit_id"`
}

func (s *server) createTeam(c echo.Context) error {
	var req teamRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	if _, err := s.unitInScope(c, req.UnitID); err != nil {
		return err
	}
	t, err := s.cfg.Directory.CreateTeam(c.Request().Context(), ledger.Team{Name: req.Name, Kind: req.Kind, UnitID: req.UnitID})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}

func (s *server) categories(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string][]string{"categories": ledger.Categories})
}

// Members.

// memberView is a member as the API shows it, with the unit's name.
type memberView struct {
	ledger.Member
	UnitName string `json:"unit_name"`
}

type membersPage struct {
	Members   []memberListRow `json:"members"`
	NextAfter string          `json:"next_after"`
}

// memberListRow is a member on the list, with the points they own (held
// ones included, as GET /api/v1/members/{id}/balance counts them) and
// their confirmed service minutes.
type memberListRow struct {
	memberView
	Points         ledger.Points `json:"points"`
	ServiceMinutes int64         `json:"service_minutes"`
}

// memberFigures reads a member's points (held ones included) and service
// minutes: two reads of kept figures, no scan. A member with no entries
// yet has neither.
func (s *server) memberFigures(ctx context.Context, id uuid.UUID) (ledger.Points, int64, error) {
	b, err := s.cfg.Journal.Balance(ctx, ledger.MemberAccount(id))
	if err != nil && ledger.ErrorCode(err) != ledger.ENOTFOUND {
		return 0, 0, err
	}
	held, err := s.cfg.Shops.Held(ctx, id)
	if err != nil {
		return 0, 0, err
	}
	return b.Points + held, b.ServiceMinutes, nil
}

// maxMembersLimit caps one page of the member list.
const maxMembersLimit = 200

// memberFilter reads the member list's filters from the query (q, unit_id,
// team_id, party_member, on_duty, status) within the caller's scope; a unit
// outside it is 404.
func (s *server) memberFilter(c echo.Context) (ledger.MemberFilter, error) {
	u, _ := currentUser(c)
	f := ledger.MemberFilter{Scope: scopeOf(u), Query: c.QueryParam("q"), Status: ledger.MemberStatus(c.QueryParam("status"))}
	if utf8.RuneCountInString(f.Query) > 64 {
		return f, ledger.Errorf(ledger.EINVALID, "query.too_long", "q")
	}
	var err error
	if f.UnitID, err = queryID(c, "unit_id"); err != nil {
		return f, err
	}
	if f.TeamID, err = queryID(c, "team_id"); err != nil {
		return f, err
	}
	if f.PartyMember, err = queryBool(c, "party_member"); err != nil {
		return f, err
	}
	if f.OnDuty, err = queryBool(c, "on_duty"); err != nil {
		return f, err
	}
	switch f.Status {
	case "", ledger.MemberActive, ledger.MemberSuspended, ledger.MemberLeft:
	default:
		return f, ledger.Errorf(ledger.EINVALID, "member.status_invalid", truncate(string(f.Status), 40))
	}
	if f.UnitID != uuid.Nil {
		if _, err := s.unitInScope(c, f.UnitID); err != nil {
			return f, err
		}
	}
	return f, nil
}

func (s *server) listMembers(c echo.Context) error {
	f, err := s.memberFilter(c)
	if err != nil {
		return err
	}
	if f.After, err = queryID(c, "after"); err != nil {
		return err
	}
	if f.Limit, err = queryLimit(c, 50, maxMembersLimit); err != nil {
		return err
	}
	limit := f.Limit
	f.Limit++ // one more, to know whether there is a next page
	members, err := s.cfg.Directory.Members(c.Request().Context(), f)
	if err != nil {
		return err
	}
	more := len(members) > limit
	members = members[:min(len(members), limit)]
	units, err := s.unitsByID(c)
	if err != nil {
		return err
	}
	// The figures of the page's members only: O(page), whatever the list's length.
	page := membersPage{Members: make([]memberListRow, 0, len(members))}
	for _, m := range members {
		points, minutes, err := s.memberFigures(c.Request().Context(), m.ID)
		if err != nil {
			return err
		}
		m.Phone = ledger.MaskPhone(m.Phone)
		s.localTimes(&m)
		page.Members = append(page.Members, memberListRow{memberView{m, units[m.UnitID].Name}, points, minutes})
	}
	if more {
		page.NextAfter = members[len(members)-1].ID.String()
	}
	return c.JSON(http.StatusOK, page)
}

func (s *server) localTimes(m *ledger.Member) {
	m.CreatedAt = m.CreatedAt.In(s.cfg.Location)
	m.UpdatedAt = m.UpdatedAt.In(s.cfg.Location)
}

// memberRequest is the body of POST and PATCH /members.
type memberRequest struct {
	Name        string              `json:"name"`
	Phone       string              `json:"phone"`
	UnitID      uuid.UUID           `json:"unit_id"`
	Password    string              `json:"password"`
	PartyMember bool                `json:"party_member"`
	TeamIDs     []uuid.UUID         `json:"team_ids"`
	Skills      []string            `json:"skills"`
	Status      ledger.MemberStatus `json:"status"`
	OnDuty      *ledger.OnDuty      `json:"on_duty"`
	Posts       []string            `json:"posts"`
}

func (r memberRequest) member() ledger.Member {
	return ledger.Member{Name: r.Name, Phone: r.Phone, UnitID: r.UnitID, PartyMember: r.PartyMember,
		TeamIDs: r.TeamIDs, Skills: r.Skills, Status: r.Status, OnDuty: r.OnDuty, Posts: r.Posts}
}

// checkPasswordRule returns EINVALID for a password too short or too long to use.
func checkPasswordRule(pw string) error {
	if utf8.RuneCountInString(pw) < 8 {
		return ledger.Errorf(ledger.EINVALID, "member.password_short")
	}
	if len(pw) > maxPasswordLen {
		return ledger.Errorf(ledger.EINVALID, "login.too_long")
	}
	return nil
}

// hashPassword hashes a password with the server's bound on concurrent hashes.
func (s *server) hashPassword(pw string) (string, error) {
	s.hashSlots <- struct{}{}
	defer func() { <-s.hashSlots }()
	return HashPassword(pw)
}

func (s *server) createMember(c echo.Context) error {
	var req memberRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	if req.UnitID == uuid.Nil {
		return ledger.Errorf(ledger.EINVALID, "member.unit_required")
	}
	if _, err := s.unitInScope(c, req.UnitID); err != nil {
		return err
	}
	if err := s.teamsInScope(c, req.TeamIDs); err != nil {
		return err
	}
	hash := ""
	if req.Password != "" {
		if err := checkPasswordRule(req.Password); err != nil {
			return err
		}
		var err error
		if hash, err = s.hashPassword(req.Password); err != nil {
			return err
		}
	}
	m, err := s.cfg.Directory.CreateMember(c.Request().Context(), req.member(), hash)
	if err != nil {
		return err
	}
	return s.renderMember(c, http.StatusCreated, m)
}

// teamsInScope checks that every team is one the caller may use.
func (s *server) teamsInScope(c echo.Context, ids []uuid.UUID) error {
	for _, id := range ids {
		t, err := s.cfg.Directory.Team(c.Request().Context(), id)
		if err != nil {
			return err
		}
		if _, err := s.unitInScope(c, t.UnitID); err != nil {
			return ledger.Errorf(ledger.ENOTFOUND, "team.not_found")
		}
	}
	return nil
}

func (s *server) renderMember(c echo.Context, status int, m ledger.Member) error {
	unit, err := s.cfg.Directory.Unit(c.Request().Context(), m.UnitID)
	if err != nil {
		return err
	}
	s.localTimes(&m)
	return c.JSON(status, memberView{m, unit.Name})
}

// memberInScope loads the member of path parameter id if the caller may
// see them: staff over the member's unit, or the member themself.
func (s *server) memberInScope(c echo.Context) (ledger.Member, error) {
	id, err := paramID(c, "id", "member.not_found")
	if err != nil {
		return ledger.Member{}, err
	}
	u, _ := currentUser(c)
	if u.Role == ledger.RoleVolunteer && u.MemberID != id {
		return ledger.Member{}, ledger.Errorf(ledger.ENOTFOUND, "member.not_found")
	}
	m, err := s.cfg.Directory.Member(c.Request().Context(), id)
	if err != nil {
		return m, err
	}
	if u.Role == ledger.RoleVolunteer {
		return m, nil
	}
	if _, err := s.unitInScope(c, m.UnitID); err != nil {
		return m, ledger.Errorf(ledger.ENOTFOUND, "member.not_found")
	}
	return m, nil
}

func (s *server) getMember(c echo.Context) error {
	m, err := s.memberInScope(c)
	if err != nil {
		return err
	}
	return s.renderMember(c, http.StatusOK, m)
}

func (s *server) updateMember(c echo.Context) error {
	old, err := s.memberInScope(c)
	if err != nil {
		return err
	}
	var req memberRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	if req.Password != "" {
		return ledger.Errorf(ledger.EINVALID, "member.password_separately")
	}
	if req.UnitID == uuid.Nil {
		return ledger.Errorf(ledger.EINVALID, "member.unit_required")
	}
	if _, err := s.unitInScope(c, req.UnitID); err != nil {
		return err
	}
	// Teams the member is in already may lie outside the caller's scope (a
	// street's team); only teams being added must be the caller's.
	var added []uuid.UUID
	for _, id := range req.TeamIDs {
		if !slices.Contains(old.TeamIDs, id) {
			added = append(added, id)
		}
	}
	if err := s.teamsInScope(c, added); err != nil {
		return err
	}
	m := req.member()
	m.ID = old.ID
	if m, err = s.cfg.Directory.UpdateMember(c.Request().Context(), m); err != nil {
		return err
	}
	return s.renderMember(c, http.StatusOK, m)
}

type passwordRequest struct {
	OldPassword string `json:"old_password"`
	Password    string `json:"password"`
}

// setMemberPassword sets or resets a volunteer's password (organisers).
func (s *server) setMemberPassword(c echo.Context) error {
	m, err := s.memberInScope(c)
	if err != nil {
		return err
	}
	var req passwordRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	if err := checkPasswordRule(req.Password); err != nil {
		return err
	}
	user, err := s.cfg.Users.UserByLogin(c.Request().Context(), m.Phone)
	if err != nil {
		return err
	}
	hash, err := s.hashPassword(req.Password)
	if err != nil {
		return err
	}
	if err := s.cfg.Users.SetPassword(c.Request().Context(), user.ID, hash); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// changeMyPassword lets anyone logged in change their own password, given
// the current one. A guess at the current password counts as a failed login
// of the account (s.loginFail), before the hash is checked, so that a stolen
// session cannot try more passwords than the login page allows, in parallel
// or not; the right one forgets the count.
func (s *server) changeMyPassword(c echo.Context) error {
	u, _ := currentUser(c)
	var req passwordRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	if err := checkPasswordRule(req.Password); err != nil {
		return err
	}
	key := strings.ToLower(u.Login)
	ctx := c.Request().Context()
	if err := s.hit(ctx, s.loginFail, key, s.cfg.Now()); err != nil {
		return err
	}
	if !s.checkPassword(u.PasswordHash, req.OldPassword) {
		return ledger.Errorf(ledger.EINVALID, "member.old_password_wrong")
	}
	s.forget(ctx, s.loginFail, key)
	hash, err := s.hashPassword(req.Password)
	if err != nil {
		return err
	}
	if err := s.cfg.Users.SetOwnPassword(c.Request().Context(), u.ID, hash); err != nil {
		return err
	}
	s.cfg.Logger.InfoContext(c.Request().Context(), "own password changed", "user_id", u.ID.String(), "user_login", u.Login,
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	// SetPassword ended every session; start a new one for this browser.
	token, sess := newSession(u.ID, s.cfg.Now())
	sess.Verified = hash // unless someone reset it meanwhile
	if err := s.cfg.Users.CreateSession(c.Request().Context(), sess); err != nil {
		return err
	}
	c.SetCookie(s.sessionCookie(token, sess.ExpiresAt))
	return c.NoContent(http.StatusNoContent)
}

// balanceView is a member's points: Points they own, Held in open vouchers,
// Available to spend, and confirmed service minutes.
type balanceView struct {
	Points         ledger.Points `json:"points"`
	Held           ledger.Points `json:"held"`
	Available      ledger.Points `json:"available"`
	ServiceMinutes int64         `json:"service_minutes"`
	// Expiring is what expires at the street's next cutoff, from
	// ledger.ExpiryWarningDays before it; absent otherwise.
	Expiring *ledger.Expiring `json:"expiring,omitempty"`
}

func (s *server) memberBalance(c echo.Context) error {
	m, err := s.memberInScope(c)
	if err != nil {
		return err
	}
	b, err := s.cfg.Journal.Balance(c.Request().Context(), ledger.MemberAccount(m.ID))
	if err != nil {
		return err
	}
	// Points in open vouchers sit in escrow, off the member's account; they
	// count as the member's until redeemed.
	held, err := s.cfg.Shops.Held(c.Request().Context(), m.ID)
	if err != nil {
		return err
	}
	view := balanceView{Points: b.Points + held, Held: held, Available: b.Points, ServiceMinutes: b.ServiceMinutes}
	if view.Expiring, err = s.expiring(c, ledger.MemberAccount(m.ID)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, view)
}

type memberEntriesPage struct {
	Entries    []ledger.Entry `json:"entries"`
	NextBefore uint64         `json:"next_before"`
}

func (s *server) memberEntries(c echo.Context) error {
	m, err := s.memberInScope(c)
	if err != nil {
		return err
	}
	before, err := queryUint(c, "before", 0)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c, 20, 200)
	if err != nil {
		return err
	}
	entries, err := s.cfg.Journal.AccountEntries(c.Request().Context(), ledger.MemberAccount(m.ID), before, limit)
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

// memberCard answers the member card QR: the signed card code, never the phone.
func (s *server) memberCard(c echo.Context) error {
	m, err := s.memberInScope(c)
	if err != nil {
		return err
	}
	key, err := s.cfg.Secret(c.Request().Context(), "member-card")
	if err != nil {
		return err
	}
	png, err := qrcode.Encode(ledger.SignCard(key, m.ID), qrcode.Medium, 320)
	if err != nil {
		return err
	}
	if u, _ := currentUser(c); u.Role != ledger.RoleVolunteer {
		// A card shown at a counter counts as the member being there: say who looked at it.
		s.cfg.Logger.InfoContext(c.Request().Context(), "member card shown to staff", "member_id", m.ID.String(),
			"user_id", u.ID.String(), "user_login", u.Login, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=3600")
	return c.Blob(http.StatusOK, "image/png", png)
}

// Staff accounts.

type usersPage struct {
	Users []staffView `json:"users"`
}

// staffView is a staff account as the staff list shows it: a clerk with
// the name of their shop, and the name of who last changed it.
type staffView struct {
	ledger.User
	ShopName      string `json:"shop_name,omitempty"`
	UpdatedByName string `json:"updated_by_name,omitempty"`
}

func (s *server) listUsers(c echo.Context) error {
	u, _ := currentUser(c)
	all, err := s.cfg.Users.Staff(c.Request().Context())
	if err != nil {
		return err
	}
	units, err := s.unitsByID(c)
	if err != nil {
		return err
	}
	shops := map[uuid.UUID]ledger.Shop{}
	if list, err := s.cfg.Shops.Shops(c.Request().Context()); err == nil {
		for _, sh := range list {
			shops[sh.ID] = sh
		}
	}
	byID := make(map[uuid.UUID]ledger.User, len(all))
	for _, st := range all {
		byID[st.ID] = st
	}
	page := usersPage{Users: []staffView{}}
	for _, st := range all {
		// Organisers see the staff of their units and the clerks of their units' shops.
		sh, isClerk := shops[st.ShopID]
		if u.Role == ledger.RoleAdmin || (st.UnitID != uuid.Nil && scopeOf(u).Covers(units[st.UnitID])) ||
			(st.ShopID != uuid.Nil && isClerk && scopeOf(u).Covers(units[sh.UnitID])) {
			page.Users = append(page.Users, staffView{User: s.userView(st), ShopName: sh.Name, UpdatedByName: displayName(byID[st.UpdatedBy])})
		}
	}
	return c.JSON(http.StatusOK, page)
}

type userRequest struct {
	Login    string      `json:"login"`
	Password string      `json:"password"`
	Name     string      `json:"name"`
	Role     ledger.Role `json:"role"`
	UnitID   uuid.UUID   `json:"unit_id"`
	ShopID   uuid.UUID   `json:"shop_id"`
}

func (s *server) createUser(c echo.Context) error {
	var req userRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	switch {
	case req.Role == ledger.RoleVolunteer || !req.Role.Valid():
		return ledger.Errorf(ledger.EINVALID, "user.role_invalid", truncate(string(req.Role), 40))
	case req.Role == ledger.RoleAdmin && u.Role != ledger.RoleAdmin:
		return ledger.Errorf(ledger.EFORBIDDEN, "user.role_not_allowed", string(req.Role))
	case (req.Role == ledger.RoleOrganizer || req.Role == ledger.RoleGridWorker) && req.UnitID == uuid.Nil:
		return ledger.Errorf(ledger.EINVALID, "user.unit_required")
	case req.Role == ledger.RoleClerk && req.ShopID == uuid.Nil:
		return ledger.Errorf(ledger.EINVALID, "user.shop_required")
	}
	if req.Role == ledger.RoleOrganizer || req.Role == ledger.RoleGridWorker {
		unit, err := s.unitInScope(c, req.UnitID)
		if err != nil {
			return err
		}
		if req.Role == ledger.RoleGridWorker && unit.Kind != ledger.UnitGrid {
			return ledger.Errorf(ledger.EINVALID, "user.grid_required")
		}
		if err := ledger.MayMakeStaff(u, req.Role, &unit); err != nil {
			return err
		}
	}
	if req.Role == ledger.RoleClerk {
		if _, _, err := s.shopFor(c, req.ShopID); err != nil {
			return err
		}
	}
	if err := checkPasswordRule(req.Password); err != nil {
		return err
	}
	hash, err := s.hashPassword(req.Password)
	if err != nil {
		return err
	}
	nu := ledger.User{Login: req.Login, Name: req.Name, Role: req.Role, PasswordHash: hash}
	switch req.Role {
	case ledger.RoleOrganizer, ledger.RoleGridWorker:
		nu.UnitID = req.UnitID
	case ledger.RoleClerk:
		nu.ShopID = req.ShopID
	}
	nu, err = s.cfg.Users.CreateUser(c.Request().Context(), nu)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s.userView(nu))
}
