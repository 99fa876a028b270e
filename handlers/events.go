package handlers

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"
)

// eventView is an event as the API shows it: its unit's name and how many
// are checked in now and have checked out.
type eventView struct {
	ledger.Event
	UnitName   string `json:"unit_name"`
	CheckedIn  int    `json:"checked_in"`
	CheckedOut int    `json:"checked_out"`
	// Over says an open event's window and the grace after it are over:
	// nobody can check in or out by scanning any more, and it waits to be
	// finalised (pages show it as ended, not as taking check-ins).
	Over bool `json:"over,omitempty"`
}

func (s *server) eventView(c echo.Context, e ledger.Event) (eventView, error) {
	unitName := ""
	if u, err := s.cfg.Directory.Unit(c.Request().Context(), e.UnitID); err == nil {
		unitName = u.Name
	}
	total, open, err := s.cfg.Events.EventCounts(c.Request().Context(), e.ID)
	return s.eventViewOf(e, unitName, total, open), err
}

// eventViewOf is eventView of what was read already: the unit's name and
// the event's attendances, in all and open.
func (s *server) eventViewOf(e ledger.Event, unitName string, total, open int) eventView {
	v := eventView{Event: e, UnitName: unitName}
	_, over := ledger.Overdue(e, s.cfg.Now(), s.cfg.Rules)
	v.Over = e.Status == ledger.EventOpen && over
	v.StartsAt, v.EndsAt, v.CreatedAt = e.StartsAt.In(s.cfg.Location), e.EndsAt.In(s.cfg.Location), e.CreatedAt.In(s.cfg.Location)
	v.CheckedIn, v.CheckedOut = open, total-open
	return v
}

// eventInScope loads the event of path parameter id if the caller's scope covers its unit.
func (s *server) eventInScope(c echo.Context) (ledger.Event, error) {
	id, err := paramID(c, "id", "event.not_found")
	if err != nil {
		return ledger.Event{}, err
	}
	e, err := s.cfg.Events.Event(c.Request().Context(), id)
	if err != nil {
		return e, err
	}
	if _, err := s.unitInScope(c, e.UnitID); err != nil {
		return e, ledger.Errorf(ledger.ENOTFOUND, "event.not_found")
	}
	return e, nil
}

type eventRequest struct {
	Title          string             `json:"title"`
	Category       string             `json:"category"`
	UnitID         uuid.UUID          `json:"unit_id"`
	TeamIDs        []uuid.UUID        `json:"team_ids"`
	Place          string             `json:"place"`
	Description    string             `json:"description"`
	Contact        string             `json:"contact"`
	StartsAt       time.Time          `json:"starts_at"`
	EndsAt         time.Time          `json:"ends_at"`
	PointsPerHour  int64              `json:"points_per_hour"`
	MaxMinutes     int64              `json:"max_minutes"`
	Capacity       int                `json:"capacity"`
	ReviewRequired bool               `json:"review_required"`
	Status         ledger.EventStatus `json:"status"`
	// RepeatWeeks makes the event and its copies a week apart, this many in all (1 to 52; 0 or 1: once).
	RepeatWeeks int `json:"repeat_weeks"`
}

func (s *server) createEvent(c echo.Context) error {
	var req eventRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	if _, err := s.unitInScope(c, req.UnitID); err != nil {
		return err
	}
	if err := s.teamsInScope(c, req.TeamIDs); err != nil {
		return err
	}
	u, _ := currentUser(c)
	list, err := s.cfg.Events.CreateEvents(c.Request().Context(), ledger.Event{
		Title: req.Title, Category: req.Category, UnitID: req.UnitID, TeamIDs: req.TeamIDs, Place: req.Place,
		Description: req.Description, Contact: req.Contact,
		StartsAt: req.StartsAt, EndsAt: req.EndsAt, PointsPerHour: req.PointsPerHour, MaxMinutes: req.MaxMinutes,
		Capacity: req.Capacity, ReviewRequired: req.ReviewRequired, Status: req.Status, CreatedBy: u.ID,
	}, max(1, req.RepeatWeeks))
	if err != nil {
		return err
	}
	out := createdEvents{}
	for i, e := range list {
		v, err := s.eventView(c, e)
		if err != nil {
			return err
		}
		if i == 0 {
			out.eventView = v
		}
		if len(list) > 1 {
			out.Series = append(out.Series, v)
		}
	}
	return c.JSON(http.StatusCreated, out)
}

