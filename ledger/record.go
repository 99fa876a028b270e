package ledger

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/google/uuid"
)

// A Record is one stored record of an engine other than the journal and
// the journal's own indexes (balances, monthly totals, idempotency keys,
// reversals: those follow from the entries), in the one form both engines
// share. It is how a deployment moves from one engine to another (aixin
// migrate): the source lists its records, the target stores them, and
// the two are compared record for record.
//
// Documents travel as the JSON both engines store, unchanged (with the
// fields the ledger types do not show, such as an event's secret or a
// voucher's redemption key), so a record arrives byte for byte.
type Record struct {
	Kind RecordKind
	// ID is the record's own id (a document's, a household member's,
	// the street of an expiry policy or run, an award's or wish's whose
	// picture it is); Of is the second id of a pair (an event change's
	// event, a shop or item of a counter, a behaviour, a wish of a member).
	ID, Of uuid.UUID
	// Account is the account of held and redeemed points.
	Account Account
	// Month is yyyymm (yyyy00 for a year's award count), yyyymmdd for a
	// member's day, or a year.
	Month int
	// Name is a secret's name, a certificate's serial, a picture's
	// content type, a wish's client key or a session token's hash.
	Name string
	// Doc is a document's JSON, a secret's bytes, a picture's bytes or a
	// wish request's fingerprint.
	Doc []byte
	// Values are a counter's numbers, in the order each kind lists.
	Values [4]int64
}

// RecordKind says what a Record holds and which of its fields are used.
type RecordKind string

// The kinds of record (Rec…), in the order a target stores them. Each says its
// fields; Doc is JSON unless said otherwise.
const (
	RecSecret          RecordKind = "secret"            // Name, Doc: the secret's bytes
	RecUnit            RecordKind = "unit"              // ID, Doc
	RecTeam            RecordKind = "team"              // ID, Doc
	RecUser            RecordKind = "user"              // ID, Doc (with the password hash)
	RecSession         RecordKind = "session"           // Name: the token's SHA-256 in hex, Doc
	RecMember          RecordKind = "member"            // ID, Doc
	RecHousehold       RecordKind = "household"         // ID, Doc
	RecMemberHousehold RecordKind = "member_household"  // ID member, Of household
	RecEvent           RecordKind = "event"             // ID, Doc (with its secret)
	RecEventChange     RecordKind = "event_change"      // ID change, Of event, Doc
	RecAttendance      RecordKind = "attendance"        // ID, Doc
	RecMemberDay       RecordKind = "member_day"        // ID member, Month yyyymmdd, Values[0] minutes
	RecMonthEvent      RecordKind = "month_event"       // Of event, Month, Values[0] minutes
	RecMonthLate       RecordKind = "month_late"        // ID attendance, Month, Values minutes, Unix ns
	RecCertificate     RecordKind = "certificate"       // Name serial, Doc
	RecShop            RecordKind = "shop"              // ID, Doc
	RecItem            RecordKind = "item"              // ID, Doc
	RecItemPicture     RecordKind = "item_picture"      // ID item, Name content type, Doc bytes
	RecStockMove       RecordKind = "stock_move"        // ID, Of shop, Doc
	RecVoucher         RecordKind = "voucher"           // ID, Doc (with its keys)
	RecMemberItemMonth RecordKind = "member_item_month" // ID member, Of item, Month, Values[0] quantity
	RecHeld            RecordKind = "held"              // Account, Values[0] points in open vouchers
	RecRedeemedMonth   RecordKind = "redeemed_month"    // Account, Month, Values points, vouchers
	RecShopMonth       RecordKind = "shop_month"        // Of shop, Month, Values vouchers, items, reversals, last seq
	RecShopItemMonth   RecordKind = "shop_item_month"   // Of shop, ID item, Month, Values[0] quantity
	RecBehaviour       RecordKind = "behaviour"         // ID, Doc
	RecAward           RecordKind = "award"             // ID, Doc (with its client key)
	RecAwardCap        RecordKind = "award_cap"         // Of behaviour, ID target, Month, Values[0] count
	RecAwardPicture    RecordKind = "award_picture"     // ID award, Values[0] n, Name content type, Doc bytes
	RecWish            RecordKind = "wish"              // ID, Doc
	RecMemberWish      RecordKind = "member_wish"       // ID member, Of wish
	RecWishKey         RecordKind = "wish_key"          // Name key, ID wish, Doc fingerprint
	RecWishPhoto       RecordKind = "wish_photo"        // ID wish, Values[0] n, Name content type, Doc bytes
	RecWishWall        RecordKind = "wish_wall"         // ID community, Doc
	RecExpiryPolicy    RecordKind = "expiry_policy"     // ID street, Values[0] years
	RecExpiryRun       RecordKind = "expiry_run"        // ID street, Month year, Doc
)

// RecordKinds lists every kind in the order a target stores them.
var RecordKinds = []RecordKind{RecSecret, RecUnit, RecTeam, RecUser, RecSession, RecMember,
	RecHousehold, RecMemberHousehold, RecEvent, RecEventChange, RecAttendance, RecMemberDay,
	RecMonthEvent, RecMonthLate, RecCertificate, RecShop, RecItem, RecItemPicture, RecStockMove,
	RecVoucher, RecMemberItemMonth, RecHeld, RecRedeemedMonth, RecShopMonth, RecShopItemMonth,
	RecBehaviour, RecAward, RecAwardCap, RecAwardPicture, RecWish, RecMemberWish, RecWishKey,
	RecWishPhoto, RecWishWall, RecExpiryPolicy, RecExpiryRun}

// HashedKeyPrefix starts a client key that an engine kept only as the
// SHA-256 of the key (hex after the prefix): bbolt keeps keys that are not
// UUIDs that way, and a target looks such a key up by its hash too.
const HashedKeyPrefix = "sha256:"

// RecordSum is an order-free digest of a set of records: two engines hold
// the same records of a kind when their sums are equal.
type RecordSum struct {
	N   int
	Sum [sha256.Size]byte
}

// Add counts r into the sum (addition modulo 2²⁵⁶ of each record's hash,
// so the order records come in does not matter).
func (s *RecordSum) Add(r Record) {
	h := sha256.New()
	var b []byte
	b = append(b, r.Kind...)
	b = append(b, 0)
	b = append(b, r.ID[:]...)
	b = append(b, r.Of[:]...)
	k := r.Account.Key()
	b = append(b, k[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Month))
	b = binary.AppendUvarint(b, uint64(len(r.Name)))
	b = append(b, r.Name...)
	for _, v := range r.Values {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	b = binary.AppendUvarint(b, uint64(len(r.Doc)))
	h.Write(b)
	h.Write(r.Doc)
	var one [sha256.Size]byte
	h.Sum(one[:0])
	carry := 0
	for i := sha256.Size - 1; i >= 0; i-- {
		v := int(s.Sum[i]) + int(one[i]) + carry
		s.Sum[i], carry = byte(v), v>>8
	}
	s.N++
}

// RecordSums are the sums of a set of records by kind.
type RecordSums map[RecordKind]*RecordSum

// Add counts r into its kind's sum.
func (s RecordSums) Add(r Record) {
	if s[r.Kind] == nil {
		s[r.Kind] = &RecordSum{}
	}
	s[r.Kind].Add(r)
}

// Of returns the sum of kind (zero when there are none).
func (s RecordSums) Of(kind RecordKind) RecordSum {
	if s[kind] == nil {
		return RecordSum{}
	}
	return *s[kind]
}

// Total is how many records were summed.
func (s RecordSums) Total() int {
	n := 0
	for _, v := range s {
		n += v.N
	}
	return n
}
