package bolt

import (
	"encoding/binary"
	"maps"
	"slices"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// TestMigration9RebuildsServiceRows deletes the service rows of a file and
// marks it schema 8: opening it rebuilds them from the journal, exactly.
func TestMigration9RebuildsServiceRows(t *testing.T) {
	s, clock, tr, e, ms := newEventWorld(t, 2)
	clock.Set(e.EndsAt.Add(time.Hour))
	for _, m := range ms {
		if _, err := s.Backfill(ctx, e.ID, m.ID, e.StartsAt, e.EndsAt.Add(-time.Duration(len(m.Name))*time.Minute), "纸质签到表", uuid.Nil); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)) // finalised in December: late service
	if _, err := s.FinalizeEvent(ctx, e.ID, "x", true); err != nil {
		t.Fatal(err)
	}
	other, _ := s.CreateEvent(ctx, ledger.Event{Title: "宣讲", Category: "政策宣讲", UnitID: tr.a.ID, StartsAt: clock.Now().Add(-2 * time.Hour), EndsAt: clock.Now()})
	if _, err := s.Backfill(ctx, other.ID, ms[0].ID, other.StartsAt, other.EndsAt, "纸质签到表", uuid.Nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinalizeEvent(ctx, other.ID, "x", true); err != nil {
		t.Fatal(err)
	}
	read := func(s *Store) (map[uuid.UUID]int64, []ledger.LateService) {
		t.Helper()
		ev, err := s.EventMinutes(ctx, 202612)
		if err != nil {
			t.Fatal(err)
		}
		late, err := s.LateService(ctx, 202612)
		if err != nil {
			t.Fatal(err)
		}
		return ev, late
	}
	beforeEvents, beforeLate := read(s)
	if len(beforeEvents) != 2 || len(beforeLate) != 2 {
		t.Fatalf("before %v %+v", beforeEvents, beforeLate)
	}
	path := s.db.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMonthEvent, bucketMonthLate} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, 8))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s2, err := Open(path, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	checkConsistent(t, s2)
	afterEvents, afterLate := read(s2)
	if !maps.Equal(beforeEvents, afterEvents) || !slices.Equal(beforeLate, afterLate) {
		t.Fatalf("before %v %+v\nafter %v %+v", beforeEvents, beforeLate, afterEvents, afterLate)
	}
}

// TestVerifyFindsServiceRowTampering: a service row that does not follow
// from the journal is named by Verify.
func TestVerifyFindsServiceRowTampering(t *testing.T) {
	s, clock, _, e, ms := newEventWorld(t, 1)
	clock.Set(e.EndsAt.Add(time.Hour))
	if _, err := s.Backfill(ctx, e.ID, ms[0].ID, e.StartsAt, e.EndsAt, "纸质签到表", uuid.Nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinalizeEvent(ctx, e.ID, "x", true); err != nil {
		t.Fatal(err)
	}
	k := monthID(202611, e.ID)
	put := func(v []byte) {
		if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMonthEvent).Put(k, v) }); err != nil {
			t.Fatal(err)
		}
	}
	put(binary.AppendVarint(nil, 999))
	if rep, _ := s.Verify(ctx); rep.OK || rep.Problem == "" {
		t.Fatalf("verify passed a changed service row: %+v", rep)
	}
	put(binary.AppendVarint(nil, 180))
	if rep, _ := s.Verify(ctx); !rep.OK {
		t.Fatalf("verify after mending: %+v", rep)
	}
}