// createdEvents is the answer to a new event: the event, and for a weekly
// series every event of it, the first included.
type createdEvents struct {
	eventView
	Series []eventView `json:"series,omitempty"`
}

// updateEvent edits an event until it is finalised (ledger.EditEvent).
func (s *server) updateEvent(c echo.Context) error {
	e, err := s.eventInScope(c)
	if err != nil {
		return err
	}
	var p ledger.EventPatch
	if err := decodeJSON(c.Request().Body, &p); err != nil {
		return err
	}
	u, _ := currentUser(c)
	if e, err = s.cfg.Events.UpdateEvent(c.Request().Context(), e.ID, p, u.ID); err != nil {
		return err
	}
	v, err := s.eventView(c, e)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// eventChangeView is one edit of an event, with the name of who made it.
type eventChangeView struct {
	ledger.EventChange
	ByName string `json:"by_name"`
}

// eventChanges answers the record of an event's edits, newest first.
func (s *server) eventChanges(c echo.Context) error {
	e, err := s.eventInScope(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	list, err := s.cfg.Events.EventChanges(ctx, e.ID)
	if err != nil {
		return err
	}
	out := make([]eventChangeView, 0, len(list))
	names := map[uuid.UUID]string{}
	for _, ch := range slices.Backward(list) {
		name, ok := names[ch.By]
		if !ok {
			if u, err := s.cfg.Users.UserByID(ctx, ch.By); err == nil {
				name = cmp.Or(u.Name, u.Login)
			}
			names[ch.By] = name
		}
		ch.At = ch.At.In(s.cfg.Location)
		out = append(out, eventChangeView{ch, name})
	}
	return c.JSON(http.StatusOK, map[string][]eventChangeView{"changes": out})
}

// Paging of the events list.
const (
	defaultEventsLimit = 100
	maxEventsLimit     = 500
)

// listEvents answers the events in the caller's scope, latest start first, a
// page at a time: limit of them after the event after (the last of the page
// before), and next_after when there are more. Only the page's events are
// looked up further (unit name, counts), so a long history costs one read of
// the events, not one lookup each.
func (s *server) listEvents(c echo.Context) error {
	unitID, err := queryID(c, "unit_id")
	if err != nil {
		return err
	}
	after, err := queryID(c, "after")
	if err != nil {
		return err
	}
	limit, err := queryLimit(c, defaultEventsLimit, maxEventsLimit)
	if err != nil {
		return err
	}
	status := ledger.EventStatus(c.QueryParam("status"))
	units, err := s.unitsByID(c)
	if err != nil {
		return err
	}
	all, err := s.cfg.Events.Events(c.Request().Context())
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	var found []ledger.Event
	for _, e := range all {
		eu := units[e.UnitID]
		if !scopeOf(u).Covers(eu) || (unitID != uuid.Nil && !eu.Within(unitID)) || (status != "" && e.Status != status) {
			continue
		}
		found = append(found, e)
	}
	slices.SortFunc(found, func(a, b ledger.Event) int {
		return cmp.Or(b.StartsAt.Compare(a.StartsAt), bytes.Compare(b.ID[:], a.ID[:]))
	})
	if after != uuid.Nil {
		i := slices.IndexFunc(found, func(e ledger.Event) bool { return e.ID == after })
		if i < 0 {
			return ledger.Errorf(ledger.ENOTFOUND, "event.not_found")
		}
		found = found[i+1:]
	}
	page := struct {
		Events    []eventView `json:"events"`
		NextAfter string      `json:"next_after"`
	}{Events: []eventView{}}
	if len(found) > limit {
		found = found[:limit]
		page.NextAfter = found[limit-1].ID.String()
	}
	for _, e := range found {
		v, err := s.eventView(c, e)
		if err != nil {
			return err
		}
		page.Events = append(page.Events, v)
	}
	return c.JSON(http.StatusOK, page)
}

func (s *server) getEvent(c echo.Context) error {
	e, err := s.eventInScope(c)
	if err != nil {
		return err
	}
	v, err := s.eventView(c, e)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *server) setEventStatus(c echo.Context) error {
	e, err := s.eventInScope(c)
	if err != nil {
		return err
	}
	var req struct {
		Status ledger.EventStatus `json:"status"`
	}
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	if e, err = s.cfg.Events.SetEventStatus(c.Request().Context(), e.ID, req.Status); err != nil {
		return err
	}
	v, err := s.eventView(c, e)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// openEventInScope is eventInScope for an event that takes check-ins: no
// code is shown for a draft, finished, finalised or cancelled event.
func (s *server) openEventInScope(c echo.Context) (ledger.Event, error) {
	e, err := s.eventInScope(c)
	if err == nil && e.Status != ledger.EventOpen {
		err = ledger.Errorf(ledger.ECONFLICT, "checkin.event_not_open", e.Title)
	}
	return e, err
}

// publicBase is where phones reach this server: the configured public
// address, or the one the request came to.
func (s *server) publicBase(c echo.Context) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	return c.Scheme() + "://" + c.Request().Host
}

// checkinURL is the address a check-in QR holds: the landing page of this
// server with the token, so that any phone camera or WeChat opens it.
func (s *server) checkinURL(c echo.Context, token string) string {
	return s.publicBase(c) + "/c/" + token
}

type codeView struct {
	Token      string    `json:"token"`
	URL        string    `json:"url"`
	Step       int64     `json:"step"`
	ExpiresAt  time.Time `json:"expires_at"`
	CheckedIn  int       `json:"checked_in"`
	CheckedOut int       `json:"checked_out"`
}

// eventCode answers the current rotating check-in code of an event.
func (s *server) eventCode(c echo.Context) error {
	e, err := s.openEventInScope(c)
	if err != nil {
		return err
	}
	r := s.cfg.Rules
	now := s.cfg.Now()
	step := ledger.CheckinStep(now, r)
	tok := ledger.CheckinToken(e, step)
	v, err := s.eventView(c, e)
	if err != nil {
		return err
	}
	next := time.Unix((step+1)*int64(r.CodeStep/time.Second), 0).In(s.cfg.Location)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, codeView{Token: tok, URL: s.checkinURL(c, tok), Step: step, ExpiresAt: next,
		CheckedIn: v.CheckedIn, CheckedOut: v.CheckedOut})
}

// eventCodePNG answers the current check-in code as a QR image.
func (s *server) eventCodePNG(c echo.Context) error {
	e, err := s.openEventInScope(c)
	if err != nil {
		return err
	}
	tok := ledger.CheckinToken(e, ledger.CheckinStep(s.cfg.Now(), s.cfg.Rules))
	png, err := qrcode.Encode(s.checkinURL(c, tok), qrcode.Medium, 512)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "image/png", png)
}

