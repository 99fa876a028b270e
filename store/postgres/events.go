package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"aixin/ledger"
	"aixin/store"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Events and attendances, as on bbolt: each request reads what its
// decision in ledger needs (the event's and the member's rows locked),
// lets it decide and writes what it returned. The one open attendance a
// member may have is also a unique index of the table.

// storedEvent keeps the event's secret, which ledger.Event leaves out of JSON.
type storedEvent struct {
	ledger.Event
	Secret []byte `json:"secret"`
}

func decodeEvent(doc string) (ledger.Event, error) {
	var se storedEvent
	err := jsonUnmarshal(doc, &se)
	se.Event.Secret = se.Secret
	return se.Event, err
}

func (w *wtx) readEvent(id uuid.UUID, lock bool) (ledger.Event, error) {
	q := `SELECT doc FROM events WHERE id = $1`
	if lock {
		q += ` FOR UPDATE`
	}
	var doc string
	found, err := w.QueryRow(q, []any{id}, &doc)
	if err != nil {
		return ledger.Event{}, err
	}
	if !found {
		return ledger.Event{}, ledger.Errorf(ledger.ENOTFOUND, "event.not_found")
	}
	return decodeEvent(doc)
}

func (w *wtx) putEvent(e ledger.Event) error {
	doc, err := jsonDoc(storedEvent{e, e.Secret})
	w.Exec(`INSERT INTO events (id, unit, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc`, e.ID, e.UnitID, doc)
	return err
}

// Rules returns the rules of hours into points this store applies.
func (s *Store) Rules() ledger.EventRules { return s.rules }

// CreateEvent implements ledger.Events.
func (s *Store) CreateEvent(ctx context.Context, e ledger.Event) (ledger.Event, error) {
	list, err := s.CreateEvents(ctx, e, 1)
	if err != nil {
		return e, err
	}
	return list[0], nil
}

// CreateEvents implements ledger.Events: the event and its weekly copies
// (ledger.WeeklySeries), each with a secret of its own, in one transaction.
func (s *Store) CreateEvents(ctx context.Context, e ledger.Event, weeks int) ([]ledger.Event, error) {
	if err := e.Check(s.rules, s.now()); err != nil {
		return nil, err
	}
	newID := func() uuid.UUID { return uuid.Must(uuid.NewV7()) }
	e.ID, e.CreatedAt = newID(), s.now().UTC()
	list, err := ledger.WeeklySeries(e, weeks, s.loc, newID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if i > 0 {
			if err := list[i].Check(s.rules, s.now()); err != nil {
				return nil, err // the last weeks lie too far ahead
			}
		}
		list[i].Secret = make([]byte, 32)
		rand.Read(list[i].Secret)
	}
	err = s.update(ctx, func(w *wtx) error {
		st := ledger.NewEventsState{Events: list, TeamsFound: map[uuid.UUID]bool{}}
		_, err := w.readUnit(e.UnitID, false)
		if err != nil && ledger.ErrorCode(err) != ledger.ENOTFOUND {
			return err
		}
		st.UnitFound = err == nil
		for _, tid := range e.TeamIDs {
			_, err := readDoc[ledger.Team](w, "teams", tid, false, "team.not_found")
			if err != nil && ledger.ErrorCode(err) != ledger.ENOTFOUND {
				return err
			}
			st.TeamsFound[tid] = err == nil
		}
		write, err := ledger.DecideNewEvents(st)
		if err != nil {
			return err
		}
		for _, ev := range write {
			if err := w.putEvent(ev); err != nil {
				return err
			}
		}
		return nil
	})
	return list, err
}

// eventAttendances reads (and locks) an event's attendances, in the order they began.
func (w *wtx) eventAttendances(id uuid.UUID) ([]ledger.Attendance, error) {
	return w.attendances(`SELECT doc FROM attendances WHERE event = $1 ORDER BY id FOR UPDATE`, id)
}

func (w *wtx) attendances(sql string, args ...any) ([]ledger.Attendance, error) {
	var out []ledger.Attendance
	err := w.Query(func(rows pgx.Rows) error {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return err
		}
		var a ledger.Attendance
		err := jsonUnmarshal(doc, &a)
		out = append(out, a)
		return err
	}, sql, args...)
	return out, err
}

