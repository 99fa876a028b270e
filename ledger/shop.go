package ledger

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ShopKind is what a shop is.
type ShopKind string

// The shop kinds.
const (
	ShopLoveSupermarket ShopKind = "love_supermarket" // 爱心超市
	ShopCivilityBank    ShopKind = "civility_bank"    // 文明行为银行 / 积分超市
)

// RedeemScope says whose vouchers a shop takes: members of the shop's
// street (the default), of its community, or anyone's.
type RedeemScope string

// The redeem scopes.
const (
	RedeemStreet    RedeemScope = "street"
	RedeemCommunity RedeemScope = "community"
	RedeemAll       RedeemScope = "all"
)

// Shop is where points become goods.
type Shop struct {
	ID          uuid.UUID   `json:"id"`
	Name        string      `json:"name"`
	Kind        ShopKind    `json:"kind"`
	UnitID      uuid.UUID   `json:"unit_id"`
	RedeemScope RedeemScope `json:"redeem_scope"`
	CreatedAt   time.Time   `json:"created_at"`
	// Households says the shop accepts household points (安宁's 一家亲积分超市):
	// a household's adults may pay its vouchers from the household's account
	// (SpendFrom). Off unless the shop is set so.
	Households bool `json:"households,omitempty"`
}

// Check normalises and checks a shop.
func (s *Shop) Check() error {
	name, err := cleanName(s.Name, "field.shop_name", "shop.name_invalid")
	if err != nil {
		return err
	}
	s.Name = name
	if s.Kind != ShopLoveSupermarket && s.Kind != ShopCivilityBank {
		return Errorf(EINVALID, "shop.kind_invalid", Clip(string(s.Kind)))
	}
	switch s.RedeemScope {
	case "":
		s.RedeemScope = RedeemStreet
	case RedeemStreet, RedeemCommunity, RedeemAll:
	default:
		return Errorf(EINVALID, "shop.scope_invalid", Clip(string(s.RedeemScope)))
	}
	return nil
}

// Takes reports whether a shop in shopUnit takes vouchers of a member in
// memberUnit, by the shop's redeem scope.
func (s Shop) Takes(shopUnit, memberUnit Unit) bool {
	level := func(u Unit, kind UnitKind) uuid.UUID {
		// Path runs street, community, grid, building: the n-th entry is that level.
		i := map[UnitKind]int{UnitStreet: 0, UnitCommunity: 1}[kind]
		if len(u.Path) > i {
			return u.Path[i]
		}
		return uuid.Nil
	}
	switch s.RedeemScope {
	case RedeemAll:
		return true
	case RedeemCommunity:
		c := level(shopUnit, UnitCommunity)
		return c != uuid.Nil && level(memberUnit, UnitCommunity) == c
	}
	return level(shopUnit, UnitStreet) == level(memberUnit, UnitStreet)
}

// Item is one good in a shop's catalogue. OnHand is the sum of the item's
// stock movements; Reserved is what open vouchers hold; Available = OnHand − Reserved.
type Item struct {
	ID           uuid.UUID `json:"id"`
	ShopID       uuid.UUID `json:"shop_id"`
	Name         string    `json:"name"`
	Points       Points    `json:"points"`
	MonthlyLimit int       `json:"monthly_limit,omitempty"` // per member per month; 0: none
	Active       bool      `json:"active"`
	OnHand       int       `json:"on_hand"`
	Reserved     int       `json:"reserved"`
	CreatedAt    time.Time `json:"created_at"`
	// Picture names the item's current picture (a hash of its bytes, so a
	// new picture gets a new address); empty when it has none.
	Picture string `json:"picture,omitempty"`
}

// Available is what can still be put on a voucher.
func (it Item) Available() int { return it.OnHand - it.Reserved }

// Check normalises and checks an item's own fields.
func (it *Item) Check() error {
	name, err := cleanName(it.Name, "field.item_name", "item.name_invalid")
	if err != nil {
		return err
	}
	it.Name = name
	if it.Points < 1 || it.Points > 100000 {
		return Errorf(EINVALID, "item.points_invalid", 100000)
	}
	if it.MonthlyLimit < 0 || it.MonthlyLimit > 1000 {
		return Errorf(EINVALID, "item.limit_invalid")
	}
	return nil
}

