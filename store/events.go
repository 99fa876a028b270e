package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// storedEvent keeps the event's secret, which ledger.Event leaves out of JSON.
type storedEvent struct {
	ledger.Event
	Secret []byte `json:"secret"`
}

func getEvent(tx *bolt.Tx, id uuid.UUID) (ledger.Event, error) {
	se, err := getJSON[storedEvent](tx.Bucket(bucketEvents), id, "event.not_found")
	se.Event.Secret = se.Secret
	return se.Event, err
}

func putEvent(tx *bolt.Tx, e ledger.Event) error {
	return putJSON(tx.Bucket(bucketEvents), e.ID, storedEvent{e, e.Secret})
}

// Rules returns the rules of hours into points this store applies.
func (s *Store) Rules() ledger.EventRules { return s.rules }

// CreateEvent implements ledger.Events.
func (s *Store) CreateEvent(ctx context.Context, e ledger.Event) (ledger.Event, error) {
	if err := e.Check(s.rules, s.now()); err != nil {
		return e, err
	}
	e.ID, e.CreatedAt = newID(), s.now().UTC()
	e.Secret = make([]byte, 32)
	rand.Read(e.Secret)
	err := s.update(ctx, func(w *writeTx) error {
		if w.tx.Bucket(bucketUnits).Get(e.UnitID[:]) == nil {
			return ledger.Errorf(ledger.ENOTFOUND, "unit.not_found")
		}
		for _, tid := range e.TeamIDs {
			if w.tx.Bucket(bucketTeams).Get(tid[:]) == nil {
				return ledger.Errorf(ledger.ENOTFOUND, "team.not_found")
			}
		}
		return putEvent(w.tx, e)
	})
	return e, err
}

// Event implements ledger.Events.
func (s *Store) Event(ctx context.Context, id uuid.UUID) (ledger.Event, error) {
	var e ledger.Event
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		e, err = getEvent(tx, id)
		return err
	})
	return e, err
}

// Events implements ledger.Events.
func (s *Store) Events(ctx context.Context) ([]ledger.Event, error) {
	list, err := listJSON[storedEvent](s, bucketEvents)
	out := make([]ledger.Event, len(list))
	for i, se := range slices.Backward(list) {
		out[len(list)-1-i] = se.Event
	}
	return out, err
}

// SetEventStatus implements ledger.Events.
func (s *Store) SetEventStatus(ctx context.Context, id uuid.UUID, status ledger.EventStatus) (ledger.Event, error) {
	var e ledger.Event
	err := s.update(ctx, func(w *writeTx) error {
		var err error
		if e, err = getEvent(w.tx, id); err != nil {
			return err
		}
		allowed := map[ledger.EventStatus][]ledger.EventStatus{
			ledger.EventDraft:    {ledger.EventOpen, ledger.EventCancelled},
			ledger.EventOpen:     {ledger.EventFinished, ledger.EventCancelled},
			ledger.EventFinished: {ledger.EventOpen},
		}
		if !slices.Contains(allowed[e.Status], status) {
			return ledger.Errorf(ledger.ECONFLICT, "event.status_change", string(e.Status), string(status))
		}
		e.Status = status
		return putEvent(w.tx, e)
	})
	return e, err
}

func pairKey(a, b uuid.UUID) []byte { return append(append(make([]byte, 0, 32), a[:]...), b[:]...) }

