package handlers

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// The civility-behaviour bank (文明行为银行): a street's or community's list
// of behaviours, and the awards and deductions organisers and grid workers
// record from it. Who may do what is decided by the rules in ledger (on
// every object, in the store's transaction); here are the routes, the
// parsing and the views.

// Roles of the behaviour bank.
var (
	awardRecorders = []ledger.Role{ledger.RoleAdmin, ledger.RoleOrganizer, ledger.RoleGridWorker}
	awardViewers   = []ledger.Role{ledger.RoleAdmin, ledger.RoleOrganizer, ledger.RoleGridWorker, ledger.RoleVolunteer}
)

// awardRoutes registers the behaviour bank's API and pages.
func (s *server) awardRoutes(e *echo.Echo) {
	session := s.loadSession
	staff := []echo.MiddlewareFunc{session, requireRole(ledger.RoleAdmin, ledger.RoleOrganizer)}
	recorders := []echo.MiddlewareFunc{session, requireRole(awardRecorders...)}
	viewers := []echo.MiddlewareFunc{session, requireRole(awardViewers...)}

	api := e.Group("/api/v1")
	api.GET("/behaviours", s.listBehaviours, recorders...)
	api.POST("/behaviours", s.createBehaviour, staff...)
	api.PATCH("/behaviours/:id", s.updateBehaviour, staff...)
	api.GET("/awards", s.listAwards, viewers...)
	api.POST("/awards", s.createAward, recorders...)
	api.GET("/awards/targets", s.awardTargets, recorders...)
	api.GET("/awards/:id", s.getAward, viewers...)
	api.POST("/awards/:id/approve", s.approveAward, recorders...)
	api.POST("/awards/:id/reject", s.rejectAward, recorders...)
	api.POST("/awards/:id/object", s.objectAward, viewers...)
	api.POST("/awards/:id/decide", s.decideAward, recorders...)
	api.POST("/awards/:id/reverse", s.reverseAward, recorders...)
	api.POST("/awards/:id/evidence", s.addAwardEvidence, recorders...)
	api.GET("/awards/:id/evidence/:n", s.awardEvidence, viewers...)

	pages := []echo.MiddlewareFunc{session, pageFor(awardRecorders...)}
	e.GET("/admin/behaviours", s.appPage("admin_behaviours.html", "behaviours"), pages...)
	e.GET("/admin/awards", s.appPage("admin_awards.html", "awards"), pages...)
}

// Behaviours.

// behaviourView is a behaviour with its list's name, and whether the
// caller may change it.
type behaviourView struct {
	ledger.Behaviour
	UnitName string `json:"unit_name"`
	Editable bool   `json:"editable"`
}

type behavioursPage struct {
	Behaviours []behaviourView `json:"behaviours"`
}

