package ledger

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// The decisions on vouchers and stock: issue, redeem, release (cancel,
// expiry, a household member who may spend no more) and stock moves. The
// engine reads a State in the request's transaction, calls the decision and
// writes exactly what it returned; a refusal comes before anything is
// written. No decision reads the clock or draws an id: now, the store's
// location and the new ids come in the state.

// StockChange is a change of one item's stock: OnHand and Reserved are
// added to the item's.
type StockChange struct {
	ItemID   uuid.UUID
	OnHand   int
	Reserved int
}

// ItemCount is a change of how many of an item a member took on vouchers in
// a month (the monthly limits' counts).
type ItemCount struct {
	MemberID uuid.UUID
	ItemID   uuid.UUID
	Month    Month
	Delta    int
}

// VoucherWrite is what a decision on a voucher writes, in this order: Entry
// first (a refusal of the journal, such as too few points, leaves nothing
// written; its seq is for the engine to set on Voucher: HoldSeq for an
// issue, CloseSeq for a redemption or release), then Stock, Counts and Moves,
// Held added to the held points of Voucher.Account(), and Voucher as it is
// to be stored.
type VoucherWrite struct {
	Entry   Transfer
	Voucher Voucher
	Stock   []StockChange
	Counts  []ItemCount
	Moves   []StockMove
	Held    Points
}

// IssueRequest is a request for a voucher: of Member, paid from Household's
// account (uuid.Nil: from the member's own), at Shop, made by By with the
// member there as Presence says. Key is the client's idempotency key
// (ClientKey) or empty.
type IssueRequest struct {
	Member    uuid.UUID
	Household uuid.UUID
	Shop      uuid.UUID
	Lines     []VoucherRequestLine
	By        uuid.UUID
	Presence  PresenceMethod
	Key       string
}

// Check checks a request before anything is read and merges its repeated
// items (MergeVoucherLines). EINVALID for a bad presence or bad lines.
func (r *IssueRequest) Check() error {
	if !r.Presence.Valid() {
		return Errorf(EINVALID, "voucher.presence_invalid", Clip(string(r.Presence)))
	}
	lines, err := MergeVoucherLines(r.Lines)
	if err != nil {
		return err
	}
	r.Lines = lines
	return nil
}

// IssueState is what DecideIssue needs, read in the issue's transaction.
type IssueState struct {
	Now time.Time
	// Loc tells the month of the monthly limits.
	Loc *time.Location
	// Life is how long a voucher stays valid.
	Life    time.Duration
	Request IssueRequest // checked (Check)
	// Replay is the entry the request's key was first used for (nil when
	// the key is new or empty), and ReplayVoucher the voucher it holds
	// points for (nil when the entry is no voucher's hold).
	Replay        *Entry
	ReplayVoucher *Voucher
	Member        Member
	// Shop is the shop asked for (nil if there is none); ShopUnit and
	// MemberUnit are the units of the shop and of the member (zero if unread).
	Shop       *Shop
	ShopUnit   Unit
	MemberUnit Unit
	// Home is the household the member belongs to now, read only when the
	// request names a household (zero when none).
	Home Household
	// Items are the request's items found, and Taken how many of each the
	// member has on this month's vouchers.
	Items map[uuid.UUID]Item
	Taken map[uuid.UUID]int
	// NewID and Code are the new voucher's id and short code (the engine
	// draws a code no other voucher has).
	NewID uuid.UUID
	Code  string
}

// VoucherDecision is what issuing or redeeming a voucher writes; Repeat
// says the request is the one made before with the same key: nothing is
// written, and Voucher is the first answer.
type VoucherDecision struct {
	VoucherWrite
	Repeat bool
}

