package store

import (
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

// ServiceLines implements ledger.Records: one read transaction over the
// member's attendances; the credited minutes come from the entry that
// posted each one.
func (s *Store) ServiceLines(ctx context.Context, memberID uuid.UUID, from, to time.Time) ([]ledger.ServiceLine, error) {
	var out []ledger.ServiceLine
	err := s.db.View(func(tx *bolt.Tx) error {
		events := map[uuid.UUID]ledger.Event{}
		return memberAttendances(tx, memberID, func(a ledger.Attendance) bool {
			if a.Status != ledger.AttendancePosted || a.CheckedInAt.Before(from) || !a.CheckedInAt.Before(to) {
				return true
			}
			e, ok := events[a.EventID]
			if !ok {
				var err error
				if e, err = getEvent(tx, a.EventID); err != nil {
					return true
				}
				events[a.EventID] = e
			}
			// What was credited: the posted minutes after the daily cap, or
			// the entry's when there is one (corrections re-post it).
			minutes := a.Minutes
			if a.EntrySeq > 0 {
				if entry, err := readEntry(tx, a.EntrySeq); err == nil {
					minutes = entry.Minutes
				}
			}
			out = append(out, ledger.ServiceLine{AttendanceID: a.ID, Date: a.CheckedInAt, EventTitle: e.Title, Category: e.Category,
				UnitID: e.UnitID, Minutes: minutes})
			return true
		})
	})
	slices.Reverse(out) // memberAttendances walks newest first
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