// A check-in ticket lets a volunteer who had to log in first use a code that
// was valid when they scanned it: the landing page mints one for a valid
// code (seen at a time), and it is good for ticketLife.
const ticketLife = 10 * time.Minute

// ticketCookie holds a random nonce that binds a ticket to the browser that
// scanned the code, so that a ticket passed on to others is worth nothing.
const ticketCookie = "aixin_checkin"

func (s *server) ticket(ctx context.Context, token string, seen int64, nonce string) (string, error) {
	key := s.ticketKey.Load()
	if key == nil { // a secret, once made, never changes
		k, err := s.cfg.Secret(ctx, "checkin-ticket")
		if err != nil {
			return "", err
		}
		key = &k
		s.ticketKey.Store(key)
	}
	m := hmac.New(sha256.New, *key)
	m.Write([]byte(token + "|" + strconv.FormatInt(seen, 10) + "|" + nonce))
	return hex.EncodeToString(m.Sum(nil)[:16]), nil
}

type checkinRequest struct {
	Code   string `json:"code"`
	Seen   int64  `json:"seen"`
	Ticket string `json:"ticket"`
	// EndOther: the volunteer agrees to end a check-in at another event that still runs.
	EndOther bool `json:"end_other"`
}

type checkinView struct {
	// Action is in, out, no_checkout (too late to check out: closed as 未签退),
	// backfill, or a review decision.
	Action string `json:"action"`
	// Repeated says the scan was the check-in or check-out before it, sent again.
	Repeated   bool              `json:"repeated,omitempty"`
	Event      eventView         `json:"event"`
	Attendance ledger.Attendance `json:"attendance"`
	MemberName string            `json:"member_name"`
	// Closed is the check-in at another event that this one ended, as 未签退.
	Closed *closedElsewhere `json:"closed_elsewhere,omitempty"`
}

// closedElsewhere is an attendance at another event that a check-in closed by rule.
type closedElsewhere struct {
	EventTitle  string    `json:"event_title"`
	CheckedInAt time.Time `json:"checked_in_at"`
}

