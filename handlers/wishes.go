package handlers

import (
	"cmp"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"aixin/ledger"
	"aixin/natural"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Wishes (微心愿): residents' small needs that volunteers claim and fulfil
// for points. Who sees a wish:
//
//   - staff — administrators, organisers over their subtree, grid workers
//     over their grid — see everything of the wishes of residents in their
//     units, the resident's phone included;
//   - the volunteer who entered a wish, claims it or took part in it sees
//     it whole but its history (the resident's name and phone are how they
//     find the resident);
//   - other volunteers of the wish's community see what the public wall
//     shows, once it has been on the wall: the resident as 张*明, the grid
//     or building, never a phone or a picture;
//   - anyone else gets 404, as for a wish that does not exist.
//
// What a caller may do next is asked of the rules themselves (wishActions),
// so the pages offer exactly what the server would accept.

// wishFulfilRoute is the route of the claimer's report, whose photos make
// its body larger than the others' (3 × 512 KB and the form around them).
const (
	wishFulfilRoute     = "/api/v1/wishes/:id/fulfil"
	wishFulfilBodyLimit = "2M"
)

// wishRoutes registers the wishes' API and pages; routes calls it.
func (s *server) wishRoutes(e *echo.Echo, api *echo.Group) {
	session := s.loadSession
	anyone := []echo.MiddlewareFunc{session, requireRole(ledger.RoleAdmin, ledger.RoleOrganizer, ledger.RoleGridWorker, ledger.RoleVolunteer)}
	staff := []echo.MiddlewareFunc{session, requireRole(ledger.RoleAdmin, ledger.RoleOrganizer)}
	volunteer := []echo.MiddlewareFunc{session, requireRole(ledger.RoleVolunteer)}
	api.POST("/wishes", s.createWish, anyone...)
	api.GET("/wishes", s.listWishes, anyone...)
	api.GET("/wishes/:id", s.getWish, anyone...)
	api.POST("/wishes/:id/verify", s.verifyWish, staff...)
	api.POST("/wishes/:id/publish", s.publishWish, staff...)
	api.POST("/wishes/:id/claim", s.claimWish, volunteer...)
	api.POST("/wishes/:id/fulfil", s.fulfilWish, append(volunteer, middleware.BodyLimit(wishFulfilBodyLimit))...)
	api.POST("/wishes/:id/confirm", s.confirmWish, staff...)
	api.POST("/wishes/:id/withdraw", s.withdrawWish, anyone...)
	api.POST("/wishes/:id/reject", s.rejectWish, staff...)
	api.POST("/wishes/:id/photos", s.addWishPhoto, anyone...)
	api.GET("/wishes/:id/photos/:n", s.wishPhoto, anyone...)
	api.GET("/wish-walls", s.listWishWalls, staff...)
	api.PUT("/wish-walls/:id", s.setWishWall, staff...)
	api.GET("/exports/wishes", s.exportWishes, staff...)

	e.GET("/admin/wishes", s.appPage("admin_wishes.html", "wishes"), session, pageFor(ledger.RoleAdmin, ledger.RoleOrganizer, ledger.RoleGridWorker))
	e.GET("/m/wishes", s.appPage("m_wishes.html", "wishes"), session, pageFor(ledger.RoleVolunteer))
	e.GET("/wishes/:unit", s.wishWallPage, s.limitPerIP(s.public))
}

// wishActor is the user as the rules of wishes see them.
func wishActor(u ledger.User) ledger.WishActor {
	return ledger.WishActor{User: u.ID, Role: u.Role, Member: u.MemberID, Unit: u.UnitID}
}

// isWishStaff reports whether the user sees wishes as staff (by scope).
func isWishStaff(u ledger.User) bool {
	return u.Role == ledger.RoleAdmin || u.Role == ledger.RoleOrganizer || u.Role == ledger.RoleGridWorker
}

// wishAccess is how much of a wish its caller sees.
type wishAccess int

const (
	noAccess    wishAccess = iota
	wallAccess             // a volunteer of its community: what the wall shows
	ownAccess              // the volunteer who entered, claims or took part in it
	staffAccess            // staff whose scope holds the resident's unit
)

// wishCaller is who is asking about wishes, with what the checks need: for
// a volunteer their member and community.
type wishCaller struct {
	user      ledger.User
	actor     ledger.WishActor
	member    *ledger.Member
	community uuid.UUID
	units     map[uuid.UUID]ledger.Unit
}

// wishCallerOf reads the caller: the units, and a volunteer's member and community.
func (s *server) wishCallerOf(c echo.Context) (*wishCaller, error) {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	wc := &wishCaller{user: u, actor: wishActor(u)}
	var err error
	if wc.units, err = s.unitsMap(ctx); err != nil {
		return nil, err
	}
	if u.Role == ledger.RoleVolunteer && u.MemberID != uuid.Nil {
		m, err := s.cfg.Directory.Member(ctx, u.MemberID)
		if err != nil && ledger.ErrorCode(err) != ledger.ENOTFOUND {
			return nil, err
		}
		if err == nil {
			wc.member = &m
			if unit, ok := wc.units[m.UnitID]; ok && len(unit.Path) > 1 {
				wc.community = unit.Path[1]
			}
		}
	}
	return wc, nil
}

// access is how much of w the caller sees.
func (wc *wishCaller) access(w ledger.Wish) wishAccess {
	if isWishStaff(wc.user) {
		if unit, ok := wc.units[w.UnitID]; ok && scopeOf(wc.user).Covers(unit) {
			return staffAccess
		}
		return noAccess
	}
	if wc.user.Role != ledger.RoleVolunteer || wc.member == nil {
		return noAccess
	}
	if w.EnteredMember == wc.member.ID || w.TookPart(wc.member.ID) {
		return ownAccess
	}
	if wc.community == w.CommunityID && onWall(w) {
		return wallAccess
	}
	return noAccess
}

// onWall reports whether a wish is one the wall shows: it went up, and was
// not withdrawn or rejected.
func onWall(w ledger.Wish) bool {
	switch w.Status {
	case ledger.WishPublished, ledger.WishClaimed, ledger.WishFulfilled, ledger.WishConfirmed:
		return !w.PublishedAt().IsZero()
	}
	return false
}

// wishInScope reads the wish of the path's id that the caller may see;
// anything else is the wish's 404.
func (s *server) wishInScope(c echo.Context) (ledger.Wish, *wishCaller, wishAccess, error) {
	id, err := paramID(c, "id", "wish.not_found")
	if err != nil {
		return ledger.Wish{}, nil, noAccess, err
	}
	w, err := s.cfg.Wishes.Wish(c.Request().Context(), id)
	if err != nil {
		return w, nil, noAccess, err
	}
	wc, err := s.wishCallerOf(c)
	if err != nil {
		return w, nil, noAccess, err
	}
	a := wc.access(w)
	if a == noAccess {
		return ledger.Wish{}, nil, noAccess, ledger.Errorf(ledger.ENOTFOUND, "wish.not_found")
	}
	return w, wc, a, nil
}

// Views.

type wishPerson struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

type wishClaimView struct {
	Member    string    `json:"member"` // masked on the wall
	MemberID  uuid.UUID `json:"member_id,omitzero"`
	Team      string    `json:"team,omitempty"`
	TeamID    uuid.UUID `json:"team_id,omitzero"`
	At        time.Time `json:"at"`
	DueAt     time.Time `json:"due_at"`
	ClaimedBy string    `json:"claimed_by"` // the team, else the member: who the wall names
}

type wishFulfilView struct {
	Note         string       `json:"note,omitempty"`
	At           time.Time    `json:"at"`
	Participants []wishPerson `json:"participants,omitempty"`
}

type wishConfirmView struct {
	How  string    `json:"how"`
	Note string    `json:"note,omitempty"`
	At   time.Time `json:"at"`
	By   string    `json:"by,omitempty"`
}

type wishAwardView struct {
	MemberID uuid.UUID     `json:"member_id"`
	Name     string        `json:"name"`
	Points   ledger.Points `json:"points"`
	Seq      uint64        `json:"seq,omitempty"`
}

type wishPhotoView struct {
	N     int    `json:"n"`
	Stage string `json:"stage"`
	URL   string `json:"url"`
}

type wishStepView struct {
	Step   string        `json:"step"`
	At     time.Time     `json:"at"`
	By     string        `json:"by,omitempty"`
	Member string        `json:"member,omitempty"`
	Team   string        `json:"team,omitempty"`
	Note   string        `json:"note,omitempty"`
	Points ledger.Points `json:"points,omitempty"`
}

// wishView is a wish as its caller may see it (see wishAccess).
type wishView struct {
	ID            uuid.UUID         `json:"id"`
	Title         string            `json:"title"`
	Need          string            `json:"need"`
	Status        ledger.WishStatus `json:"status"`
	Points        ledger.Points     `json:"points"`
	Resident      string            `json:"resident"` // the name, or 张*明 on the wall
	ResidentPhone string            `json:"resident_phone,omitempty"`
	UnitID        uuid.UUID         `json:"unit_id"`
	Place         string            `json:"place"` // grid / building
	CommunityID   uuid.UUID         `json:"community_id"`
	Community     string            `json:"community"`
	EnteredAs     ledger.Role       `json:"entered_as,omitempty"`
	EnteredBy     string            `json:"entered_by,omitempty"`
	CreatedAt     time.Time         `json:"created_at"`
	PublishedAt   *time.Time        `json:"published_at,omitempty"`
	UpdatedAt     time.Time         `json:"updated_at"`
	Claim         *wishClaimView    `json:"claim,omitempty"`
	Fulfilment    *wishFulfilView   `json:"fulfilment,omitempty"`
	Confirmation  *wishConfirmView  `json:"confirmation,omitempty"`
	Awards        []wishAwardView   `json:"awards,omitempty"`
	Reason        string            `json:"reason,omitempty"`
	Photos        []wishPhotoView   `json:"photos,omitempty"`
	History       []wishStepView    `json:"history,omitempty"`
	// Mine says how the wish concerns a volunteer: entered, claimer, took_part.
	Mine []string `json:"mine,omitempty"`
	// Actions are the steps the caller may take now, as the rules say.
	Actions []string `json:"actions"`
	// TeamMembers are the members of a team's claim, for naming who took
	// part (the claimer and staff).
	TeamMembers []wishPerson `json:"team_members,omitempty"`
}

// wishViewer builds views, remembering the names it looked up.
type wishViewer struct {
	s       *server
	ctx     context.Context
	wc      *wishCaller
	members map[uuid.UUID]string
	teams   map[uuid.UUID]string
	n       *names
	now     time.Time
}

func (s *server) wishViewer(ctx context.Context, wc *wishCaller) *wishViewer {
	return &wishViewer{s: s, ctx: ctx, wc: wc, members: map[uuid.UUID]string{}, teams: map[uuid.UUID]string{}, n: s.names(ctx), now: s.cfg.Now()}
}

// member is a member's full name ("" for nobody).
func (v *wishViewer) member(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	name, ok := v.members[id]
	if !ok {
		if m, err := v.s.cfg.Directory.Member(v.ctx, id); err == nil {
			name = m.Name
		}
		v.members[id] = name
	}
	return name
}

func (v *wishViewer) team(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	name, ok := v.teams[id]
	if !ok {
		if t, err := v.s.cfg.Directory.Team(v.ctx, id); err == nil {
			name = t.Name
		}
		v.teams[id] = name
	}
	return name
}

// place names a unit below its community: 第一网格 / 3号楼.
func (v *wishViewer) place(id uuid.UUID) (place, community string) {
	return wishPlace(v.wc.units, id)
}

func wishPlace(units map[uuid.UUID]ledger.Unit, id uuid.UUID) (place, community string) {
	u, ok := units[id]
	if !ok {
		return "", ""
	}
	var parts []string
	for i, p := range u.Path {
		switch {
		case i == 1:
			community = units[p].Name
		case i > 1:
			parts = append(parts, units[p].Name)
		}
	}
	return strings.Join(parts, " / "), community
}

// view is w as the caller sees it with access a.
func (v *wishViewer) view(w ledger.Wish, a wishAccess) wishView {
	loc := v.s.cfg.Location
	out := wishView{ID: w.ID, Title: w.Title, Need: w.Need, Status: w.Status, Points: w.Points, UnitID: w.UnitID, CommunityID: w.CommunityID,
		CreatedAt: w.CreatedAt.In(loc), UpdatedAt: w.UpdatedAt.In(loc), Actions: []string{}}
	out.Place, out.Community = v.place(w.UnitID)
	if at := w.PublishedAt(); !at.IsZero() {
		at = at.In(loc)
		out.PublishedAt = &at
	}
	full := a >= ownAccess
	out.Resident = ledger.MaskName(w.Resident.Name)
	if full {
		out.Resident, out.ResidentPhone = w.Resident.Name, w.Resident.Phone
		out.Reason = w.Reason
	}
	// A volunteer needs the resident's phone while the wish is in their
	// hands, not after: only staff and who entered it keep seeing it.
	if a == ownAccess && (v.wc.member == nil || w.EnteredMember != v.wc.member.ID) && w.Status != ledger.WishClaimed && w.Status != ledger.WishFulfilled {
		out.ResidentPhone = ""
	}
	if a == staffAccess {
		out.EnteredAs = w.EnteredAs
		out.EnteredBy = cmp.Or(v.n.user(w.EnteredBy), v.member(w.EnteredMember))
	}
	name := func(id uuid.UUID) string {
		if full {
			return v.member(id)
		}
		return ledger.MaskName(v.member(id))
	}
	if c := w.Claim; c != nil {
		cv := &wishClaimView{Member: name(c.MemberID), Team: v.team(c.TeamID), TeamID: c.TeamID, At: c.At.In(loc), DueAt: c.DueAt.In(loc)}
		if full {
			cv.MemberID = c.MemberID
		}
		cv.ClaimedBy = cmp.Or(cv.Team, cv.Member)
		out.Claim = cv
	} else if last := w.Step(ledger.WishStepConfirm); last != nil {
		// A confirmed wish names who fulfilled it, as the wall does.
		cv := &wishClaimView{Member: name(last.MemberID), Team: v.team(last.TeamID), TeamID: last.TeamID}
		cv.ClaimedBy = cmp.Or(cv.Team, cv.Member)
		out.Claim = cv
	}
	if f := w.Fulfilment; f != nil {
		fv := &wishFulfilView{At: f.At.In(loc)}
		if full {
			fv.Note = f.Note
			for _, p := range f.Participants {
				fv.Participants = append(fv.Participants, wishPerson{p, v.member(p)})
			}
		}
		out.Fulfilment = fv
	}
	if c := w.Confirmation; c != nil {
		cv := &wishConfirmView{How: c.How, At: c.At.In(loc)}
		if full {
			cv.Note = c.Note
		}
		if a == staffAccess {
			cv.By = v.n.user(c.By)
		}
		out.Confirmation = cv
	}
	if full {
		for _, aw := range w.Awards {
			out.Awards = append(out.Awards, wishAwardView{MemberID: aw.MemberID, Name: v.member(aw.MemberID), Points: aw.Points, Seq: aw.Seq})
		}
		for _, p := range w.Photos {
			out.Photos = append(out.Photos, wishPhotoView{N: p.N, Stage: p.Stage,
				URL: "/api/v1/wishes/" + w.ID.String() + "/photos/" + strconv.Itoa(p.N) + "?v=" + p.Hash})
		}
	}
	if a == staffAccess {
		for _, h := range w.History {
			out.History = append(out.History, wishStepView{Step: h.Step, At: h.At.In(loc), By: cmp.Or(v.n.user(h.By), v.memberOfUser(w, h)),
				Member: v.member(h.MemberID), Team: v.team(h.TeamID), Note: h.Note, Points: h.Points})
		}
	}
	if me := v.wc.member; me != nil {
		if w.EnteredMember == me.ID {
			out.Mine = append(out.Mine, "entered")
		}
		if w.Claim != nil && w.Claim.MemberID == me.ID {
			out.Mine = append(out.Mine, "claimer")
		} else if w.TookPart(me.ID) {
			out.Mine = append(out.Mine, "took_part")
		}
	}
	out.Actions = v.s.wishActions(w, v.wc, v.now)
	return out
}

// memberOfUser names the volunteer behind a step a volunteer took (the
// names of staff come from their accounts).
func (v *wishViewer) memberOfUser(w ledger.Wish, h ledger.WishStep) string {
	switch {
	case h.Step == ledger.WishStepSubmit || (h.By == w.EnteredBy && w.EnteredMember != uuid.Nil):
		return v.member(w.EnteredMember)
	case h.MemberID != uuid.Nil && (h.Step == ledger.WishStepClaim || h.Step == ledger.WishStepFulfil):
		return v.member(h.MemberID)
	}
	return ""
}

// withTeam adds the members of a team's claim, for the claimer to name who
// took part and for staff to confirm them.
func (v *wishViewer) withTeam(out *wishView, w ledger.Wish, a wishAccess) error {
	team := uuid.Nil
	if w.Claim != nil {
		team = w.Claim.TeamID
	}
	if team == uuid.Nil || a < ownAccess {
		return nil
	}
	ms, err := v.s.cfg.Directory.Members(v.ctx, ledger.MemberFilter{Scope: ledger.Scope{All: true}, TeamID: team, Status: ledger.MemberActive, Limit: 200})
	if err != nil {
		return err
	}
	for _, m := range ms {
		out.TeamMembers = append(out.TeamMembers, wishPerson{m.ID, m.Name})
	}
	return nil
}

// wishActions asks the rules which steps the caller may take on w now.
func (s *server) wishActions(w ledger.Wish, wc *wishCaller, now time.Time) []string {
	by := wc.actor
	var out []string
	ok := func(step string, err error) {
		if err == nil {
			out = append(out, step)
		}
	}
	_, err := ledger.VerifyWish(w, by, nil, now)
	ok(ledger.WishStepVerify, err)
	_, err = ledger.PublishWish(w, by, nil, now)
	ok(ledger.WishStepPublish, err)
	if wc.member != nil {
		_, repeat, err := ledger.ClaimWish(w, by, ledger.WishClaimFacts{Member: *wc.member, Community: wc.community}, time.Hour, now)
		if !repeat {
			ok(ledger.WishStepClaim, err)
		}
	}
	_, err = ledger.FulfilWish(w, by, ledger.WishFulfilRequest{Note: "ok"}, ledger.WishTeamFacts{}, now)
	ok(ledger.WishStepFulfil, err)
	// As the store confirms: with the community's path and the threshold of four eyes.
	_, err = ledger.ConfirmWish(w, by, ledger.WishConfirmRequest{How: ledger.WishConfirmInPerson},
		ledger.WishTeamFacts{CommunityPath: wc.units[w.CommunityID].Path, FourEyes: s.cfg.AwardApprovalPoints}, s.cfg.Location, now)
	ok(ledger.WishStepConfirm, err)
	_, err = ledger.WithdrawWish(w, by, "ok", now)
	ok(ledger.WishStepWithdraw, err)
	_, err = ledger.RejectWish(w, by, "ok", now)
	ok(ledger.WishStepReject, err)
	_, err = ledger.AddWishPhoto(w, by, ledger.WishUpload{Type: "image/png", Data: []byte{0}}, now)
	ok(ledger.WishStepPhoto, err)
	if out == nil {
		out = []string{}
	}
	return out
}

// Requests.

type wishCreateRequest struct {
	Title         string        `json:"title"`
	Need          string        `json:"need"`
	ResidentName  string        `json:"resident_name"`
	ResidentPhone string        `json:"resident_phone"`
	UnitID        uuid.UUID     `json:"unit_id"`
	Points        ledger.Points `json:"points"`
}

// wishUnitAllowed reports whether the caller may enter a wish for a
// resident of unit: staff within their scope, a volunteer within their
// community.
func (wc *wishCaller) wishUnitAllowed(unit ledger.Unit) bool {
	if isWishStaff(wc.user) {
		return scopeOf(wc.user).Covers(unit)
	}
	return wc.member != nil && wc.community != uuid.Nil && unit.Within(wc.community)
}

func (s *server) createWish(c echo.Context) error {
	var req wishCreateRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	wc, err := s.wishCallerOf(c)
	if err != nil {
		return err
	}
	unit, ok := wc.units[req.UnitID]
	if !ok || !wc.wishUnitAllowed(unit) {
		return ledger.Errorf(ledger.ENOTFOUND, "unit.not_found")
	}
	key, err := clientKey(c, wc.user)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	w, err := s.cfg.Wishes.CreateWish(ctx, ledger.WishRequest{Title: req.Title, Need: req.Need, ResidentName: req.ResidentName,
		ResidentPhone: req.ResidentPhone, UnitID: req.UnitID, Points: req.Points}, wc.actor, key)
	if err != nil {
		return err
	}
	v := s.wishViewer(ctx, wc)
	return c.JSON(http.StatusCreated, v.view(w, wc.access(w)))
}

// wishListPage is the answer of GET /api/v1/wishes.
type wishListPage struct {
	Wishes []wishView `json:"wishes"`
	// Counts are the caller's wishes by status, whatever the filter (staff).
	Counts map[ledger.WishStatus]int `json:"counts,omitempty"`
	// Units are the grids and buildings the caller may enter wishes for.
	Units []wishUnit `json:"units"`
	// Teams are a volunteer's teams, to claim for.
	Teams []wishPerson `json:"teams,omitempty"`
	// Walls are the communities in scope whose public wall is on (staff).
	Walls     []wishPerson `json:"walls,omitempty"`
	MaxPoints int          `json:"max_points"`
	ClaimDays int          `json:"claim_days"`
}

type wishUnit struct {
	ID    uuid.UUID       `json:"id"`
	Kind  ledger.UnitKind `json:"kind"`
	Label string          `json:"label"`
}

// wishListLimit caps a list; a community's open queue is far shorter.
const wishListLimit = 500

// listWishes answers the wishes the caller sees: for staff those of their
// scope (?status=a,b narrows, ?community_id= too); for a volunteer the wall
// of their community (on it now, in hand, and the last ones fulfilled), or
// with ?mine=true those that concern them.
func (s *server) listWishes(c echo.Context) error {
	q := c.QueryParams()
	for k := range q {
		switch k {
		case "status", "community_id", "mine", "lang":
		default:
			return ledger.Errorf(ledger.EINVALID, "wish.param_unknown", truncate(k, 32))
		}
	}
	var statuses []ledger.WishStatus
	if v := q.Get("status"); v != "" {
		for _, p := range strings.Split(v, ",") {
			st := ledger.WishStatus(strings.TrimSpace(p))
			if !st.Valid() {
				return ledger.Errorf(ledger.EINVALID, "wish.status_invalid", truncate(p, 20))
			}
			statuses = append(statuses, st)
		}
	}
	community, err := queryID(c, "community_id")
	if err != nil {
		return err
	}
	mine, err := queryBool(c, "mine")
	if err != nil {
		return err
	}
	wc, err := s.wishCallerOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	page := wishListPage{Wishes: []wishView{}, Units: []wishUnit{}, MaxPoints: ledger.MaxWishPoints, ClaimDays: s.wishClaimDays()}
	for _, u := range wc.units {
		if (u.Kind == ledger.UnitGrid || u.Kind == ledger.UnitBuilding) && len(u.Path) > 2 && wc.wishUnitAllowed(u) {
			place, comm := wishPlace(wc.units, u.ID)
			label := place
			if isWishStaff(wc.user) && (wc.user.Role == ledger.RoleAdmin || scopeOf(wc.user).Unit != u.Path[1]) {
				label = comm + " / " + place
			}
			page.Units = append(page.Units, wishUnit{u.ID, u.Kind, label})
		}
	}
	slices.SortFunc(page.Units, func(a, b wishUnit) int { return natural.Compare(a.Label, b.Label) })

	f := ledger.WishFilter{Statuses: statuses, Community: community}
	var wishes []ledger.Wish
	switch {
	case isWishStaff(wc.user):
		f.Scope = scopeOf(wc.user)
		all, err := s.cfg.Wishes.ListWishes(ctx, ledger.WishFilter{Scope: f.Scope, Community: community})
		if err != nil {
			return err
		}
		page.Counts = map[ledger.WishStatus]int{}
		for _, w := range all {
			page.Counts[w.Status]++
			if len(statuses) == 0 || slices.Contains(statuses, w.Status) {
				wishes = append(wishes, w)
			}
		}
		if wc.user.Role != ledger.RoleGridWorker {
			walls, err := s.cfg.Wishes.WishWalls(ctx)
			if err != nil {
				return err
			}
			for id, ww := range walls {
				if u, ok := wc.units[id]; ok && ww.On && f.Scope.Covers(u) {
					page.Walls = append(page.Walls, wishPerson{id, u.Name})
				}
			}
			slices.SortFunc(page.Walls, func(a, b wishPerson) int { return natural.Compare(a.Name, b.Name) })
		}
	case wc.member == nil:
		// A volunteer login without a member sees no wishes.
	case mine != nil && *mine:
		f.Scope, f.Member = ledger.Scope{All: true}, wc.member.ID
		if wishes, err = s.cfg.Wishes.ListWishes(ctx, f); err != nil {
			return err
		}
	default:
		if wc.community == uuid.Nil || (community != uuid.Nil && community != wc.community) {
			break
		}
		f.Scope, f.Community = ledger.Scope{All: true}, wc.community
		all, err := s.cfg.Wishes.ListWishes(ctx, f)
		if err != nil {
			return err
		}
		confirmed := 0
		for _, w := range all {
			if !onWall(w) {
				continue
			}
			if w.Status == ledger.WishConfirmed {
				if confirmed++; confirmed > wallConfirmedShown {
					continue
				}
			}
			wishes = append(wishes, w)
		}
	}
	if wc.member != nil {
		for _, id := range wc.member.TeamIDs {
			if t, err := s.cfg.Directory.Team(ctx, id); err == nil {
				page.Teams = append(page.Teams, wishPerson{t.ID, t.Name})
			}
		}
	}
	sortWishQueue(wishes)
	v := s.wishViewer(ctx, wc)
	for _, w := range wishes {
		if len(page.Wishes) == wishListLimit {
			break
		}
		if a := wc.access(w); a != noAccess { // a claim of theirs that lapsed, on a wish withdrawn since: gone
			page.Wishes = append(page.Wishes, v.view(w, a))
		}
	}
	return c.JSON(http.StatusOK, page)
}

// wallConfirmedShown is how many fulfilled wishes the wall shows, newest first.
const wallConfirmedShown = 20

// queueOrder puts the wishes that wait for someone first: to check, to
// publish, to confirm; then the wall, those in hand, and the closed ones.
var queueOrder = map[ledger.WishStatus]int{ledger.WishSubmitted: 0, ledger.WishVerified: 1, ledger.WishFulfilled: 2, ledger.WishPublished: 3,
	ledger.WishClaimed: 4, ledger.WishConfirmed: 5, ledger.WishWithdrawn: 6, ledger.WishRejected: 7}

// sortWishQueue orders wishes by queueOrder, the newest first within each.
func sortWishQueue(ws []ledger.Wish) {
	slices.SortStableFunc(ws, func(a, b ledger.Wish) int {
		return cmp.Or(cmp.Compare(queueOrder[a.Status], queueOrder[b.Status]), b.UpdatedAt.Compare(a.UpdatedAt))
	})
}

func (s *server) getWish(c echo.Context) error {
	w, wc, a, err := s.wishInScope(c)
	if err != nil {
		return err
	}
	v := s.wishViewer(c.Request().Context(), wc)
	out := v.view(w, a)
	if err := v.withTeam(&out, w, a); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// decodeOptional reads a JSON body that may be left out (an empty body is {}).
func decodeOptional(c echo.Context, v any) error {
	r := c.Request()
	if r.ContentLength == 0 {
		return nil
	}
	return decodeJSON(r.Body, v)
}

// stepped renders the wish after a step.
func (s *server) stepped(c echo.Context, wc *wishCaller, w ledger.Wish) error {
	v := s.wishViewer(c.Request().Context(), wc)
	a := wc.access(w)
	if a == noAccess { // withdrawn by a volunteer who no longer sees it on the wall
		a = ownAccess
	}
	out := v.view(w, a)
	if err := v.withTeam(&out, w, a); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

type wishPointsRequest struct {
	Points *ledger.Points `json:"points"`
}

func (s *server) verifyWish(c echo.Context) error {
	return s.pointsStep(c, s.cfg.Wishes.VerifyWish)
}

func (s *server) publishWish(c echo.Context) error {
	return s.pointsStep(c, s.cfg.Wishes.PublishWish)
}

func (s *server) pointsStep(c echo.Context, step func(context.Context, uuid.UUID, ledger.WishActor, *ledger.Points, string) (ledger.Wish, error)) error {
	var req wishPointsRequest
	if err := decodeOptional(c, &req); err != nil {
		return err
	}
	w, wc, _, err := s.wishInScope(c)
	if err != nil {
		return err
	}
	key, err := clientKey(c, wc.user)
	if err != nil {
		return err
	}
	if w, err = step(c.Request().Context(), w.ID, wc.actor, req.Points, key); err != nil {
		return err
	}
	return s.stepped(c, wc, w)
}

type wishClaimRequest struct {
	TeamID uuid.UUID `json:"team_id"`
}

func (s *server) claimWish(c echo.Context) error {
	var req wishClaimRequest
	if err := decodeOptional(c, &req); err != nil {
		return err
	}
	w, wc, _, err := s.wishInScope(c)
	if err != nil {
		return err
	}
	key, err := clientKey(c, wc.user)
	if err != nil {
		return err
	}
	if w, err = s.cfg.Wishes.ClaimWish(c.Request().Context(), w.ID, wc.actor, req.TeamID, key); err != nil {
		return err
	}
	return s.stepped(c, wc, w)
}

type wishFulfilRequest struct {
	Note         string      `json:"note"`
	Participants []uuid.UUID `json:"participant_ids"`
}

// fulfilWish takes the claimer's report: JSON {note, participant_ids}, or
// a multipart form with the fields note and participant_ids (repeated) and
// up to three files named photo, whose types are sniffed from their bytes.
func (s *server) fulfilWish(c echo.Context) error {
	var req wishFulfilRequest
	var photos []ledger.WishUpload
	if strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
		form, err := c.MultipartForm()
		if err != nil {
			var he *echo.HTTPError
			if errors.As(err, &he) {
				return he
			}
			return ledger.Errorf(ledger.EINVALID, "wish.form_invalid")
		}
		for k, vs := range form.Value {
			switch k {
			case "note":
				if len(vs) != 1 {
					return ledger.Errorf(ledger.EINVALID, "wish.form_invalid")
				}
				req.Note = vs[0]
			case "participant_ids":
				for _, v := range vs {
					id, err := uuid.Parse(v)
					if err != nil {
						return ledger.Errorf(ledger.EINVALID, "wish.participant_unknown")
					}
					req.Participants = append(req.Participants, id)
				}
			default:
				return ledger.Errorf(ledger.EINVALID, "wish.form_invalid")
			}
		}
		for k, files := range form.File {
			if k != "photo" {
				return ledger.Errorf(ledger.EINVALID, "wish.form_invalid")
			}
			if len(files) > ledger.MaxWishPhotos {
				return ledger.Errorf(ledger.EINVALID, "wish.photos_too_many", ledger.MaxWishPhotos)
			}
			for _, fh := range files {
				up, err := readWishPhoto(fh)
				if err != nil {
					return err
				}
				photos = append(photos, up)
			}
		}
	} else if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	w, wc, _, err := s.wishInScope(c)
	if err != nil {
		return err
	}
	key, err := clientKey(c, wc.user)
	if err != nil {
		return err
	}
	if w, err = s.cfg.Wishes.FulfilWish(c.Request().Context(), w.ID, wc.actor, req.Note, req.Participants, photos, key); err != nil {
		return err
	}
	return s.stepped(c, wc, w)
}

// readWishPhoto reads an uploaded picture, at most one byte more than a
// picture may have (so that the rule says it is too large), and sniffs its
// type from its bytes, never from what the client says.
func readWishPhoto(fh *multipart.FileHeader) (ledger.WishUpload, error) {
	f, err := fh.Open()
	if err != nil {
		return ledger.WishUpload{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, ledger.MaxWishPhotoBytes+1))
	if err != nil {
		return ledger.WishUpload{}, err
	}
	up := ledger.WishUpload{Type: http.DetectContentType(data), Data: data}
	return up, ledger.CheckWishPhoto(up.Type, len(data))
}

func (s *server) confirmWish(c echo.Context) error {
	var req ledger.WishConfirmRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	w, wc, _, err := s.wishInScope(c)
	if err != nil {
		return err
	}
	key, err := clientKey(c, wc.user)
	if err != nil {
		return err
	}
	if w, err = s.cfg.Wishes.ConfirmWish(c.Request().Context(), w.ID, wc.actor, req, key); err != nil {
		return err
	}
	return s.stepped(c, wc, w)
}

type wishReasonRequest struct {
	Reason string `json:"reason"`
}

func (s *server) withdrawWish(c echo.Context) error {
	return s.reasonStep(c, s.cfg.Wishes.WithdrawWish)
}

func (s *server) rejectWish(c echo.Context) error {
	return s.reasonStep(c, s.cfg.Wishes.RejectWish)
}

func (s *server) reasonStep(c echo.Context, step func(context.Context, uuid.UUID, ledger.WishActor, string, string) (ledger.Wish, error)) error {
	var req wishReasonRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	w, wc, _, err := s.wishInScope(c)
	if err != nil {
		return err
	}
	key, err := clientKey(c, wc.user)
	if err != nil {
		return err
	}
	if w, err = step(c.Request().Context(), w.ID, wc.actor, req.Reason, key); err != nil {
		return err
	}
	return s.stepped(c, wc, w)
}

// addWishPhoto stores a picture of the need (multipart field "file", or the
// body itself), by who entered the wish or by staff over it.
func (s *server) addWishPhoto(c echo.Context) error {
	w, wc, a, err := s.wishInScope(c)
	if err != nil {
		return err
	}
	if a == wallAccess {
		return ledger.Errorf(ledger.EFORBIDDEN, "wish.photo_who")
	}
	_, data, err := uploadedFile(c, "upload.no_picture")
	if err != nil {
		return err
	}
	up := ledger.WishUpload{Type: http.DetectContentType(data), Data: data}
	if w, err = s.cfg.Wishes.AddWishPhoto(c.Request().Context(), w.ID, wc.actor, up); err != nil {
		return err
	}
	return s.stepped(c, wc, w)
}

// wishPhoto serves a picture to staff over the wish and to the volunteers
// it concerns; never to the wall.
func (s *server) wishPhoto(c echo.Context) error {
	w, _, a, err := s.wishInScope(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || a < ownAccess {
		return ledger.Errorf(ledger.ENOTFOUND, "wish.no_photo")
	}
	ctype, data, err := s.cfg.Wishes.WishPhoto(c.Request().Context(), w.ID, n)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=3600")
	return c.Blob(http.StatusOK, ctype, data)
}

// The wall's switch, per community.

type wishWallView struct {
	CommunityID uuid.UUID `json:"community_id"`
	Name        string    `json:"name"`
	On          bool      `json:"on"`
	URL         string    `json:"url"`
}

func (s *server) listWishWalls(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	units, err := s.unitsMap(ctx)
	if err != nil {
		return err
	}
	walls, err := s.cfg.Wishes.WishWalls(ctx)
	if err != nil {
		return err
	}
	out := []wishWallView{}
	for _, unit := range units {
		if unit.Kind == ledger.UnitCommunity && scopeOf(u).Covers(unit) {
			out = append(out, wishWallView{unit.ID, unit.Name, walls[unit.ID].On, "/wishes/" + unit.ID.String()})
		}
	}
	slices.SortFunc(out, func(a, b wishWallView) int { return natural.Compare(a.Name, b.Name) })
	return c.JSON(http.StatusOK, map[string]any{"walls": out})
}

type wishWallRequest struct {
	On *bool `json:"on"`
}

func (s *server) setWishWall(c echo.Context) error {
	id, err := paramID(c, "id", "unit.not_found")
	if err != nil {
		return err
	}
	var req wishWallRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	if req.On == nil {
		return ledger.Errorf(ledger.EINVALID, "wish.wall_on_missing")
	}
	unit, err := s.unitInScope(c, id)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	if _, err := s.cfg.Wishes.SetWishWall(c.Request().Context(), unit.ID, *req.On, u.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wishWallView{unit.ID, unit.Name, *req.On, "/wishes/" + unit.ID.String()})
}

// wishClaimDays is the claim timeout the deployment set, for the pages.
func (s *server) wishClaimDays() int {
	return s.cfg.WishClaimDays
}

// wishesInScope reads every wish the scope holds, for the wish ledger.
func (s *server) wishesInScope(ctx context.Context, scope ledger.Scope) ([]ledger.Wish, error) {
	return s.cfg.Wishes.ListWishes(ctx, ledger.WishFilter{Scope: scope})
}

// pct is n of total in whole per cent, for the pages ("—" when there is nothing).
func pct(f ledger.WishFigures) string {
	if !f.RateKnown {
		return "—"
	}
	return strconv.Itoa(f.Rate) + "%"
}