func putAttendance(tx *bolt.Tx, a ledger.Attendance) error {
	// The event's counters: attendances in all, and open now.
	wasOpen, isNew := false, true
	if v := tx.Bucket(bucketAttendances).Get(a.ID[:]); v != nil {
		var old ledger.Attendance
		if err := json.Unmarshal(v, &old); err != nil {
			return err
		}
		isNew, wasOpen = false, old.Status == ledger.AttendanceOpen
	}
	if isOpen := a.Status == ledger.AttendanceOpen; isNew || wasOpen != isOpen {
		stats := tx.Bucket(bucketEventStats)
		total, open := eventCounts(stats, a.EventID)
		if isNew {
			total++
		}
		if isOpen {
			open++
		}
		if wasOpen {
			open--
		}
		v := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(total)), uint64(open))
		if err := stats.Put(a.EventID[:], v); err != nil {
			return err
		}
	}
	if !a.CheckedOutAt.IsZero() {
		ends := tx.Bucket(bucketMemberEnd)
		if v := ends.Get(a.MemberID[:]); len(v) != 8 || int64(binary.BigEndian.Uint64(v)) < a.CheckedOutAt.UnixNano() {
			if err := ends.Put(a.MemberID[:], binary.BigEndian.AppendUint64(nil, uint64(a.CheckedOutAt.UnixNano()))); err != nil {
				return err
			}
		}
	}
	if err := putJSON(tx.Bucket(bucketAttendances), a.ID, a); err != nil {
		return err
	}
	if err := tx.Bucket(bucketEventAtt).Put(pairKey(a.EventID, a.ID), nil); err != nil {
		return err
	}
	if err := tx.Bucket(bucketMemberAtt).Put(pairKey(a.MemberID, a.ID), nil); err != nil {
		return err
	}
	open := tx.Bucket(bucketOpenAtt)
	if a.Status == ledger.AttendanceOpen {
		return open.Put(a.MemberID[:], a.ID[:])
	}
	if v := open.Get(a.MemberID[:]); v != nil && uuid.UUID(v) == a.ID {
		return open.Delete(a.MemberID[:])
	}
	return nil
}

// memberAttendances visits a member's attendances, newest first, until fn says stop.
func memberAttendances(tx *bolt.Tx, member uuid.UUID, fn func(ledger.Attendance) bool) error {
	c := tx.Bucket(bucketMemberAtt).Cursor()
	end := pairKey(member, uuid.Max)
	k, _ := c.Seek(end)
	if k == nil {
		k, _ = c.Last()
	} else if !bytes.Equal(k, end) {
		k, _ = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, member[:]); k, _ = c.Prev() {
		a, err := getJSON[ledger.Attendance](tx.Bucket(bucketAttendances), uuid.UUID(k[16:]), "attendance.not_found")
		if err != nil {
			return err
		}
		if !fn(a) {
			return nil
		}
	}
	return nil
}

// overlapping returns an attendance of the member (other than skip) whose
// time overlaps [in, out]; out zero is open-ended.
func overlapping(tx *bolt.Tx, member uuid.UUID, in, out time.Time, skip uuid.UUID) (*ledger.Attendance, error) {
	var found *ledger.Attendance
	err := memberAttendances(tx, member, func(a ledger.Attendance) bool {
		if a.ID != skip && a.Status != ledger.AttendanceRejected && ledger.Overlaps(in, out, a.CheckedInAt, a.CheckedOutAt) {
			found = &a
			return false
		}
		return true
	})
	return found, err
}

// activeMember loads a member who may take part.
func activeMember(tx *bolt.Tx, id uuid.UUID) (ledger.Member, error) {
	m, err := getJSON[ledger.Member](tx.Bucket(bucketMembers), id, "member.not_found")
	if err == nil && m.Status != ledger.MemberActive {
		return m, ledger.Errorf(ledger.ECONFLICT, "checkin.member_inactive", m.Name)
	}
	return m, err
}

// close sets an attendance's check-out and what it counts.
func closeAttendance(e ledger.Event, a *ledger.Attendance, out time.Time) {
	a.CheckedOutAt = out.UTC()
	a.Status = ledger.AttendanceClosed
	a.Minutes = ledger.CountedMinutes(e, a.CheckedInAt, a.CheckedOutAt)
	a.Points = ledger.PointsFor(a.Minutes, e.PointsPerHour)
}

