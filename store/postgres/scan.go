package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Scans have a queue of their own. A Saturday morning is mostly scans, and
// a scan appends no entry; what it must read (the event, the member, their
// open attendance, their latest check-out and attendance, the event's
// counters) a batch reads for all its scans at once, with its lock,
// in its first round trip. Each scan then decides in memory, in turn, and
// the batch's writes travel with its COMMIT: a batch of scans costs two
// round trips however many it holds.
//
// Batches of scans take no chain head (they append nothing) but share the
// scans' gate, a transaction-level advisory lock (an in-memory lock of
// PostgreSQL's: a row locked FOR SHARE by many at once costs a MultiXact
// and WAL for each), so that the batches of scans of several app servers
// run at once. Every batch of the commit queue that may write what a scan
// reads takes the gate alone, after the chain head; those
// that only move points (vouchers, redemptions, appends: updatePoints)
// leave it, and run beside the scans. What a scan decides on stays true
// while its batch runs because:
//   - the member rows are locked, in id order, before anything of theirs is
//     read, and every other write of a member's attendances runs in a batch
//     that holds the gate alone;
//   - events change only in those batches too;
//   - the counters move by increments, in one statement at the end, in event
//     order (so two batches never wait for each other in a circle), and
//     decide nothing: only a capacity needs the exact count, and the scans
//     of an event with a capacity take the gate alone (the scans' queue
//     remembers such events; a batch that meets one unawares starts again
//     holding it alone). A shared batch's answers count what it saw.
//
// Within a batch, the counters move in memory as the writes move them in
// the database, and a member who scans twice is read again after the
// writes before. A batch of the commit queue may hold scans too (tests
// build such batches by hand): they run first, before any other request
// writes.

// scanGateLock is the scans' gate's advisory lock key ("aixinsga").
const scanGateLock = 0x616978696e736761

// errNeedsGate is runBatch's error when a batch that shares the scans'
// gate meets a scan of an event with a capacity.
var errNeedsGate = errors.New("a scan needs the scans' gate alone")

// needsGate says whether a batch of scans must hold the scans' gate alone:
// some scan is of an event last seen with a capacity.
func (s *Store) needsGate(batch []*op) bool {
	for _, o := range batch {
		if o.kind != opScan {
			return true
		}
		if _, ok := s.capacity.Load(o.scan.event); ok {
			return true
		}
	}
	return false
}

// noteCapacities notes which events of the scans have a capacity (and
// which no longer have one), and says whether any has.
func (s *Store) noteCapacities(r *scanReads, scans []*scanOp) bool {
	need := false
	for _, o := range scans {
		e, found, err := r.event(o.event)
		switch {
		case !found || err != nil:
		case e.Capacity > 0:
			s.capacity.Store(e.ID, true)
			need = true
		default:
			s.capacity.Delete(e.ID)
		}
	}
	return need
}

// scanOp is a scan waiting in the scans' queue.
type scanOp struct {
	event, member uuid.UUID
	req           ledger.ScanRequest
	answer        bool // read what the scanner's phone shows
	out           ledger.ScanAnswer
}

// Scan implements ledger.Events: it reads what ledger.DecideScan needs in
// the scan's transaction and writes what it decided.
func (s *Store) Scan(ctx context.Context, eventID, memberID uuid.UUID, req ledger.ScanRequest) (ledger.ScanDecision, error) {
	a, err := s.scan(ctx, eventID, memberID, req, false)
	return a.ScanDecision, err
}

// ScanAnswered implements ledger.Events: the scan, and what the scanner's
// phone shows read in the same request.
func (s *Store) ScanAnswered(ctx context.Context, eventID, memberID uuid.UUID, req ledger.ScanRequest) (ledger.ScanAnswer, error) {
	return s.scan(ctx, eventID, memberID, req, true)
}

func (s *Store) scan(ctx context.Context, eventID, memberID uuid.UUID, req ledger.ScanRequest, answer bool) (ledger.ScanAnswer, error) {
	o := &op{kind: opScan, scan: &scanOp{event: eventID, member: memberID, req: req, answer: answer}}
	err := s.queue(ctx, o)
	return o.scan.out, err
}