// DecideIssue decides a voucher: the hold (the paying account -> escrow,
// under the client's key or the voucher's own), the items reserved, the
// member's monthly counts, the held points. Returns ECONFLICT
// "idempotency.mismatch" for a key used for another request,
// "voucher.member_inactive", EFORBIDDEN "voucher.shop_not_yours", the
// refusals of SpendFrom, ENOTFOUND for a shop or an item not of the shop,
// ECONFLICT for an item not offered, too little stock or a monthly limit
// reached. Too few points is the journal's refusal of the hold (Post).
func DecideIssue(st IssueState) (VoucherDecision, error) {
	r := st.Request
	if st.Replay != nil {
		v := st.ReplayVoucher
		if v == nil || st.Replay.Kind != KindHold || !sameRequest(*v, r) {
			return VoucherDecision{}, Errorf(ECONFLICT, "idempotency.mismatch")
		}
		return VoucherDecision{VoucherWrite: VoucherWrite{Voucher: *v}, Repeat: true}, nil
	}
	if st.Member.Status != MemberActive {
		return VoucherDecision{}, Errorf(ECONFLICT, "voucher.member_inactive", st.Member.Name)
	}
	if st.Shop == nil {
		return VoucherDecision{}, Errorf(ENOTFOUND, "shop.not_found")
	}
	shop := *st.Shop
	if !shop.Takes(st.ShopUnit, st.MemberUnit) {
		return VoucherDecision{}, Errorf(EFORBIDDEN, "voucher.shop_not_yours", shop.Name)
	}
	from, err := SpendFrom(r.Member, r.Household, st.Home, shop)
	if err != nil {
		return VoucherDecision{}, err
	}
	now := st.Now.UTC()
	month := MonthOf(now, st.Loc)
	v := Voucher{ID: st.NewID, MemberID: r.Member, ShopID: r.Shop, Status: VoucherOpen, Code: st.Code,
		CreatedAt: now, CreatedBy: r.By, ExpiresAt: now.Add(st.Life), Presence: r.Presence, HouseholdID: r.Household}
	var d VoucherDecision
	for _, l := range r.Lines {
		it, ok := st.Items[l.ItemID]
		q := l.Qty
		switch {
		case !ok || it.ShopID != r.Shop:
			return VoucherDecision{}, Errorf(ENOTFOUND, "item.not_found")
		case !it.Active:
			return VoucherDecision{}, Errorf(ECONFLICT, "voucher.item_inactive", it.Name)
		case it.Available() < q:
			return VoucherDecision{}, Errorf(ECONFLICT, "voucher.out_of_stock", it.Name, max(0, it.Available()))
		case it.MonthlyLimit > 0 && st.Taken[it.ID]+q > it.MonthlyLimit:
			return VoucherDecision{}, Errorf(ECONFLICT, "voucher.limit_reached", it.Name, it.MonthlyLimit)
		}
		v.Lines = append(v.Lines, VoucherLine{ItemID: it.ID, Name: it.Name, Points: it.Points, Qty: q})
		v.Points += it.Points * Points(q)
		d.Stock = append(d.Stock, StockChange{ItemID: it.ID, Reserved: q})
		d.Counts = append(d.Counts, ItemCount{MemberID: r.Member, ItemID: it.ID, Month: month, Delta: q})
	}
	holdKey := r.Key
	if holdKey == "" {
		holdKey = v.Key("hold")
	}
	d.Entry = Transfer{Debit: from, Credit: Escrow, Amount: v.Points, Kind: KindHold, Reference: v.Reference(),
		Actor: "user:" + r.By.String(), IdempotencyKey: holdKey}
	d.Voucher, d.Held = v, v.Points
	return d, nil
}

// sameRequest says whether a voucher is what a repeated request asks for.
func sameRequest(v Voucher, r IssueRequest) bool {
	if v.MemberID != r.Member || v.ShopID != r.Shop || v.Presence != r.Presence || v.HouseholdID != r.Household ||
		len(v.Lines) != len(r.Lines) {
		return false
	}
	qty := make(map[uuid.UUID]int, len(r.Lines))
	for _, l := range r.Lines {
		qty[l.ItemID] = l.Qty
	}
	for _, l := range v.Lines {
		if qty[l.ItemID] != l.Qty {
			return false
		}
	}
	return true
}

// RedeemState is what DecideRedeem needs, read in the redemption's transaction.
type RedeemState struct {
	Now time.Time
	// Loc tells the times a refusal shows.
	Loc     *time.Location
	Voucher Voucher
	// Shop is the shop the voucher is for (zero if unread), named by refusals.
	Shop Shop
	// At is the shop redeeming it, Clerk who does, Key the client's key or empty.
	At    uuid.UUID
	Clerk uuid.UUID
	Key   string
	// Household is the household a household voucher is paid from (nil
	// when the voucher is not a household's, or the household is not found).
	Household *Household
	// MoveIDs are the ids of the stock moves, one for each voucher line.
	MoveIDs []uuid.UUID
}