// Scan implements ledger.Events.
func (s *Store) Scan(ctx context.Context, eventID, memberID uuid.UUID, source string, by uuid.UUID) (ledger.Attendance, string, error) {
	var att ledger.Attendance
	var action string
	err := s.update(ctx, func(w *writeTx) error {
		now := s.now().UTC()
		e, err := getEvent(w.tx, eventID)
		if err != nil {
			return err
		}
		if _, err := activeMember(w.tx, memberID); err != nil {
			return err
		}
		if v := w.tx.Bucket(bucketOpenAtt).Get(memberID[:]); v != nil {
			open, err := getJSON[ledger.Attendance](w.tx.Bucket(bucketAttendances), uuid.UUID(v), "attendance.not_found")
			if err != nil {
				return err
			}
			if open.EventID != eventID {
				if source != "scan" { // an organiser is not told about another community's event
					return ledger.Errorf(ledger.ECONFLICT, "checkin.elsewhere_other")
				}
				other, _ := getEvent(w.tx, open.EventID)
				return ledger.Errorf(ledger.ECONFLICT, "checkin.elsewhere", other.Title)
			}
			if now.Sub(open.CheckedInAt) < s.rules.RepeatWindow {
				att, action = open, ledger.ActionRepeat // the same check-in, sent again
				return nil
			}
			// A check-out long after the end, or once the event is closed, is
			// a missed check-out: an organiser closes it, with a reason.
			if now.After(e.EndsAt.Add(s.rules.Grace)) || (e.Status != ledger.EventOpen && e.Status != ledger.EventFinished) {
				return ledger.Errorf(ledger.ECONFLICT, "checkin.checkout_late")
			}
			closeAttendance(e, &open, now)
			att, action = open, ledger.ActionOut
			return putAttendance(w.tx, att)
		}
		if err := ledger.CheckInOpen(e, now, s.rules); err != nil {
			return err
		}
		// Not checked in anywhere (no open attendance): a check-in now can only
		// overlap an attendance that ends later than now, which the member's
		// latest check-out says in one read.
		if v := w.tx.Bucket(bucketMemberEnd).Get(memberID[:]); len(v) == 8 && now.UnixNano() < int64(binary.BigEndian.Uint64(v)) {
			// Rare: some attendance ends after now. Look at them all.
			if prev, err := overlapping(w.tx, memberID, now, time.Time{}, uuid.Nil); err != nil {
				return err
			} else if prev != nil {
				return ledger.Errorf(ledger.ECONFLICT, "checkin.overlap")
			}
		}
		if e.Capacity > 0 {
			if n, _ := eventCounts(w.tx.Bucket(bucketEventStats), e.ID); n >= e.Capacity {
				return ledger.Errorf(ledger.ECONFLICT, "checkin.full", e.Capacity)
			}
		}
		att = ledger.Attendance{ID: newID(), EventID: eventID, MemberID: memberID, CheckedInAt: now,
			Status: ledger.AttendanceOpen, Source: source, RecordedBy: by, RecordedAt: now}
		action = ledger.ActionIn
		return putAttendance(w.tx, att)
	})
	return att, action, err
}

// eventCounts reads an event's counters: attendances in all, and open now.
func eventCounts(stats *bolt.Bucket, id uuid.UUID) (total, open int) {
	if v := stats.Get(id[:]); len(v) == 16 {
		return int(binary.BigEndian.Uint64(v)), int(binary.BigEndian.Uint64(v[8:]))
	}
	return 0, 0
}

// PostedMinutes implements ledger.Events.
func (s *Store) PostedMinutes(ctx context.Context, events []uuid.UUID) (map[uuid.UUID]int64, error) {
	out := make(map[uuid.UUID]int64, len(events))
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEventMinutes)
		for _, id := range events {
			out[id] = getCount(b, id[:])
		}
		return nil
	})
	return out, err
}

