package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// The service rows by posting month. Every report counts service in the
// month its entry was posted (the journal's month, history that never
// changes); these rows say, for each month, which events the month's
// minutes were served at, and which of them were served in an earlier
// month (补录: back-filled, or reviewed late). They are derived from the
// journal's attendance entries, kept in the posting's transaction, and
// checked by Verify.
//
//	monthevent  yyyymm(4) | event(16) -> net minutes the month's entries credited for the event (varint)
//	monthlate   yyyymm(4) | attendance(16) -> net minutes (varint) | Unix ns of the month's last entry for it (varint),
//	            for an attendance served in an earlier month than the entry

// servedRows are the rows some attendance entries add to.
type servedRows struct {
	event map[string]int64
	late  map[string][2]int64 // minutes, time of the last entry
}

func newServedRows() servedRows {
	return servedRows{event: map[string]int64{}, late: map[string][2]int64{}}
}

func monthID(m ledger.Month, id uuid.UUID) []byte {
	return append(binary.BigEndian.AppendUint32(make([]byte, 0, 20), uint32(m)), id[:]...)
}

// add counts entry e, which credits (or, a reverse, takes back) attendance
// a's minutes.
func (r servedRows) add(e *ledger.Entry, a ledger.Attendance, loc *time.Location) {
	delta := ledger.ServiceMinutesDelta(e, ledger.MemberAccount(a.MemberID))
	if delta == 0 {
		return
	}
	m := ledger.MonthOf(e.Time, loc)
	r.event[string(monthID(m, a.EventID))] += delta
	if ledger.MonthOf(a.CheckedInAt, loc) < m {
		k := string(monthID(m, a.ID))
		l := r.late[k]
		r.late[k] = [2]int64{l[0] + delta, max(l[1], e.Time.UnixNano())}
	}
}

// attendanceOfEntry returns the attendance an entry names, if it names one.
func attendanceOfEntry(tx *bolt.Tx, e *ledger.Entry) (ledger.Attendance, bool, error) {
	ref, ok := strings.CutPrefix(e.Reference, "attendance:")
	if !ok || e.Minutes == 0 {
		return ledger.Attendance{}, false, nil
	}
	id, err := uuid.Parse(ref)
	if err != nil {
		return ledger.Attendance{}, false, nil
	}
	a, err := getJSON[ledger.Attendance](tx.Bucket(bucketAttendances), id, "attendance.not_found")
	if ledger.ErrorCode(err) == ledger.ENOTFOUND {
		return a, false, nil // an entry appended to the journal directly
	}
	return a, err == nil, err
}

// addServed adds entry e of attendance a to the service rows.
func (s *Store) addServed(tx *bolt.Tx, e ledger.Entry, a ledger.Attendance) error {
	r := newServedRows()
	r.add(&e, a, s.loc)
	return r.store(tx)
}

func (r servedRows) store(tx *bolt.Tx) error {
	eb, lb := tx.Bucket(bucketMonthEvent), tx.Bucket(bucketMonthLate)
	for k, d := range r.event {
		n, _ := binary.Varint(eb.Get([]byte(k)))
		if err := eb.Put([]byte(k), binary.AppendVarint(nil, n+d)); err != nil {
			return err
		}
	}
	for k, d := range r.late {
		n, at, _ := decodeLate(lb.Get([]byte(k)))
		if err := lb.Put([]byte(k), encodeLate(n+d[0], max(at, d[1]))); err != nil {
			return err
		}
	}
	return nil
}

func encodeLate(minutes, at int64) []byte {
	return binary.AppendVarint(binary.AppendVarint(nil, minutes), at)
}

var errBadLate = errors.New("malformed late service row")

func decodeLate(v []byte) (minutes, at int64, err error) {
	if v == nil {
		return 0, 0, nil
	}
	minutes, w := binary.Varint(v)
	if w <= 0 {
		return 0, 0, errBadLate
	}
	at, w2 := binary.Varint(v[w:])
	if w2 <= 0 || w+w2 != len(v) {
		return 0, 0, errBadLate
	}
	return minutes, at, nil
}

// rebuildServed recomputes the service rows from the journal (migration 9).
func (s *Store) rebuildServed(tx *bolt.Tx) (servedRows, error) {
	r := newServedRows()
	c := tx.Bucket(bucketJournal).Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		se, err := decodeStored(val)
		if err != nil {
			return r, err
		}
		a, ok, err := attendanceOfEntry(tx, &se.Entry)
		if err != nil {
			return r, err
		}
		if ok {
			r.add(&se.Entry, a, s.loc)
		}
	}
	return r, nil
}

// equal reports whether the stored service rows are exactly r.
func (r servedRows) equal(tx *bolt.Tx) (bool, string) {
	events := map[string][]byte{}
	for k, n := range r.event {
		events[k] = binary.AppendVarint(nil, n)
	}
	late := map[string][]byte{}
	for k, d := range r.late {
		late[k] = encodeLate(d[0], d[1])
	}
	for _, c := range []struct {
		b    *bolt.Bucket
		want map[string][]byte
		name string
	}{{tx.Bucket(bucketMonthEvent), events, "the months' service by event"},
		{tx.Bucket(bucketMonthLate), late, "the months' late service"}} {
		n, ok := 0, true
		_ = c.b.ForEach(func(k, v []byte) error {
			n++
			if w, found := c.want[string(k)]; !found || !bytes.Equal(w, v) {
				ok = false
				return errStop
			}
			return nil
		})
		if !ok || n != len(c.want) {
			return false, c.name
		}
	}
	return true, ""
}

// EventMinutes implements ledger.Reports: one seek to the month's rows.
func (s *Store) EventMinutes(ctx context.Context, m ledger.Month) (map[uuid.UUID]int64, error) {
	out := map[uuid.UUID]int64{}
	prefix := binary.BigEndian.AppendUint32(nil, uint32(m))
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketMonthEvent).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			n, w := binary.Varint(v)
			if w <= 0 || len(k) != 20 {
				return errBadLate
			}
			if n != 0 {
				out[uuid.UUID(k[4:])] = n
			}
		}
		return nil
	})
	return out, err
}

// LateService implements ledger.Reports: the month's rows, each with its
// attendance and event read for who, what and when.
func (s *Store) LateService(ctx context.Context, m ledger.Month) ([]ledger.LateService, error) {
	var out []ledger.LateService
	prefix := binary.BigEndian.AppendUint32(nil, uint32(m))
	err := s.db.View(func(tx *bolt.Tx) error {
		events := map[uuid.UUID]ledger.Event{}
		c := tx.Bucket(bucketMonthLate).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			minutes, at, err := decodeLate(v)
			if err != nil || len(k) != 20 {
				return errBadLate
			}
			if minutes == 0 {
				continue
			}
			a, err := getJSON[ledger.Attendance](tx.Bucket(bucketAttendances), uuid.UUID(k[4:]), "attendance.not_found")
			if err != nil {
				return err
			}
			e, ok := events[a.EventID]
			if !ok {
				if e, err = getEvent(tx, a.EventID); err != nil {
					return err
				}
				events[a.EventID] = e
			}
			out = append(out, ledger.LateService{AttendanceID: a.ID, MemberID: a.MemberID, EventID: e.ID, EventTitle: e.Title,
				Category: e.Category, ServedAt: a.CheckedInAt, PostedAt: time.Unix(0, at).UTC(), Minutes: minutes,
				Backfilled: a.Source == ledger.ActionBackfill})
		}
		return ctx.Err()
	})
	return out, err
}