// The kinds of stock movement.
const (
	StockIntake     = "intake"     // donated or bought goods arrive (+)
	StockCorrection = "correction" // a stocktake finds more or less (±, with a reason)
	StockRedeem     = "redeem"     // a voucher was redeemed (−)
	StockReversal   = "reversal"   // a redemption was reversed: the items are back (+, with the reason)
)

// StockMove is one change of an item's stock on hand.
type StockMove struct {
	ID     uuid.UUID `json:"id"`
	ItemID uuid.UUID `json:"item_id"`
	Kind   string    `json:"kind"`
	Qty    int       `json:"qty"`
	Donor  string    `json:"donor,omitempty"`
	Note   string    `json:"note,omitempty"`
	// Reference names the voucher of a redemption.
	Reference string    `json:"reference,omitempty"`
	By        uuid.UUID `json:"by,omitzero"`
	At        time.Time `json:"at"`
}

// VoucherStatus is where a voucher is.
type VoucherStatus string

// The voucher statuses.
const (
	VoucherOpen      VoucherStatus = "open"
	VoucherRedeemed  VoucherStatus = "redeemed"
	VoucherCancelled VoucherStatus = "cancelled"
	VoucherExpired   VoucherStatus = "expired"
	// VoucherReversed is a voucher whose redemption an organiser reversed:
	// the points are back with the member and the items back in stock.
	VoucherReversed VoucherStatus = "reversed"
)

// VoucherLine is one item on a voucher, at the price when it was issued.
type VoucherLine struct {
	ItemID uuid.UUID `json:"item_id"`
	Name   string    `json:"name"`
	Points Points    `json:"points"` // each
	Qty    int       `json:"qty"`
}

// Voucher is a signed, single-use claim on held points for listed items at a shop.
type Voucher struct {
	ID        uuid.UUID     `json:"id"`
	MemberID  uuid.UUID     `json:"member_id"`
	ShopID    uuid.UUID     `json:"shop_id"`
	Lines     []VoucherLine `json:"lines"`
	Points    Points        `json:"points"`
	Status    VoucherStatus `json:"status"`
	Code      string        `json:"code"` // the short code for typing by hand
	CreatedAt time.Time     `json:"created_at"`
	CreatedBy uuid.UUID     `json:"created_by,omitzero"`
	ExpiresAt time.Time     `json:"expires_at"`
	HoldSeq   uint64        `json:"hold_seq"`
	ClosedAt  time.Time     `json:"closed_at,omitzero"` // redeemed, cancelled or expired
	ClosedBy  uuid.UUID     `json:"closed_by,omitzero"`
	CloseSeq  uint64        `json:"close_seq,omitempty"` // the redeem or release entry
	RedeemKey string        `json:"-"`
	// Presence is how the member was there when the voucher was made
	// (CreatedBy made it); empty on vouchers made before it was recorded.
	Presence PresenceMethod `json:"presence,omitempty"`
	// The reversal of a mistaken redemption (status reversed): when, by
	// whom, why, and its reverse (shop -> escrow) and release (escrow ->
	// member) entries. ClosedAt, ClosedBy and CloseSeq keep the redemption.
	ReversedAt    time.Time `json:"reversed_at,omitzero"`
	ReversedBy    uuid.UUID `json:"reversed_by,omitzero"`
	ReverseReason string    `json:"reverse_reason,omitempty"`
	ReverseSeq    uint64    `json:"reverse_seq,omitempty"`
	ReleaseSeq    uint64    `json:"release_seq,omitempty"`
	ReverseKey    string    `json:"-"`

	// HouseholdID is the household whose account the voucher holds its
	// points from (a member of it made the voucher, MemberID); zero for a
	// voucher paid from the member's own points. See Account.
	HouseholdID uuid.UUID `json:"household_id,omitzero"`
}