// rebuildEventMinutes sums the posted attendances' minutes per event (migration 7).
func rebuildEventMinutes(tx *bolt.Tx) error {
	sums := map[uuid.UUID]int64{}
	if err := tx.Bucket(bucketAttendances).ForEach(func(_, v []byte) error {
		var a ledger.Attendance
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		if a.Status == ledger.AttendancePosted {
			sums[a.EventID] += a.Minutes
		}
		return nil
	}); err != nil {
		return err
	}
	for id, n := range sums {
		if err := addCount(tx.Bucket(bucketEventMinutes), id[:], n); err != nil {
			return err
		}
	}
	return nil
}

// EventCounts implements ledger.Events.
func (s *Store) EventCounts(ctx context.Context, id uuid.UUID) (total, open int, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		total, open = eventCounts(tx.Bucket(bucketEventStats), id)
		return nil
	})
	return total, open, err
}

// Backfill implements ledger.Events.
func (s *Store) Backfill(ctx context.Context, eventID, memberID uuid.UUID, in, out time.Time, reason string, by uuid.UUID) (ledger.Attendance, error) {
	reason, err := ledger.Reason.Clean(reason)
	if err != nil {
		return ledger.Attendance{}, err
	}
	var att ledger.Attendance
	err = s.update(ctx, func(w *writeTx) error {
		e, err := getEvent(w.tx, eventID)
		if err != nil {
			return err
		}
		switch {
		case e.Status == ledger.EventCancelled || e.Status == ledger.EventDraft || e.Status == ledger.EventFinalised:
			return ledger.Errorf(ledger.ECONFLICT, "attendance.event_closed", e.Title)
		case in.IsZero() || out.IsZero() || !out.After(in) || in.Before(e.StartsAt) || out.After(e.EndsAt):
			return ledger.Errorf(ledger.EINVALID, "attendance.backfill_window")
		case out.After(s.now().Add(clockSkew)):
			return ledger.Errorf(ledger.EINVALID, "attendance.in_future")
		}
		if _, err := activeMember(w.tx, memberID); err != nil {
			return err
		}
		if prev, err := overlapping(w.tx, memberID, in, out, uuid.Nil); err != nil {
			return err
		} else if prev != nil {
			return ledger.Errorf(ledger.ECONFLICT, "checkin.overlap")
		}
		now := s.now().UTC()
		att = ledger.Attendance{ID: newID(), EventID: eventID, MemberID: memberID, CheckedInAt: in.UTC(),
			Source: ledger.ActionBackfill, RecordedBy: by, RecordedAt: now, Reason: reason}
		closeAttendance(e, &att, out)
		return putAttendance(w.tx, att)
	})
	return att, err
}

// CloseAttendance implements ledger.Events.
func (s *Store) CloseAttendance(ctx context.Context, id uuid.UUID, out time.Time, reason string, by uuid.UUID) (ledger.Attendance, error) {
	reason, err := ledger.Reason.Clean(reason)
	if err != nil {
		return ledger.Attendance{}, err
	}
	var att ledger.Attendance
	err = s.update(ctx, func(w *writeTx) error {
		var err error
		if att, err = getJSON[ledger.Attendance](w.tx.Bucket(bucketAttendances), id, "attendance.not_found"); err != nil {
			return err
		}
		if att.Status != ledger.AttendanceOpen {
			return ledger.Errorf(ledger.ECONFLICT, "attendance.not_open")
		}
		e, err := getEvent(w.tx, att.EventID)
		if err != nil {
			return err
		}
		if out.Before(att.CheckedInAt) || out.After(e.EndsAt.Add(s.rules.Grace)) {
			return ledger.Errorf(ledger.EINVALID, "attendance.close_time")
		}
		if out.After(s.now().Add(clockSkew)) {
			return ledger.Errorf(ledger.EINVALID, "attendance.in_future")
		}
		closeAttendance(e, &att, out)
		att.Reason = reason
		return putAttendance(w.tx, att)
	})
	return att, err
}