// tokenOf takes the token out of a scanned code: the token itself or the whole URL.
func tokenOf(code string) string {
	code = strings.TrimSpace(code)
	if i := strings.LastIndex(code, "/c/"); i >= 0 {
		code = code[i+3:]
	}
	if i := strings.IndexAny(code, "?#"); i >= 0 {
		code = code[:i]
	}
	return code
}

// A checkedCode is a check-in token whose MAC was checked: its event and step.
type checkedCode struct {
	event uuid.UUID
	step  int64
}

// maxCheckedCodes bounds checkinCodes (an event shows one code a step).
const maxCheckedCodes = 1024

// codeEvent returns the id of the event of a check-in token that is valid
// at time at. It reads an event's secret once (checkinKeys), and checks a
// token's MAC once (checkinCodes).
func (s *server) codeEvent(ctx context.Context, token string, at time.Time) (uuid.UUID, error) {
	if c, ok := s.checkinCodes.Load(token); ok {
		c := c.(*checkedCode)
		return c.event, ledger.CheckinStepValid(c.step, at, s.cfg.Rules)
	}
	id, err := ledger.ParseCheckinToken(token)
	if err != nil {
		return uuid.Nil, err
	}
	var key []byte
	if k, ok := s.checkinKeys.Load(id); ok {
		key = k.([]byte)
	} else {
		e, err := s.cfg.Events.Event(ctx, id)
		if err != nil {
			return id, ledger.Errorf(ledger.EINVALID, "checkin.code_invalid")
		}
		key = e.Secret
		s.checkinKeys.Store(id, key)
	}
	if err := ledger.CheckCheckinToken(ledger.Event{ID: id, Secret: key}, token, at, s.cfg.Rules); err != nil {
		return id, err
	}
	if step, err := ledger.CheckinTokenStep(token); err == nil {
		if s.checkedCodes.Add(1) > maxCheckedCodes {
			s.checkinCodes.Clear()
			s.checkedCodes.Store(1)
		}
		s.checkinCodes.Store(token, &checkedCode{id, step})
	}
	return id, nil
}

// checkin is a volunteer's scan of an event's code: in, or out if they are in.
func (s *server) checkin(c echo.Context) error {
	var req checkinRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	token := tokenOf(req.Code)
	at := s.cfg.Now()
	if err := s.hit(ctx, s.checkins, u.ID.String(), at); err != nil {
		return err
	}
	if req.Ticket != "" {
		nonce := ""
		if ck, err := c.Cookie(ticketCookie); err == nil {
			nonce = ck.Value
		}
		want, err := s.ticket(ctx, token, req.Seen, nonce)
		if err != nil {
			return err
		}
		seen := time.Unix(req.Seen, 0)
		if !hmac.Equal([]byte(want), []byte(req.Ticket)) || at.Sub(seen) > ticketLife || seen.After(at) {
			return ledger.Errorf(ledger.EGONE, "checkin.code_expired")
		}
		at = seen // the code is judged at the time the landing page saw it
	}
	id, err := s.codeEvent(ctx, token, at)
	if err != nil {
		return err
	}
	// One transaction scans and reads what the answer shows.
	a, err := s.cfg.Events.ScanAnswered(ctx, id, u.MemberID, ledger.ScanRequest{Source: "scan", By: u.ID, EndOther: req.EndOther})
	if err != nil {
		return err
	}
	att := a.Attendance
	s.localAttendance(&att)
	out := checkinView{Action: scanAction(a.ScanDecision), Repeated: a.Action == ledger.ActionRepeat,
		Event: s.eventViewOf(a.Event, a.UnitName, a.Total, a.Open), Attendance: att, MemberName: a.MemberName}
	if a.Closed != nil {
		out.Closed = &closedElsewhere{EventTitle: a.ClosedEventTitle, CheckedInAt: a.Closed.CheckedInAt.In(s.cfg.Location)}
	}
	return renderCheckin(c, out)
}

// scanAction is the action a scan's answer names: a repeated scan is the
// check-in or check-out it repeats.
func scanAction(d ledger.ScanDecision) string {
	if d.Action != ledger.ActionRepeat {
		return d.Action
	}
	if d.Attendance.Status != ledger.AttendanceOpen {
		return ledger.ActionOut // the check-out, scanned again
	}
	return ledger.ActionIn
}

