package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Kind is the kind of a journal entry.
type Kind uint8

// The entry kinds. The numbers index the monthly totals; the names are hashed.
// Never renumber or rename them.
const (
	KindEarn    Kind = 1 // issuer -> member: points for confirmed service
	KindHold    Kind = 2 // member -> escrow: points held by a new voucher
	KindRedeem  Kind = 3 // escrow -> shop: a voucher redeemed at a shop
	KindRelease Kind = 4 // escrow -> member: a voucher cancelled or expired
	KindReverse Kind = 5 // the inverse of the entry named by Reverses
	KindExpire  Kind = 6 // member -> expired: points cleared by an expiry rule
	KindAward   Kind = 7 // issuer -> member or household: points awarded other than for hours (a wish, a good deed)
	KindDeduct  Kind = 8 // member or household -> issuer: points taken for a behaviour that costs points (扣分)

	// NumKinds is one more than the largest kind; arrays indexed by Kind have this length.
	NumKinds = 9
)

var kindNames = [NumKinds]string{"", "earn", "hold", "redeem", "release", "reverse", "expire", "award", "deduct"}

// String returns the kind's name.
func (k Kind) String() string {
	if k > 0 && int(k) < NumKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k > 0 && int(k) < NumKinds }

// ParseKind parses a kind's name. It returns EINVALID for an unknown name.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if n != "" && n == s {
			return Kind(i), nil
		}
	}
	return 0, Errorf(EINVALID, "entry.kind_invalid", s)
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	p, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = p
	return nil
}

// allowed lists, for each kind but reverse, the account kinds points may leave
// and arrive at; the first of each is the one an error message names. A
// household's points move as a member's do. A reverse is checked against
// the entry it reverses.
var allowed = map[Kind][2][]AccountKind{
	KindEarn:    {{AccountIssuer}, {AccountMember}},
	KindAward:   {{AccountIssuer}, {AccountMember, AccountHousehold}},
	KindHold:    {{AccountMember, AccountHousehold}, {AccountEscrow}},
	KindRedeem:  {{AccountEscrow}, {AccountShop}},
	KindRelease: {{AccountEscrow}, {AccountMember, AccountHousehold}},
	KindExpire:  {{AccountMember, AccountHousehold}, {AccountExpired}},
	KindDeduct:  {{AccountMember, AccountHousehold}, {AccountIssuer}},
}

// Limits on the text fields of a transfer: the reference, actor and key
// (ASCII that aixin makes) in bytes, the memo (a reason a person wrote, often
// in Chinese) in characters.
const (
	MaxReferenceLen = 200
	MaxActorLen     = 100
	MaxMemoLen      = 500
	MaxKeyLen       = 200
	MaxMinutes      = 60 * 24 * 366
)

// Hash is a SHA-256 digest in the journal's hash chain.
type Hash [sha256.Size]byte

// String returns the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != 2*len(h) {
		return Errorf(EINVALID, "entry.hash_invalid")
	}
	if _, err := hex.Decode(h[:], b); err != nil {
		return Errorf(EINVALID, "entry.hash_invalid")
	}
	return nil
}

