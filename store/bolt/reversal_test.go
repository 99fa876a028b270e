package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// reversalWorld is a shop world with an organiser who reverses, a second
// member, and their vouchers: the member's redeemed on 30 November late in
// the evening (Shanghai), one of the member's left open over the month's
// end, and the second member's redeemed and never reversed.
type reversalWorld struct {
	shopWorld
	organiser        ledger.User
	second           ledger.Member
	redeemed, open   ledger.Voucher
	secondsRedeemed  ledger.Voucher
	riceNov, towNov  int // stock on hand after November's redemptions
	novTowelsCounted int64
}

func newReversalWorld(t *testing.T) reversalWorld {
	t.Helper()
	w := reversalWorld{shopWorld: newShopWorld(t, 200)}
	s := w.s
	var err error
	if w.organiser, err = s.CreateUser(ctx, ledger.User{Login: "liu", Name: "刘书记", Role: ledger.RoleOrganizer, UnitID: w.tr.a.ID, PasswordHash: "$argon2id$test"}); err != nil {
		t.Fatal(err)
	}
	if w.second, err = s.CreateMember(ctx, ledger.Member{Name: "王大爷", Phone: "13812340002", UnitID: w.tr.gridA.ID}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, ledger.Transfer{Debit: ledger.IssuerAccount(w.tr.a.ID), Credit: ledger.MemberAccount(w.second.ID), Amount: 100, Kind: ledger.KindEarn}); err != nil {
		t.Fatal(err)
	}
	issue := func(m ledger.Member, lines ...ledger.VoucherRequestLine) ledger.Voucher {
		t.Helper()
		v, err := s.IssueVoucher(ctx, m.ID, w.shopA.ID, lines, w.organiser.ID, ledger.PresenceProxy, "")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	w.redeemed = issue(w.member, ledger.VoucherRequestLine{ItemID: w.rice.ID, Qty: 1}, ledger.VoucherRequestLine{ItemID: w.towel.ID, Qty: 2})
	w.open = issue(w.member, ledger.VoucherRequestLine{ItemID: w.rice.ID, Qty: 1})
	w.secondsRedeemed = issue(w.second, ledger.VoucherRequestLine{ItemID: w.towel.ID, Qty: 1})
	w.clock.Set(time.Date(2026, 11, 30, 15, 50, 0, 0, time.UTC)) // 23:50 on 30 November in Shanghai
	clerk := uuid.New()
	for _, v := range []*ledger.Voucher{&w.redeemed, &w.secondsRedeemed} {
		if *v, err = s.RedeemVoucher(ctx, v.ID, w.shopA.ID, clerk, ""); err != nil {
			t.Fatal(err)
		}
	}
	rice, _ := s.Item(ctx, w.rice.ID)
	towel, _ := s.Item(ctx, w.towel.ID)
	w.riceNov, w.towNov = rice.OnHand, towel.OnHand
	_ = s.db.View(func(tx *bolt.Tx) error {
		w.novTowelsCounted = getCount(tx.Bucket(bucketMemberItemMonth), monthCountKey(w.member.ID, w.towel.ID, 202611))
		return nil
	})
	return w
}

// TestReverseRedemptionAcrossMonths: a redemption of 30 November reversed on
// 2 December gives the points and the items back, counts in December as a
// negative redemption of the member and the shop, and every month of every
// member still adds up, against the escrow and the shops too.
func TestReverseRedemptionAcrossMonths(t *testing.T) {
	w := newReversalWorld(t)
	s := w.s
	before, _ := w.balance(t)
	novBefore, err := s.MonthReport(ctx, 202611, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Set(time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)) // 09:00 on 2 December
	v, err := s.ReverseRedemption(ctx, w.redeemed.ID, w.organiser.ID, "  扫错了券，物品未领取 ", "client:"+w.organiser.ID.String()+":k1")
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != ledger.VoucherReversed || v.ReversedBy != w.organiser.ID || v.ReverseReason != "扫错了券，物品未领取" ||
		!v.ReversedAt.Equal(w.clock.Now()) || v.ReverseSeq == 0 || v.ReleaseSeq != v.ReverseSeq+1 || v.CloseSeq != w.redeemed.CloseSeq {
		t.Fatalf("voucher %+v", v)
	}
	if stored, _ := s.Voucher(ctx, v.ID); stored.Status != ledger.VoucherReversed || stored.ReverseSeq != v.ReverseSeq {
		t.Fatalf("stored %+v", stored)
	}

	// The entries: a reverse naming the redemption, then the release.
	es, err := s.Entries(ctx, v.ReverseSeq-1, 2)
	if err != nil || len(es) != 2 {
		t.Fatalf("entries %v %v", es, err)
	}
	rev, rel := es[0], es[1]
	if rev.Kind != ledger.KindReverse || rev.Reverses != w.redeemed.CloseSeq || rev.Debit != ledger.ShopAccount(w.shopA.ID) || rev.Credit != ledger.Escrow ||
		rev.Amount != 50 || rev.Memo != "扫错了券，物品未领取" || rev.IdempotencyKey != w.redeemed.Key("reverse") {
		t.Fatalf("reverse %+v", rev)
	}
	if rel.Kind != ledger.KindRelease || rel.Debit != ledger.Escrow || rel.Credit != ledger.MemberAccount(w.member.ID) || rel.Amount != 50 ||
		rel.Reference != w.redeemed.Reference() || rel.IdempotencyKey != w.redeemed.Key("release") {
		t.Fatalf("release %+v", rel)
	}

	// Points back to the member (available), what the open voucher holds untouched.
	after, held := w.balance(t)
	if after != before+50 || held != w.open.Points {
		t.Fatalf("balance %d (before %d), held %d", after, before, held)
	}
	// The items back on hand, nothing reserved by it, a reversal move with the reason.
	rice, _ := s.Item(ctx, w.rice.ID)
	towel, _ := s.Item(ctx, w.towel.ID)
	if rice.OnHand != w.riceNov+1 || towel.OnHand != w.towNov+2 || rice.Reserved != 1 || towel.Reserved != 0 {
		t.Fatalf("rice %+v towel %+v", rice, towel)
	}
	moves, _ := s.StockMoves(ctx, w.towel.ID)
	last := moves[len(moves)-1]
	if last.Kind != ledger.StockReversal || last.Qty != 2 || last.Note != "扫错了券，物品未领取" || last.Reference != w.redeemed.Reference() || last.By != w.organiser.ID {
		t.Fatalf("the towel's last move %+v", last)
	}
	// The member's November towels (limit 2 a month) are given back.
	_ = s.db.View(func(tx *bolt.Tx) error {
		if n := getCount(tx.Bucket(bucketMemberItemMonth), monthCountKey(w.member.ID, w.towel.ID, 202611)); n != w.novTowelsCounted-2 {
			t.Errorf("November's towels counted %d, were %d", n, w.novTowelsCounted)
		}
		return nil
	})

	// November did not change; December has the negative redemption.
	nov, err := s.MonthReport(ctx, 202611, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := s.MonthReport(ctx, 202612, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(nov.Members, novBefore.Members) || nov.ShopPoints != novBefore.ShopPoints || nov.EscrowClosing != novBefore.EscrowClosing {
		t.Fatalf("November changed:\n%+v\n%+v", novBefore, nov)
	}
	for _, rep := range []ledger.MonthReport{nov, dec} {
		if bad, agree := rep.Reconcile(); len(bad) > 0 || !agree || len(rep.Unbalanced) > 0 {
			t.Fatalf("%v: members %v do not reconcile (unbalanced %v), accounts agree %v", rep.Month, bad, rep.Unbalanced, agree)
		}
		if len(rep.Members) != 2 {
			t.Fatalf("%v: %d members", rep.Month, len(rep.Members))
		}
	}
	month := func(rep ledger.MonthReport, id uuid.UUID) ledger.MemberMonth {
		for _, m := range rep.Members {
			if m.MemberID == id {
				return m
			}
		}
		t.Fatalf("%v: no row for %v", rep.Month, id)
		return ledger.MemberMonth{}
	}
	if m := month(nov, w.member.ID); m.Redeemed != 50 || m.Vouchers != 1 || m.HeldClosing != w.open.Points {
		t.Fatalf("November of the member: %+v", m)
	}
	m := month(dec, w.member.ID)
	if m.Redeemed != -50 || m.Vouchers != -1 || m.Released != 50 || m.Closing != m.Opening+50 || m.HeldOpening != w.open.Points || m.HeldClosing != w.open.Points {
		t.Fatalf("December of the member: %+v", m)
	}
	if m := month(dec, w.second.ID); m.Redeemed != 0 || m.Vouchers != 0 || m.Closing != m.Opening {
		t.Fatalf("December of the second member: %+v", m)
	}
	if dec.ShopPoints != -50 || dec.Shops[0].Points != -50 || dec.Shops[0].Vouchers != -1 || dec.Shops[0].Items != -3 || dec.Shops[0].Reversed != 1 ||
		dec.Shops[0].ByItem[w.rice.ID] != -1 || dec.Shops[0].ByItem[w.towel.ID] != -2 {
		t.Fatalf("December of the shop: %+v, shop points %d", dec.Shops, dec.ShopPoints)
	}
	if nov.Shops[0].Points != 60 || nov.Shops[0].Vouchers != 2 || nov.Shops[0].Items != 4 || nov.Shops[0].Reversed != 0 {
		t.Fatalf("November of the shop: %+v", nov.Shops)
	}
	// The dashboard's sums: December redeemed less than nothing.
	sums, err := s.MonthSums(ctx, 202611, 202612, nil)
	if err != nil || sums[0].Redeemed != 60 || sums[1].Redeemed != -50 {
		t.Fatalf("sums %+v %v", sums, err)
	}
	// An independent replay of the journal says the same, month by month.
	replay := replayMonths(t, s)
	for _, rep := range []ledger.MonthReport{nov, dec} {
		want := replay.Report(rep.Month)
		for _, got := range rep.Members {
			if got != want.Member[got.MemberID] {
				t.Fatalf("%v: %+v, the replay says %+v", rep.Month, got, want.Member[got.MemberID])
			}
		}
		if rep.EscrowClosing != want.Escrow {
			t.Fatalf("%v: escrow %d, the replay says %d", rep.Month, rep.EscrowClosing, want.Escrow)
		}
	}
	checkConsistent(t, s)

	// The shop's lists: November's redemptions (one of them reversed since),
	// December's reversal; by day too.
	page := func(from, to time.Time, before uint64, limit int) ledger.RedemptionPage {
		t.Helper()
		p, err := s.ShopRedemptions(ctx, w.shopA.ID, from, to, before, limit)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	novFrom, novTo := ledger.Month(202611).Span(s.loc)
	decFrom, decTo := ledger.Month(202612).Span(s.loc)
	p := page(novFrom, novTo, 0, 10)
	if len(p.Redemptions) != 2 || p.Points != 60 || p.Redeemed != 2 || p.Reversed != 0 || p.Before != 0 {
		t.Fatalf("November's list %+v", p)
	}
	if r := p.Redemptions[1]; r.Voucher.ID != w.redeemed.ID || r.Kind != ledger.KindRedeem || r.Points != 50 || r.Voucher.Status != ledger.VoucherReversed {
		t.Fatalf("November's older line %+v", r)
	}
	p = page(decFrom, decTo, 0, 10)
	if len(p.Redemptions) != 1 || p.Points != -50 || p.Redeemed != 0 || p.Reversed != 1 {
		t.Fatalf("December's list %+v", p)
	}
	if r := p.Redemptions[0]; r.Kind != ledger.KindReverse || r.Points != -50 || r.Seq != v.ReverseSeq || r.Voucher.ReverseReason != "扫错了券，物品未领取" {
		t.Fatalf("December's line %+v", r)
	}
	day30, day31, _ := ledger.ParseDay("2026-11-30", s.loc)
	if p := page(day30, day31, 0, 10); len(p.Redemptions) != 2 {
		t.Fatalf("30 November %+v", p)
	}
	day29, _, _ := ledger.ParseDay("2026-11-29", s.loc)
	if p := page(day29, day30, 0, 10); len(p.Redemptions) != 0 || p.Points != 0 {
		t.Fatalf("29 November %+v", p)
	}
	// Paged one by one, with the totals of the whole period each time.
	first := page(novFrom, novTo, 0, 1)
	second := page(novFrom, novTo, first.Before, 1)
	if len(first.Redemptions) != 1 || first.Before == 0 || len(second.Redemptions) != 1 || second.Before != 0 ||
		second.Redemptions[0].Seq >= first.Redemptions[0].Seq || second.Points != 60 {
		t.Fatalf("pages %+v %+v", first, second)
	}
	if _, err := s.ShopRedemptions(ctx, w.shopA.ID, novFrom, novTo, w.open.HoldSeq, 10); ledger.ErrorCode(err) != ledger.EINVALID {
		t.Fatalf("a cursor that is not the shop's: %v", err)
	}
	// The month's goods in: the opening intakes of November, the reversal's items in December.
	in, err := s.ShopStockMoves(ctx, w.shopA.ID, 202611)
	if err != nil || len(in) != 3 || in[0].Kind != ledger.StockIntake || in[0].Donor != "爱心企业" {
		t.Fatalf("November's moves %+v %v", in, err)
	}
	in, _ = s.ShopStockMoves(ctx, w.shopA.ID, 202612)
	if len(in) != 2 || in[0].Kind != ledger.StockReversal || in[1].Kind != ledger.StockReversal {
		t.Fatalf("December's moves %+v", in)
	}
	if in, _ := s.ShopStockMoves(ctx, w.shopB.ID, 202611); len(in) != 0 {
		t.Fatalf("the other shop's moves %+v", in)
	}
}

// TestReverseRedemptionRefusals: exactly once, only a redeemed voucher, with
// a reason; a refusal writes nothing, and the voucher's entries cannot be
// reversed around it.
func TestReverseRedemptionRefusals(t *testing.T) {
	w := newReversalWorld(t)
	s := w.s
	key := "client:" + w.organiser.ID.String() + ":k1"
	head := func() uint64 {
		seq, _, _ := s.Head(ctx)
		return seq
	}
	// Refusals before the reversal.
	h := head()
	for _, tc := range []struct {
		name, reason string
		id           uuid.UUID
		code, key    string
	}{
		{"NoReason", " ", w.redeemed.ID, ledger.EINVALID, "attendance.reason_required"},
		{"ControlCharacter", "扫错\x07了", w.redeemed.ID, ledger.EINVALID, "text.control"},
		{"Open", "扫错了", w.open.ID, ledger.ECONFLICT, "voucher.not_redeemed"},
		{"Unknown", "扫错了", uuid.New(), ledger.ENOTFOUND, "voucher.not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.ReverseRedemption(ctx, tc.id, w.organiser.ID, tc.reason, "")
			wantCode(t, err, tc.code, tc.key)
			if head() != h {
				t.Fatal("a refusal wrote an entry")
			}
		})
	}
	// Around it: a bare reverse of the redemption, or of the voucher's hold.
	for _, seq := range []uint64{w.redeemed.CloseSeq, w.redeemed.HoldSeq} {
		_, err := s.Reverse(ctx, seq, "admin", "undo", "")
		wantCode(t, err, ledger.EINVALID, "entry.reverse_voucher")
		e, _ := s.Entries(ctx, seq-1, 1)
		tr, _ := ledger.Reverse(e[0], "admin", "undo", "")
		_, err = s.Append(ctx, tr)
		wantCode(t, err, ledger.EINVALID, "entry.reverse_voucher")
	}
	if head() != h {
		t.Fatal("a bare reverse of a voucher's entry was written")
	}

	w.clock.Add(time.Hour)
	first, err := s.ReverseRedemption(ctx, w.redeemed.ID, w.organiser.ID, "扫错了券", key)
	if err != nil {
		t.Fatal(err)
	}
	h = head()
	// The same key and reason again: the first answer, nothing written.
	again, err := s.ReverseRedemption(ctx, w.redeemed.ID, w.organiser.ID, "扫错了券", key)
	if err != nil || again.ReverseSeq != first.ReverseSeq || !again.ReversedAt.Equal(first.ReversedAt) || head() != h {
		t.Fatalf("repeat %+v %v", again, err)
	}
	_, err = s.ReverseRedemption(ctx, w.redeemed.ID, w.organiser.ID, "另一个原因", key)
	wantCode(t, err, ledger.ECONFLICT, "idempotency.mismatch")
	// Anyone else, or without the key: 409 saying when and by whom.
	_, err = s.ReverseRedemption(ctx, w.redeemed.ID, uuid.New(), "也扫错了", "")
	wantCode(t, err, ledger.ECONFLICT, "voucher.already_reversed")
	le, _ := ledger.AsError(err)
	if le.Fields["reversed_by"] != "刘书记" || le.Args[0] != first.ReversedAt.In(s.loc).Format("2006-01-02 15:04") {
		t.Fatalf("refusal %+v", le)
	}
	// A reversed voucher is not redeemed again, nor cancelled.
	_, err = s.RedeemVoucher(ctx, w.redeemed.ID, w.shopA.ID, uuid.New(), "")
	wantCode(t, err, ledger.ECONFLICT, "voucher.redeemed_reversed")
	_, err = s.CancelVoucher(ctx, w.redeemed.ID, uuid.Nil)
	wantCode(t, err, ledger.ECONFLICT, "voucher.not_open")
	// A cancelled voucher has no redemption to reverse.
	if _, err := s.CancelVoucher(ctx, w.open.ID, uuid.Nil); err != nil {
		t.Fatal(err)
	}
	_, err = s.ReverseRedemption(ctx, w.open.ID, w.organiser.ID, "扫错了", "")
	wantCode(t, err, ledger.ECONFLICT, "voucher.not_redeemed")
	if head() != h+1 { // the cancel's release
		t.Fatalf("head %d, want %d", head(), h+1)
	}
}

// TestReverseRedemptionConcurrently: many organisers reverse one redemption
// at the same moment; exactly one reverse entry is written, and every other
// one is told when and by whom. Then many retries of one request with the
// same key: one reversal, every answer the first.
func TestReverseRedemptionConcurrently(t *testing.T) {
	w := newReversalWorld(t)
	s := w.s
	const n = 32
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.ReverseRedemption(ctx, w.redeemed.ID, uuid.New(), fmt.Sprint("扫错了 ", i), "")
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case ledger.ErrorCode(err) == ledger.ECONFLICT:
			if le, _ := ledger.AsError(err); le.Key != "voucher.already_reversed" {
				t.Fatalf("refused with %v", err)
			}
		default:
			t.Fatal(err)
		}
	}
	countReverses := func(target uint64) int {
		all, _ := s.Entries(ctx, 0, 1<<20)
		c := 0
		for _, e := range all {
			if e.Kind == ledger.KindReverse && e.Reverses == target {
				c++
			}
		}
		return c
	}
	if ok != 1 || countReverses(w.redeemed.CloseSeq) != 1 {
		t.Fatalf("%d reversals answered, %d written", ok, countReverses(w.redeemed.CloseSeq))
	}

	key := "client:" + w.organiser.ID.String() + ":retry"
	var got [n]ledger.Voucher
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = s.ReverseRedemption(ctx, w.secondsRedeemed.ID, w.organiser.ID, "扫错了", key)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i].ReverseSeq != got[0].ReverseSeq || got[i].Status != ledger.VoucherReversed {
			t.Fatalf("retry %d: %+v %v", i, got[i], errs[i])
		}
	}
	if countReverses(w.secondsRedeemed.CloseSeq) != 1 {
		t.Fatalf("%d reversals of the retried one", countReverses(w.secondsRedeemed.CloseSeq))
	}
	checkConsistent(t, s)
}