// renderScan answers a scan: what it did, and the check-in elsewhere it ended.
func (s *server) renderScan(c echo.Context, e ledger.Event, d ledger.ScanDecision) error {
	out, err := s.checkinView(c, scanAction(d), e, d.Attendance)
	if err != nil {
		return err
	}
	out.Repeated = d.Action == ledger.ActionRepeat
	if d.Closed != nil {
		other, _ := s.cfg.Events.Event(c.Request().Context(), d.Closed.EventID)
		out.Closed = &closedElsewhere{EventTitle: other.Title, CheckedInAt: d.Closed.CheckedInAt.In(s.cfg.Location)}
	}
	return renderCheckin(c, out)
}

func (s *server) checkinView(c echo.Context, action string, e ledger.Event, att ledger.Attendance) (checkinView, error) {
	v, err := s.eventView(c, e)
	if err != nil {
		return checkinView{}, err
	}
	s.localAttendance(&att)
	out := checkinView{Action: action, Event: v, Attendance: att}
	if m, err := s.cfg.Directory.Member(c.Request().Context(), att.MemberID); err == nil {
		out.MemberName = m.Name
	}
	return out, nil
}

func (s *server) renderCheckin(c echo.Context, action string, e ledger.Event, att ledger.Attendance) error {
	out, err := s.checkinView(c, action, e, att)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *server) localAttendance(a *ledger.Attendance) {
	a.CheckedInAt, a.RecordedAt = a.CheckedInAt.In(s.cfg.Location), a.RecordedAt.In(s.cfg.Location)
	if !a.CheckedOutAt.IsZero() {
		a.CheckedOutAt = a.CheckedOutAt.In(s.cfg.Location)
	}
	if !a.LatestOut.IsZero() {
		a.LatestOut = a.LatestOut.In(s.cfg.Location)
	}
}

// attendanceView is an attendance with who it is, for organisers.
type attendanceView struct {
	ledger.Attendance
	MemberName  string `json:"member_name"`
	MemberPhone string `json:"member_phone"` // masked
}

func (s *server) eventAttendance(c echo.Context) error {
	e, err := s.eventInScope(c)
	if err != nil {
		return err
	}
	atts, err := s.cfg.Events.Attendances(c.Request().Context(), e.ID)
	if err != nil {
		return err
	}
	out := make([]attendanceView, 0, len(atts))
	for _, a := range atts {
		m, _ := s.cfg.Directory.Member(c.Request().Context(), a.MemberID)
		s.localAttendance(&a)
		out = append(out, attendanceView{a, m.Name, ledger.MaskPhone(m.Phone)})
	}
	return c.JSON(http.StatusOK, map[string][]attendanceView{"attendances": out})
}

type attendanceRequest struct {
	MemberID     uuid.UUID `json:"member_id"`
	MemberCode   string    `json:"member_code"`
	Action       string    `json:"action"`
	CheckedInAt  time.Time `json:"checked_in_at"`
	CheckedOutAt time.Time `json:"checked_out_at"`
	Reason       string    `json:"reason"`
}

// actionToggle is an organiser's check-in or check-out as the member's state
// says: what a scan of their card means.
const actionToggle = "toggle"

// recordAttendance lets an organiser check a member in or out (by id or by
// the code on their card), or back-fill a paper record.
func (s *server) recordAttendance(c echo.Context) error {
	e, err := s.eventInScope(c)
	if err != nil {
		return err
	}
	var req attendanceRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	memberID := req.MemberID
	if req.MemberCode != "" {
		key, err := s.cfg.Secret(ctx, "member-card")
		if err != nil {
			return err
		}
		if memberID, err = ledger.ParseCard(key, req.MemberCode); err != nil {
			return err
		}
	}
	if memberID == uuid.Nil {
		return ledger.Errorf(ledger.EINVALID, "attendance.member_required")
	}
	m, err := s.cfg.Directory.Member(ctx, memberID)
	if err != nil {
		return err
	}
	if _, err := s.unitInScope(c, m.UnitID); err != nil {
		return ledger.Errorf(ledger.ENOTFOUND, "member.not_found")
	}
	u, _ := currentUser(c)
	switch req.Action {
	case ledger.ActionIn, ledger.ActionOut, actionToggle:
		// One step: the store reads whether they are in and decides in one
		// transaction. A toggle (a member card held to the camera) checks in
		// or out as the state says, and repeats what it did just before.
		want := req.Action
		if want == actionToggle {
			want = ""
		}
		d, err := s.cfg.Events.Scan(ctx, e.ID, m.ID, ledger.ScanRequest{Source: "organizer", By: u.ID, Want: want})
		if err != nil {
			return err
		}
		return s.renderScan(c, e, d)
	case ledger.ActionBackfill:
		att, err := s.cfg.Events.Backfill(ctx, e.ID, m.ID, req.CheckedInAt, req.CheckedOutAt, req.Reason, u.ID)
		if err != nil {
			return err
		}
		return s.renderCheckin(c, ledger.ActionBackfill, e, att)
	}
	return ledger.Errorf(ledger.EINVALID, "attendance.action_invalid", truncate(req.Action, 20))
}

