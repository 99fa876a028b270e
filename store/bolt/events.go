package bolt

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"aixin/ledger"
	"aixin/store"

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
	err = s.update(ctx, func(w *writeTx) error {
		st := ledger.NewEventsState{Events: list, UnitFound: w.tx.Bucket(bucketUnits).Get(e.UnitID[:]) != nil,
			TeamsFound: map[uuid.UUID]bool{}}
		for _, tid := range e.TeamIDs {
			st.TeamsFound[tid] = w.tx.Bucket(bucketTeams).Get(tid[:]) != nil
		}
		write, err := ledger.DecideNewEvents(st)
		if err != nil {
			return err
		}
		for _, ev := range write {
			if err := putEvent(w.tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	return list, err
}

// UpdateEvent implements ledger.Events: it reads the event and its
// attendances, lets ledger.EditEvent decide, and writes the event, the
// attendances it counted again and the record of the change.
func (s *Store) UpdateEvent(ctx context.Context, id uuid.UUID, p ledger.EventPatch, by uuid.UUID) (ledger.Event, error) {
	var e ledger.Event
	err := s.update(ctx, func(w *writeTx) error {
		old, err := getEvent(w.tx, id)
		if err != nil {
			return err
		}
		atts, err := eventAttendances(w.tx, id)
		if err != nil {
			return err
		}
		edit, err := ledger.EditEvent(old, p, atts, s.rules, s.now(), newID(), by)
		if err != nil {
			return err
		}
		e = edit.Event
		if len(edit.Change.Fields) == 0 {
			return nil
		}
		for _, a := range edit.Attendances {
			if err := s.putAttendance(w.tx, a); err != nil {
				return err
			}
		}
		raw, err := json.Marshal(edit.Change)
		if err != nil {
			return err
		}
		if err := w.tx.Bucket(bucketEventChanges).Put(pairKey(id, edit.Change.ID), raw); err != nil {
			return err
		}
		return putEvent(w.tx, e)
	})
	return e, err
}

// EventChanges implements ledger.Events.
func (s *Store) EventChanges(ctx context.Context, id uuid.UUID) ([]ledger.EventChange, error) {
	var out []ledger.EventChange
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEventChanges).Cursor()
		for k, v := c.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, v = c.Next() {
			var ch ledger.EventChange
			if err := json.Unmarshal(v, &ch); err != nil {
				return err
			}
			out = append(out, ch)
		}
		return nil
	})
	return out, err
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
		old, err := getEvent(w.tx, id)
		if err != nil {
			return err
		}
		atts, err := eventAttendances(w.tx, id)
		if err != nil {
			return err
		}
		var closed []ledger.Attendance
		if e, closed, err = ledger.PlanEventStatus(old, status, atts, s.now()); err != nil {
			return err
		}
		for _, a := range closed {
			if err := s.putAttendance(w.tx, a); err != nil {
				return err
			}
		}
		return putEvent(w.tx, e)
	})
	return e, err
}