// Transfer is a request to move points from Debit to Credit. It becomes a
// journal Entry when a store appends it.
type Transfer struct {
	Debit  Account `json:"debit"`  // the account points leave
	Credit Account `json:"credit"` // the account points arrive at
	Amount Points  `json:"amount"`
	Kind   Kind    `json:"kind"`
	// Reference names what the transfer is for: "attendance:<id>", "voucher:<id>", "award:<id>".
	Reference string `json:"reference,omitempty"`
	// Reverses is the seq of the entry a reverse corrects; zero for other kinds.
	Reverses uint64 `json:"reverses,omitempty"`
	// Minutes is the service time confirmed with an earn entry; zero otherwise.
	Minutes        int64  `json:"minutes,omitempty"`
	Actor          string `json:"actor,omitempty"`
	Memo           string `json:"memo,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// Entry is one appended, immutable record of the journal.
type Entry struct {
	Seq  uint64    `json:"seq"`
	ID   uuid.UUID `json:"id"`
	Time time.Time `json:"time"`
	Transfer
	PrevHash Hash `json:"prev_hash"`
	Hash     Hash `json:"hash"`
}

// Validate checks the transfer on its own, without looking at balances. It
// returns EINVALID naming the first problem.
func (t Transfer) Validate() error {
	if !t.Kind.Valid() {
		return Errorf(EINVALID, "entry.kind_invalid", t.Kind.String())
	}
	if !t.Debit.Valid() || !t.Credit.Valid() {
		return Errorf(EINVALID, "entry.account_invalid")
	}
	if t.Debit == t.Credit {
		return Errorf(EINVALID, "entry.same_account")
	}
	if t.Amount <= 0 {
		return Errorf(EINVALID, "entry.amount_not_positive")
	}
	if t.Amount > MaxAmount {
		return Errorf(EINVALID, "entry.amount_too_large", MaxAmount)
	}
	if t.Kind == KindReverse {
		if t.Reverses == 0 {
			return Errorf(EINVALID, "entry.reverse_needs_target")
		}
	} else {
		if t.Reverses != 0 {
			return Errorf(EINVALID, "entry.reverses_only_reverse")
		}
		dir := allowed[t.Kind]
		if !slices.Contains(dir[0], t.Debit.Kind) || !slices.Contains(dir[1], t.Credit.Kind) {
			return Errorf(EINVALID, "entry.direction_invalid", t.Kind.String(), dir[0][0].String(), dir[1][0].String())
		}
	}
	if t.Minutes < 0 || t.Minutes > MaxMinutes {
		return Errorf(EINVALID, "entry.minutes_invalid")
	}
	if t.Minutes != 0 && t.Kind != KindEarn && t.Kind != KindReverse {
		return Errorf(EINVALID, "entry.minutes_only_earn")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"reference", t.Reference, MaxReferenceLen},
		{"actor", t.Actor, MaxActorLen},
		{"memo", t.Memo, MaxMemoLen},
		{"idempotency_key", t.IdempotencyKey, MaxKeyLen},
	} {
		if !utf8.ValidString(f.v) {
			return Errorf(EINVALID, "entry.field_not_utf8", f.name)
		}
		if n := len(f.v); n > f.max && (f.name != "memo" || utf8.RuneCountInString(f.v) > f.max) {
			if f.name == "memo" {
				return Errorf(EINVALID, "entry.memo_too_long", f.max)
			}
			return Errorf(EINVALID, "entry.field_too_long", f.name, f.max)
		}
	}
	return nil
}

// Fingerprint identifies the request for idempotency: two transfers with the
// same key are the same request exactly when their fingerprints are equal.
// It covers every field but the key itself.
func (t Transfer) Fingerprint() Hash {
	c := t
	c.IdempotencyKey = ""
	b := appendTransfer(make([]byte, 0, 256), c)
	return sha256.Sum256(b)
}

// Canonical encoding, version 1. The bytes hashed for an entry are, in order
// (integers big-endian, strings as a uint16 big-endian byte length then UTF-8):
//
//	version    1 byte, 0x01
//	seq        uint64
//	id         16 bytes (the UUID's bytes)
//	time       int64, Unix nanoseconds (UTC)
//	debit      1 byte account kind, 16 bytes id (zero for escrow)
//	credit     1 byte account kind, 16 bytes id
//	amount     int64
//	kind       1 byte (the Kind number)
//	reverses   uint64
//	minutes    int64
//	reference  string
//	actor      string
//	memo       string
//	key        string (idempotency key)
//
// and hash = SHA-256(prev_hash || canonical bytes), with prev_hash the
// previous entry's hash, 32 zero bytes for seq 1. The store keeps exactly these
// bytes followed by the hash, so the journal can be re-hashed without
// re-encoding. TestCanonicalVector pins one example.
const canonicalVersion = 1

// Canonical returns the entry's canonical bytes (see the comment above).
func (e *Entry) Canonical() []byte {
	b := make([]byte, 0, 160+len(e.Reference)+len(e.Actor)+len(e.Memo)+len(e.IdempotencyKey))
	b = append(b, canonicalVersion)
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	b = append(b, e.ID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixNano()))
	return appendTransfer(b, e.Transfer)
}

func appendTransfer(b []byte, t Transfer) []byte {
	dk, ck := t.Debit.Key(), t.Credit.Key()
	b = append(b, dk[:]...)
	b = append(b, ck[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(t.Amount))
	b = append(b, byte(t.Kind))
	b = binary.BigEndian.AppendUint64(b, t.Reverses)
	b = binary.BigEndian.AppendUint64(b, uint64(t.Minutes))
	for _, s := range []string{t.Reference, t.Actor, t.Memo, t.IdempotencyKey} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return b
}

// ChainHash returns SHA-256(prev || canonical).
func ChainHash(prev Hash, canonical []byte) Hash {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(canonical)
	var out Hash
	h.Sum(out[:0])
	return out
}

// DecodeCanonical parses canonical bytes back into an entry (without its
// hashes). It returns EINVALID if b is not exactly one well-formed encoding.
func DecodeCanonical(b []byte) (Entry, error) {
	var e Entry
	bad := func() (Entry, error) { return Entry{}, Errorf(EINVALID, "entry.encoding_invalid") }
	const fixed = 1 + 8 + 16 + 8 + 2*AccountKeySize + 8 + 1 + 8 + 8
	if len(b) < fixed || b[0] != canonicalVersion {
		return bad()
	}
	p := b[1:]
	e.Seq = binary.BigEndian.Uint64(p)
	copy(e.ID[:], p[8:24])
	e.Time = time.Unix(0, int64(binary.BigEndian.Uint64(p[24:32]))).UTC()
	p = p[32:]
	var err error
	if e.Debit, err = AccountFromKey(p[:AccountKeySize]); err != nil {
		return bad()
	}
	p = p[AccountKeySize:]
	if e.Credit, err = AccountFromKey(p[:AccountKeySize]); err != nil {
		return bad()
	}
	p = p[AccountKeySize:]
	e.Amount = int64(binary.BigEndian.Uint64(p))
	e.Kind = Kind(p[8])
	e.Reverses = binary.BigEndian.Uint64(p[9:])
	e.Minutes = int64(binary.BigEndian.Uint64(p[17:]))
	p = p[25:]
	for _, s := range []*string{&e.Reference, &e.Actor, &e.Memo, &e.IdempotencyKey} {
		if len(p) < 2 {
			return bad()
		}
		n := int(binary.BigEndian.Uint16(p))
		if len(p) < 2+n {
			return bad()
		}
		*s = string(p[2 : 2+n])
		p = p[2+n:]
	}
	if len(p) != 0 {
		return bad()
	}
	return e, nil
}