// attendanceInScope loads the attendance of path parameter id if its event is in scope.
func (s *server) attendanceInScope(c echo.Context) (ledger.Attendance, ledger.Event, error) {
	id, err := paramID(c, "id", "attendance.not_found")
	if err != nil {
		return ledger.Attendance{}, ledger.Event{}, err
	}
	a, err := s.cfg.Events.Attendance(c.Request().Context(), id)
	if err != nil {
		return a, ledger.Event{}, err
	}
	e, err := s.cfg.Events.Event(c.Request().Context(), a.EventID)
	if err != nil {
		return a, e, err
	}
	if _, err := s.unitInScope(c, e.UnitID); err != nil {
		return a, e, ledger.Errorf(ledger.ENOTFOUND, "attendance.not_found")
	}
	return a, e, nil
}

func (s *server) closeAttendance(c echo.Context) error {
	a, e, err := s.attendanceInScope(c)
	if err != nil {
		return err
	}
	var req struct {
		CheckedOutAt time.Time `json:"checked_out_at"`
		Reason       string    `json:"reason"`
	}
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	if a, err = s.cfg.Events.CloseAttendance(c.Request().Context(), a.ID, req.CheckedOutAt, req.Reason, u.ID); err != nil {
		return err
	}
	return s.renderCheckin(c, ledger.ActionOut, e, a)
}

func (s *server) reviewAttendance(c echo.Context) error {
	a, e, err := s.attendanceInScope(c)
	if err != nil {
		return err
	}
	var req struct {
		Decision string `json:"decision"`
		Minutes  int64  `json:"minutes"`
		Reason   string `json:"reason"`
	}
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	if a, err = s.cfg.Events.ReviewAttendance(c.Request().Context(), a.ID, req.Decision, req.Minutes, req.Reason, u.ID); err != nil {
		return err
	}
	return s.renderCheckin(c, req.Decision, e, a)
}

// finalizeEvent posts an event's points. While it still runs or people are
// checked in, the organiser confirms ({"confirm": true}); the 409 without it
// says how many are still in.
func (s *server) finalizeEvent(c echo.Context) error {
	e, err := s.eventInScope(c)
	if err != nil {
		return err
	}
	var req struct {
		Confirm bool `json:"confirm"`
	}
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c.Request().Body, &req); err != nil {
			return err
		}
	}
	u, _ := currentUser(c)
	res, err := s.cfg.Events.FinalizeEvent(c.Request().Context(), e.ID, "user:"+u.ID.String(), req.Confirm)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// checkoutAll checks out everyone still checked in, at the end or now, with one reason.
func (s *server) checkoutAll(c echo.Context) error {
	e, err := s.eventInScope(c)
	if err != nil {
		return err
	}
	var req struct {
		At     string `json:"at"`
		Reason string `json:"reason"`
	}
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	closed, err := s.cfg.Events.CheckoutAll(c.Request().Context(), e.ID, req.At, req.Reason, u.ID)
	if err != nil {
		return err
	}
	for i := range closed {
		s.localAttendance(&closed[i])
	}
	if closed == nil {
		closed = []ledger.Attendance{}
	}
	return c.JSON(http.StatusOK, map[string]any{"checked_out": len(closed), "attendances": closed})
}

// footprintView is one line of a volunteer's footprint (足迹).
type footprintView struct {
	ledger.Attendance
	EventTitle string `json:"event_title"`
	Category   string `json:"category"`
}

// memberAttendances answers a member's footprint, newest first.
func (s *server) memberAttendances(c echo.Context) error {
	m, err := s.memberInScope(c)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c, 20, 200)
	if err != nil {
		return err
	}
	atts, err := s.cfg.Events.MemberAttendances(c.Request().Context(), m.ID, limit)
	if err != nil {
		return err
	}
	out := make([]footprintView, 0, len(atts))
	for _, a := range atts {
		e, _ := s.cfg.Events.Event(c.Request().Context(), a.EventID)
		s.localAttendance(&a)
		out = append(out, footprintView{a, e.Title, e.Category})
	}
	return c.JSON(http.StatusOK, map[string][]footprintView{"attendances": out})
}
