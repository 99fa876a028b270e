package ledger

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// redeemedVoucher is a voucher of two lines made on 28 November and
// redeemed on 30 November at 23:50 (Shanghai), with its redeem entry.
func redeemedVoucher(t *testing.T) (Voucher, Entry) {
	t.Helper()
	shop, member, clerk := uuid.MustParse("0193a000-0000-7000-8000-000000000001"), uuid.MustParse("0193a000-0000-7000-8000-000000000002"), uuid.MustParse("0193a000-0000-7000-8000-000000000003")
	rice, oil := uuid.MustParse("0193a000-0000-7000-8000-0000000000a1"), uuid.MustParse("0193a000-0000-7000-8000-0000000000a2")
	v := Voucher{ID: uuid.MustParse("0193a000-0000-7000-8000-0000000000f1"), MemberID: member, ShopID: shop,
		Lines:  []VoucherLine{{ItemID: rice, Name: "大米", Points: 30, Qty: 1}, {ItemID: oil, Name: "油", Points: 20, Qty: 2}},
		Points: 70, Status: VoucherRedeemed, CreatedAt: time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC),
		ClosedAt: time.Date(2026, 11, 30, 15, 50, 0, 0, time.UTC), ClosedBy: clerk, CloseSeq: 41, Presence: PresenceProxy}
	redeem := Entry{Seq: 41, Time: v.ClosedAt, Transfer: Transfer{Debit: Escrow, Credit: ShopAccount(shop), Amount: 70,
		Kind: KindRedeem, Reference: v.Reference(), Actor: "user:" + clerk.String(), IdempotencyKey: v.Key("redeem")}}
	return v, redeem
}