// listBehaviours answers the behaviours the caller may give: those of the
// lists in their subtree and of the units above them (a community's
// organiser sees their street's list too). With unit_id, only those that
// may be given to someone living in that unit (its community's and its
// street's); with active=true, only active ones.
func (s *server) listBehaviours(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	unitID, err := queryID(c, "unit_id")
	if err != nil {
		return err
	}
	active, err := queryBool(c, "active")
	if err != nil {
		return err
	}
	var forUnit *ledger.Unit
	if unitID != uuid.Nil {
		unit, err := s.unitInScope(c, unitID)
		if err != nil {
			return err
		}
		forUnit = &unit
	}
	units, err := s.unitsMap(ctx)
	if err != nil {
		return err
	}
	scope := scopeOf(u)
	var above []uuid.UUID // the units over the caller's own
	if own, ok := units[u.UnitID]; ok {
		above = own.Path
	}
	all, err := s.cfg.Awards.Behaviours(ctx)
	if err != nil {
		return err
	}
	out := behavioursPage{Behaviours: []behaviourView{}}
	for _, b := range all {
		unit, ok := units[b.UnitID]
		if !ok || (!scope.Covers(unit) && !slices.Contains(above, b.UnitID)) {
			continue
		}
		if (forUnit != nil && !b.For(*forUnit)) || (active != nil && b.Active != *active) {
			continue
		}
		editable := scope.Covers(unit) && u.Role != ledger.RoleGridWorker
		out.Behaviours = append(out.Behaviours, s.viewBehaviour(b, unit.Name, editable))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *server) viewBehaviour(b ledger.Behaviour, unitName string, editable bool) behaviourView {
	b.CreatedAt = b.CreatedAt.In(s.cfg.Location)
	if !b.UpdatedAt.IsZero() {
		b.UpdatedAt = b.UpdatedAt.In(s.cfg.Location)
	}
	return behaviourView{Behaviour: b, UnitName: unitName, Editable: editable}
}

type behaviourRequest struct {
	UnitID           uuid.UUID              `json:"unit_id"`
	Name             string                 `json:"name"`
	Category         string                 `json:"category"`
	Points           ledger.Points          `json:"points"`
	MonthCap         int                    `json:"month_cap"`
	YearCap          int                    `json:"year_cap"`
	EvidenceRequired bool                   `json:"evidence_required"`
	Target           ledger.BehaviourTarget `json:"target"`
}

func (s *server) createBehaviour(c echo.Context) error {
	var req behaviourRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	unit, err := s.unitInScope(c, req.UnitID)
	if err != nil {
		return err
	}
	b, err := s.cfg.Awards.CreateBehaviour(c.Request().Context(), ledger.Behaviour{UnitID: req.UnitID, Name: req.Name, Category: req.Category,
		Points: req.Points, MonthCap: req.MonthCap, YearCap: req.YearCap, EvidenceRequired: req.EvidenceRequired, Target: req.Target})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s.viewBehaviour(b, unit.Name, true))
}

func (s *server) updateBehaviour(c echo.Context) error {
	id, err := paramID(c, "id", "behaviour.not_found")
	if err != nil {
		return err
	}
	var p ledger.BehaviourPatch
	if err := decodeJSON(c.Request().Body, &p); err != nil {
		return err
	}
	ctx := c.Request().Context()
	b, err := s.cfg.Awards.Behaviour(ctx, id)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	unit, err := s.unitInScope(c, b.UnitID)
	if err != nil {
		// The street's list, which a community's organiser sees but keeps not.
		if own, e := s.cfg.Directory.Unit(ctx, u.UnitID); e == nil && slices.Contains(own.Path, b.UnitID) {
			return ledger.Errorf(ledger.EFORBIDDEN, "behaviour.list_above")
		}
		return ledger.Errorf(ledger.ENOTFOUND, "behaviour.not_found")
	}
	if b, err = s.cfg.Awards.UpdateBehaviour(ctx, id, p, u.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.viewBehaviour(b, unit.Name, true))
}

// Awards.

// awardView is an award as the pages show it: with the names of who and
// what it is for, of the staff who took its steps, the addresses of its
// photos, and what the caller may do with it now.
type awardView struct {
	ledger.Award
	TargetName     string          `json:"target_name"`
	UnitName       string          `json:"unit_name"`
	RecordedByName string          `json:"recorded_by_name"`
	Steps          []awardStepView `json:"steps"`
	EvidenceURLs   []string        `json:"evidence_urls"`
	// ObjectionsClose is the last day of its notice period (YYYY-MM-DD).
	ObjectionsClose string `json:"objections_close,omitempty"`
	// May says which steps the caller may take now.
	May awardMay `json:"may"`
}

type awardStepView struct {
	ledger.AwardStep
	ByName string `json:"by_name,omitempty"`
}

type awardMay struct {
	Approve bool `json:"approve"`
	Reject  bool `json:"reject"`
	Object  bool `json:"object"`
	Decide  bool `json:"decide"`
	Reverse bool `json:"reverse"`
}

// awardNames remembers the names a list of awards looks up.
type awardNames struct {
	*names
	households map[uuid.UUID]string
	units      map[uuid.UUID]ledger.Unit
	staff      bool // full names; a volunteer sees only their own, and staff names
}