// ReviewAttendance implements ledger.Events.
func (s *Store) ReviewAttendance(ctx context.Context, id uuid.UUID, decision string, minutes int64, reason string, by uuid.UUID) (ledger.Attendance, error) {
	if decision != ledger.ReviewConfirm {
		r, err := ledger.Reason.Clean(reason)
		if err != nil {
			return ledger.Attendance{}, err
		}
		reason = r
	}
	var att ledger.Attendance
	err := s.update(ctx, func(w *writeTx) error {
		var err error
		if att, err = getJSON[ledger.Attendance](w.tx.Bucket(bucketAttendances), id, "attendance.not_found"); err != nil {
			return err
		}
		if att.Status == ledger.AttendanceOpen {
			return ledger.Errorf(ledger.ECONFLICT, "attendance.not_reviewable")
		}
		e, err := getEvent(w.tx, att.EventID)
		if err != nil {
			return err
		}
		if att.Status == ledger.AttendancePosted {
			return s.correctPosted(w, e, &att, decision, minutes, reason, by)
		}
		if att.Status == ledger.AttendanceRejected && decision != ledger.ReviewReject {
			// Rejected time may have been claimed by another attendance since.
			if prev, err := overlapping(w.tx, att.MemberID, att.CheckedInAt, att.CheckedOutAt, att.ID); err != nil {
				return err
			} else if prev != nil {
				return ledger.Errorf(ledger.ECONFLICT, "checkin.overlap")
			}
		}
		switch decision {
		case ledger.ReviewConfirm:
			att.Status, att.AdjustedMinutes = ledger.AttendanceConfirmed, nil
		case ledger.ReviewAdjust:
			if minutes < 0 || minutes > int64(e.EndsAt.Sub(e.StartsAt)/time.Minute) {
				return ledger.Errorf(ledger.EINVALID, "attendance.minutes_invalid")
			}
			att.Status, att.AdjustedMinutes = ledger.AttendanceConfirmed, &minutes
			att.Points = ledger.PointsFor(minutes, e.PointsPerHour)
		case ledger.ReviewReject:
			att.Status = ledger.AttendanceRejected
		default:
			return ledger.Errorf(ledger.EINVALID, "attendance.decision_invalid", decision)
		}
		if reason != "" {
			att.Reason = reason
		}
		return putAttendance(w.tx, att)
	})
	return att, err
}

// correctPosted corrects an attendance whose points are in the journal:
// never by an edit, but by a reverse entry of what was posted and, for an
// adjustment, a new earn entry for the new minutes.
func (s *Store) correctPosted(w *writeTx, e ledger.Event, att *ledger.Attendance, decision string, minutes int64, reason string, by uuid.UUID) error {
	if decision != ledger.ReviewAdjust && decision != ledger.ReviewReject {
		return ledger.Errorf(ledger.ECONFLICT, "attendance.already_posted")
	}
	if decision == ledger.ReviewAdjust && (minutes < 0 || minutes > int64(e.EndsAt.Sub(e.StartsAt)/time.Minute)) {
		return ledger.Errorf(ledger.EINVALID, "attendance.minutes_invalid")
	}
	actor := "user:" + by.String()
	if att.EntrySeq != 0 {
		orig, err := readStored(w.tx, att.EntrySeq)
		if err != nil {
			return err
		}
		t, err := ledger.Reverse(orig.Entry, actor, reason, "")
		if err != nil {
			return err
		}
		// The first write: a refusal here (the member has spent the points)
		// leaves everything as it was.
		if _, err := s.appendTx(w, t); err != nil {
			return err
		}
	}
	// From here on a failure must abort the whole request.
	day := att.CheckedInAt.In(s.loc)
	dk := binary.BigEndian.AppendUint32(append([]byte(nil), att.MemberID[:]...), uint32(day.Year()*10000+int(day.Month())*100+day.Day()))
	days := w.tx.Bucket(bucketMemberDay)
	var already int64
	if v := days.Get(dk); len(v) == 8 {
		already = int64(binary.BigEndian.Uint64(v))
	}
	already = max(0, already-att.Minutes)
	if err := addCount(w.tx.Bucket(bucketEventMinutes), e.ID[:], -att.Minutes); err != nil {
		return err
	}
	att.Reason, att.EntrySeq = reason, 0
	if decision == ledger.ReviewReject {
		att.Status, att.Minutes, att.Points = ledger.AttendanceRejected, 0, 0
	} else {
		att.AdjustedMinutes = &minutes
		att.Minutes = ledger.CapDaily(minutes, already, s.rules)
		att.Points = ledger.PointsFor(att.Minutes, e.PointsPerHour)
		if att.Points > 0 {
			entry, err := s.appendTx(w, ledger.Transfer{
				Debit: ledger.IssuerAccount(e.UnitID), Credit: ledger.MemberAccount(att.MemberID), Amount: att.Points,
				Kind: ledger.KindEarn, Reference: att.Reference(), Minutes: att.Minutes, Actor: actor, Memo: reason,
				IdempotencyKey: att.PostingKey(),
			})
			if err != nil {
				return abortError{fmt.Sprintf("correct attendance %s: %v", att.ID, err), err}
			}
			att.EntrySeq = entry.Seq
		}
	}
	att.Revision++
	if err := days.Put(dk, binary.BigEndian.AppendUint64(nil, uint64(already+att.Minutes))); err != nil {
		return err
	}
	if att.Status == ledger.AttendancePosted {
		if err := addCount(w.tx.Bucket(bucketEventMinutes), e.ID[:], att.Minutes); err != nil {
			return err
		}
	}
	return putAttendance(w.tx, *att)
}

