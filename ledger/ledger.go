// Package ledger is aixin's domain: points, accounts, transfers, the hash-chained
// journal, the rules that guard them, the error type, and the contracts that a
// store implements.
//
// The package is pure. It does no I/O, never reads the clock and never draws
// random numbers: the time, identifiers and previous hash of an entry are handed
// in by the caller, so every rule is deterministic and can be table-tested.
// It imports only the standard library and github.com/google/uuid.
package ledger

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Points are whole points. Points are never fractional and never floats.
type Points = int64

// MaxAmount is the largest amount one transfer may move. It keeps every sum the
// ledger keeps far from int64 overflow.
const MaxAmount Points = 1_000_000_000

// AccountKind says what an account is for.
type AccountKind uint8

// The account kinds. The numbers are part of the stored and hashed encoding:
// never renumber them.
const (
	AccountMember  AccountKind = 1 // member:<id>, a volunteer's spendable points; never below zero
	AccountIssuer  AccountKind = 2 // issuer:<unit>, where a unit's earned points come from; may go below zero
	AccountEscrow  AccountKind = 3 // escrow:vouchers, points held by open vouchers
	AccountShop    AccountKind = 4 // shop:<id>, points redeemed at a shop
	AccountExpired AccountKind = 5 // expired:<unit>, points cleared by expiry rules
	// AccountHousehold is household:<id>, a household's shared points (一家亲);
	// never below zero. Its adults spend it as a member spends their own.
	AccountHousehold AccountKind = 6
)

var accountKindNames = map[AccountKind]string{
	AccountMember:    "member",
	AccountIssuer:    "issuer",
	AccountEscrow:    "escrow",
	AccountShop:      "shop",
	AccountExpired:   "expired",
	AccountHousehold: "household",
}

// String returns the kind's name as used in account strings.
func (k AccountKind) String() string {
	if s, ok := accountKindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Account identifies one account of the double-entry ledger. Its text form is
// "<kind>:<uuid>", except the one escrow account, "escrow:vouchers".
type Account struct {
	Kind AccountKind
	ID   uuid.UUID
}

// AccountKeySize is the length of Account.Key: one kind byte and 16 id bytes.
const AccountKeySize = 17

// Escrow is the single account that holds the points of open vouchers.
var Escrow = Account{Kind: AccountEscrow}

// MemberAccount returns the spendable-points account of a member.
func MemberAccount(id uuid.UUID) Account { return Account{AccountMember, id} }

// IssuerAccount returns the account a unit's earned points come from.
func IssuerAccount(unit uuid.UUID) Account { return Account{AccountIssuer, unit} }

// ShopAccount returns the account that receives points redeemed at a shop.
func ShopAccount(shop uuid.UUID) Account { return Account{AccountShop, shop} }

// ExpiredAccount returns the account that receives a unit's expired points.
func ExpiredAccount(unit uuid.UUID) Account { return Account{AccountExpired, unit} }

// HouseholdAccount returns the shared-points account of a household.
func HouseholdAccount(id uuid.UUID) Account { return Account{AccountHousehold, id} }

// Spendable reports whether the account is one whose points somebody
// spends with vouchers and who earns: a member's or a household's.
func (a Account) Spendable() bool { return a.Kind == AccountMember || a.Kind == AccountHousehold }

// String returns the account's text form, e.g. "member:0190...".
func (a Account) String() string {
	if a.Kind == AccountEscrow {
		return "escrow:vouchers"
	}
	return a.Kind.String() + ":" + a.ID.String()
}

// Valid reports whether a is a well-formed account.
func (a Account) Valid() bool {
	switch a.Kind {
	case AccountEscrow:
		return a.ID == uuid.Nil
	case AccountMember, AccountIssuer, AccountShop, AccountExpired, AccountHousehold:
		return a.ID != uuid.Nil
	}
	return false
}

// MayGoNegative reports whether the account's balance may fall below zero.
// Only issuer accounts, the source of all points, may.
func (a Account) MayGoNegative() bool { return a.Kind == AccountIssuer }

// Key returns the fixed-width binary form: kind byte then the 16 id bytes.
// Byte order of keys is (kind, id) order, so one kind's accounts are adjacent.
func (a Account) Key() [AccountKeySize]byte {
	var k [AccountKeySize]byte
	k[0] = byte(a.Kind)
	copy(k[1:], a.ID[:])
	return k
}

// AccountFromKey decodes Account.Key. It returns EINVALID for a malformed key.
func AccountFromKey(b []byte) (Account, error) {
	if len(b) != AccountKeySize {
		return Account{}, Errorf(EINVALID, "account.invalid", string(b))
	}
	var a Account
	a.Kind = AccountKind(b[0])
	copy(a.ID[:], b[1:])
	if !a.Valid() {
		return Account{}, Errorf(EINVALID, "account.invalid", fmt.Sprintf("%x", b))
	}
	return a, nil
}

// ParseAccount parses the text form of an account. It returns EINVALID for
// anything else.
func ParseAccount(s string) (Account, error) {
	if s == "escrow:vouchers" {
		return Escrow, nil
	}
	kind, id, ok := strings.Cut(s, ":")
	if !ok {
		return Account{}, Errorf(EINVALID, "account.invalid", s)
	}
	for k, name := range accountKindNames {
		if name == kind && k != AccountEscrow {
			u, err := uuid.Parse(id)
			if err != nil || u == uuid.Nil || len(id) != 36 {
				return Account{}, Errorf(EINVALID, "account.invalid", s)
			}
			return Account{k, u}, nil
		}
	}
	return Account{}, Errorf(EINVALID, "account.invalid", s)
}

// MarshalText implements encoding.TextMarshaler.
func (a Account) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Account) UnmarshalText(b []byte) error {
	p, err := ParseAccount(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}