// TestMigrations11And12 opens a file as schema 10 left it — redemption rows in
// the old unsigned form, no shop index of stock moves — with a redemption
// reversed, and finds the rows and the index rebuilt from the journal and
// the moves.
func TestMigrations11And12(t *testing.T) {
	w := newReversalWorld(t)
	w.clock.Set(time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC))
	if _, err := w.s.ReverseRedemption(ctx, w.redeemed.ID, w.organiser.ID, "扫错了", ""); err != nil {
		t.Fatal(err)
	}
	reports := func(s *Store) []ledger.MonthReport {
		var out []ledger.MonthReport
		for _, m := range []ledger.Month{202611, 202612} {
			rep, err := s.MonthReport(ctx, m, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			rep.HeadSeq, rep.HeadHash = 0, ledger.Hash{}
			out = append(out, rep)
		}
		return out
	}
	moves := func(s *Store) []ledger.StockMove {
		var out []ledger.StockMove
		for _, m := range []ledger.Month{202611, 202612} {
			mv, err := s.ShopStockMoves(ctx, w.shopA.ID, m)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, mv...)
		}
		return out
	}
	wantReports, wantMoves := reports(w.s), moves(w.s)
	path := w.s.db.Path()
	if err := w.s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Schema 10: rows as they were written then (two unsigned numbers, the
	// member's points signed), counting no reversal, and no shopmoves.
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMemberRedeemed, bucketShopMonth, bucketShopItemMonth} {
			c := tx.Bucket(b).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				var old []byte
				switch {
				case bytes.Equal(b, bucketMemberRedeemed):
					p, n, _ := decodeMemberRow(v)
					old = binary.AppendUvarint(binary.AppendVarint(nil, p), uint64(max(n, 0)))
				case bytes.Equal(b, bucketShopMonth):
					r, _ := decodeShopRow(v)
					old = binary.AppendUvarint(binary.AppendUvarint(nil, uint64(max(r.vouchers, 0))), uint64(max(r.items, 0)))
				default:
					q, _ := decodeItemRow(v)
					old = binary.AppendUvarint(nil, uint64(max(q, 0)))
				}
				if err := tx.Bucket(b).Put(bytes.Clone(k), old); err != nil {
					return err
				}
			}
		}
		if err := tx.DeleteBucket(bucketShopMoves); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, 10))
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
	gotReports, gotMoves := reports(s), moves(s)
	for i := range wantReports {
		if fmt.Sprint(gotReports[i]) != fmt.Sprint(wantReports[i]) {
			t.Fatalf("month %v after migrating:\n got %+v\nwant %+v", wantReports[i].Month, gotReports[i], wantReports[i])
		}
	}
	if !slices.Equal(gotMoves, wantMoves) || len(gotMoves) != 5 {
		t.Fatalf("moves after migrating: %d, want %d", len(gotMoves), len(wantMoves))
	}
	if gotReports[1].Shops[0].Reversed != 1 {
		t.Fatalf("December after migrating: %+v", gotReports[1].Shops)
	}
}
