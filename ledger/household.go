package ledger

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
)

// Household is a 户: the members who live at one address within a grid or a
// building (安宁's “一家亲”, 遵义's household accounts). Its account
// (household:<id>) receives household awards, and its adults spend it as a
// member spends their own points. A member belongs to at most one household.
type Household struct {
	ID uuid.UUID `json:"id"`
	// Address is the door within the unit (3单元502室); with the unit's
	// name it is how people know the household.
	Address string `json:"address"`
	// UnitID is the grid or building the household lives in.
	UnitID uuid.UUID `json:"unit_id"`
	// HeadID is the head of the household (户主), one of Members; nil
	// until the household has members.
	HeadID uuid.UUID `json:"head_id,omitzero"`
	// Members are the household's members in the order they joined.
	Members   []HouseholdMember `json:"members"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at,omitzero"`
}

// HouseholdMember is one member of a household.
type HouseholdMember struct {
	MemberID uuid.UUID `json:"member_id"`
	// Minor marks a child: a minor's points are their own, but they do not
	// spend the household's.
	Minor bool `json:"minor,omitempty"`
}

// MaxHouseholdMembers bounds one household.
const MaxHouseholdMembers = 20

// HouseholdAddress is the rule for a household's address: 1 to 60 characters.
var HouseholdAddress = Text{Field: "field.household_address", Key: "household.address_invalid", Max: 60, Required: true}

// Account is the household's shared-points account.
func (h Household) Account() Account { return HouseholdAccount(h.ID) }

// Has reports whether member id belongs to the household.
func (h Household) Has(id uuid.UUID) bool {
	for _, m := range h.Members {
		if m.MemberID == id {
			return true
		}
	}
	return false
}

// MaySpend reports whether member id may spend the household's points:
// any of its members who is not a minor.
func (h Household) MaySpend(id uuid.UUID) bool {
	for _, m := range h.Members {
		if m.MemberID == id {
			return !m.Minor
		}
	}
	return false
}