func TestReverseRedemption(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	organiser := uuid.MustParse("0193a000-0000-7000-8000-0000000000b1")
	now := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC) // 1 December, 09:00 in Shanghai
	req := ReversalRequest{By: organiser, Reason: "扫错了券，物品未领取", Key: "client:k1", Now: now}

	t.Run("Reverses", func(t *testing.T) {
		v, redeem := redeemedVoucher(t)
		d, err := ReverseRedemption(v, redeem, "", req, loc)
		if err != nil {
			t.Fatal(err)
		}
		want := Transfer{Debit: ShopAccount(v.ShopID), Credit: Escrow, Amount: 70, Kind: KindReverse, Reference: v.Reference(),
			Reverses: 41, Actor: "user:" + organiser.String(), Memo: "扫错了券，物品未领取", IdempotencyKey: "aixin:voucher:" + v.ID.String() + ":reverse"}
		if d.Reverse != want {
			t.Fatalf("reverse\n got %+v\nwant %+v", d.Reverse, want)
		}
		if err := CheckReverse(d.Reverse, redeem); err != nil {
			t.Fatalf("the reverse does not mirror the redemption: %v", err)
		}
		wantRel := Transfer{Debit: Escrow, Credit: MemberAccount(v.MemberID), Amount: 70, Kind: KindRelease, Reference: v.Reference(),
			Actor: "user:" + organiser.String(), Memo: "reversed", IdempotencyKey: v.Key("release")}
		if d.Release != wantRel {
			t.Fatalf("release\n got %+v\nwant %+v", d.Release, wantRel)
		}
		for _, tr := range []Transfer{d.Reverse, d.Release} {
			if err := tr.Validate(); err != nil {
				t.Fatalf("%v: %v", tr.Kind, err)
			}
			if strings.HasPrefix(tr.IdempotencyKey, "client:") {
				t.Fatalf("a server entry carries a client's key: %q", tr.IdempotencyKey)
			}
		}
		got := d.Voucher
		if got.Status != VoucherReversed || !got.ReversedAt.Equal(now) || got.ReversedBy != organiser || got.ReverseReason != req.Reason ||
			got.ReverseKey != "client:k1" || got.ClosedAt != v.ClosedAt || got.CloseSeq != 41 || got.Presence != PresenceProxy {
			t.Fatalf("voucher %+v", got)
		}
		if len(d.Stock) != 2 || d.Stock[0] != (StockMove{ItemID: v.Lines[0].ItemID, Kind: StockReversal, Qty: 1, Note: req.Reason, Reference: v.Reference(), By: organiser, At: now}) ||
			d.Stock[1].ItemID != v.Lines[1].ItemID || d.Stock[1].Qty != 2 {
			t.Fatalf("stock %+v", d.Stock)
		}
		// The counts given back are those of the month the voucher was made.
		if d.CountMonth != 202611 || d.Repeat {
			t.Fatalf("count month %v, repeat %v", d.CountMonth, d.Repeat)
		}
		if v.Status != VoucherRedeemed {
			t.Fatal("the voucher passed in was changed")
		}
	})

	reversed := func() Voucher {
		v, redeem := redeemedVoucher(t)
		d, err := ReverseRedemption(v, redeem, "", req, loc)
		if err != nil {
			t.Fatal(err)
		}
		return d.Voucher
	}
	type state struct {
		v        Voucher
		redeem   Entry
		reverser string
	}
	for _, tc := range []struct {
		name    string
		state   func() state
		req     ReversalRequest
		code    string
		key     string
		repeat  bool
		damaged bool
	}{
		{"SameKeyIsTheSameReversal", func() state { return state{v: reversed()} }, req, "", "", true, false},
		{"SameKeyOtherReason", func() state { return state{v: reversed()} }, ReversalRequest{By: organiser, Reason: "别的原因", Key: "client:k1", Now: now}, ECONFLICT, "idempotency.mismatch", false, false},
		{"AgainWithoutKey", func() state { return state{v: reversed(), reverser: "刘书记"} }, ReversalRequest{By: organiser, Reason: "again", Now: now}, ECONFLICT, "voucher.already_reversed", false, false},
		{"SecondOrganiser", func() state { return state{v: reversed(), reverser: "刘书记"} }, ReversalRequest{By: uuid.New(), Reason: "也扫错了", Key: "client:k2", Now: now}, ECONFLICT, "voucher.already_reversed", false, false},
		{"ReversedWithoutReasonAgain", func() state { return state{v: reversed()} }, ReversalRequest{By: organiser, Now: now}, ECONFLICT, "voucher.already_reversed", false, false},
		{"Open", func() state {
			v, _ := redeemedVoucher(t)
			v.Status, v.CloseSeq, v.ClosedAt = VoucherOpen, 0, time.Time{}
			return state{v: v}
		}, req, ECONFLICT, "voucher.not_redeemed", false, false},
		{"Cancelled", func() state {
			v, _ := redeemedVoucher(t)
			v.Status = VoucherCancelled
			return state{v: v}
		}, req, ECONFLICT, "voucher.not_redeemed", false, false},
		{"Expired", func() state {
			v, _ := redeemedVoucher(t)
			v.Status = VoucherExpired
			return state{v: v}
		}, req, ECONFLICT, "voucher.not_redeemed", false, false},
		{"NoReason", func() state { v, e := redeemedVoucher(t); return state{v: v, redeem: e} }, ReversalRequest{By: organiser, Reason: "  ", Now: now}, EINVALID, "attendance.reason_required", false, false},
		{"ReasonTooLong", func() state { v, e := redeemedVoucher(t); return state{v: v, redeem: e} }, ReversalRequest{By: organiser, Reason: strings.Repeat("错", 201), Now: now}, EINVALID, "attendance.reason_required", false, false},
		{"ReasonWithBidi", func() state { v, e := redeemedVoucher(t); return state{v: v, redeem: e} }, ReversalRequest{By: organiser, Reason: "扫错\u202e了", Now: now}, EINVALID, "text.bidi", false, false},
		{"ReasonAsFormula", func() state { v, e := redeemedVoucher(t); return state{v: v, redeem: e} }, ReversalRequest{By: organiser, Reason: "=HYPERLINK(1)", Now: now}, EINVALID, "text.formula", false, false},
		{"EntryOfAnotherVoucher", func() state {
			v, e := redeemedVoucher(t)
			e.Reference = "voucher:" + uuid.NewString()
			return state{v: v, redeem: e}
		}, req, "", "", false, true},
		{"EntryOfAnotherAmount", func() state {
			v, e := redeemedVoucher(t)
			e.Amount++
			return state{v: v, redeem: e}
		}, req, "", "", false, true},
		{"EntryNotRead", func() state { v, _ := redeemedVoucher(t); return state{v: v} }, req, "", "", false, true},
		{"EntryOfAnotherShop", func() state {
			v, e := redeemedVoucher(t)
			e.Credit = ShopAccount(uuid.New())
			return state{v: v, redeem: e}
		}, req, "", "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.state()
			d, err := ReverseRedemption(st.v, st.redeem, st.reverser, tc.req, loc)
			switch {
			case tc.damaged:
				if err == nil || ErrorCode(err) != EINTERNAL {
					t.Fatalf("a redeem entry that does not match was taken: %v", err)
				}
			case tc.code != "":
				le, ok := AsError(err)
				if !ok || le.Code != tc.code || le.Key != tc.key {
					t.Fatalf("got %v, want %s %s", err, tc.code, tc.key)
				}
			case err != nil:
				t.Fatal(err)
			}
			if d.Repeat != tc.repeat || (tc.repeat && d.Voucher.ReverseKey != "client:k1") {
				t.Fatalf("repeat %v, voucher %+v", d.Repeat, d.Voucher)
			}
			if err != nil && (d.Reverse != (Transfer{}) || d.Stock != nil) {
				t.Fatalf("a refusal decided writes: %+v", d)
			}
		})
	}

	t.Run("RefusalSaysWhenAndWho", func(t *testing.T) {
		_, err := ReverseRedemption(reversed(), Entry{}, "刘书记", ReversalRequest{By: organiser, Reason: "x", Now: now}, loc)
		le, _ := AsError(err)
		if le == nil || len(le.Args) != 2 || le.Args[0] != "2026-12-01 09:00" || le.Args[1] != "刘书记" || le.Fields["reversed_by"] != "刘书记" {
			t.Fatalf("refusal %+v", le)
		}
	})
}