// putAttendance stores an attendance, new or changed.
func (w *wtx) putAttendance(a ledger.Attendance) error {
	doc, err := jsonDoc(a)
	var out *int64
	if !a.CheckedOutAt.IsZero() {
		o := a.CheckedOutAt.UnixNano()
		out = &o
	}
	// One statement writes the attendance and moves its event's counters
	// by what changed: the CTEs see the row as it was before.
	w.Exec(`WITH old AS (SELECT open FROM attendances WHERE id = $1),
		put AS (INSERT INTO attendances (id, event, member, open, checked_out_at, doc) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id) DO UPDATE SET open = EXCLUDED.open, checked_out_at = EXCLUDED.checked_out_at, doc = EXCLUDED.doc)
		INSERT INTO event_counts AS c (event, total, open)
		SELECT $2, CASE WHEN EXISTS (SELECT 1 FROM old) THEN 0 ELSE 1 END,
			$4::boolean::int - COALESCE((SELECT open::int FROM old), 0)
		ON CONFLICT (event) DO UPDATE SET total = c.total + EXCLUDED.total, open = c.open + EXCLUDED.open`,
		a.ID, a.EventID, a.MemberID, a.Status == ledger.AttendanceOpen, out, doc)
	return err
}

// UpdateEvent implements ledger.Events: it reads the event and its
// attendances, lets ledger.EditEvent decide, and writes the event, the
// attendances it counted again and the record of the change.
func (s *Store) UpdateEvent(ctx context.Context, id uuid.UUID, p ledger.EventPatch, by uuid.UUID) (ledger.Event, error) {
	var e ledger.Event
	err := s.update(ctx, func(w *wtx) error {
		old, err := w.readEvent(id, true)
		if err != nil {
			return err
		}
		atts, err := w.eventAttendances(id)
		if err != nil {
			return err
		}
		edit, err := ledger.EditEvent(old, p, atts, s.rules, s.now(), uuid.Must(uuid.NewV7()), by)
		if err != nil {
			return err
		}
		e = edit.Event
		if len(edit.Change.Fields) == 0 {
			return nil
		}
		for _, a := range edit.Attendances {
			if err := w.putAttendance(a); err != nil {
				return err
			}
		}
		doc, err := jsonDoc(edit.Change)
		if err != nil {
			return err
		}
		w.Exec(`INSERT INTO event_changes (event, id, doc) VALUES ($1, $2, $3)`, id, edit.Change.ID, doc)
		return w.putEvent(e)
	})
	return e, err
}

// EventChanges implements ledger.Events.
func (s *Store) EventChanges(ctx context.Context, id uuid.UUID) ([]ledger.EventChange, error) {
	return queryDocs[ledger.EventChange](ctx, s, `SELECT doc FROM event_changes WHERE event = $1 ORDER BY id`, id)
}

// Event implements ledger.Events.
func (s *Store) Event(ctx context.Context, id uuid.UUID) (ledger.Event, error) {
	se, err := viewDoc[storedEvent](ctx, s, "events", id, "event.not_found")
	se.Event.Secret = se.Secret
	return se.Event, err
}

// Events implements ledger.Events.
func (s *Store) Events(ctx context.Context) ([]ledger.Event, error) {
	list, err := listDocs[storedEvent](ctx, s, "events")
	out := make([]ledger.Event, len(list))
	for i, se := range list {
		out[i] = se.Event
	}
	return out, err
}

// SetEventStatus implements ledger.Events.
func (s *Store) SetEventStatus(ctx context.Context, id uuid.UUID, status ledger.EventStatus) (ledger.Event, error) {
	var e ledger.Event
	err := s.update(ctx, func(w *wtx) error {
		old, err := w.readEvent(id, true)
		if err != nil {
			return err
		}
		atts, err := w.eventAttendances(id)
		if err != nil {
			return err
		}
		var closed []ledger.Attendance
		if e, closed, err = ledger.PlanEventStatus(old, status, atts, s.now()); err != nil {
			return err
		}
		for _, a := range closed {
			if err := w.putAttendance(a); err != nil {
				return err
			}
		}
		return w.putEvent(e)
	})
	return e, err
}