// clockSkew is how far past the store's clock an organiser's times may lie.
const clockSkew = 5 * time.Minute

// OpenAttendance implements ledger.Events.
func (s *Store) OpenAttendance(ctx context.Context, memberID uuid.UUID) (ledger.Attendance, error) {
	var a ledger.Attendance
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketOpenAtt).Get(memberID[:])
		if v == nil {
			return ledger.Errorf(ledger.ENOTFOUND, "attendance.not_found")
		}
		var err error
		a, err = getJSON[ledger.Attendance](tx.Bucket(bucketAttendances), uuid.UUID(v), "attendance.not_found")
		return err
	})
	return a, err
}

// Attendance implements ledger.Events.
func (s *Store) Attendance(ctx context.Context, id uuid.UUID) (ledger.Attendance, error) {
	var a ledger.Attendance
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		a, err = getJSON[ledger.Attendance](tx.Bucket(bucketAttendances), id, "attendance.not_found")
		return err
	})
	return a, err
}

// Attendances implements ledger.Events.
func (s *Store) Attendances(ctx context.Context, eventID uuid.UUID) ([]ledger.Attendance, error) {
	var out []ledger.Attendance
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEventAtt).Cursor()
		for k, _ := c.Seek(eventID[:]); k != nil && bytes.HasPrefix(k, eventID[:]); k, _ = c.Next() {
			a, err := getJSON[ledger.Attendance](tx.Bucket(bucketAttendances), uuid.UUID(k[16:]), "attendance.not_found")
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// MemberAttendances implements ledger.Events.
func (s *Store) MemberAttendances(ctx context.Context, memberID uuid.UUID, limit int) ([]ledger.Attendance, error) {
	var out []ledger.Attendance
	err := s.db.View(func(tx *bolt.Tx) error {
		return memberAttendances(tx, memberID, func(a ledger.Attendance) bool {
			out = append(out, a)
			return len(out) < limit
		})
	})
	return out, err
}

// abortError aborts a whole request after it has written: unlike a
// *ledger.Error it is not taken for a clean refusal (see op). Its cause,
// when it has one, is what the caller is told (a full disk, a clock behind).
type abortError struct {
	msg   string
	cause error
}

func (e abortError) Error() string { return e.msg }
func (e abortError) Unwrap() error { return e.cause }

// FinalizeEvent implements ledger.Events.
func (s *Store) FinalizeEvent(ctx context.Context, id uuid.UUID, actor string) (ledger.FinalizeResult, error) {
	var res ledger.FinalizeResult
	err := s.update(ctx, func(w *writeTx) error {
		res = ledger.FinalizeResult{}
		e, err := getEvent(w.tx, id)
		if err != nil {
			return err
		}
		if e.Status == ledger.EventDraft || e.Status == ledger.EventCancelled {
			return ledger.Errorf(ledger.ECONFLICT, "event.not_finalisable", string(e.Status))
		}
		var atts []ledger.Attendance
		c := w.tx.Bucket(bucketEventAtt).Cursor()
		for k, _ := c.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, _ = c.Next() {
			a, err := getJSON[ledger.Attendance](w.tx.Bucket(bucketAttendances), uuid.UUID(k[16:]), "attendance.not_found")
			if err != nil {
				return err
			}
			atts = append(atts, a)
		}
		issuer := ledger.IssuerAccount(e.UnitID)
		ik := issuer.Key()
		// Nothing has been written yet: from here on a failure must abort.
		if w.tx.Bucket(bucketAccounts).Get(ik[:]) == nil {
			if err := w.tx.Bucket(bucketAccounts).Put(ik[:], make([]byte, accountRowSize)); err != nil {
				return err
			}
		}
		for _, a := range atts {
			switch {
			case a.Status == ledger.AttendanceOpen:
				res.StillOpen++
				continue
			case a.Status == ledger.AttendanceClosed && e.ReviewRequired:
				res.PendingReview++
				continue
			case a.Status != ledger.AttendanceClosed && a.Status != ledger.AttendanceConfirmed:
				continue
			}
			if err := s.post(w, e, &a, actor, &res); err != nil {
				return abortError{fmt.Sprintf("finalise %s: attendance %s: %v", e.ID, a.ID, err), err}
			}
		}
		e.Status = ledger.EventFinalised
		return putEvent(w.tx, e)
	})
	return res, err
}

// post puts one attendance's points and minutes into the journal, within
// the member's daily cap, and marks it posted.
func (s *Store) post(w *writeTx, e ledger.Event, a *ledger.Attendance, actor string, res *ledger.FinalizeResult) error {
	minutes := a.Minutes
	if a.AdjustedMinutes != nil {
		minutes = *a.AdjustedMinutes
	}
	day := a.CheckedInAt.In(s.loc)
	dk := binary.BigEndian.AppendUint32(append([]byte(nil), a.MemberID[:]...), uint32(day.Year()*10000+int(day.Month())*100+day.Day()))
	days := w.tx.Bucket(bucketMemberDay)
	var already int64
	if v := days.Get(dk); len(v) == 8 {
		already = int64(binary.BigEndian.Uint64(v))
	}
	minutes = ledger.CapDaily(minutes, already, s.rules)
	a.Minutes, a.Points = minutes, ledger.PointsFor(minutes, e.PointsPerHour)
	if a.Points > 0 {
		entry, err := s.appendTx(w, ledger.Transfer{
			Debit: ledger.IssuerAccount(e.UnitID), Credit: ledger.MemberAccount(a.MemberID), Amount: a.Points,
			Kind: ledger.KindEarn, Reference: a.Reference(), Minutes: minutes, Actor: actor,
			Memo: e.Title, IdempotencyKey: a.PostingKey(),
		})
		if err != nil {
			return err
		}
		a.EntrySeq = entry.Seq
	}
	a.Revision++
	a.Status = ledger.AttendancePosted
	if err := days.Put(dk, binary.BigEndian.AppendUint64(nil, uint64(already+minutes))); err != nil {
		return err
	}
	if err := addCount(w.tx.Bucket(bucketEventMinutes), e.ID[:], minutes); err != nil {
		return err
	}
	res.Posted++
	res.Points += a.Points
	res.Minutes += minutes
	return putAttendance(w.tx, *a)
}