// scanReads is what the scans of a batch read, and the counters as the
// batch moved them.
type scanReads struct {
	events  map[uuid.UUID]string // documents, decoded once when used
	decoded map[uuid.UUID]ledger.Event
	members map[uuid.UUID]string
	open    map[uuid.UUID][]string // a member's open attendances (at most one)
	end     map[uuid.UUID]int64    // a member's latest check-out, Unix ns
	latest  map[uuid.UUID]string   // a member's latest attendance
	counts  map[uuid.UUID]*[2]int  // an event's attendances: in all, open
	units   map[uuid.UUID]string   // unit names, for the answers
	// touched are the members a scan of this batch wrote for.
	touched map[uuid.UUID]bool
	// The scans' writes not queued yet: attendances in order, and what
	// they add to each event's counters (flush).
	writes []ledger.Attendance
	docs   []string
	moved  map[uuid.UUID]*[2]int
}

func newScanReads() *scanReads {
	return &scanReads{events: map[uuid.UUID]string{}, decoded: map[uuid.UUID]ledger.Event{},
		members: map[uuid.UUID]string{}, open: map[uuid.UUID][]string{}, end: map[uuid.UUID]int64{},
		latest: map[uuid.UUID]string{}, counts: map[uuid.UUID]*[2]int{}, units: map[uuid.UUID]string{},
		touched: map[uuid.UUID]bool{}, moved: map[uuid.UUID]*[2]int{}}
}

// queueScanReads queues the reads of scans into b. The members come first
// and locked, in id order (every batch takes member locks in that order),
// so that the reads after them see what a batch that held them wrote.
func (s *Store) queueScanReads(b *pgx.Batch, r *scanReads, scans []*scanOp) {
	var events, members []uuid.UUID
	answer := false
	for _, o := range scans {
		events, members = append(events, o.event), append(members, o.member)
		answer = answer || o.answer
	}
	events, members = slices.Compact(sortIDs(events)), slices.Compact(sortIDs(members))
	b.Queue(`SELECT id, doc FROM members WHERE id = ANY($1) ORDER BY id FOR UPDATE`, members).Query(idDocs(r.members))
	// The events scanned, and those of the members' open attendances.
	b.Queue(`SELECT id, doc FROM events WHERE id = ANY($1)
		UNION ALL SELECT e.id, e.doc FROM attendances a JOIN events e ON e.id = a.event
			WHERE a.member = ANY($2) AND a.open AND e.id <> ALL($1)`, events, members).Query(idDocs(r.events))
	b.Queue(`SELECT member, doc FROM attendances WHERE member = ANY($1) AND open`, members).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var m uuid.UUID
			var doc string
			if err := rows.Scan(&m, &doc); err != nil {
				return err
			}
			r.open[m] = append(r.open[m], doc)
		}
		return rows.Err()
	})
	// Each member's latest check-out and latest attendance (decoded only
	// when that check-out is within the repeat window): index probes.
	b.Queue(`SELECT m.id, x.end_ns, (SELECT doc FROM attendances WHERE member = m.id ORDER BY id DESC LIMIT 1)
		FROM unnest($1::uuid[]) AS m(id),
			LATERAL (SELECT max(checked_out_at) AS end_ns FROM attendances WHERE member = m.id) x
		WHERE x.end_ns IS NOT NULL`, members).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var m uuid.UUID
			var end int64
			var doc *string
			if err := rows.Scan(&m, &end, &doc); err != nil {
				return err
			}
			r.end[m] = end
			if doc != nil {
				r.latest[m] = *doc
			}
		}
		return rows.Err()
	})
	b.Queue(`SELECT event, total, open FROM event_counts WHERE event = ANY($1)`, events).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var e uuid.UUID
			var c [2]int
			if err := rows.Scan(&e, &c[0], &c[1]); err != nil {
				return err
			}
			r.counts[e] = &c
		}
		return rows.Err()
	})
	if answer {
		b.Queue(`SELECT id, doc FROM units WHERE id IN (SELECT unit FROM events WHERE id = ANY($1))`, events).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var id uuid.UUID
				var doc string
				var u ledger.Unit
				if err := rows.Scan(&id, &doc); err != nil {
					return err
				}
				if jsonUnmarshal(doc, &u) == nil { // a name that cannot be read stays empty
					r.units[id] = u.Name
				}
			}
			return rows.Err()
		})
	}
}

