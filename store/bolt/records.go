package bolt

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// ServiceLines implements ledger.Records: one read transaction that walks
// the member account's entries back from the newest to the first posted
// before from (the account's index chain), so its cost is the member's
// entries since from.
func (s *Store) ServiceLines(ctx context.Context, memberID uuid.UUID, from, to time.Time) ([]ledger.ServiceLine, error) {
	var out []ledger.ServiceLine
	account := ledger.MemberAccount(memberID)
	k := account.Key()
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAccounts).Get(k[:])
		if v == nil {
			return nil // no account: no service
		}
		row, err := decodeAccountRow(v)
		if err != nil {
			return err
		}
		type line struct {
			ledger.ServiceLine
			first time.Time // the period's first entry for it
		}
		lines := map[uuid.UUID]*line{}
		events := map[uuid.UUID]ledger.Event{}
		for next := row.lastSeq; next != 0; {
			se, err := readStored(tx, next)
			if err != nil {
				return err
			}
			next = se.prevOf(account)
			if se.Time.Before(from) {
				break
			}
			if !se.Time.Before(to) {
				continue
			}
			a, ok, err := attendanceOfEntry(tx, &se.Entry)
			if err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			l := lines[a.ID]
			if l == nil {
				e, found := events[a.EventID]
				if !found {
					if e, err = getEvent(tx, a.EventID); err != nil {
						return err
					}
					events[a.EventID] = e
				}
				l = &line{ServiceLine: ledger.ServiceLine{AttendanceID: a.ID, Date: a.CheckedInAt, PostedAt: se.Time,
					EventTitle: e.Title, Category: e.Category, UnitID: e.UnitID}}
				lines[a.ID] = l
			}
			l.Minutes += ledger.ServiceMinutesDelta(&se.Entry, account)
			l.first = se.Time // walking back: the last one seen is the first
		}
		for _, l := range lines {
			if l.Minutes != 0 {
				l.Late = ledger.MonthOf(l.Date, s.loc) < ledger.MonthOf(l.first, s.loc)
				out = append(out, l.ServiceLine)
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b ledger.ServiceLine) int {
		return cmp.Or(a.Date.Compare(b.Date), bytes.Compare(a.AttendanceID[:], b.AttendanceID[:]))
	})
	return out, err
}

// IssueCertificate implements ledger.Records.
func (s *Store) IssueCertificate(ctx context.Context, c ledger.Certificate) (ledger.Certificate, error) {
	c.IssuedAt = s.now().UTC()
	err := s.update(ctx, func(w *writeTx) error {
		b := w.tx.Bucket(bucketCertificates)
		for {
			var r [5]byte
			rand.Read(r[:])
			c.Serial = c.IssuedAt.In(s.loc).Format("2006") + "-" + ledger.Crockford.EncodeToString(r[:])
			if b.Get([]byte(c.Serial)) == nil {
				break
			}
		}
		raw, err := json.Marshal(c)
		if err != nil {
			return err
		}
		return b.Put([]byte(c.Serial), raw)
	})
	return c, err
}

// Certificate implements ledger.Records.
func (s *Store) Certificate(ctx context.Context, serial string) (ledger.Certificate, error) {
	var c ledger.Certificate
	serial, err := ledger.NormalizeSerial(serial)
	if err != nil {
		return c, err
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketCertificates).Get([]byte(strings.ToUpper(serial)))
		if v == nil {
			return ledger.Errorf(ledger.ENOTFOUND, "certificate.not_found")
		}
		return json.Unmarshal(v, &c)
	})
	return c, err
}