// memberAttendances reads a member's attendances, newest first.
func (w *wtx) memberAttendances(member uuid.UUID) ([]ledger.Attendance, error) {
	return w.attendances(`SELECT doc FROM attendances WHERE member = $1 ORDER BY id DESC`, member)
}

// overlapping returns an attendance of the member (other than skip) that
// holds some of [in, out] (ledger.Attendance.Occupies); out zero is open-ended.
func (w *wtx) overlapping(member uuid.UUID, in, out time.Time, skip uuid.UUID) (*ledger.Attendance, error) {
	all, err := w.memberAttendances(member)
	for _, a := range all {
		if a.ID != skip && a.Occupies(in, out) {
			return &a, err
		}
	}
	return nil, err
}

// eventCounts counts an event's attendances: in all, and open now.
func (w *wtx) eventCounts(id uuid.UUID) (total, open int, err error) {
	_, err = w.QueryRow(`SELECT total, open FROM event_counts WHERE event = $1`, []any{id}, &total, &open)
	return total, open, err
}

// EventCounts implements ledger.Events.
func (s *Store) EventCounts(ctx context.Context, id uuid.UUID) (total, open int, err error) {
	err = s.pool.QueryRow(ctx, `SELECT total, open FROM event_counts WHERE event = $1`, id).Scan(&total, &open)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, nil // no attendance yet
	}
	if err != nil {
		return 0, 0, unavailable(err)
	}
	return total, open, nil
}

// Backfill implements ledger.Events: it reads what ledger.DecideBackfill
// needs and writes the attendance it decided.
func (s *Store) Backfill(ctx context.Context, eventID, memberID uuid.UUID, in, out time.Time, reason string, by uuid.UUID) (ledger.Attendance, error) {
	reason, err := ledger.Reason.Clean(reason)
	if err != nil {
		return ledger.Attendance{}, err
	}
	var att ledger.Attendance
	err = s.update(ctx, func(w *wtx) error {
		st := ledger.BackfillState{Now: s.now().UTC(), In: in, Out: out, Reason: reason, By: by, NewID: uuid.Must(uuid.NewV7())}
		var err error
		if st.Event, err = w.readEvent(eventID, false); err != nil {
			return err
		}
		if st.Member, err = readDoc[ledger.Member](w, "members", memberID, true, "member.not_found"); err != nil {
			return err
		}
		if st.Overlap, err = w.overlapping(memberID, in, out, uuid.Nil); err != nil {
			return err
		}
		if att, err = ledger.DecideBackfill(st); err != nil {
			return err
		}
		return w.putAttendance(att)
	})
	return att, err
}

// attendanceAndEvent reads an attendance and its event, locking both.
func (w *wtx) attendanceAndEvent(id uuid.UUID) (ledger.Attendance, ledger.Event, error) {
	a, err := readDoc[ledger.Attendance](w, "attendances", id, true, "attendance.not_found")
	if err != nil {
		return a, ledger.Event{}, err
	}
	e, err := w.readEvent(a.EventID, true)
	return a, e, err
}

// dayMinutes reads the minutes posted for a member on a day.
func (w *wtx) dayMinutes(k ledger.DayKey) (int64, error) {
	var n int64
	_, err := w.QueryRow(`SELECT minutes FROM member_days WHERE member = $1 AND day = $2`, []any{k.Member, int32(k.Date)}, &n)
	return n, err
}