func sortIDs(ids []uuid.UUID) []uuid.UUID {
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return ids
}

// idDocs scans (id, doc) rows into m.
func idDocs(m map[uuid.UUID]string) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		for rows.Next() {
			var id uuid.UUID
			var doc string
			if err := rows.Scan(&id, &doc); err != nil {
				return err
			}
			m[id] = doc
		}
		return rows.Err()
	}
}

// event decodes an event r read.
func (r *scanReads) event(id uuid.UUID) (ledger.Event, bool, error) {
	if e, ok := r.decoded[id]; ok {
		return e, true, nil
	}
	doc, ok := r.events[id]
	if !ok {
		return ledger.Event{}, false, nil
	}
	e, err := decodeEvent(doc)
	if err == nil {
		r.decoded[id] = e
	}
	return e, true, err
}

// counter is the counter pair of event id in m (the counts as the batch
// sees them, or what it moved), made at zero when missing.
func counter(m map[uuid.UUID]*[2]int, id uuid.UUID) *[2]int {
	c := m[id]
	if c == nil {
		c = &[2]int{}
		m[id] = c
	}
	return c
}

// flush queues the scans' writes so far: the attendances in one statement
// (in the order decided: a closed attendance before the member's new open
// one, for the unique index of open ones), then the counters in one
// statement, in event order (every batch moves them in that order). Each
// attendance is in it once: a member's second scan in a batch flushes
// before it reads.
func (r *scanReads) flush(w *wtx) {
	if len(r.writes) == 0 {
		return
	}
	n := len(r.writes)
	ids, events, members := make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n)
	open, outs := make([]bool, n), make([]*int64, n)
	for i, a := range r.writes {
		ids[i], events[i], members[i], open[i] = a.ID, a.EventID, a.MemberID, a.Status == ledger.AttendanceOpen
		if !a.CheckedOutAt.IsZero() {
			o := a.CheckedOutAt.UnixNano()
			outs[i] = &o
		}
	}
	w.pending.Queue(`INSERT INTO attendances (id, event, member, open, checked_out_at, doc)
		SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::boolean[], $5::bigint[], $6::text[])
		ON CONFLICT (id) DO UPDATE SET open = EXCLUDED.open, checked_out_at = EXCLUDED.checked_out_at, doc = EXCLUDED.doc`,
		ids, events, members, open, outs, r.docs)
	moved := make([]uuid.UUID, 0, len(r.moved))
	for id := range r.moved {
		moved = append(moved, id)
	}
	sortIDs(moved)
	totals, opens := make([]int32, len(moved)), make([]int32, len(moved))
	for i, id := range moved {
		totals[i], opens[i] = int32(r.moved[id][0]), int32(r.moved[id][1])
	}
	w.pending.Queue(`INSERT INTO event_counts AS c (event, total, open)
		SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[])
		ON CONFLICT (event) DO UPDATE SET total = c.total + EXCLUDED.total, open = c.open + EXCLUDED.open`,
		moved, totals, opens)
	w.dirty = true
	r.writes, r.docs, r.moved = nil, nil, map[uuid.UUID]*[2]int{}
}

// readScan reads the state of one scan after the batch's writes before it.
// Its counters replace the batch's: they include those writes.
func (w *wtx) readScan(r *scanReads, o *scanOp) (ledger.ScanState, error) {
	r.flush(w)
	one := newScanReads()
	b := &pgx.Batch{}
	w.s.queueScanReads(b, one, []*scanOp{o})
	if err := w.send(b); err != nil {
		return ledger.ScanState{}, err
	}
	for id, c := range one.counts {
		r.counts[id] = c
	}
	one.counts = r.counts
	return w.scanState(one, o)
}

