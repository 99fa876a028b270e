package postgres

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// recordsPage is how many of a member's entries ServiceLines reads at a time.
const recordsPage = 500

// ServiceLines implements ledger.Records: it walks the member account's
// entries back from the newest to the first posted before from, so its
// cost is the member's entries since from.
func (s *Store) ServiceLines(ctx context.Context, memberID uuid.UUID, from, to time.Time) ([]ledger.ServiceLine, error) {
	account := ledger.MemberAccount(memberID)
	if _, err := s.Balance(ctx, account); ledger.ErrorCode(err) == ledger.ENOTFOUND {
		return nil, nil // no account: no service
	} else if err != nil {
		return nil, err
	}
	type line struct {
		ledger.ServiceLine
		first time.Time // the period's first entry for it
	}
	lines := map[uuid.UUID]*line{}
	events := map[uuid.UUID]ledger.Event{}
	var before uint64
walk:
	for {
		page, err := s.AccountEntries(ctx, account, before, recordsPage)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			before = e.Seq
			if e.Time.Before(from) {
				break walk
			}
			if !e.Time.Before(to) {
				continue
			}
			a, ok, err := s.attendanceOfEntry(ctx, &e)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			l := lines[a.ID]
			if l == nil {
				ev, found := events[a.EventID]
				if !found {
					if ev, err = s.Event(ctx, a.EventID); err != nil {
						return nil, err
					}
					events[a.EventID] = ev
				}
				l = &line{ServiceLine: ledger.ServiceLine{AttendanceID: a.ID, Date: a.CheckedInAt, PostedAt: e.Time,
					EventTitle: ev.Title, Category: ev.Category, UnitID: ev.UnitID}}
				lines[a.ID] = l
			}
			l.Minutes += ledger.ServiceMinutesDelta(&e, account)
			l.first = e.Time // walking back: the last one seen is the first
		}
	}
	var out []ledger.ServiceLine
	for _, l := range lines {
		if l.Minutes != 0 {
			l.Late = ledger.MonthOf(l.Date, s.loc) < ledger.MonthOf(l.first, s.loc)
			out = append(out, l.ServiceLine)
		}
	}
	slices.SortFunc(out, func(a, b ledger.ServiceLine) int {
		return cmp.Or(a.Date.Compare(b.Date), bytes.Compare(a.AttendanceID[:], b.AttendanceID[:]))
	})
	return out, nil
}

// attendanceOfEntry returns the attendance an entry names, if it names one.
func (s *Store) attendanceOfEntry(ctx context.Context, e *ledger.Entry) (ledger.Attendance, bool, error) {
	ref, ok := strings.CutPrefix(e.Reference, "attendance:")
	if !ok || e.Minutes == 0 {
		return ledger.Attendance{}, false, nil
	}
	id, err := uuid.Parse(ref)
	if err != nil {
		return ledger.Attendance{}, false, nil
	}
	a, err := s.Attendance(ctx, id)
	if ledger.ErrorCode(err) == ledger.ENOTFOUND {
		return a, false, nil // an entry appended to the journal directly
	}
	return a, err == nil, err
}

// IssueCertificate implements ledger.Records.
func (s *Store) IssueCertificate(ctx context.Context, c ledger.Certificate) (ledger.Certificate, error) {
	c.IssuedAt = s.now().UTC()
	err := s.update(ctx, func(w *wtx) error {
		for {
			var r [5]byte
			rand.Read(r[:])
			c.Serial = c.IssuedAt.In(s.loc).Format("2006") + "-" + ledger.Crockford.EncodeToString(r[:])
			var one int
			found, err := w.QueryRow(`SELECT 1 FROM certificates WHERE serial = $1`, []any{c.Serial}, &one)
			if err != nil {
				return err
			}
			if !found {
				break
			}
		}
		doc, err := jsonDoc(c)
		w.Exec(`INSERT INTO certificates (serial, doc) VALUES ($1, $2)`, c.Serial, doc)
		return err
	})
	return c, err
}

// Certificate implements ledger.Records.
func (s *Store) Certificate(ctx context.Context, serial string) (ledger.Certificate, error) {
	serial, err := ledger.NormalizeSerial(serial)
	if err != nil {
		return ledger.Certificate{}, err
	}
	list, err := queryDocs[ledger.Certificate](ctx, s, `SELECT doc FROM certificates WHERE serial = $1`, strings.ToUpper(serial))
	if err != nil {
		return ledger.Certificate{}, err
	}
	if len(list) == 0 {
		return ledger.Certificate{}, ledger.Errorf(ledger.ENOTFOUND, "certificate.not_found")
	}
	return list[0], nil
}