// DecideRedeem decides the redemption of a voucher at a shop: escrow ->
// the shop, the items out of stock and reserve, the held points given back.
// Returns ECONFLICT "voucher.redeemed" (with when and where) for a voucher
// redeemed before unless the key is that redemption's, "voucher.redeemed_reversed"
// for one whose redemption was reversed, EGONE for a cancelled or expired
// one, ECONFLICT "voucher.other_shop" at another shop, and for a household
// voucher ENOTFOUND without its household and ECONFLICT
// "household.voucher_left" when its member may spend the household's points
// no more.
func DecideRedeem(st RedeemState) (VoucherDecision, error) {
	v, now := st.Voucher, st.Now.UTC()
	when := func(t time.Time) string { return t.In(st.Loc).Format("2006-01-02 15:04") }
	switch {
	case v.Status == VoucherRedeemed && st.Key != "" && st.Key == v.RedeemKey:
		return VoucherDecision{VoucherWrite: VoucherWrite{Voucher: v}, Repeat: true}, nil // the first answer
	case v.Status == VoucherRedeemed:
		return VoucherDecision{}, Errorf(ECONFLICT, "voucher.redeemed", when(v.ClosedAt), st.Shop.Name).
			With("redeemed_at", v.ClosedAt.In(st.Loc)).With("shop", st.Shop.Name)
	case v.Status == VoucherReversed:
		return VoucherDecision{}, Errorf(ECONFLICT, "voucher.redeemed_reversed", when(v.ClosedAt), st.Shop.Name, when(v.ReversedAt)).
			With("redeemed_at", v.ClosedAt.In(st.Loc)).With("shop", st.Shop.Name)
	case v.Status == VoucherCancelled:
		return VoucherDecision{}, Errorf(EGONE, "voucher.cancelled")
	case v.Status == VoucherExpired || !now.Before(v.ExpiresAt):
		return VoucherDecision{}, Errorf(EGONE, "voucher.expired", v.ExpiresAt.In(st.Loc).Format("2006-01-02"))
	case v.ShopID != st.At:
		return VoucherDecision{}, Errorf(ECONFLICT, "voucher.other_shop", st.Shop.Name)
	}
	if v.HouseholdID != uuid.Nil {
		// Household points go only to who may spend them now (a member who
		// left has their open vouchers released; this is the guard).
		switch {
		case st.Household == nil || st.Household.ID != v.HouseholdID:
			return VoucherDecision{}, Errorf(ENOTFOUND, "household.not_found")
		case !st.Household.MaySpend(v.MemberID):
			return VoucherDecision{}, Errorf(ECONFLICT, "household.voucher_left")
		}
	}
	if len(st.MoveIDs) < len(v.Lines) {
		return VoucherDecision{}, fmt.Errorf("redeem %s: %d move ids for %d lines", v.ID, len(st.MoveIDs), len(v.Lines))
	}
	d := VoucherDecision{VoucherWrite: VoucherWrite{Entry: Transfer{Debit: Escrow, Credit: ShopAccount(v.ShopID), Amount: v.Points,
		Kind: KindRedeem, Reference: v.Reference(), Actor: "user:" + st.Clerk.String(), IdempotencyKey: v.Key("redeem")},
		Held: -v.Points}}
	for i, l := range v.Lines {
		d.Stock = append(d.Stock, StockChange{ItemID: l.ItemID, OnHand: -l.Qty, Reserved: -l.Qty})
		d.Moves = append(d.Moves, StockMove{ID: st.MoveIDs[i], ItemID: l.ItemID, Kind: StockRedeem, Qty: -l.Qty,
			Reference: v.Reference(), By: st.Clerk, At: now})
	}
	v.Status, v.ClosedAt, v.ClosedBy, v.RedeemKey = VoucherRedeemed, now, st.Clerk, st.Key
	d.Voucher = v
	return d, nil
}

// ReleaseCause is why an open voucher's points and stock go back.
type ReleaseCause int

// The causes of a release.
const (
	// ReleaseCancel: someone cancels it; a voucher no longer open is refused.
	ReleaseCancel ReleaseCause = iota
	// ReleaseExpiry: the expiry sweep; a voucher no longer open (redeemed
	// or cancelled since the sweep read it) is passed over.
	ReleaseExpiry
	// ReleaseHousehold: its household changed; a voucher no longer open, or
	// whose member may still spend the household's points, is passed over.
	ReleaseHousehold
)