// CloseAttendance implements ledger.Events: it reads what
// ledger.DecideCloseAttendance needs and writes what it decided.
func (s *Store) CloseAttendance(ctx context.Context, id uuid.UUID, out time.Time, reason string, by uuid.UUID) (ledger.Attendance, error) {
	reason, err := ledger.Reason.Clean(reason)
	if err != nil {
		return ledger.Attendance{}, err
	}
	var att ledger.Attendance
	err = s.update(ctx, func(w *wtx) error {
		st := ledger.CloseState{Now: s.now(), Rules: s.rules, Loc: s.loc, Out: out, Reason: reason, Actor: "user:" + by.String()}
		var err error
		if st.Attendance, st.Event, err = w.attendanceAndEvent(id); err != nil {
			return err
		}
		a := st.Attendance
		if ledger.CloseNeedsOverlap(a, out) {
			if st.Overlap, err = w.overlapping(a.MemberID, a.CheckedInAt, out, a.ID); err != nil {
				return err
			}
		}
		if st.DayMinutes, err = w.dayMinutes(ledger.DayOf(a.MemberID, a.CheckedInAt, s.loc)); err != nil {
			return err
		}
		d, err := ledger.DecideCloseAttendance(st)
		if err != nil {
			return err
		}
		att, err = w.storeDecided(d)
		return err
	})
	return att, err
}

// storeDecided stores an attendance an organiser decided on, or posts it
// when the decision says so; it returns the attendance stored.
func (w *wtx) storeDecided(d ledger.Decided) (ledger.Attendance, error) {
	if d.Posting != nil {
		return w.writePosting(*d.Posting)
	}
	return d.Attendance, w.putAttendance(d.Attendance)
}

// writePosting writes a posting (ledger.Posting) and returns the attendance
// stored, with the seq of its earn entry. A refusal of the first entry
// leaves everything as it was; a failure after it fails the request.
func (w *wtx) writePosting(p ledger.Posting) (ledger.Attendance, error) {
	a := p.Attendance
	for _, t := range []*ledger.Transfer{p.Reverse, p.Earn} {
		if t == nil {
			continue
		}
		entry, err := w.Append(*t)
		if err != nil {
			return a, err
		}
		if t == p.Earn {
			a.EntrySeq = entry.Seq
		}
		w.addServed(entry, a)
	}
	w.Exec(`INSERT INTO member_days (member, day, minutes) VALUES ($1, $2, $3)
		ON CONFLICT (member, day) DO UPDATE SET minutes = EXCLUDED.minutes`, p.Day.Member, int32(p.Day.Date), p.DayMinutes)
	return a, w.putAttendance(a)
}

// addServed adds entry e, which credits (or, a reverse, takes back)
// attendance a's minutes, to the service rows of e's month.
func (w *wtx) addServed(e ledger.Entry, a ledger.Attendance) {
	delta := ledger.ServiceMinutesDelta(&e, ledger.MemberAccount(a.MemberID))
	if delta == 0 {
		return
	}
	m := ledger.MonthOf(e.Time, w.s.loc)
	w.Exec(`INSERT INTO month_events (month, event, minutes) VALUES ($1, $2, $3)
		ON CONFLICT (month, event) DO UPDATE SET minutes = month_events.minutes + EXCLUDED.minutes`, int32(m), a.EventID, delta)
	if ledger.MonthOf(a.CheckedInAt, w.s.loc) < m {
		w.Exec(`INSERT INTO month_late (month, attendance, minutes, at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (month, attendance) DO UPDATE SET minutes = month_late.minutes + EXCLUDED.minutes,
				at = GREATEST(month_late.at, EXCLUDED.at)`, int32(m), a.ID, delta, e.Time.UnixNano())
	}
}

// CheckoutAll implements ledger.Events.
func (s *Store) CheckoutAll(ctx context.Context, eventID uuid.UUID, when, reason string, by uuid.UUID) ([]ledger.Attendance, error) {
	reason, err := ledger.Reason.Clean(reason)
	if err != nil {
		return nil, err
	}
	var closed []ledger.Attendance
	err = s.update(ctx, func(w *wtx) error {
		e, err := w.readEvent(eventID, true)
		if err != nil {
			return err
		}
		atts, err := w.eventAttendances(eventID)
		if err != nil {
			return err
		}
		if closed, err = ledger.PlanCheckoutAll(e, atts, when, s.now(), reason, s.rules); err != nil {
			return err
		}
		for _, a := range closed {
			if err := w.putAttendance(a); err != nil {
				return err
			}
		}
		return nil
	})
	return closed, err
}