// DoorKey is a household's address as it is compared with the others of
// its unit: one door, one household. Spaces are ignored and full-width
// letters and digits read as their ASCII forms (３单元 = 3单元).
func DoorKey(address string) string {
	var b strings.Builder
	for _, r := range address {
		switch {
		case unicode.IsSpace(r):
			continue
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			r -= 0xFEE0
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// NewHousehold checks a household to be made at address in unit (which must
// be a grid or a building) and returns it without members.
func NewHousehold(id uuid.UUID, address string, unit Unit, now time.Time) (Household, error) {
	addr, err := HouseholdAddress.Clean(address)
	if err != nil {
		return Household{}, err
	}
	if unit.Kind != UnitGrid && unit.Kind != UnitBuilding {
		return Household{}, Errorf(EINVALID, "household.unit_kind")
	}
	return Household{ID: id, Address: addr, UnitID: unit.ID, Members: []HouseholdMember{}, CreatedAt: now.UTC()}, nil
}

// HouseholdChange is a new list of a household's members and its head.
type HouseholdChange struct {
	Members []HouseholdMember `json:"members"`
	HeadID  uuid.UUID         `json:"head_id"`
}

// HouseholdFacts are what ChangeHouseholdMembers needs to know of each
// member named by the change, read in the same transaction.
type HouseholdFacts struct {
	// Units are the units of the members named, by member id; a member
	// missing here is unknown.
	Units map[uuid.UUID]Unit
	// Households says which household each member named belongs to now
	// (members in none are left out).
	Households map[uuid.UUID]uuid.UUID
	// Community is the community the household's unit lies in.
	Community uuid.UUID
}

// ChangeHouseholdMembers decides a household's new members and head at now.
// Every member must be known (ENOTFOUND "member.not_found"), live in the
// household's community (EINVALID "household.member_community"), and belong
// to no other household (ECONFLICT "household.member_elsewhere"); a member
// is named once (EINVALID "household.member_twice"); at most
// MaxHouseholdMembers; the head is one of the adults (EINVALID
// "household.head_invalid"), and a household with members has one. Members
// who leave keep their own points; the household's stay with the household.
func ChangeHouseholdMembers(h Household, ch HouseholdChange, f HouseholdFacts, now time.Time) (Household, error) {
	if len(ch.Members) > MaxHouseholdMembers {
		return h, Errorf(EINVALID, "household.too_many", MaxHouseholdMembers)
	}
	seen := make(map[uuid.UUID]bool, len(ch.Members))
	headOK := false
	for _, m := range ch.Members {
		if seen[m.MemberID] {
			return h, Errorf(EINVALID, "household.member_twice")
		}
		seen[m.MemberID] = true
		u, ok := f.Units[m.MemberID]
		switch {
		case !ok:
			return h, Errorf(ENOTFOUND, "member.not_found")
		case f.Community == uuid.Nil || !u.Within(f.Community):
			return h, Errorf(EINVALID, "household.member_community")
		}
		if other, ok := f.Households[m.MemberID]; ok && other != h.ID {
			return h, Errorf(ECONFLICT, "household.member_elsewhere")
		}
		if m.MemberID == ch.HeadID && !m.Minor {
			headOK = true
		}
	}
	if (len(ch.Members) > 0 || ch.HeadID != uuid.Nil) && !headOK {
		return h, Errorf(EINVALID, "household.head_invalid")
	}
	out := h
	out.Members = append([]HouseholdMember{}, ch.Members...)
	out.HeadID = ch.HeadID
	out.UpdatedAt = now.UTC()
	return out, nil
}

// Households keeps households (户) and who belongs to them.
type Households interface {
	// CreateHousehold stores a new household without members (see
	// NewHousehold) and opens its account, in one transaction with the
	// points it starts with, opening (the deployment's setting; 0 for
	// none), as HouseholdOpening decides, from its community's issuer
	// account (opened if it is not yet). Returns ENOTFOUND for an unknown
	// unit, EINVALID as NewHousehold and HouseholdOpening do.
	CreateHousehold(ctx context.Context, address string, unitID uuid.UUID, opening Points) (Household, error)
	// SetHouseholdMembers replaces a household's members and head as
	// ChangeHouseholdMembers decides, in one transaction with the index of
	// each member's household. Returns ENOTFOUND for an unknown household,
	// and what ChangeHouseholdMembers returns.
	SetHouseholdMembers(ctx context.Context, id uuid.UUID, ch HouseholdChange) (Household, error)
	// Household returns ENOTFOUND ("household.not_found") for an unknown id.
	Household(ctx context.Context, id uuid.UUID) (Household, error)
	// MemberHousehold returns the household a member belongs to; ENOTFOUND
	// ("household.none") when they belong to none.
	MemberHousehold(ctx context.Context, memberID uuid.UUID) (Household, error)
	// Households returns the households whose unit lies in scope, by id.
	Households(ctx context.Context, scope Scope) ([]Household, error)

	// IssueHouseholdVoucher is Shops.IssueVoucher paid from the account of
	// household (uuid.Nil: the member's own, as IssueVoucher), as SpendFrom
	// decides with the member's household read in the same transaction: the
	// hold is household -> escrow, and a cancel, an expiry or the reversal of
	// its redemption gives the points back to the household. Monthly item
	// limits stay the member's. Returns what IssueVoucher and SpendFrom
	// return; a repeated key with another household is ECONFLICT
	// ("idempotency.mismatch").
	IssueHouseholdVoucher(ctx context.Context, memberID, household, shopID uuid.UUID, lines []VoucherRequestLine, by uuid.UUID, presence PresenceMethod, key string) (Voucher, error)
	// HouseholdHeld returns the points a household has in open vouchers.
	HouseholdHeld(ctx context.Context, id uuid.UUID) (Points, error)
	// HouseholdVouchers returns the vouchers paid from a household's
	// account, newest first.
	HouseholdVouchers(ctx context.Context, id uuid.UUID) ([]Voucher, error)
	// SetShopHouseholds says whether a shop accepts household points;
	// vouchers already made keep the account they hold from. Returns
	// ENOTFOUND for an unknown shop.
	SetShopHouseholds(ctx context.Context, shopID uuid.UUID, accepts bool) (Shop, error)
}