// eventAttendances reads an event's attendances, in the order they began.
func eventAttendances(tx *bolt.Tx, id uuid.UUID) ([]ledger.Attendance, error) {
	var out []ledger.Attendance
	c := tx.Bucket(bucketEventAtt).Cursor()
	for k, _ := c.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, _ = c.Next() {
		a, err := getJSON[ledger.Attendance](tx.Bucket(bucketAttendances), uuid.UUID(k[16:]), "attendance.not_found")
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// putKey puts an index key with no value unless the bucket holds it; a
// key known to be new is put without looking.
func putKey(b *bolt.Bucket, k []byte, isNew bool) error {
	if !isNew {
		if got, _ := b.Cursor().Seek(k); bytes.Equal(got, k) {
			return nil
		}
	}
	return b.Put(k, nil)
}

// storedAttendance reads the stored attendance id (nil if none), decoded
// once while its bytes are unchanged: a check-out reads the open attendance
// for its decision, then again to keep the counters (putAttendance).
func (s *Store) storedAttendance(tx *bolt.Tx, id uuid.UUID) (*ledger.Attendance, error) {
	raw := tx.Bucket(bucketAttendances).Get(id[:])
	if raw == nil {
		return nil, nil
	}
	if a, ok := s.decoded.attendances.get(id, raw); ok {
		return &a, nil
	}
	var a ledger.Attendance
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, err
	}
	s.decoded.attendances.put(id, raw, a)
	return &a, nil
}

func pairKey(a, b uuid.UUID) []byte { return append(append(make([]byte, 0, 32), a[:]...), b[:]...) }

// putAttendance writes an attendance and keeps its indexes and its event's
// counters.
func (s *Store) putAttendance(tx *bolt.Tx, a ledger.Attendance) error {
	// The event's counters: attendances in all, and open now.
	wasOpen, isNew := false, true
	if old, err := s.storedAttendance(tx, a.ID); err != nil {
		return err
	} else if old != nil {
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
	// The index keys of a changed attendance are there already: putting
	// them again would rewrite a page of each index (the member's is keyed
	// at random) for nothing. A new one's are put without looking.
	if err := putKey(tx.Bucket(bucketEventAtt), pairKey(a.EventID, a.ID), isNew); err != nil {
		return err
	}
	if err := putKey(tx.Bucket(bucketMemberAtt), pairKey(a.MemberID, a.ID), isNew); err != nil {
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

// overlapping returns an attendance of the member (other than skip) that
// holds some of [in, out] (ledger.Attendance.Occupies); out zero is open-ended.
func overlapping(tx *bolt.Tx, member uuid.UUID, in, out time.Time, skip uuid.UUID) (*ledger.Attendance, error) {
	var found *ledger.Attendance
	err := memberAttendances(tx, member, func(a ledger.Attendance) bool {
		if a.ID != skip && a.Occupies(in, out) {
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

// latestAttendance reads the attendance the member's footprint starts
// with: the one recorded last (nil if none).
func latestAttendance(tx *bolt.Tx, member uuid.UUID) (*ledger.Attendance, error) {
	var found *ledger.Attendance
	err := memberAttendances(tx, member, func(a ledger.Attendance) bool {
		found = &a
		return false
	})
	return found, err
}

// Scan implements ledger.Events: it reads what ledger.DecideScan needs in
// the scan's transaction and writes what it decided.
func (s *Store) Scan(ctx context.Context, eventID, memberID uuid.UUID, req ledger.ScanRequest) (ledger.ScanDecision, error) {
	a, err := s.scan(ctx, eventID, memberID, req, false)
	return a.ScanDecision, err
}

// ScanAnswered implements ledger.Events: Scan, and in the same transaction,
// after the write, what the answer shows.
func (s *Store) ScanAnswered(ctx context.Context, eventID, memberID uuid.UUID, req ledger.ScanRequest) (ledger.ScanAnswer, error) {
	return s.scan(ctx, eventID, memberID, req, true)
}

func (s *Store) scan(ctx context.Context, eventID, memberID uuid.UUID, req ledger.ScanRequest, answer bool) (ledger.ScanAnswer, error) {
	var a ledger.ScanAnswer
	err := s.update(ctx, func(w *writeTx) error {
		a = ledger.ScanAnswer{} // a batch that failed runs this again
		st, err := s.readScan(w.tx, eventID, memberID, req)
		if err != nil {
			return err
		}
		if a.ScanDecision, err = ledger.DecideScan(st); err != nil {
			return err
		}
		for _, att := range a.Write {
			if err := s.putAttendance(w.tx, att); err != nil {
				return err
			}
		}
		if answer {
			s.readScanAnswer(w.tx, st, &a)
		}
		return nil
	})
	return a, err
}

// readScanAnswer reads, after a scan's write, what its answer shows but
// the scan's state does not hold: the unit's name, the event's counters,
// and the title of the event of an attendance the scan closed. A name it
// cannot read stays empty: the answer never fails the scan.
func (s *Store) readScanAnswer(tx *bolt.Tx, st ledger.ScanState, a *ledger.ScanAnswer) {
	a.Event, a.MemberName = st.Event, st.Member.Name
	id, units := st.Event.UnitID, tx.Bucket(bucketUnits)
	if name, ok := s.decoded.unitNames.get(id, units.Get(id[:])); ok {
		a.UnitName = name
	} else if u, err := getJSON[struct{ Name string }](units, id, "unit.not_found"); err == nil {
		// Only the name: the unit's path and posts need not be decoded.
		a.UnitName = u.Name
		s.decoded.unitNames.put(id, units.Get(id[:]), u.Name)
	}
	a.Total, a.Open = eventCounts(tx.Bucket(bucketEventStats), st.Event.ID)
	switch {
	case a.Closed == nil:
	case a.Closed.EventID == st.OpenEvent.ID:
		a.ClosedEventTitle = st.OpenEvent.Title
	default:
		other, _ := getEvent(tx, a.Closed.EventID)
		a.ClosedEventTitle = other.Title
	}
}

// readScan reads the state of a scan: the event, the member, the attendance
// they are checked in to and its event, the one recorded last, and — only
// when some attendance of theirs ends after now, which their latest
// check-out says in one read — one a check-in now would overlap.
func (s *Store) readScan(tx *bolt.Tx, eventID, memberID uuid.UUID, req ledger.ScanRequest) (ledger.ScanState, error) {
	st := ledger.ScanState{Now: s.now().UTC(), Rules: s.rules, Source: req.Source, By: req.By, Want: req.Want,
		EndOther: req.EndOther, NewID: newID()}
	var err error
	if st.Event, err = s.scanEvent(tx, eventID); err != nil {
		return st, err
	}
	members := tx.Bucket(bucketMembers)
	if m, ok := s.decoded.members.get(memberID, members.Get(memberID[:])); ok {
		st.Member = m
	} else if st.Member, err = getJSON[ledger.Member](members, memberID, "member.not_found"); err != nil {
		return st, err
	} else {
		s.decoded.members.put(memberID, members.Get(memberID[:]), st.Member)
	}
	skip := uuid.Nil
	if v := tx.Bucket(bucketOpenAtt).Get(memberID[:]); v != nil {
		open, err := s.storedAttendance(tx, uuid.UUID(v))
		if err != nil {
			return st, err
		}
		if open == nil {
			return st, ledger.Errorf(ledger.ENOTFOUND, "attendance.not_found")
		}
		st.Open, skip = open, open.ID
		if open.EventID == eventID {
			st.OpenEvent = st.Event
			return st, nil // a check-out: nothing else counts
		}
		if st.OpenEvent, err = s.scanEvent(tx, open.EventID); err != nil {
			return st, err
		}
	}
	var end int64 // the member's latest check-out, Unix ns
	if v := tx.Bucket(bucketMemberEnd).Get(memberID[:]); len(v) == 8 {
		end = int64(binary.BigEndian.Uint64(v))
	}
	// Only a check-out within the repeat window can be repeated: otherwise
	// the attendance recorded last is not read at all.
	if since := st.Now.UnixNano() - end; end != 0 && since >= 0 && since < int64(s.rules.RepeatWindow) {
		if st.Latest, err = latestAttendance(tx, memberID); err != nil {
			return st, err
		}
	}
	if end != 0 && st.Now.UnixNano() < end {
		// Rare: some attendance ends after now. Look at them all.
		if st.Overlap, err = overlapping(tx, memberID, st.Now, time.Time{}, skip); err != nil {
			return st, err
		}
	}
	st.Count, _ = eventCounts(tx.Bucket(bucketEventStats), eventID)
	return st, nil
}

// scanEvent reads an event for a scan, decoded once while it is unchanged.
func (s *Store) scanEvent(tx *bolt.Tx, id uuid.UUID) (ledger.Event, error) {
	if e, ok := s.decoded.events.get(id, tx.Bucket(bucketEvents).Get(id[:])); ok {
		return e, nil
	}
	e, err := getEvent(tx, id)
	if err == nil {
		s.decoded.events.put(id, tx.Bucket(bucketEvents).Get(id[:]), e)
	}
	return e, err
}

// eventCounts reads an event's counters: attendances in all, and open now.
func eventCounts(stats *bolt.Bucket, id uuid.UUID) (total, open int) {
	if v := stats.Get(id[:]); len(v) == 16 {
		return int(binary.BigEndian.Uint64(v)), int(binary.BigEndian.Uint64(v[8:]))
	}
	return 0, 0
}

// rebuildEventMinutes sums the posted attendances' minutes per event
// (migration 7; migration 9 replaces these rows by the months' rows).
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

// Backfill implements ledger.Events: it reads what ledger.DecideBackfill
// needs and writes the attendance it decided.
func (s *Store) Backfill(ctx context.Context, eventID, memberID uuid.UUID, in, out time.Time, reason string, by uuid.UUID) (ledger.Attendance, error) {
	reason, err := ledger.Reason.Clean(reason)
	if err != nil {
		return ledger.Attendance{}, err
	}
	var att ledger.Attendance
	err = s.update(ctx, func(w *writeTx) error {
		st := ledger.BackfillState{Now: s.now().UTC(), In: in, Out: out, Reason: reason, By: by, NewID: newID()}
		var err error
		if st.Event, err = getEvent(w.tx, eventID); err != nil {
			return err
		}
		if st.Member, err = getJSON[ledger.Member](w.tx.Bucket(bucketMembers), memberID, "member.not_found"); err != nil {
			return err
		}
		if st.Overlap, err = overlapping(w.tx, memberID, in, out, uuid.Nil); err != nil {
			return err
		}
		if att, err = ledger.DecideBackfill(st); err != nil {
			return err
		}
		return s.putAttendance(w.tx, att)
	})
	return att, err
}

// CloseAttendance implements ledger.Events: it reads what
// ledger.DecideCloseAttendance needs and writes what it decided.
func (s *Store) CloseAttendance(ctx context.Context, id uuid.UUID, out time.Time, reason string, by uuid.UUID) (ledger.Attendance, error) {
	reason, err := ledger.Reason.Clean(reason)
	if err != nil {
		return ledger.Attendance{}, err
	}
	var att ledger.Attendance
	err = s.update(ctx, func(w *writeTx) error {
		st := ledger.CloseState{Now: s.now(), Rules: s.rules, Loc: s.loc, Out: out, Reason: reason, Actor: "user:" + by.String()}
		var err error
		if st.Attendance, st.Event, err = attendanceAndEvent(w.tx, id); err != nil {
			return err
		}
		a := st.Attendance
		if ledger.CloseNeedsOverlap(a, out) {
			if st.Overlap, err = overlapping(w.tx, a.MemberID, a.CheckedInAt, out, a.ID); err != nil {
				return err
			}
		}
		st.DayMinutes = dayMinutes(w.tx, ledger.DayOf(a.MemberID, a.CheckedInAt, s.loc))
		d, err := ledger.DecideCloseAttendance(st)
		if err != nil {
			return err
		}
		att, err = s.storeDecided(w, d)
		return err
	})
	return att, err
}

// attendanceAndEvent reads an attendance and its event.
func attendanceAndEvent(tx *bolt.Tx, id uuid.UUID) (ledger.Attendance, ledger.Event, error) {
	a, err := getJSON[ledger.Attendance](tx.Bucket(bucketAttendances), id, "attendance.not_found")
	if err != nil {
		return a, ledger.Event{}, err
	}
	e, err := getEvent(tx, a.EventID)
	return a, e, err
}

// storeDecided stores an attendance an organiser decided on, or posts it
// when the decision says so; it returns the attendance stored.
func (s *Store) storeDecided(w *writeTx, d ledger.Decided) (ledger.Attendance, error) {
	if d.Posting != nil {
		return s.writePosting(w, *d.Posting)
	}
	return d.Attendance, s.putAttendance(w.tx, d.Attendance)
}

// dayKey is a member's day's row in the memberday bucket.
func dayKey(k ledger.DayKey) []byte {
	return binary.BigEndian.AppendUint32(append(make([]byte, 0, 20), k.Member[:]...), k.Date)
}

// dayMinutes reads the minutes posted for a member on a day.
func dayMinutes(tx *bolt.Tx, k ledger.DayKey) int64 {
	if v := tx.Bucket(bucketMemberDay).Get(dayKey(k)); len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

// writePosting writes a posting (ledger.Posting) and returns the
// attendance stored, with the seq of its earn entry. A refusal of the first
// entry leaves everything as it was; a failure after it aborts the request.
func (s *Store) writePosting(w *writeTx, p ledger.Posting) (ledger.Attendance, error) {
	a := p.Attendance
	wrote := false
	for _, t := range []*ledger.Transfer{p.Reverse, p.Earn} {
		if t == nil {
			continue
		}
		entry, err := s.appendTx(w, *t)
		if err != nil {
			if _, refused := ledger.AsError(err); refused && !wrote {
				return a, err
			}
			return a, abortError{fmt.Sprintf("post attendance %s: %v", a.ID, err), err}
		}
		wrote = true
		if t == p.Earn {
			a.EntrySeq = entry.Seq
		}
		if err := s.addServed(w.tx, entry, a); err != nil {
			return a, abortError{fmt.Sprintf("post attendance %s: %v", a.ID, err), err}
		}
	}
	if err := w.tx.Bucket(bucketMemberDay).Put(dayKey(p.Day), binary.BigEndian.AppendUint64(nil, uint64(p.DayMinutes))); err != nil {
		return a, err
	}
	return a, s.putAttendance(w.tx, a)
}

// CheckoutAll implements ledger.Events.
func (s *Store) CheckoutAll(ctx context.Context, eventID uuid.UUID, when, reason string, by uuid.UUID) ([]ledger.Attendance, error) {
	reason, err := ledger.Reason.Clean(reason)
	if err != nil {
		return nil, err
	}
	var closed []ledger.Attendance
	err = s.update(ctx, func(w *writeTx) error {
		e, err := getEvent(w.tx, eventID)
		if err != nil {
			return err
		}
		atts, err := eventAttendances(w.tx, eventID)
		if err != nil {
			return err
		}
		if closed, err = ledger.PlanCheckoutAll(e, atts, when, s.now(), reason, s.rules); err != nil {
			return err
		}
		for _, a := range closed {
			if err := s.putAttendance(w.tx, a); err != nil {
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
	err := s.update(ctx, func(w *writeTx) error {
		st := ledger.ReviewState{Rules: s.rules, Loc: s.loc, Decision: decision, Minutes: minutes, Reason: reason,
			Actor: "user:" + by.String()}
		var err error
		if st.Attendance, st.Event, err = attendanceAndEvent(w.tx, id); err != nil {
			return err
		}
		a := st.Attendance
		if ledger.ReviewNeedsOverlap(a, decision) {
			if st.Overlap, err = overlapping(w.tx, a.MemberID, a.CheckedInAt, a.CheckedOutAt, a.ID); err != nil {
				return err
			}
		}
		if a.Status == ledger.AttendancePosted && a.EntrySeq != 0 {
			orig, err := readStored(w.tx, a.EntrySeq)
			if err != nil {
				return err
			}
			st.Posted = &orig.Entry
		}
		st.DayMinutes = dayMinutes(w.tx, ledger.DayOf(a.MemberID, a.CheckedInAt, s.loc))
		d, err := ledger.DecideReviewAttendance(st)
		if err != nil {
			return err
		}
		att, err = s.storeDecided(w, d)
		return err
	})
	return att, err
}

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
	return viewJSON[ledger.Attendance](s, bucketAttendances, id, "attendance.not_found")
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

// FinalizeEvent implements ledger.Events: it reads the event, its
// attendances and their days' posted minutes, lets ledger.DecideFinalize
// decide, and writes what it decided.
func (s *Store) FinalizeEvent(ctx context.Context, id uuid.UUID, actor string, confirmed bool) (ledger.FinalizeResult, error) {
	var res ledger.FinalizeResult
	err := s.update(ctx, func(w *writeTx) error {
		st := ledger.FinalizeState{Now: s.now(), Rules: s.rules, Loc: s.loc, Confirmed: confirmed, Actor: actor}
		var err error
		if st.Event, err = getEvent(w.tx, id); err != nil {
			return err
		}
		if st.Attendances, err = eventAttendances(w.tx, id); err != nil {
			return err
		}
		st.Days = map[ledger.DayKey]int64{}
		for _, k := range ledger.FinalizeDays(st.Attendances, s.loc) {
			st.Days[k] = dayMinutes(w.tx, k)
		}
		d, err := ledger.DecideFinalize(st)
		if err != nil {
			return err
		}
		res = d.Result
		// Nothing has been written yet: from here on a failure must abort.
		ik := ledger.IssuerAccount(d.Event.UnitID).Key()
		if w.tx.Bucket(bucketAccounts).Get(ik[:]) == nil {
			if err := w.tx.Bucket(bucketAccounts).Put(ik[:], make([]byte, accountRowSize)); err != nil {
				return err
			}
		}
		for _, a := range d.Close {
			if err := s.putAttendance(w.tx, a); err != nil {
				return err
			}
		}
		for _, p := range d.Post {
			if _, err := s.writePosting(w, p); err != nil {
				return abortError{fmt.Sprintf("finalise %s: attendance %s: %v", id, p.Attendance.ID, err), err}
			}
		}
		return putEvent(w.tx, d.Event)
	})
	return res, err
}

// CloseOverdueAttendances implements ledger.Events. The open attendances are
// the members checked in now (the openatt bucket, one row each), so a run
// reads O(people checked in), never the history.
func (s *Store) CloseOverdueAttendances(ctx context.Context) (ledger.SweepResult, error) {
	var res ledger.SweepResult
	now := s.now().UTC()
	var due []uuid.UUID
	damaged := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		events := map[uuid.UUID]ledger.Event{}
		return tx.Bucket(bucketOpenAtt).ForEach(func(_, v []byte) error {
			if len(v) != 16 {
				damaged++ // reported below
				return nil
			}
			a, err := getJSON[ledger.Attendance](tx.Bucket(bucketAttendances), uuid.UUID(v), "attendance.not_found")
			if err != nil {
				due = append(due, uuid.UUID(v)) // let its own write fail and be reported
				return nil
			}
			e, ok := events[a.EventID]
			if !ok {
				if e, err = getEvent(tx, a.EventID); err != nil {
					due = append(due, a.ID)
					return nil
				}
				events[a.EventID] = e
			}
			if _, overdue := ledger.Overdue(e, now, s.rules); overdue && a.Status == ledger.AttendanceOpen {
				due = append(due, a.ID)
			}
			return ctx.Err()
		})
	})
	for range damaged {
		s.stats.SweepFailed(store.SweepOpenAttendances, 1)
		res.Failed = append(res.Failed, ledger.SweepFailure{Err: errors.New("a damaged row in the index of who is checked in")})
	}
	if err != nil || len(due) == 0 {
		return res, err
	}
	nothing := make([]bool, len(due)) // checked out or closed since it was read
	errs := s.updateEach(ctx, len(due), func(i int, w *writeTx) error {
		a, e, err := attendanceAndEvent(w.tx, due[i])
		if err != nil {
			return err
		}
		closed := ledger.DecideOverdue(e, a, s.now(), s.rules)
		if closed == nil {
			nothing[i] = true
			return nil
		}
		return s.putAttendance(w.tx, *closed)
	})
	for i, err := range errs {
		switch {
		case err == nil:
			if !nothing[i] {
				res.Done++
			}
		case ledger.ErrorCode(err) == ledger.EUNAVAILABLE:
			return res, err
		default:
			s.stats.SweepFailed(store.SweepOpenAttendances, 1)
			res.Failed = append(res.Failed, ledger.SweepFailure{ID: due[i], Err: err})
		}
	}
	return res, nil
}