// ReviewAttendance implements ledger.Events: it reads what
// ledger.DecideReviewAttendance needs and writes what it decided (for a
// posted attendance, a correction: a reverse entry and a new earn entry).
func (s *Store) ReviewAttendance(ctx context.Context, id uuid.UUID, decision string, minutes int64, reason string, by uuid.UUID) (ledger.Attendance, error) {
	if decision != ledger.ReviewConfirm {
		r, err := ledger.Reason.Clean(reason)
		if err != nil {
			return ledger.Attendance{}, err
		}
		reason = r
	}
	var att ledger.Attendance
	err := s.update(ctx, func(w *wtx) error {
		st := ledger.ReviewState{Rules: s.rules, Loc: s.loc, Decision: decision, Minutes: minutes, Reason: reason,
			Actor: "user:" + by.String()}
		var err error
		if st.Attendance, st.Event, err = w.attendanceAndEvent(id); err != nil {
			return err
		}
		a := st.Attendance
		if ledger.ReviewNeedsOverlap(a, decision) {
			if st.Overlap, err = w.overlapping(a.MemberID, a.CheckedInAt, a.CheckedOutAt, a.ID); err != nil {
				return err
			}
		}
		if a.Status == ledger.AttendancePosted && a.EntrySeq != 0 {
			orig, err := w.Entry(a.EntrySeq)
			if err != nil {
				return err
			}
			st.Posted = &orig
		}
		if st.DayMinutes, err = w.dayMinutes(ledger.DayOf(a.MemberID, a.CheckedInAt, s.loc)); err != nil {
			return err
		}
		d, err := ledger.DecideReviewAttendance(st)
		if err != nil {
			return err
		}
		att, err = w.storeDecided(d)
		return err
	})
	return att, err
}

// OpenAttendance implements ledger.Events.
func (s *Store) OpenAttendance(ctx context.Context, memberID uuid.UUID) (ledger.Attendance, error) {
	list, err := queryDocs[ledger.Attendance](ctx, s, `SELECT doc FROM attendances WHERE member = $1 AND open`, memberID)
	if err != nil {
		return ledger.Attendance{}, err
	}
	if len(list) == 0 {
		return ledger.Attendance{}, ledger.Errorf(ledger.ENOTFOUND, "attendance.not_found")
	}
	return list[0], nil
}

// Attendance implements ledger.Events.
func (s *Store) Attendance(ctx context.Context, id uuid.UUID) (ledger.Attendance, error) {
	return viewDoc[ledger.Attendance](ctx, s, "attendances", id, "attendance.not_found")
}

// Attendances implements ledger.Events.
func (s *Store) Attendances(ctx context.Context, eventID uuid.UUID) ([]ledger.Attendance, error) {
	return queryDocs[ledger.Attendance](ctx, s, `SELECT doc FROM attendances WHERE event = $1 ORDER BY id`, eventID)
}

// MemberAttendances implements ledger.Events.
func (s *Store) MemberAttendances(ctx context.Context, memberID uuid.UUID, limit int) ([]ledger.Attendance, error) {
	if limit <= 0 {
		return nil, nil
	}
	return queryDocs[ledger.Attendance](ctx, s, `SELECT doc FROM attendances WHERE member = $1 ORDER BY id DESC LIMIT $2`, memberID, limit)
}

// FinalizeEvent implements ledger.Events: it reads the event, its
// attendances and their days' posted minutes, lets ledger.DecideFinalize
// decide, and writes what it decided.
func (s *Store) FinalizeEvent(ctx context.Context, id uuid.UUID, actor string, confirmed bool) (ledger.FinalizeResult, error) {
	var res ledger.FinalizeResult
	err := s.update(ctx, func(w *wtx) error {
		st := ledger.FinalizeState{Now: s.now(), Rules: s.rules, Loc: s.loc, Confirmed: confirmed, Actor: actor}
		var err error
		if st.Event, err = w.readEvent(id, true); err != nil {
			return err
		}
		if st.Attendances, err = w.eventAttendances(id); err != nil {
			return err
		}
		st.Days = map[ledger.DayKey]int64{}
		for _, k := range ledger.FinalizeDays(st.Attendances, s.loc) {
			if st.Days[k], err = w.dayMinutes(k); err != nil {
				return err
			}
		}
		d, err := ledger.DecideFinalize(st)
		if err != nil {
			return err
		}
		res = d.Result
		if err := w.OpenAccount(ledger.IssuerAccount(d.Event.UnitID)); err != nil {
			return err
		}
		for _, a := range d.Close {
			if err := w.putAttendance(a); err != nil {
				return err
			}
		}
		for _, p := range d.Post {
			if _, err := w.writePosting(p); err != nil {
				return err
			}
		}
		return w.putEvent(d.Event)
	})
	return res, err
}