func (s *server) awardNames(ctx context.Context, staff bool) (*awardNames, error) {
	units, err := s.unitsMap(ctx)
	if err != nil {
		return nil, err
	}
	return &awardNames{names: s.names(ctx), households: map[uuid.UUID]string{}, units: units, staff: staff}, nil
}

// fullMember is a member's name as staff see it.
func (n *awardNames) fullMember(id uuid.UUID) string {
	if m, err := n.s.cfg.Directory.Member(n.ctx, id); err == nil {
		return m.Name
	}
	return ""
}

// household names a household by its unit and address.
func (n *awardNames) household(id uuid.UUID) string {
	name, ok := n.households[id]
	if !ok && n.s.cfg.Households != nil {
		if h, err := n.s.cfg.Households.Household(n.ctx, id); err == nil {
			name = strings.TrimSpace(n.units[h.UnitID].Name + " " + h.Address)
		}
		n.households[id] = name
	}
	return name
}

func (s *server) viewAward(n *awardNames, a ledger.Award, u ledger.User) awardView {
	loc := s.cfg.Location
	v := awardView{Award: a, UnitName: n.units[a.UnitID].Name, RecordedByName: n.user(a.RecordedBy), EvidenceURLs: []string{}}
	v.RecordedAt = a.RecordedAt.In(loc)
	if !a.PostedAt.IsZero() {
		v.PostedAt = a.PostedAt.In(loc)
	}
	if !a.NoticeUntil.IsZero() {
		v.NoticeUntil = a.NoticeUntil.In(loc)
		v.ObjectionsClose = a.ObjectionsClose(loc).Format("2006-01-02")
	}
	switch {
	case a.Target == ledger.TargetHousehold:
		v.TargetName = n.household(a.HouseholdID)
	case n.staff:
		v.TargetName = n.fullMember(a.MemberID)
	default:
		v.TargetName = n.member(a.MemberID)
	}
	for _, st := range a.History {
		st.At = st.At.In(loc)
		if !n.staff && st.Step == ledger.StepObjected {
			// Who objected is for staff: the person it is about sees the objection, not who made it.
			st.By = uuid.Nil
		}
		v.Steps = append(v.Steps, awardStepView{AwardStep: st, ByName: n.user(st.By)})
	}
	v.History = nil
	for i := range a.Evidence {
		v.EvidenceURLs = append(v.EvidenceURLs, "/api/v1/awards/"+a.ID.String()+"/evidence/"+strconv.Itoa(i+1)+"?v="+a.Evidence[i])
	}
	decider := u.Role == ledger.RoleAdmin || u.Role == ledger.RoleOrganizer
	v.May = awardMay{
		Approve: decider && a.Status == ledger.AwardPending && ledger.SecondEyes(u, a.RecordedBy, n.units[a.UnitID].Path),
		Reject:  a.Status.Open() && (decider || (u.Role == ledger.RoleGridWorker && a.RecordedBy == u.ID)),
		Object:  a.Status == ledger.AwardInNotice,
		Decide:  decider && a.Status == ledger.AwardHeld,
		Reverse: decider && a.Status == ledger.AwardPosted,
	}
	return v
}

// awardFor loads the award of path parameter id if the caller may see it:
// staff who reach its unit, or the member it is for (or one of the
// household it is for). Anyone else gets "not found".
func (s *server) awardFor(c echo.Context) (ledger.Award, error) {
	id, err := paramID(c, "id", "award.not_found")
	if err != nil {
		return ledger.Award{}, err
	}
	ctx := c.Request().Context()
	a, err := s.cfg.Awards.Award(ctx, id)
	if err != nil {
		return a, err
	}
	u, _ := currentUser(c)
	notFound := ledger.Errorf(ledger.ENOTFOUND, "award.not_found")
	if u.Role == ledger.RoleVolunteer {
		if a.MemberID != uuid.Nil && a.MemberID == u.MemberID {
			return a, nil
		}
		if a.HouseholdID != uuid.Nil && s.cfg.Households != nil {
			if h, err := s.cfg.Households.MemberHousehold(ctx, u.MemberID); err == nil && h.ID == a.HouseholdID {
				return a, nil
			}
		}
		return a, notFound
	}
	if _, err := s.unitInScope(c, a.UnitID); err != nil {
		return a, notFound
	}
	return a, nil
}