// scanState makes the state of scan o from what r read: the event, the
// member, the attendance they are checked in to and its event, the one
// recorded last when their latest check-out is within the repeat window,
// one a check-in now would overlap when some attendance of theirs ends
// after now, and the event's count.
func (w *wtx) scanState(r *scanReads, o *scanOp) (ledger.ScanState, error) {
	st := ledger.ScanState{Now: w.s.now().UTC(), Rules: w.s.rules, Source: o.req.Source, By: o.req.By, Want: o.req.Want,
		EndOther: o.req.EndOther, NewID: uuid.Must(uuid.NewV7())}
	var err error
	var found bool
	if st.Event, found, err = r.event(o.event); !found {
		return st, ledger.Errorf(ledger.ENOTFOUND, "event.not_found")
	} else if err != nil {
		return st, err
	}
	doc, ok := r.members[o.member]
	if !ok {
		return st, ledger.Errorf(ledger.ENOTFOUND, "member.not_found")
	}
	if err := jsonUnmarshal(doc, &st.Member); err != nil {
		return st, err
	}
	skip := uuid.Nil
	if docs := r.open[o.member]; len(docs) > 0 {
		var a ledger.Attendance
		if err := jsonUnmarshal(docs[0], &a); err != nil {
			return st, err
		}
		st.Open, skip = &a, a.ID
		if a.EventID == o.event {
			st.OpenEvent = st.Event
			return st, nil // a check-out: nothing else counts
		}
		if st.OpenEvent, found, err = r.event(a.EventID); !found {
			st.OpenEvent, err = w.readEvent(a.EventID, false)
		}
		if err != nil {
			return st, err
		}
	}
	if end, ok := r.end[o.member]; ok {
		if since := st.Now.UnixNano() - end; since >= 0 && since < int64(w.s.rules.RepeatWindow) {
			if doc, ok := r.latest[o.member]; ok {
				var l ledger.Attendance
				if err := jsonUnmarshal(doc, &l); err != nil {
					return st, err
				}
				st.Latest = &l
			}
		}
		if st.Now.UnixNano() < end {
			// Rare: some attendance ends after now. Look at them all.
			if st.Overlap, err = w.overlapping(o.member, st.Now, time.Time{}, skip); err != nil {
				return st, err
			}
		}
	}
	st.Count = counter(r.counts, o.event)[0]
	return st, nil
}

// runScan decides scan o on what the batch read (read again when this
// batch wrote for its member before), queues its writes and moves the
// counters; with an answer, it fills in what the phone shows.
func (w *wtx) runScan(r *scanReads, o *scanOp) error {
	o.out = ledger.ScanAnswer{}
	var st ledger.ScanState
	var err error
	if r.touched[o.member] {
		st, err = w.readScan(r, o)
	} else {
		st, err = w.scanState(r, o)
	}
	if err != nil {
		return err
	}
	d, err := ledger.DecideScan(st)
	if err != nil {
		return err
	}
	for _, a := range d.Write {
		doc, err := jsonDoc(a)
		if err != nil {
			return err
		}
		r.writes, r.docs = append(r.writes, a), append(r.docs, doc)
		total, open := countChange(st, a)
		for _, c := range []*[2]int{counter(r.counts, a.EventID), counter(r.moved, a.EventID)} {
			c[0], c[1] = c[0]+total, c[1]+open
		}
	}
	if len(d.Write) > 0 {
		r.touched[o.member] = true
	}
	o.out.ScanDecision = d
	if !o.answer {
		return nil
	}
	// The answer: the unit's name, the counters after the write, the title
	// of the event of an attendance the scan closed (always the member's
	// open one, whose event was read).
	c := counter(r.counts, st.Event.ID)
	o.out.Event, o.out.MemberName, o.out.UnitName = st.Event, st.Member.Name, r.units[st.Event.UnitID]
	o.out.Total, o.out.Open = c[0], c[1]
	if d.Closed != nil {
		o.out.ClosedEventTitle = st.OpenEvent.Title
	}
	return nil
}

// countChange is what writing attendance a, decided on st, adds to its
// event's counters (in all, open): a scan writes the member's open attendance (now closed or
// still open) or a new one.
func countChange(st ledger.ScanState, a ledger.Attendance) (total, open int) {
	isOpen := 0
	if a.Status == ledger.AttendanceOpen {
		isOpen = 1
	}
	if st.Open != nil && a.ID == st.Open.ID {
		return 0, isOpen - 1
	}
	return 1, isOpen
}
