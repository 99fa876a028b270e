package ledger

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// DerivedRows are the monthly rows that redemptions and service add to
// beside the accounts' own monthly totals: redeemed points and vouchers by
// member or household account, vouchers and items by shop, quantities by
// shop and item, service minutes by event, and service posted in a later
// month than it was done, by attendance. A month's rows are net: a
// reversal takes away from the month it happens in. An engine keeps them
// as it writes; Verify rebuilds them from the journal with the same adds
// and compares.
type DerivedRows struct {
	redeemed map[acctMonth][2]int64 // points, vouchers
	shops    map[idMonth][4]int64   // vouchers, items, reversals, last seq
	items    map[itemMonth]int64
	events   map[idMonth]int64
	late     map[idMonth][2]int64 // minutes, Unix ns of the last entry
}

type acctMonth struct {
	a Account
	m Month
}

type idMonth struct {
	id uuid.UUID
	m  Month
}

type itemMonth struct {
	shop, item uuid.UUID
	m          Month
}

// NewDerivedRows returns empty rows.
func NewDerivedRows() *DerivedRows {
	return &DerivedRows{redeemed: map[acctMonth][2]int64{}, shops: map[idMonth][4]int64{}, items: map[itemMonth]int64{},
		events: map[idMonth]int64{}, late: map[idMonth][2]int64{}}
}

// AddRedemption counts voucher v, redeemed (sign 1) or its redemption
// reversed (sign −1) by entry seq in month m. A household's voucher counts
// for the household, not for its member.
func (r *DerivedRows) AddRedemption(v Voucher, m Month, sign int64, seq uint64) {
	k := acctMonth{v.Account(), m}
	d := r.redeemed[k]
	r.redeemed[k] = [2]int64{d[0] + sign*int64(v.Points), d[1] + sign}
	sk := idMonth{v.ShopID, m}
	s := r.shops[sk]
	for _, l := range v.Lines {
		s[1] += sign * int64(l.Qty)
		r.items[itemMonth{v.ShopID, l.ItemID, m}] += sign * int64(l.Qty)
	}
	s[0] += sign
	if sign < 0 {
		s[2]++
	}
	s[3] = max(s[3], int64(seq))
	r.shops[sk] = s
}

// AddService counts entry e, which credits (or, a reverse, takes back)
// attendance a's minutes, in e's month; and as late service when a began
// in an earlier month.
func (r *DerivedRows) AddService(e *Entry, a Attendance, loc *time.Location) {
	delta := ServiceMinutesDelta(e, MemberAccount(a.MemberID))
	if delta == 0 {
		return
	}
	m := MonthOf(e.Time, loc)
	r.events[idMonth{a.EventID, m}] += delta
	if MonthOf(a.CheckedInAt, loc) < m {
		k := idMonth{a.ID, m}
		l := r.late[k]
		r.late[k] = [2]int64{l[0] + delta, max(l[1], e.Time.UnixNano())}
	}
}

// Records calls fn with every row as the Record an engine stores it as
// (RecRedeemedMonth, RecShopMonth, RecShopItemMonth, RecMonthEvent,
// RecMonthLate).
func (r *DerivedRows) Records(fn func(Record)) {
	for k, v := range r.redeemed {
		fn(Record{Kind: RecRedeemedMonth, Account: k.a, Month: int(k.m), Values: [4]int64{v[0], v[1]}})
	}
	for k, v := range r.shops {
		fn(Record{Kind: RecShopMonth, Of: k.id, Month: int(k.m), Values: v})
	}
	for k, v := range r.items {
		fn(Record{Kind: RecShopItemMonth, Of: k.shop, ID: k.item, Month: int(k.m), Values: [4]int64{v}})
	}
	for k, v := range r.events {
		fn(Record{Kind: RecMonthEvent, Of: k.id, Month: int(k.m), Values: [4]int64{v}})
	}
	for k, v := range r.late {
		fn(Record{Kind: RecMonthLate, ID: k.id, Month: int(k.m), Values: [4]int64{v[0], v[1]}})
	}
}

// DerivedKinds are the kinds of record DerivedRows makes.
var DerivedKinds = []RecordKind{RecRedeemedMonth, RecShopMonth, RecShopItemMonth, RecMonthEvent, RecMonthLate}

// VoucherOf returns the voucher a redeem entry names ("voucher:<id>"), if
// it names one.
func VoucherOf(e *Entry) (uuid.UUID, bool) {
	if e.Kind != KindRedeem {
		return uuid.Nil, false
	}
	return refID(e.Reference, "voucher:")
}

// AttendanceOf returns the attendance an entry with service minutes
// names ("attendance:<id>"), if it names one.
func AttendanceOf(e *Entry) (uuid.UUID, bool) {
	if e.Minutes == 0 {
		return uuid.Nil, false
	}
	return refID(e.Reference, "attendance:")
}

func refID(ref, prefix string) (uuid.UUID, bool) {
	rest, ok := strings.CutPrefix(ref, prefix)
	if !ok {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	return id, err == nil
}