// Account is the account a voucher holds its points from and gives them
// back to when it is cancelled, expires or its redemption is reversed: the
// household's for a household voucher, else the member's.
func (v Voucher) Account() Account {
	if v.HouseholdID != uuid.Nil {
		return HouseholdAccount(v.HouseholdID)
	}
	return MemberAccount(v.MemberID)
}

// Reference is the ledger reference of a voucher's entries.
func (v Voucher) Reference() string { return "voucher:" + v.ID.String() }

// Key is the idempotency key of the server's own entry of a voucher for a
// step ("hold", "redeem", "release", "reverse"). A voucher's points go back
// to the member once, whatever the cause: a cancel, an expiry and the
// reversal of its redemption all release under the one key "release".
func (v Voucher) Key(step string) string { return ServerKey("voucher", v.ID.String(), step) }

// VoucherLife is how long a voucher stays valid unless a deployment says otherwise.
const VoucherLife = 30 * 24 * time.Hour

// voucherPrefix starts every voucher token: "AX", voucher, version 1.
const voucherPrefix = "AXV1"

// voucherMACLen is how many bytes of HMAC-SHA256 a voucher token keeps (80 bits).
const voucherMACLen = 10

// VoucherToken returns the QR token of a voucher: the prefix, then in
// Crockford base32 the voucher id, the key id and a truncated HMAC of both
// under that key. Only upper-case letters and digits: QR alphanumeric mode.
func VoucherToken(key []byte, keyID byte, id uuid.UUID) string {
	b := append(append(make([]byte, 0, 16+1+voucherMACLen), id[:]...), keyID)
	return voucherPrefix + Crockford.EncodeToString(append(b, voucherMAC(key, keyID, id)...))
}

func voucherMAC(key []byte, keyID byte, id uuid.UUID) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(voucherPrefix))
	m.Write([]byte{keyID})
	m.Write(id[:])
	return m.Sum(nil)[:voucherMACLen]
}

// ParseVoucherToken checks a token's form and MAC before anything is looked
// up: keys maps key ids to keys. It returns the voucher id; a malformed,
// altered or forged token is EINVALID ("voucher.token_invalid").
func ParseVoucherToken(keys map[byte][]byte, token string) (uuid.UUID, error) {
	bad := Errorf(EINVALID, "voucher.token_invalid")
	body, ok := strings.CutPrefix(strings.ToUpper(strings.TrimSpace(token)), voucherPrefix)
	if !ok {
		return uuid.Nil, bad
	}
	b, err := decodeCanonical(body, 16+1+voucherMACLen)
	if err != nil {
		return uuid.Nil, bad
	}
	id, keyID := uuid.UUID(b[:16]), b[16]
	key, ok := keys[keyID]
	if !ok || !hmac.Equal(b[17:], voucherMAC(key, keyID, id)) {
		return uuid.Nil, bad
	}
	return id, nil
}

// shortCodeAlphabet is Crockford's base32 alphabet.
const shortCodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ShortCode turns random bits into a 10-character code for typing by hand:
// 9 characters from the first 31 of the alphabet (about 44 bits) and a check
// character. The check is Σ (i+1)·value mod 31: with 31 values and a prime
// modulus, every single mistyped character and every swap of two neighbours
// changes it, so such slips are caught before any lookup.
func ShortCode(random uint64) string {
	var b [10]byte
	for i := range 9 {
		b[i] = shortCodeAlphabet[((random>>(5*i))&31)%31]
	}
	b[9] = shortCodeAlphabet[shortCheck(b[:9])]
	return string(b[:])
}

func shortCheck(s []byte) int {
	sum := 0
	for i, c := range s {
		sum += (i + 1) * strings.IndexByte(shortCodeAlphabet, c)
	}
	return sum % 31
}

// NormalizeShortCode reads a typed short code: any case, spaces and dashes
// ignored, and Crockford's look-alikes (O→0, I/L→1). EINVALID if it is not
// 10 characters with a right check character.
func NormalizeShortCode(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '\t':
			return -1
		case 'o', 'O':
			return '0'
		case 'i', 'I', 'l', 'L':
			return '1'
		}
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
	if len(s) != 10 || strings.Trim(s[:9], shortCodeAlphabet[:31]) != "" || shortCodeAlphabet[shortCheck([]byte(s[:9]))] != s[9] {
		return "", Errorf(EINVALID, "voucher.code_invalid")
	}
	return s, nil
}