func (s *server) renderAward(c echo.Context, status int, a ledger.Award) error {
	u, _ := currentUser(c)
	n, err := s.awardNames(c.Request().Context(), u.Role != ledger.RoleVolunteer)
	if err != nil {
		return err
	}
	return c.JSON(status, s.viewAward(n, a, u))
}

func (s *server) getAward(c echo.Context) error {
	a, err := s.awardFor(c)
	if err != nil {
		return err
	}
	return s.renderAward(c, http.StatusOK, a)
}

type awardsPage struct {
	Awards []awardView `json:"awards"`
}

// listAwards answers the awards the caller may see, newest first: staff
// those of their subtree, a volunteer their own and their household's.
// Filters: status (one or more, comma-separated), month (YYYY-MM),
// member_id, household_id, limit.
func (s *server) listAwards(c echo.Context) error {
	u, _ := currentUser(c)
	f := ledger.AwardFilter{Scope: scopeOf(u)}
	var err error
	if f.MemberID, err = queryID(c, "member_id"); err != nil {
		return err
	}
	if f.HouseholdID, err = queryID(c, "household_id"); err != nil {
		return err
	}
	if v := c.QueryParam("month"); v != "" {
		if f.Month, err = ledger.ParseMonth(v); err != nil {
			return err
		}
	}
	for _, st := range strings.Split(c.QueryParam("status"), ",") {
		if st == "" {
			continue
		}
		if !ledger.AwardStatus(st).Valid() {
			return ledger.Errorf(ledger.EINVALID, "award.status_invalid", truncate(st, 32))
		}
		f.Status = append(f.Status, ledger.AwardStatus(st))
	}
	if f.Limit, err = queryLimit(c, 100, 500); err != nil {
		return err
	}
	if u.Role == ledger.RoleVolunteer {
		// Their own and their household's, whatever else they ask.
		switch {
		case f.MemberID != uuid.Nil && f.MemberID != u.MemberID:
			return ledger.Errorf(ledger.ENOTFOUND, "member.not_found")
		case f.HouseholdID != uuid.Nil:
			// Their household's come with their own, unasked.
			return ledger.Errorf(ledger.ENOTFOUND, "household.not_found")
		}
		f.Scope, f.MemberID, f.WithHousehold = ledger.Scope{All: true}, u.MemberID, true
		if u.MemberID == uuid.Nil {
			return c.JSON(http.StatusOK, awardsPage{Awards: []awardView{}})
		}
	}
	ctx := c.Request().Context()
	list, err := s.cfg.Awards.Awards(ctx, f)
	if err != nil {
		return err
	}
	n, err := s.awardNames(ctx, u.Role != ledger.RoleVolunteer)
	if err != nil {
		return err
	}
	out := awardsPage{Awards: make([]awardView, 0, len(list))}
	for _, a := range list {
		out.Awards = append(out.Awards, s.viewAward(n, a, u))
	}
	return c.JSON(http.StatusOK, out)
}

// awardCreate is the body of POST /api/v1/awards.
type awardCreate struct {
	BehaviourID uuid.UUID `json:"behaviour_id"`
	MemberID    uuid.UUID `json:"member_id"`
	HouseholdID uuid.UUID `json:"household_id"`
	Note        string    `json:"note"`
}