func TestMonthSpanAndParseDay(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	for _, tc := range []struct {
		m        Month
		from, to string
	}{{202611, "2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00"}, {202612, "2026-12-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00"}} {
		from, to := tc.m.Span(loc)
		if from.Format(time.RFC3339) != tc.from || to.Format(time.RFC3339) != tc.to || MonthOf(from, loc) != tc.m || MonthOf(to, loc) != tc.m.Next() {
			t.Fatalf("%v: %v %v", tc.m, from, to)
		}
	}
	for _, tc := range []struct {
		in, from, to string
	}{
		{"2026-11-30", "2026-11-30T00:00:00+08:00", "2026-12-01T00:00:00+08:00"},
		{"2028-02-28", "2028-02-28T00:00:00+08:00", "2028-02-29T00:00:00+08:00"},
		{"2026-12-31", "2026-12-31T00:00:00+08:00", "2027-01-01T00:00:00+08:00"},
	} {
		from, to, err := ParseDay(tc.in, loc)
		if err != nil || from.Format(time.RFC3339) != tc.from || to.Format(time.RFC3339) != tc.to {
			t.Fatalf("ParseDay(%q) = %v %v %v", tc.in, from, to, err)
		}
	}
	for _, bad := range []string{"", "2026-11", "2026-11-31", "2026-1-01", "26-11-01", "2026-11-01T00:00", " 2026-11-01", "1999-12-31", "２０２６-11-01"} {
		if _, _, err := ParseDay(bad, loc); ErrorCode(err) != EINVALID {
			t.Fatalf("ParseDay(%q) = %v", bad, err)
		}
	}
}

func FuzzParseDay(f *testing.F) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	for _, s := range []string{"2026-11-30", "2026-02-29", "9999-12-31", "2026-13-01", "", "2026-11-30\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		from, to, err := ParseDay(s, loc)
		if err != nil {
			return
		}
		if from.Format("2006-01-02") != s || !to.After(from) || to.Sub(from) > 25*time.Hour || to.Sub(from) < 23*time.Hour {
			t.Fatalf("ParseDay(%q) = %v %v", s, from, to)
		}
	})
}
