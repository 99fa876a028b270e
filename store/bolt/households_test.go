package bolt

import (
	"encoding/binary"
	"sync"
	"testing"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// TestHouseholds: a household is made in a grid with its account open,
// takes members of its community, and a member belongs to one household:
// moved to another only after leaving the first; the index follows.
func TestHouseholds(t *testing.T) {
	s := openTest(t, Options{})
	tr := makeTree(t, s)
	member := func(name, phone string, unit uuid.UUID) uuid.UUID {
		m, err := s.CreateMember(ctx, ledger.Member{Name: name, Phone: phone, UnitID: unit}, "")
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	dad, mum := member("张建国", "13800000001", tr.gridA.ID), member("李秀英", "13800000002", tr.gridA.ID)
	other := member("王五", "13800000003", tr.gridB.ID)
	if _, err := s.CreateHousehold(ctx, "1单元101室", tr.a.ID, 0); ledger.ErrorCode(err) != ledger.EINVALID {
		t.Fatalf("a household in a community: %v", err)
	}
	if _, err := s.CreateHousehold(ctx, "1单元101室", uuid.New(), 0); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("a household in no unit: %v", err)
	}
	h, err := s.CreateHousehold(ctx, "1单元101室", tr.gridA.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := s.Balance(ctx, h.Account()); err != nil || b.Points != 0 {
		t.Fatalf("household account: %+v %v", b, err)
	}
	h2, err := s.CreateHousehold(ctx, "1单元102室", tr.gridA.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	family := ledger.HouseholdChange{Members: []ledger.HouseholdMember{{MemberID: dad}, {MemberID: mum}}, HeadID: dad}
	if h, err = s.SetHouseholdMembers(ctx, h.ID, family); err != nil || len(h.Members) != 2 {
		t.Fatalf("%+v %v", h, err)
	}
	if _, err := s.SetHouseholdMembers(ctx, h.ID, ledger.HouseholdChange{Members: []ledger.HouseholdMember{{MemberID: dad}, {MemberID: other}}, HeadID: dad}); ledger.ErrorCode(err) != ledger.EINVALID {
		t.Fatalf("a member of another community: %v", err)
	}
	if _, err := s.SetHouseholdMembers(ctx, h2.ID, ledger.HouseholdChange{Members: []ledger.HouseholdMember{{MemberID: mum}}, HeadID: mum}); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("a member of two households: %v", err)
	}
	if _, err := s.SetHouseholdMembers(ctx, uuid.New(), family); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("an unknown household: %v", err)
	}
	// Mum leaves the first household and heads the second.
	if _, err := s.SetHouseholdMembers(ctx, h.ID, ledger.HouseholdChange{Members: []ledger.HouseholdMember{{MemberID: dad}}, HeadID: dad}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetHouseholdMembers(ctx, h2.ID, ledger.HouseholdChange{Members: []ledger.HouseholdMember{{MemberID: mum}}, HeadID: mum}); err != nil {
		t.Fatal(err)
	}
	for who, want := range map[uuid.UUID]uuid.UUID{dad: h.ID, mum: h2.ID} {
		if got, err := s.MemberHousehold(ctx, who); err != nil || got.ID != want {
			t.Errorf("household of %s: %v %v, want %s", who, got.ID, err, want)
		}
	}
	if _, err := s.MemberHousehold(ctx, other); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Errorf("household of one in none: %v", err)
	}
	all, err := s.Households(ctx, ledger.Scope{All: true})
	if err != nil || len(all) != 2 {
		t.Fatalf("all: %d %v", len(all), err)
	}
	if got, err := s.Households(ctx, ledger.Scope{Unit: tr.b.ID}); err != nil || len(got) != 0 {
		t.Fatalf("another community sees %d %v", len(got), err)
	}
	checkConsistent(t, s)
}

// TestHouseholdRace: sixteen requests put one member into sixteen
// households at once; exactly one wins and the index names it.
func TestHouseholdRace(t *testing.T) {
	s := openTest(t, Options{})
	tr := makeTree(t, s)
	m, err := s.CreateMember(ctx, ledger.Member{Name: "张建国", Phone: "13800000001", UnitID: tr.gridA.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	ids := make([]uuid.UUID, n)
	for i := range ids {
		h, err := s.CreateHousehold(ctx, "1单元10"+string(rune('a'+i))+"室", tr.gridA.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = h.ID
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range ids {
		wg.Go(func() {
			_, errs[i] = s.SetHouseholdMembers(ctx, ids[i], ledger.HouseholdChange{Members: []ledger.HouseholdMember{{MemberID: m.ID}}, HeadID: m.ID})
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("households %d and %d both took the member", won, i)
		case err == nil:
			won = i
		case ledger.ErrorCode(err) != ledger.ECONFLICT:
			t.Fatalf("household %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no household took the member")
	}
	if h, err := s.MemberHousehold(ctx, m.ID); err != nil || h.ID != ids[won] {
		t.Fatalf("index: %v %v, want %s", h.ID, err, ids[won])
	}
	for i, id := range ids {
		h, err := s.Household(ctx, id)
		if err != nil || h.Has(m.ID) != (i == won) {
			t.Fatalf("household %d: %+v %v", i, h, err)
		}
	}
}

// TestOneHouseholdADoor: a second household at the same door of a unit is
// refused however the address is spaced or written (full-width digits);
// the same door in another unit is another household. A file from before
// the index (schema 18) gets it at open, the first household keeping its
// door.
func TestOneHouseholdADoor(t *testing.T) {
	s := openTest(t, Options{})
	tr := makeTree(t, s)
	first, err := s.CreateHousehold(ctx, "3单元502室", tr.gridA.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, again := range []string{"3单元502室", " 3 单元 502 室", "３单元５０２室"} {
		if _, err := s.CreateHousehold(ctx, again, tr.gridA.ID, 0); ledger.ErrorCode(err) != ledger.ECONFLICT {
			t.Fatalf("%q again: %v", again, err)
		}
	}
	if _, err := s.CreateHousehold(ctx, "3单元502室", tr.gridB.ID, 0); err != nil {
		t.Fatalf("the same door in another grid: %v", err)
	}
	if all, _ := s.Households(ctx, ledger.Scope{All: true}); len(all) != 2 {
		t.Fatalf("%d households", len(all))
	}
	// Back to schema 18, without the index.
	path := s.db.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketHouseholdDoors); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, 18))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateHousehold(ctx, "3单元５０２室", tr.gridA.ID, 0); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("after the migration: %v", err)
	}
	if h, err := s.Household(ctx, first.ID); err != nil || h.Address != "3单元502室" {
		t.Fatalf("%+v %v", h, err)
	}
	checkConsistent(t, s)
}