// VoucherRequestLine is one item a voucher asks for.
type VoucherRequestLine struct {
	ItemID uuid.UUID `json:"item_id"`
	Qty    int       `json:"qty"`
}

// Bounds of one voucher: distinct items, and how many of one item.
const (
	MaxVoucherLines = 20
	MaxVoucherQty   = 100
)

// MergeVoucherLines merges the lines of one item into one, in the order the
// items first appear, and checks the bounds on what is merged: each line
// asks for at least one, no item for more than MaxVoucherQty in all (three
// lines of 100 are 300, and refused), and 1 to MaxVoucherLines items.
func MergeVoucherLines(req []VoucherRequestLine) ([]VoucherRequestLine, error) {
	if len(req) == 0 || len(req) > MaxVoucherLines*MaxVoucherQty {
		return nil, Errorf(EINVALID, "voucher.lines_invalid", MaxVoucherLines)
	}
	var out []VoucherRequestLine
	at := make(map[uuid.UUID]int, len(req))
	for _, l := range req {
		if l.Qty < 1 || l.Qty > MaxVoucherQty {
			return nil, Errorf(EINVALID, "voucher.qty_invalid", MaxVoucherQty)
		}
		i, seen := at[l.ItemID]
		if !seen {
			if len(out) == MaxVoucherLines {
				return nil, Errorf(EINVALID, "voucher.lines_invalid", MaxVoucherLines)
			}
			i = len(out)
			at[l.ItemID] = i
			out = append(out, VoucherRequestLine{ItemID: l.ItemID})
		}
		if out[i].Qty += l.Qty; out[i].Qty > MaxVoucherQty {
			return nil, Errorf(EINVALID, "voucher.qty_invalid", MaxVoucherQty)
		}
	}
	return out, nil
}