// CloseOverdueAttendances implements ledger.Events: the open attendances
// are the members checked in now, so a run reads O(people checked in).
// Each is closed in a request of its own that decides again, so two app
// servers sweeping at once close it once.
func (s *Store) CloseOverdueAttendances(ctx context.Context) (ledger.SweepResult, error) {
	res, err := s.alone(ctx, lockOpenAttendances, s.closeOverdueAttendances)
	s.stats.Swept(store.SweepOpenAttendances, res)
	return res, err
}

func (s *Store) closeOverdueAttendances(ctx context.Context) (ledger.SweepResult, error) {
	var res ledger.SweepResult
	now := s.now().UTC()
	open, err := queryDocs[ledger.Attendance](ctx, s, `SELECT doc FROM attendances WHERE open ORDER BY id`)
	if err != nil {
		return res, err
	}
	events := map[uuid.UUID]ledger.Event{}
	var due []uuid.UUID
	for _, a := range open {
		e, ok := events[a.EventID]
		if !ok {
			if e, err = s.Event(ctx, a.EventID); err != nil {
				due = append(due, a.ID) // let its own write fail and be reported
				continue
			}
			events[a.EventID] = e
		}
		if _, overdue := ledger.Overdue(e, now, s.rules); overdue {
			due = append(due, a.ID)
		}
	}
	err = s.sweep(ctx, due, &res, func(w *wtx, i int) (bool, error) {
		a, e, err := w.attendanceAndEvent(due[i])
		if err != nil {
			return false, err
		}
		c := ledger.DecideOverdue(e, a, s.now(), s.rules)
		if c == nil {
			return false, nil // checked out or closed since it was read
		}
		return true, w.putAttendance(*c)
	})
	return res, err
}

// EventMinutes implements ledger.Reports: the month's service rows.
func (s *Store) EventMinutes(ctx context.Context, m ledger.Month) (map[uuid.UUID]int64, error) {
	out := map[uuid.UUID]int64{}
	rows, err := s.pool.Query(ctx, `SELECT event, minutes FROM month_events WHERE month = $1 AND minutes <> 0`, int32(m))
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, unavailable(err)
		}
		out[id] = n
	}
	return out, unavailable2(rows.Err())
}

// LateService implements ledger.Reports: the month's rows of service of an
// earlier month, each with its attendance and event.
func (s *Store) LateService(ctx context.Context, m ledger.Month) ([]ledger.LateService, error) {
	type row struct {
		id          uuid.UUID
		minutes, at int64
	}
	rows, err := s.pool.Query(ctx, `SELECT attendance, minutes, at FROM month_late WHERE month = $1 AND minutes <> 0 ORDER BY attendance`, int32(m))
	if err != nil {
		return nil, unavailable(err)
	}
	var late []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.minutes, &r.at); err != nil {
			rows.Close()
			return nil, unavailable(err)
		}
		late = append(late, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, unavailable(err)
	}
	var out []ledger.LateService
	events := map[uuid.UUID]ledger.Event{}
	for _, r := range late {
		a, err := s.Attendance(ctx, r.id)
		if err != nil {
			return nil, err
		}
		e, ok := events[a.EventID]
		if !ok {
			if e, err = s.Event(ctx, a.EventID); err != nil {
				return nil, err
			}
			events[a.EventID] = e
		}
		out = append(out, ledger.LateService{AttendanceID: a.ID, MemberID: a.MemberID, EventID: e.ID, EventTitle: e.Title,
			Category: e.Category, ServedAt: a.CheckedInAt, PostedAt: time.Unix(0, r.at).UTC(), Minutes: r.minutes,
			Backfilled: a.Source == ledger.ActionBackfill})
	}
	return out, nil
}