// createAward records an award: a JSON body, or a multipart form with the
// JSON in the field "award" and up to three photos in fields "file".
func (s *server) createAward(c echo.Context) error {
	u, _ := currentUser(c)
	key, err := clientKey(c, u)
	if err != nil {
		return err
	}
	var body awardCreate
	var photos []ledger.Picture
	if ct := c.Request().Header.Get(echo.HeaderContentType); strings.HasPrefix(ct, echo.MIMEMultipartForm) {
		form, err := c.MultipartForm()
		if err != nil {
			return formError(err, "request.form_invalid")
		}
		fields := form.Value["award"]
		if len(fields) != 1 {
			return ledger.Errorf(ledger.EINVALID, "request.json_invalid")
		}
		if err := decodeJSON(strings.NewReader(fields[0]), &body); err != nil {
			return err
		}
		if len(form.File["file"]) > ledger.MaxAwardEvidence {
			return ledger.Errorf(ledger.EINVALID, "award.evidence_too_many", ledger.MaxAwardEvidence)
		}
		for _, fh := range form.File["file"] {
			p, err := readPicture(fh.Open)
			if err != nil {
				return err
			}
			photos = append(photos, p)
		}
	} else if err := decodeJSON(c.Request().Body, &body); err != nil {
		return err
	}
	a, err := s.cfg.Awards.RecordAward(c.Request().Context(), ledger.AwardRequest{BehaviourID: body.BehaviourID, MemberID: body.MemberID,
		HouseholdID: body.HouseholdID, Note: body.Note, Evidence: photos, By: u.ID, Key: key})
	if err != nil {
		return err
	}
	return s.renderAward(c, http.StatusCreated, a)
}

// readPicture reads an uploaded photo, at most one byte more than a photo
// may have, and names its type by its content, never by what the client says.
func readPicture(open func() (multipart.File, error)) (ledger.Picture, error) {
	f, err := open()
	if err != nil {
		return ledger.Picture{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, ledger.MaxEvidenceBytes+1))
	if err != nil {
		return ledger.Picture{}, err
	}
	return ledger.Picture{ContentType: http.DetectContentType(data), Data: data}, nil
}

// formError keeps a body over the limit its 413; another unreadable form is EINVALID.
func formError(err error, key string) error {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he
	}
	return ledger.Errorf(ledger.EINVALID, key)
}

// awardReason is the body of the steps that take a reason.
type awardReason struct {
	Reason string `json:"reason"`
}

// awardStep parses a step's body into v, runs it and renders the award.
func (s *server) awardStep(c echo.Context, v any, step func(ctx context.Context, a ledger.Award, u ledger.User) (ledger.Award, error)) error {
	a, err := s.awardFor(c)
	if err != nil {
		return err
	}
	if v != nil {
		if err := decodeJSON(c.Request().Body, v); err != nil {
			return err
		}
	}
	u, _ := currentUser(c)
	if a, err = step(c.Request().Context(), a, u); err != nil {
		return err
	}
	return s.renderAward(c, http.StatusOK, a)
}

func (s *server) approveAward(c echo.Context) error {
	return s.awardStep(c, nil, func(ctx context.Context, a ledger.Award, u ledger.User) (ledger.Award, error) {
		return s.cfg.Awards.ApproveAward(ctx, a.ID, u.ID)
	})
}

func (s *server) rejectAward(c echo.Context) error {
	var req awardReason
	return s.awardStep(c, &req, func(ctx context.Context, a ledger.Award, u ledger.User) (ledger.Award, error) {
		return s.cfg.Awards.RejectAward(ctx, a.ID, u.ID, req.Reason)
	})
}

func (s *server) reverseAward(c echo.Context) error {
	var req awardReason
	return s.awardStep(c, &req, func(ctx context.Context, a ledger.Award, u ledger.User) (ledger.Award, error) {
		return s.cfg.Awards.ReverseAward(ctx, a.ID, u.ID, req.Reason)
	})
}

func (s *server) decideAward(c echo.Context) error {
	var req struct {
		Post   *bool  `json:"post"`
		Reason string `json:"reason"`
	}
	return s.awardStep(c, &req, func(ctx context.Context, a ledger.Award, u ledger.User) (ledger.Award, error) {
		if req.Post == nil {
			return a, ledger.Errorf(ledger.EINVALID, "award.decide_post")
		}
		return s.cfg.Awards.DecideAward(ctx, a.ID, u.ID, *req.Post, req.Reason)
	})
}

