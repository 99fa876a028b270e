package ledger

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
)

// MemberMonth is one member's points and service in one month, as the
// monthly export shows it. Points are the member's own: what is available
// plus what is held in open vouchers (the balance's "points").
type MemberMonth struct {
	MemberID uuid.UUID `json:"member_id"`
	Opening  Points    `json:"opening"` // at the start of the month
	Earned   Points    `json:"earned"`  // earn and award entries: Service + Wishes + Behaviour
	// Service, Wishes and Behaviour split Earned by where the points came
	// from: hours served (earn), fulfilled wishes (微心愿 awards) and
	// behaviour awards (文明行为 加分).
	Service   Points `json:"service"`
	Wishes    Points `json:"wishes"`
	Behaviour Points `json:"behaviour"`
	// Deducted is what behaviours that cost points (扣分) took (a deduction
	// reversed later shows in Adjusted, as every correction does).
	Deducted Points `json:"deducted"`
	// Adjusted is the net of reverse entries: corrections of earlier entries.
	Adjusted Points `json:"adjusted"`
	Redeemed Points `json:"redeemed"` // vouchers redeemed at a shop: spent
	Expired  Points `json:"expired"`
	Closing  Points `json:"closing"` // at the end of the month
	// Vouchers is how many of the member's vouchers were redeemed, less
	// how many redemptions were reversed.
	Vouchers int `json:"vouchers"`
	// HeldIn is what new vouchers held; Released what cancelled and expired
	// vouchers gave back. They move points between available and held.
	HeldIn      Points `json:"held_in"`
	Released    Points `json:"released"`
	HeldOpening Points `json:"held_opening"`
	HeldClosing Points `json:"held_closing"` // in open vouchers at the end of the month
	Minutes     int64  `json:"minutes"`      // confirmed service time credited in the month
}

// Gained is what the month added to the member's points before any was
// spent: what was earned, less what was deducted, with corrections. The
// one figure a public notice ranks people (and households) by.
func (m MemberMonth) Gained() Points { return m.Earned + m.Adjusted - m.Deducted }

// Active reports whether the member served or earned in the month.
func (m MemberMonth) Active() bool { return m.Minutes > 0 || m.Earned > 0 }

// Reconciles reports whether the month adds up: the closing balance is the
// opening one plus what was earned and adjusted, less what was deducted,
// redeemed and expired; earned is its three sources; and what is held moved
// only by vouchers made, given back and redeemed.
func (m MemberMonth) Reconciles() bool {
	return m.Closing == m.Opening+m.Earned+m.Adjusted-m.Deducted-m.Redeemed-m.Expired &&
		m.Earned == m.Service+m.Wishes+m.Behaviour &&
		m.HeldClosing == m.HeldOpening+m.HeldIn-m.Released-m.Redeemed &&
		m.HeldClosing >= 0 && m.Closing >= m.HeldClosing
}

// Add sums o into m (for team, unit and whole-export totals).
func (m *MemberMonth) Add(o MemberMonth) {
	m.Opening += o.Opening
	m.Earned += o.Earned
	m.Service += o.Service
	m.Wishes += o.Wishes
	m.Behaviour += o.Behaviour
	m.Deducted += o.Deducted
	m.Adjusted += o.Adjusted
	m.Redeemed += o.Redeemed
	m.Expired += o.Expired
	m.Closing += o.Closing
	m.Vouchers += o.Vouchers
	m.HeldIn += o.HeldIn
	m.Released += o.Released
	m.HeldOpening += o.HeldOpening
	m.HeldClosing += o.HeldClosing
	m.Minutes += o.Minutes
}

// Redeemed is what one member's (or one shop's) vouchers redeemed in one
// month, less the redemptions reversed in that month (so either may be
// negative in a month with more reversed than redeemed).
type Redeemed struct {
	Month    Month
	Points   Points
	Vouchers int
}

// MemberMonthOf computes a member's month m from what the ledger keeps: the
// member account's balance and held points now, its monthly totals rows and
// its monthly redemptions from month m on (any order; earlier months are
// ignored). Nothing before m is read: the opening balance is worked back
// from now.
func MemberMonthOf(id uuid.UUID, m Month, available, held Points, rows []MonthTotals, redeemed []Redeemed) MemberMonth {
	out := MemberMonth{MemberID: id}
	closingAvail, closingHeld := available, held
	for _, r := range redeemed {
		switch {
		case r.Month == m:
			out.Redeemed, out.Vouchers = r.Points, r.Vouchers
		case r.Month > m:
			closingHeld += r.Points // redeemed later: still held at the end of m
		}
	}
	var net, heldIn, released Points
	for _, r := range rows {
		switch {
		case r.Month == m:
			out.Service, out.Wishes, out.Behaviour = r.In[KindEarn], r.Wish, r.In[KindAward]-r.Wish
			out.Earned = out.Service + out.Wishes + out.Behaviour
			out.Deducted = r.Out[KindDeduct]
			out.Adjusted = r.In[KindReverse] - r.Out[KindReverse]
			out.Expired = r.Out[KindExpire] - r.In[KindExpire]
			out.HeldIn, out.Released = r.Out[KindHold], r.In[KindRelease]
			out.Minutes = r.Minutes
			net, heldIn, released = r.Net(), r.Out[KindHold], r.In[KindRelease]
		case r.Month > m:
			closingAvail -= r.Net()
			closingHeld -= r.Out[KindHold] - r.In[KindRelease]
		}
	}
	out.HeldClosing = closingHeld
	out.HeldOpening = closingHeld - heldIn + released + out.Redeemed
	out.Closing = closingAvail + closingHeld
	out.Opening = closingAvail - net + out.HeldOpening
	return out
}