// ReleaseState is what PlanRelease needs, read in the release's transaction.
type ReleaseState struct {
	Now time.Time
	// Loc tells the month of the monthly counts (the voucher's own month).
	Loc     *time.Location
	Voucher Voucher
	Cause   ReleaseCause
	// By is who cancels (ReleaseCancel); the other causes are the system's.
	By uuid.UUID
	// Household is the household as it now is (ReleaseHousehold).
	Household Household
}

// ReleaseDecision is what a release writes; Nothing says the voucher is
// passed over and nothing is written.
type ReleaseDecision struct {
	VoucherWrite
	Nothing bool
}

// PlanRelease decides giving an open voucher's points back to the account
// it holds them from (escrow -> member or household, under the voucher's one
// "release" key), its items' reserve back and the member's monthly counts
// of its month back; the voucher is cancelled, or expired by the sweep.
// Returns ECONFLICT "voucher.not_open" when someone cancels a voucher that
// is no longer open.
func PlanRelease(st ReleaseState) (ReleaseDecision, error) {
	v := st.Voucher
	status, by := VoucherCancelled, uuid.Nil
	switch st.Cause {
	case ReleaseCancel:
		if v.Status != VoucherOpen {
			return ReleaseDecision{}, Errorf(ECONFLICT, "voucher.not_open", string(v.Status))
		}
		by = st.By
	case ReleaseExpiry:
		status = VoucherExpired
		if v.Status != VoucherOpen {
			return ReleaseDecision{Nothing: true}, nil
		}
	case ReleaseHousehold:
		if v.Status != VoucherOpen || st.Household.MaySpend(v.MemberID) {
			return ReleaseDecision{Nothing: true}, nil
		}
	default:
		return ReleaseDecision{}, fmt.Errorf("release %s: unknown cause %d", v.ID, st.Cause)
	}
	d := ReleaseDecision{VoucherWrite: VoucherWrite{Entry: Transfer{Debit: Escrow, Credit: v.Account(), Amount: v.Points,
		Kind: KindRelease, Reference: v.Reference(), Actor: "user:" + by.String(), Memo: string(status),
		IdempotencyKey: v.Key("release")}, Held: -v.Points}}
	month := MonthOf(v.CreatedAt, st.Loc)
	for _, l := range v.Lines {
		d.Stock = append(d.Stock, StockChange{ItemID: l.ItemID, Reserved: -l.Qty})
		d.Counts = append(d.Counts, ItemCount{MemberID: v.MemberID, ItemID: l.ItemID, Month: month, Delta: -l.Qty})
	}
	v.Status, v.ClosedAt, v.ClosedBy = status, st.Now.UTC(), by
	d.Voucher = v
	return d, nil
}

// Check cleans and checks a stock move's own fields before anything is
// read: an intake of 1 to 100000, or a correction of ±1 to ±100000 with a
// note saying why. EINVALID otherwise.
func (m *StockMove) Check() error {
	var err error
	if m.Donor, err = StockText.Clean(m.Donor); err != nil {
		return err
	}
	if m.Note, err = StockText.Clean(m.Note); err != nil {
		return err
	}
	switch {
	case m.Kind == StockIntake && (m.Qty < 1 || m.Qty > 100000):
		return Errorf(EINVALID, "stock.qty_invalid")
	case m.Kind == StockCorrection && (m.Qty == 0 || m.Qty < -100000 || m.Qty > 100000 || m.Note == ""):
		return Errorf(EINVALID, "stock.correction_invalid")
	case m.Kind != StockIntake && m.Kind != StockCorrection:
		return Errorf(EINVALID, "stock.kind_invalid", Clip(m.Kind))
	}
	return nil
}

// DecideStockMove decides a checked stock move m of item it: the item as it
// is to be stored. ECONFLICT when stock on hand would go below zero
// ("stock.below_zero") or below what open vouchers hold ("stock.below_reserved").
func DecideStockMove(it Item, m StockMove) (Item, error) {
	switch {
	case it.OnHand+m.Qty < 0:
		return Item{}, Errorf(ECONFLICT, "stock.below_zero", it.OnHand, -m.Qty)
	case it.OnHand+m.Qty < it.Reserved:
		return Item{}, Errorf(ECONFLICT, "stock.below_reserved", it.OnHand+m.Qty, it.Reserved)
	}
	it.OnHand += m.Qty
	return it, nil
}