// objectAward takes an objection to an award in its notice period: from a
// volunteer of its community (on the public notice), or from staff who
// took it by phone. A volunteer may object to awards that are not theirs,
// which they found on the public notice: it is looked up without awardFor,
// and the answer tells them only that it is held.
func (s *server) objectAward(c echo.Context) error {
	u, _ := currentUser(c)
	if u.Role != ledger.RoleVolunteer {
		var req awardReason
		return s.awardStep(c, &req, func(ctx context.Context, a ledger.Award, u ledger.User) (ledger.Award, error) {
			return s.cfg.Awards.ObjectAward(ctx, a.ID, u.ID, req.Reason)
		})
	}
	id, err := paramID(c, "id", "award.not_found")
	if err != nil {
		return err
	}
	var req awardReason
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	a, err := s.cfg.Awards.ObjectAward(c.Request().Context(), id, u.ID, req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": a.ID, "status": a.Status})
}

// addAwardEvidence adds a photo (multipart field "file", or the body) to
// an award not yet decided for good.
func (s *server) addAwardEvidence(c echo.Context) error {
	a, err := s.awardFor(c)
	if err != nil {
		return err
	}
	var p ledger.Picture
	if ct := c.Request().Header.Get(echo.HeaderContentType); strings.HasPrefix(ct, echo.MIMEMultipartForm) {
		fh, err := c.FormFile("file")
		if err != nil {
			return formError(err, "award.picture_empty")
		}
		if p, err = readPicture(fh.Open); err != nil {
			return err
		}
	} else {
		data, err := io.ReadAll(io.LimitReader(c.Request().Body, ledger.MaxEvidenceBytes+1))
		if err != nil {
			return formError(err, "award.picture_empty")
		}
		p = ledger.Picture{ContentType: http.DetectContentType(data), Data: data}
	}
	u, _ := currentUser(c)
	if a, err = s.cfg.Awards.AddAwardEvidence(c.Request().Context(), a.ID, u.ID, p); err != nil {
		return err
	}
	return s.renderAward(c, http.StatusOK, a)
}

// awardEvidence serves the n-th photo of an award to whoever may see it.
func (s *server) awardEvidence(c echo.Context) error {
	a, err := s.awardFor(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 || n > len(a.Evidence) {
		return ledger.Errorf(ledger.ENOTFOUND, "award.no_picture")
	}
	p, err := s.cfg.Awards.AwardEvidence(c.Request().Context(), a.ID, n)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=3600")
	return c.Blob(http.StatusOK, p.ContentType, p.Data)
}

type awardTargetsPage struct {
	Targets []awardTargetView `json:"targets"`
}

type awardTargetView struct {
	ledger.AwardTarget
	UnitName string `json:"unit_name"`
}

// awardTargets finds members and households in the caller's subtree (a
// grid worker's grid) to record an award for: q is part of a name, the
// last digits of a phone, or part of an address.
func (s *server) awardTargets(c echo.Context) error {
	u, _ := currentUser(c)
	q := strings.TrimSpace(c.QueryParam("q"))
	if len([]rune(q)) > 64 {
		return ledger.Errorf(ledger.EINVALID, "query.too_long", "q")
	}
	ctx := c.Request().Context()
	var ts []ledger.AwardTarget
	if c.QueryParam("member_id") != "" {
		// One member, named (the member page's link to record an award).
		id, err := queryID(c, "member_id")
		if err != nil {
			return err
		}
		m, err := s.cfg.Directory.Member(ctx, id)
		if err != nil {
			return err
		}
		if _, err := s.unitInScope(c, m.UnitID); err != nil {
			return ledger.Errorf(ledger.ENOTFOUND, "member.not_found")
		}
		ts = []ledger.AwardTarget{{Target: ledger.TargetPerson, ID: m.ID, Name: m.Name, Phone: ledger.MaskPhone(m.Phone), UnitID: m.UnitID}}
	} else {
		var err error
		if ts, err = s.cfg.Awards.AwardTargets(ctx, scopeOf(u), q, 20); err != nil {
			return err
		}
	}
	units, err := s.unitsMap(ctx)
	if err != nil {
		return err
	}
	out := awardTargetsPage{Targets: make([]awardTargetView, 0, len(ts))}
	for _, t := range ts {
		out.Targets = append(out.Targets, awardTargetView{AwardTarget: t, UnitName: units[t.UnitID].Name})
	}
	return c.JSON(http.StatusOK, out)
}
