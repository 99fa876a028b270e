package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// encodeMonthRowV1 writes a monthly totals row as schemas 1 to 12 did:
// eight kinds, no count, no wish points.
func encodeMonthRowV1(t ledger.MonthTotals) []byte {
	var b []byte
	for k := range 8 {
		b = binary.AppendVarint(b, t.In[k])
	}
	for k := range 8 {
		b = binary.AppendVarint(b, t.Out[k])
	}
	b = binary.AppendVarint(b, t.Minutes)
	return binary.AppendUvarint(b, t.Entries)
}

// TestMonthRowRoundTrip: a row reads back as written, with every kind and
// the wish points; a row cut short, with bytes after it, or counting more
// kinds than there are is refused.
func TestMonthRowRoundTrip(t *testing.T) {
	a := ledger.MemberAccount(uuid.New())
	want := ledger.MonthTotals{Month: 202612, Account: a, Minutes: -30, Wish: 40, Entries: 7}
	for k := range ledger.NumKinds {
		want.In[k], want.Out[k] = ledger.Points(k*1000+1), ledger.Points(-k)
	}
	v := encodeMonthRow(want)
	got, err := decodeMonthRow(202612, a, v)
	if err != nil || got != want {
		t.Fatalf("got %+v %v, want %+v", got, err, want)
	}
	for name, bad := range map[string][]byte{
		"cut short":      v[:len(v)-1],
		"bytes after":    append(bytes.Clone(v), 0),
		"too many kinds": append([]byte{ledger.NumKinds + 1}, v[1:]...),
		"no kinds":       append([]byte{0}, v[1:]...),
		"empty":          nil,
	} {
		if _, err := decodeMonthRow(202612, a, bad); err == nil {
			t.Errorf("%s: read as a row", name)
		}
	}
	// A row of a time with fewer kinds reads with the later ones zero.
	short := binary.AppendUvarint(nil, 2)
	short = binary.AppendVarint(binary.AppendVarint(short, 0), 5) // in
	short = binary.AppendVarint(binary.AppendVarint(short, 0), 1) // out
	short = binary.AppendVarint(binary.AppendVarint(short, 60), 0)
	short = binary.AppendUvarint(short, 2)
	got, err = decodeMonthRow(202612, a, short)
	if err != nil || got.In[1] != 5 || got.Out[1] != 1 || got.Minutes != 60 || got.Entries != 2 || got.In[ledger.KindDeduct] != 0 {
		t.Fatalf("two kinds: %+v %v", got, err)
	}
}

// TestMigration13RewritesMonthRows takes a file back to schema 12 — every
// monthly totals row in the old layout — and finds, after opening it, the
// rows in today's layout, the file verifying and the same month reports.
func TestMigration13RewritesMonthRows(t *testing.T) {
	w := newShopWorld(t, 500)
	for i := range 3 {
		v, err := w.s.IssueVoucher(ctx, w.member.ID, w.shopA.ID, []ledger.VoucherRequestLine{{ItemID: w.towel.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
		if err != nil {
			t.Fatal(err)
		}
		if i != 1 {
			if _, err := w.s.RedeemVoucher(ctx, v.ID, w.shopA.ID, uuid.Nil, ""); err != nil {
				t.Fatal(err)
			}
		}
		w.clock.Add(20 * 24 * time.Hour)
	}
	reports := func(s *Store) string {
		var out []ledger.MonthReport
		for _, m := range []ledger.Month{202611, 202612, 202701} {
			rep, err := s.MonthReport(ctx, m, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			rep.HeadSeq, rep.HeadHash = 0, ledger.Hash{}
			out = append(out, rep)
		}
		return fmt.Sprintf("%+v", out)
	}
	want := reports(w.s)
	path := w.s.db.Path()
	if err := w.s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	if err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccounts)
		type kv struct{ k, v []byte }
		var old []kv
		err := b.ForEach(func(k, v []byte) error {
			if len(k) != ledger.AccountKeySize+4 {
				return nil
			}
			a, _ := ledger.AccountFromKey(k[:ledger.AccountKeySize])
			mt, err := decodeMonthRow(0, a, v)
			if err != nil {
				return err
			}
			old = append(old, kv{bytes.Clone(k), encodeMonthRowV1(mt)})
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range old {
			if err := b.Put(r.k, r.v); err != nil {
				return err
			}
		}
		rows = len(old)
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, 12))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if rows < 6 {
		t.Fatalf("only %d monthly rows to migrate", rows)
	}
	s, err := Open(path, Options{Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkConsistent(t, s)
	if got := reports(s); got != want {
		t.Fatalf("after migrating:\n got %s\nwant %s", got, want)
	}
}