// Shops keeps shops, catalogues, stock and vouchers.
type Shops interface {
	CreateShop(ctx context.Context, s Shop) (Shop, error)
	Shop(ctx context.Context, id uuid.UUID) (Shop, error)
	Shops(ctx context.Context) ([]Shop, error)
	CreateItem(ctx context.Context, it Item) (Item, error)
	Item(ctx context.Context, id uuid.UUID) (Item, error)
	// UpdateItem changes an item's name, price, monthly limit and whether it
	// is offered (open vouchers keep the price they were issued at).
	UpdateItem(ctx context.Context, it Item) (Item, error)
	Items(ctx context.Context, shopID uuid.UUID) ([]Item, error)
	// MoveStock records an intake (qty > 0, with a donor or note) or a
	// stocktake correction (qty ≠ 0, with a reason). A correction cannot take
	// stock on hand below what open vouchers hold (ECONFLICT).
	MoveStock(ctx context.Context, m StockMove) (Item, error)
	StockMoves(ctx context.Context, itemID uuid.UUID) ([]StockMove, error)
	// SetItemPicture stores an item's picture (PNG, JPEG or WebP, at most 512 KiB).
	SetItemPicture(ctx context.Context, id uuid.UUID, contentType string, data []byte) error
	// Taken returns how many of each item the member has on this month's
	// vouchers (open or redeemed), for the monthly limits; items with none
	// are left out.
	Taken(ctx context.Context, memberID uuid.UUID, items []uuid.UUID) (map[uuid.UUID]int, error)
	// ItemPicture returns an item's picture; ENOTFOUND if it has none.
	ItemPicture(ctx context.Context, id uuid.UUID) (string, []byte, error)

	// IssueVoucher checks stock, monthly limits and the member's balance,
	// then in one transaction holds the points (member -> escrow), reserves
	// the stock and stores the voucher. Returns ECONFLICT for too few points
	// or too little stock or a limit reached, EFORBIDDEN when the shop does
	// not take the member's vouchers.
	// by made it and presence (see CheckPresence) says how the member was
	// there; both are recorded on the voucher.
	// A non-empty key makes it idempotent: the same key and request again
	// returns the first voucher; the same key with another request is ECONFLICT.
	IssueVoucher(ctx context.Context, memberID, shopID uuid.UUID, lines []VoucherRequestLine, by uuid.UUID, presence PresenceMethod, key string) (Voucher, error)
	Voucher(ctx context.Context, id uuid.UUID) (Voucher, error)
	// VoucherByCode finds a voucher by its short code; ENOTFOUND if none.
	VoucherByCode(ctx context.Context, code string) (Voucher, error)
	MemberVouchers(ctx context.Context, memberID uuid.UUID) ([]Voucher, error)
	// RedeemVoucher redeems a voucher at a shop: escrow -> shop, stock out.
	// The same key again returns the first answer. Returns ECONFLICT
	// ("voucher.redeemed", with when and where) for a redeemed voucher,
	// EGONE for a cancelled or expired one (an expired one is released
	// first, by ExpireVouchers), ECONFLICT ("voucher.other_shop") at another shop.
	RedeemVoucher(ctx context.Context, id, shopID, clerk uuid.UUID, key string) (Voucher, error)
	// CancelVoucher releases an open voucher's points and stock.
	CancelVoucher(ctx context.Context, id, by uuid.UUID) (Voucher, error)
	// ReverseRedemption undoes a redemption made by mistake, as
	// ReverseRedemption (the rule) decides, in one transaction: a reverse
	// entry of the redeem entry (shop -> escrow), a release entry (escrow ->
	// member), the items back in stock with the reason, the member's monthly
	// item counts of the voucher's month given back, the voucher marked
	// reversed, and the month's redemption rows less the voucher. Returns
	// ECONFLICT ("voucher.already_reversed", with when and by whom) for a
	// voucher reversed before, unless key is the key of that reversal (then
	// the first answer again); ECONFLICT ("voucher.not_redeemed") for a
	// voucher that is not redeemed; EINVALID for a missing or bad reason.
	ReverseRedemption(ctx context.Context, id, by uuid.UUID, reason, key string) (Voucher, error)
	// ShopRedemptions returns the redemptions at a shop in [from, to) and
	// the reversals of redemptions made in that time, newest first, up to
	// limit of them below entry seq before (0: from the newest), with the
	// whole period's totals. It walks the shop account's entry chain, entered at the last
	// redemption of the month to falls in (kept with the shop's monthly
	// rows), never the journal: its cost is the period's entries and the
	// month's later ones. EINVALID if before is not an entry of the shop.
	ShopRedemptions(ctx context.Context, shopID uuid.UUID, from, to time.Time, before uint64, limit int) (RedemptionPage, error)
	// ShopStockMoves returns the stock movements of a shop's items in month
	// m but those of redemptions (which ShopRedemptions lists): donations
	// and purchases (intake), stocktake corrections and the items of
	// reversed redemptions, oldest first, from an index by shop and month.
	ShopStockMoves(ctx context.Context, shopID uuid.UUID, m Month) ([]StockMove, error)
	// ExpireVouchers releases every open voucher whose time is up, each in a
	// write of its own: one that cannot be released is reported in the
	// result and the rest go on. The error is for the sweep as a whole (the
	// store closing, ctx ending).
	ExpireVouchers(ctx context.Context) (SweepResult, error)
	// Held returns the points a member has in open vouchers.
	Held(ctx context.Context, memberID uuid.UUID) (Points, error)
}

// MaskName shows a name as a counter or a public list may, the one rule for
// every masked name (kiosk, certificate check, points notice): a name of
// three or more characters keeps its first and last character with a star
// for each one between (张*明, 欧阳**锋), so that two people of one family
// stay apart on a list; a name of two keeps its first (张*). A name of one
// character shows as it is: there is nothing to hide it behind.
func MaskName(name string) string {
	r := []rune(name)
	switch {
	case len(r) <= 1:
		return name
	case len(r) == 2:
		return string(r[0]) + "*"
	}
	return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
}
