package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/storetest"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// checkWishes checks that wishes and the journal agree: a confirmed wish's
// awards are its award entries (issuer of its community -> each
// participant, reference wish:<id>) and add up to its points; no other wish
// has an entry; and the index of open claims names exactly the claimed
// wishes, at their due times.
func checkWishes(t *testing.T, s *Store) {
	t.Helper()
	err := s.db.View(func(tx *bolt.Tx) error {
		byRef := map[string][]ledger.Entry{}
		err := tx.Bucket(bucketJournal).ForEach(func(k, _ []byte) error {
			e, err := readEntry(tx, binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			if strings.HasPrefix(e.Reference, ledger.WishReferencePrefix) {
				byRef[e.Reference] = append(byRef[e.Reference], e)
			}
			return nil
		})
		if err != nil {
			return err
		}
		claims := map[string]bool{}
		_ = tx.Bucket(bucketWishClaims).ForEach(func(k, _ []byte) error {
			claims[string(k)] = true
			return nil
		})
		err = tx.Bucket(bucketWishes).ForEach(func(k, _ []byte) error {
			w, err := getWish(tx, uuid.UUID(k))
			if err != nil {
				return nil // a test's damaged wish
			}
			entries := byRef[w.Reference()]
			delete(byRef, w.Reference())
			if w.Status != ledger.WishConfirmed {
				if len(entries) > 0 || len(w.Awards) > 0 {
					t.Errorf("wish %s is %s but has entries %v, awards %v", w.ID, w.Status, entries, w.Awards)
				}
			} else {
				var sum ledger.Points
				if len(entries) != len(w.Awards) {
					t.Errorf("wish %s: %d awards, %d entries", w.ID, len(w.Awards), len(entries))
				}
				for i, a := range w.Awards {
					sum += a.Points
					if i < len(entries) {
						e := entries[i]
						if e.Seq != a.Seq || e.Kind != ledger.KindAward || e.Amount != a.Points || e.Credit != ledger.MemberAccount(a.MemberID) ||
							e.Debit != ledger.IssuerAccount(w.CommunityID) {
							t.Errorf("wish %s: award %+v, entry %+v", w.ID, a, e)
						}
					}
				}
				if sum != w.Points {
					t.Errorf("wish %s of %d points awarded %d", w.ID, w.Points, sum)
				}
			}
			if w.Status == ledger.WishClaimed {
				if !claims[string(claimKey(w.Claim, w.ID))] {
					t.Errorf("claimed wish %s is not in the index of claims", w.ID)
				}
				delete(claims, string(claimKey(w.Claim, w.ID)))
			}
			return nil
		})
		for k := range claims {
			if len(k) == 24 {
				t.Errorf("the index of claims names %x, which is not claimed", k)
			}
		}
		for ref, es := range byRef {
			t.Errorf("entries %v name %s, which is no wish", es, ref)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
}

// TestWishesConformance runs the engines' shared wishes suite on bbolt,
// checking the wishes' entries and claims index after each test.
func TestWishesConformance(t *testing.T) {
	storetest.RunWishes(t, openWishes)
}

func openWishes(t *testing.T, clock func() time.Time) storetest.WishesStore {
	s := openTest(t, Options{Now: clock})
	t.Cleanup(func() { checkWishes(t, s) })
	return s
}

// TestWishClaimSweep: claims not fulfilled in time go back to the wall,
// one by one; a damaged wish and a damaged index row among them are
// skipped and counted, and the rest still lapse; claims not yet due and
// fulfilled wishes stay as they are.
func TestWishClaimSweep(t *testing.T) {
	w := storetest.NewWishWorld(t, openWishes, 6)
	s := w.S.(*Store)
	var claimed []ledger.Wish
	for i := range 4 {
		wish := w.Published(t, fmt.Sprintf("心愿%d", i), 5)
		if _, err := w.S.ClaimWish(ctx, wish.ID, w.Vols[i], uuid.Nil, ""); err != nil {
			t.Fatal(err)
		}
		claimed = append(claimed, wish)
	}
	done := w.Fulfilled(t, "已完成的心愿", 5, 4, uuid.Nil, nil)
	w.Clock.Add(3 * 24 * time.Hour)
	late := w.Published(t, "晚认领的心愿", 5)
	if _, err := w.S.ClaimWish(ctx, late.ID, w.Vols[5], uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	// Damage: the second wish's record, and a row of the index that is not a key.
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketWishes).Put(claimed[1].ID[:], []byte("{not json")); err != nil {
			return err
		}
		return tx.Bucket(bucketWishClaims).Put([]byte{0, 1}, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	failures := s.Stats().SweepFailures["wish_claims"]
	if res, err := w.S.LapseWishClaims(ctx); err != nil || res.Done != 0 || len(res.Failed) != 1 {
		t.Fatalf("nothing is due yet: %+v %v", res, err)
	}
	w.Clock.Add(5 * 24 * time.Hour) // 8 days after the first claims, 5 after the late one
	res, err := w.S.LapseWishClaims(ctx)
	if err != nil || res.Done != 3 || len(res.Failed) != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	if res.Failed[1].ID != claimed[1].ID {
		t.Fatalf("skipped %v", res.Failed)
	}
	if got := s.Stats().SweepFailures["wish_claims"]; got != failures+3 {
		t.Fatalf("%d failures counted", got-failures)
	}
	for i, c := range claimed {
		if i == 1 {
			continue
		}
		got, err := w.S.Wish(ctx, c.ID)
		if err != nil || got.Status != ledger.WishPublished || got.Claim != nil || got.History[len(got.History)-1].Step != ledger.WishStepLapse {
			t.Fatalf("wish %d: %v %s", i, err, got.Status)
		}
	}
	for _, id := range []uuid.UUID{late.ID, done.ID} {
		if got, _ := w.S.Wish(ctx, id); got.Status != ledger.WishClaimed && got.Status != ledger.WishFulfilled {
			t.Fatalf("%s changed to %s", id, got.Status)
		}
	}
	// A lapsed wish can be claimed again, by its former claimer too.
	if _, err := w.S.ClaimWish(ctx, claimed[0].ID, w.Vols[0], uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	// Repair the damage so the end-of-test checks read a sound file.
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketWishClaims).Delete([]byte{0, 1}); err != nil {
			return err
		}
		c := tx.Bucket(bucketWishClaims).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if bytes.Equal(k[8:], claimed[1].ID[:]) {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketWishes).Delete(claimed[1].ID[:])
	})
	if err != nil {
		t.Fatal(err)
	}
}
