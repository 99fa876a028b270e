package bolt

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/storetest"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// TestVerifyFindsChangedRedemptionRows damages each kind of monthly
// redemption row: Verify says which.
func TestVerifyFindsChangedRedemptionRows(t *testing.T) {
	for _, bucket := range [][]byte{bucketMemberRedeemed, bucketShopMonth, bucketShopItemMonth} {
		t.Run(string(bucket), func(t *testing.T) {
			w := newShopWorld(t, 200)
			v, err := w.s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 2}}, uuid.Nil, ledger.PresenceSelf, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.s.RedeemVoucher(ctx, v.ID, w.shopA.ID, uuid.Nil, ""); err != nil {
				t.Fatal(err)
			}
			checkConsistent(t, w.s)
			var key, orig []byte
			if err := w.s.db.Update(func(tx *bolt.Tx) error {
				k, val := tx.Bucket(bucket).Cursor().First()
				key, orig = bytes.Clone(k), bytes.Clone(val)
				return tx.Bucket(bucket).Put(key, append(bytes.Clone(val[:len(val)-1]), val[len(val)-1]+1))
			}); err != nil {
				t.Fatal(err)
			}
			rep, err := w.s.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || !strings.Contains(rep.Problem, "do not match the journal's redemptions") {
				t.Fatalf("verify: %+v", rep)
			}
			if err := w.s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key, orig) }); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestMigration5RebuildsRedemptionRows opens a file as schema 4 left it —
// redemptions made, no monthly redemption rows — and finds the rows rebuilt
// from the journal.
func TestMigration5RebuildsRedemptionRows(t *testing.T) {
	w := newShopWorld(t, 500)
	var ids []uuid.UUID
	for i, it := range []ledger.Item{w.rice, w.towel, w.rice} {
		v, err := w.s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: it.ID, Qty: 1 + i%2}}, uuid.Nil, ledger.PresenceSelf, "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.ID)
		w.clock.Add(20 * 24 * time.Hour) // the next one in the next month
		if _, err := w.s.RedeemVoucher(ctx, v.ID, w.shopA.ID, uuid.Nil, ""); err != nil && ledger.ErrorCode(err) != ledger.EGONE {
			t.Fatal(err)
		}
	}
	before, err := w.s.MonthReport(ctx, 202612, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := w.s.db.Path()
	if err := w.s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMemberRedeemed, bucketShopMonth, bucketShopItemMonth} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, 4))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path, Options{Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkConsistent(t, s)
	after, err := s.MonthReport(ctx, 202612, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before.Members, after.Members) || before.Shops[0].Vouchers != after.Shops[0].Vouchers || before.Shops[0].Items != after.Shops[0].Items {
		t.Fatalf("before %+v\nafter %+v", before, after)
	}
	if before.Members[0].Vouchers == 0 {
		t.Fatal("nothing was redeemed in December")
	}
}

// TestMonthReportFindsUnbalanced: when a member's held points or balance
// row disagree with their monthly rows, the report names the member, and
// Reconcile does too — the check does not follow from how the month is
// worked out.
func TestMonthReportFindsUnbalanced(t *testing.T) {
	w := newShopWorld(t, 200)
	if _, err := w.s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.rice.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, ""); err != nil {
		t.Fatal(err)
	}
	month := ledger.MonthOf(w.clock.Now(), w.s.loc)
	check := func(want bool) {
		t.Helper()
		rep, err := w.s.MonthReport(ctx, month, []uuid.UUID{w.member.ID}, nil)
		if err != nil {
			t.Fatal(err)
		}
		bad, _ := rep.Reconcile()
		if got := len(rep.Unbalanced) == 1 && len(bad) == 1; got != want {
			t.Fatalf("unbalanced %v, bad %v; want found %v", rep.Unbalanced, bad, want)
		}
	}
	check(false)
	bump := func(bucket []byte, key []byte, delta int64) {
		if err := w.s.db.Update(func(tx *bolt.Tx) error { return addCount(tx.Bucket(bucket), key, delta) }); err != nil {
			t.Fatal(err)
		}
	}
	bump(bucketMemberHeld, w.member.ID[:], 5)
	check(true)
	bump(bucketMemberHeld, w.member.ID[:], -5)
	check(false)
	// A balance row that lost a point.
	k := ledger.MemberAccount(w.member.ID).Key()
	var orig []byte
	if err := w.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccounts)
		orig = bytes.Clone(b.Get(k[:]))
		row, _ := decodeAccountRow(orig)
		row.balance--
		return b.Put(k[:], row.encode())
	}); err != nil {
		t.Fatal(err)
	}
	check(true)
	if err := w.s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketAccounts).Put(k[:], orig) }); err != nil {
		t.Fatal(err)
	}
	check(false)
}

// replayMonths replays s's journal for every member account and shop of
// the file (storetest.Replay), and TestReportsConformance runs the
// engines' shared reports suite on bbolt.
func replayMonths(t *testing.T, s *Store) storetest.Replayed {
	t.Helper()
	var members, shops []uuid.UUID
	_ = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAccounts).Cursor()
		for k, _ := c.Seek([]byte{byte(ledger.AccountMember)}); k != nil && k[0] == byte(ledger.AccountMember); k, _ = c.Next() {
			if len(k) == ledger.AccountKeySize {
				members = append(members, uuid.UUID(k[1:]))
			}
		}
		return tx.Bucket(bucketShops).ForEach(func(k, _ []byte) error {
			shops = append(shops, uuid.UUID(k))
			return nil
		})
	})
	return storetest.Replay(t, s, members, shops)
}

func TestReportsConformance(t *testing.T) {
	storetest.RunReports(t, func(t *testing.T, clock func() time.Time, life time.Duration) storetest.ReportsStore {
		return openTest(t, Options{Now: clock, VoucherLife: life})
	})
}
