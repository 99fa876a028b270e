package ledger

import (
	"strings"

	"github.com/google/uuid"
)

// The points of a household (一家亲): who may spend them, the points a new
// household starts with, how the public notice names a household without
// its door, and a household's month in the exports.

// HouseholdReferencePrefix starts the reference of the entries a household
// itself makes (its opening points): "household:<id>".
const HouseholdReferencePrefix = "household:"

// SpendFrom decides which account member may pay a voucher at shop from:
// their own (household is uuid.Nil), or the household named by household.
// h is the household the member belongs to now, read in the same
// transaction (the zero Household when none).
//
// A member always spends their own points. A household's points are spent
// only at a shop that accepts them (EFORBIDDEN "household.shop_refuses"),
// only by a member of that household now (EFORBIDDEN "household.not_member":
// one who never was, or has left it, whether or not the household exists),
// and never by a minor (EFORBIDDEN "household.minor_spend").
func SpendFrom(member, household uuid.UUID, h Household, shop Shop) (Account, error) {
	switch {
	case household == uuid.Nil:
		return MemberAccount(member), nil
	case !shop.Households:
		return Account{}, Errorf(EFORBIDDEN, "household.shop_refuses", shop.Name)
	case h.ID != household || !h.Has(member):
		return Account{}, Errorf(EFORBIDDEN, "household.not_member")
	case !h.MaySpend(member):
		return Account{}, Errorf(EFORBIDDEN, "household.minor_spend")
	}
	return h.Account(), nil
}

// MaxHouseholdOpening bounds the points a new household may start with.
const MaxHouseholdOpening Points = 100000

// HouseholdOpening decides the points a new household h of community
// starts with, by the deployment's setting amount (遵义's household accounts
// start at 60): an award entry of amount from the community's issuer account
// to the household's, referring to the household, under a server key of its
// own so that it is made once. ok is false for no points (amount 0). Returns
// EINVALID for an amount below zero or above MaxHouseholdOpening, or a
// household outside any community.
func HouseholdOpening(h Household, community uuid.UUID, amount Points) (t Transfer, ok bool, err error) {
	switch {
	case amount < 0 || amount > MaxHouseholdOpening:
		return Transfer{}, false, Errorf(EINVALID, "household.opening_invalid", MaxHouseholdOpening)
	case amount == 0:
		return Transfer{}, false, nil
	case community == uuid.Nil:
		return Transfer{}, false, Errorf(EINVALID, "household.unit_kind")
	}
	return Transfer{
		Debit: IssuerAccount(community), Credit: h.Account(), Amount: amount, Kind: KindAward,
		Reference: HouseholdReferencePrefix + h.ID.String(), Actor: "system", Memo: "opening",
		IdempotencyKey: ServerKey("household", h.ID.String(), "opening"),
	}, true, nil
}

// buildingMarks end the part of an address that names a building or an
// entrance (1栋, 2号楼, 3单元, A座); what follows is a door.
var buildingMarks = []string{"单元", "号楼", "栋", "幢", "座"}

// MaskHouseholdAddress is how a public page may name a household's address:
// the building and entrance it lies in, never its door: "2号楼3单元502室"
// becomes "2号楼3单元", "502室" becomes "" (the grid or building's own name
// is all that may be shown). It keeps what comes up to the end of the last
// building mark, and nothing when there is none or only the mark.
func MaskHouseholdAddress(addr string) string {
	cut := -1
	for _, m := range buildingMarks {
		if i := strings.LastIndex(addr, m); i >= 0 && i+len(m) > cut {
			cut = i + len(m)
		}
	}
	if cut < 0 {
		return ""
	}
	kept := strings.TrimSpace(addr[:cut])
	for _, m := range buildingMarks {
		if kept == m {
			return ""
		}
	}
	return kept
}

// HouseholdMonth is one household's points in one month, as the exports
// and the notice show them.
type HouseholdMonth struct {
	Household Household `json:"household"`
	// Points are the household account's figures, worked out as a
	// member's are (MemberMonthOf); Points.MemberID is the household's id.
	// A household earns only awards (Behaviour, and the opening points).
	Points MemberMonth `json:"points"`
}
