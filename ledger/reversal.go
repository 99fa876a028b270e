package ledger

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// ReversalRequest is an organiser's request to undo a redemption made by
// mistake (the wrong voucher scanned, the goods not handed over).
type ReversalRequest struct {
	By     uuid.UUID // who reverses it
	Reason string    // why: 1 to 200 characters (Reason)
	// Key is the client's idempotency key in its namespace (ClientKey), or
	// empty: the same key again is the same reversal.
	Key string
	Now time.Time
	// MoveIDs are the ids of the stock moves that put the items back, one
	// for each voucher line (the engine draws them); a move without one
	// keeps the zero id.
	MoveIDs []uuid.UUID
}

// RedemptionReversal is what undoing a redemption writes, as
// ReverseRedemption decides it. The store appends Reverse and then Release,
// records Stock and puts the items back on hand (Changes), gives the
// member's item counts of CountMonth back (Counts), and stores Voucher with the two entries' seqs — all in one transaction.
type RedemptionReversal struct {
	// Reverse is the reverse of the redeem entry: shop -> escrow, naming it,
	// with the reason as its memo.
	Reverse Transfer
	// Release gives the points back to the account the voucher held them
	// from: escrow -> member (or household, Voucher.Account).
	Release Transfer
	// Voucher is the voucher marked reversed (ReverseSeq and ReleaseSeq are
	// for the store to fill in).
	Voucher Voucher
	// Stock puts each line's items back on hand (ids from MoveIDs).
	Stock []StockMove
	// Changes are the items' stock changes of Stock.
	Changes []StockChange
	// CountMonth is the month of the voucher's monthly item counts (the
	// month it was made), which get its lines back: Counts.
	CountMonth Month
	Counts     []ItemCount
	// Repeat says the request is the reversal made before with the same
	// key: nothing is written, and Voucher is the first answer.
	Repeat bool
}

// ReverseRedemption decides the reversal of voucher v's redemption. It
// takes what the store reads: the voucher, its redeem entry (the entry
// v.CloseSeq names; zero unless v is redeemed), and for a voucher reversed
// before the name of who reversed it (for the refusal); loc tells times and
// months. A reversal is never an edit: the redemption stays in the journal
// and a reverse entry naming it takes its points back.
//
// Returns ECONFLICT "voucher.already_reversed" (when and by whom, also in
// Fields) for a voucher reversed before, unless req.Key is that reversal's
// key (then Repeat, or ECONFLICT "idempotency.mismatch" for another
// reason); ECONFLICT "voucher.not_redeemed" for a voucher open, cancelled or
// expired; EINVALID for a missing or bad reason. A redeem entry that does not
// match the voucher is damage, not a refusal: a plain error.
func ReverseRedemption(v Voucher, redeem Entry, reverser string, req ReversalRequest, loc *time.Location) (RedemptionReversal, error) {
	reason, reasonErr := Reason.Clean(req.Reason)
	switch {
	case v.Status == VoucherReversed && req.Key != "" && req.Key == v.ReverseKey:
		if reasonErr != nil || reason != v.ReverseReason {
			return RedemptionReversal{}, Errorf(ECONFLICT, "idempotency.mismatch")
		}
		return RedemptionReversal{Voucher: v, Repeat: true}, nil
	case v.Status == VoucherReversed:
		at := v.ReversedAt.In(loc)
		return RedemptionReversal{}, Errorf(ECONFLICT, "voucher.already_reversed", at.Format("2006-01-02 15:04"), reverser).
			With("reversed_at", at).With("reversed_by", reverser)
	case v.Status != VoucherRedeemed:
		return RedemptionReversal{}, Errorf(ECONFLICT, "voucher.not_redeemed", Term("voucher.status."+string(v.Status)))
	case reasonErr != nil:
		return RedemptionReversal{}, reasonErr
	}
	if redeem.Seq == 0 || redeem.Seq != v.CloseSeq || redeem.Kind != KindRedeem || redeem.Reference != v.Reference() ||
		redeem.Amount != v.Points || redeem.Debit != Escrow || redeem.Credit != ShopAccount(v.ShopID) {
		return RedemptionReversal{}, fmt.Errorf("voucher %s: entry %d is not its redemption", v.ID, redeem.Seq)
	}
	actor := "user:" + req.By.String()
	rev, err := Reverse(redeem, actor, reason, v.Key("reverse"))
	if err != nil {
		return RedemptionReversal{}, err
	}
	now := req.Now.UTC()
	out := RedemptionReversal{
		Reverse: rev,
		Release: Transfer{Debit: Escrow, Credit: v.Account(), Amount: v.Points, Kind: KindRelease,
			Reference: v.Reference(), Actor: actor, Memo: string(VoucherReversed), IdempotencyKey: v.Key("release")},
		Voucher:    v,
		CountMonth: MonthOf(v.CreatedAt, loc),
	}
	out.Voucher.Status, out.Voucher.ReversedAt, out.Voucher.ReversedBy = VoucherReversed, now, req.By
	out.Voucher.ReverseReason, out.Voucher.ReverseKey = reason, req.Key
	for i, l := range v.Lines {
		m := StockMove{ItemID: l.ItemID, Kind: StockReversal, Qty: l.Qty, Note: reason, Reference: v.Reference(), By: req.By, At: now}
		if i < len(req.MoveIDs) {
			m.ID = req.MoveIDs[i]
		}
		out.Stock = append(out.Stock, m)
		out.Changes = append(out.Changes, StockChange{ItemID: l.ItemID, OnHand: l.Qty})
		out.Counts = append(out.Counts, ItemCount{MemberID: v.MemberID, ItemID: l.ItemID, Month: out.CountMonth, Delta: -l.Qty})
	}
	return out, nil
}

// Redemption is one line of a shop's redemption list: a redemption, or the
// reversal of one (Kind KindReverse, Points negative), with its voucher as
// it is now.
type Redemption struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Kind    Kind      `json:"kind"`
	Points  Points    `json:"points"`
	Voucher Voucher   `json:"voucher"`
}

// RedemptionPage is a page of a shop's redemptions in a period, newest
// first, with the whole period's totals.
type RedemptionPage struct {
	Redemptions []Redemption `json:"redemptions"`
	// Before is the cursor of the next page (0 on the last).
	Before uint64 `json:"next_before,omitempty"`
	// Points is what the period's redemptions took less what its reversals
	// gave back; Redeemed and Reversed count them.
	Points   Points `json:"total_points"`
	Redeemed int    `json:"redeemed"`
	Reversed int    `json:"reversed"`
}

// Span returns the first instant of month m in loc and that of the month after.
func (m Month) Span(loc *time.Location) (from, to time.Time) {
	y, mo := int(m)/100, time.Month(int(m)%100)
	return time.Date(y, mo, 1, 0, 0, 0, 0, loc), time.Date(y, mo+1, 1, 0, 0, 0, 0, loc)
}

// ParseDay parses "YYYY-MM-DD" as a day in loc and returns its first instant
// and the next day's. It returns EINVALID for anything else.
func ParseDay(s string, loc *time.Location) (from, to time.Time, err error) {
	t, perr := time.ParseInLocation("2006-01-02", s, loc)
	if perr != nil || len(s) != 10 || t.Year() < 2000 || t.Year() > 9999 {
		return time.Time{}, time.Time{}, Errorf(EINVALID, "period.day_invalid", Clip(s))
	}
	return t, time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc), nil
}