// ShopMonth is what one shop gave out in one month: its redemptions less
// the redemptions reversed in the month (a redemption of November reversed
// in December counts in December, negatively).
type ShopMonth struct {
	ShopID   uuid.UUID `json:"shop_id"`
	Vouchers int       `json:"vouchers"`
	Points   Points    `json:"points"`
	Items    int       `json:"items"`
	// ByItem is how many of each item went out (items whose count comes to
	// zero are left out).
	ByItem map[uuid.UUID]int `json:"by_item,omitempty"`
	// Reversed is how many redemptions were reversed in the month.
	Reversed int `json:"reversed,omitempty"`
}

// MonthReport is the ledger's side of a monthly export, read at one moment.
type MonthReport struct {
	Month   Month         `json:"month"`
	Members []MemberMonth `json:"members"`
	Shops   []ShopMonth   `json:"shops"`
	// HeadSeq and HeadHash are the chain head when the report was read.
	HeadSeq  uint64 `json:"head_seq"`
	HeadHash Hash   `json:"head_hash"`
	// MonthEndSeq and MonthEndHash are the last entry of the month (zero if
	// the month has none yet): what a public notice prints, so that anyone
	// can later check the month was not rewritten.
	MonthEndSeq  uint64 `json:"month_end_seq"`
	MonthEndHash Hash   `json:"month_end_hash"`
	// EscrowClosing is what all open vouchers held at the end of the month;
	// over every member it equals the sum of HeldClosing.
	EscrowClosing Points `json:"escrow_closing"`
	// ShopPoints is what every shop account received in the month; over
	// every member it equals the sum of Redeemed.
	ShopPoints Points `json:"shop_points"`
	// AllMembers says the report covers every member account of the ledger,
	// so that the cross-checks above apply.
	AllMembers bool `json:"all_members"`
	// Unbalanced are the members whose balance or held points now differ
	// from the sums of all their monthly rows and monthly redemptions (none
	// when the store is sound; Verify says where), and such households.
	Unbalanced []uuid.UUID `json:"unbalanced,omitempty"`
	// Households are every household's month when the report covers all
	// members (AllMembers): their vouchers' points sit in the escrow and go
	// to the shops too, so the cross-checks count them.
	Households []HouseholdMonth `json:"households,omitempty"`
}

// Reconcile checks every member's (and household's) month and, when the
// report covers all members, that their sums agree with the escrow and shop
// accounts. It returns the members and households whose month does not add
// up and whether the cross-checks hold.
func (r MonthReport) Reconcile() (bad []uuid.UUID, accountsAgree bool) {
	var held, redeemed Points
	bad = append(bad, r.Unbalanced...)
	for _, m := range r.Members {
		if !m.Reconciles() && !slices.Contains(r.Unbalanced, m.MemberID) {
			bad = append(bad, m.MemberID)
		}
		held += m.HeldClosing
		redeemed += m.Redeemed
	}
	for _, h := range r.Households {
		if !h.Points.Reconciles() && !slices.Contains(r.Unbalanced, h.Household.ID) {
			bad = append(bad, h.Household.ID)
		}
		held += h.Points.HeldClosing
		redeemed += h.Points.Redeemed
	}
	accountsAgree = !r.AllMembers || (held == r.EscrowClosing && redeemed == r.ShopPoints)
	slices.SortFunc(bad, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return bad, accountsAgree
}

// MonthSum is what a set of members earned and redeemed in one month.
type MonthSum struct {
	Month    Month  `json:"month"`
	Earned   Points `json:"earned"`
	Redeemed Points `json:"redeemed"`
	Minutes  int64  `json:"minutes"`
}

// LateService is service credited in one month that was served in an
// earlier one (补录: a paper sheet back-filled, a review that came late, a
// correction): every report counts it in the month it was posted, and shows
// it as such.
type LateService struct {
	AttendanceID uuid.UUID `json:"attendance_id"`
	MemberID     uuid.UUID `json:"member_id"`
	EventID      uuid.UUID `json:"event_id"`
	EventTitle   string    `json:"event_title"`
	Category     string    `json:"category"`
	ServedAt     time.Time `json:"served_at"` // the check-in
	PostedAt     time.Time `json:"posted_at"` // the month's last entry for it
	// Minutes is the net service time the month's entries credited for it
	// (negative for a correction that took time back).
	Minutes int64 `json:"minutes"`
	// Backfilled says it was recorded from paper (补录).
	Backfilled bool `json:"backfilled"`
}

// Reports reads monthly reports.
type Reports interface {
	// EventMinutes returns the service minutes that month m's entries
	// credited, by event: the month the minutes were posted in, whenever the
	// service was.
	EventMinutes(ctx context.Context, m Month) (map[uuid.UUID]int64, error)
	// LateService returns the service that month m's entries credited for
	// attendances of an earlier month, in attendance order.
	LateService(ctx context.Context, m Month) ([]LateService, error)
	// MonthSums sums the earned points, redeemed points and service minutes
	// of the given member and household accounts for each month from first
	// to last (nil: every member's and household's), from the monthly rows.
	// Other accounts are EINVALID.
	MonthSums(ctx context.Context, first, last Month, accounts []Account) ([]MonthSum, error)
	// MonthReport reads month m for the given members and shops (all members
	// and all shops when members is nil) from one consistent view of the
	// ledger, from the per-account monthly totals: its cost grows with the
	// members and the months since m, not with the journal.
	MonthReport(ctx context.Context, m Month, members, shops []uuid.UUID) (MonthReport, error)

	// HouseholdMonths reads month m of every household whose unit lies in
	// scope and that was made by the end of m, from the household accounts'
	// monthly rows as MonthReport reads a member's, ordered by id.
	HouseholdMonths(ctx context.Context, m Month, scope Scope) ([]HouseholdMonth, error)
}
