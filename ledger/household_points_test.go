package ledger

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestSpendFrom: who may spend which account. A member always spends their
// own; a household's points only an adult member of it now, at a shop that
// accepts them.
func TestSpendFrom(t *testing.T) {
	dad, mum, kid, neighbour := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	h := Household{ID: uuid.New(), Address: "3单元502室", UnitID: uuid.New(), HeadID: dad,
		Members: []HouseholdMember{{MemberID: dad}, {MemberID: mum}, {MemberID: kid, Minor: true}}}
	other := Household{ID: uuid.New(), Address: "3单元501室", HeadID: neighbour, Members: []HouseholdMember{{MemberID: neighbour}}}
	takes := Shop{Name: "一家亲积分超市", Households: true}
	refuses := Shop{Name: "爱心超市"}
	for name, tt := range map[string]struct {
		member, household uuid.UUID
		h                 Household // the member's household now
		shop              Shop
		want              Account
		key               string // refusal (EFORBIDDEN)
	}{
		"OwnPoints":               {member: dad, h: h, shop: refuses, want: MemberAccount(dad)},
		"OwnPointsNoHousehold":    {member: neighbour, shop: takes, want: MemberAccount(neighbour)},
		"MinorOwnPoints":          {member: kid, h: h, shop: takes, want: MemberAccount(kid)},
		"Head":                    {member: dad, household: h.ID, h: h, shop: takes, want: h.Account()},
		"AdultNotHead":            {member: mum, household: h.ID, h: h, shop: takes, want: h.Account()},
		"Minor":                   {member: kid, household: h.ID, h: h, shop: takes, key: "household.minor_spend"},
		"ShopRefuses":             {member: dad, household: h.ID, h: h, shop: refuses, key: "household.shop_refuses"},
		"ShopRefusesMinorToo":     {member: kid, household: h.ID, h: h, shop: refuses, key: "household.shop_refuses"},
		"NoHousehold":             {member: neighbour, household: h.ID, shop: takes, key: "household.not_member"},
		"AnotherHousehold":        {member: neighbour, household: h.ID, h: other, shop: takes, key: "household.not_member"},
		"LeftForAnother":          {member: mum, household: h.ID, h: other, shop: takes, key: "household.not_member"},
		"UnknownHousehold":        {member: dad, household: uuid.New(), h: h, shop: takes, key: "household.not_member"},
		"LeftTheHousehold":        {member: mum, household: h.ID, h: Household{ID: h.ID, Members: h.Members[:1]}, shop: takes, key: "household.not_member"},
		"StaleHouseholdOfAnother": {member: dad, household: other.ID, h: h, shop: takes, key: "household.not_member"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := SpendFrom(tt.member, tt.household, tt.h, tt.shop)
			if tt.key != "" {
				if le, ok := AsError(err); !ok || le.Code != EFORBIDDEN || le.Key != tt.key || got != (Account{}) {
					t.Fatalf("got %v %v, want EFORBIDDEN %s", got, err, tt.key)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v %v, want %v", got, err, tt.want)
			}
		})
	}
}

// TestHouseholdOpening: the points a new household starts with come from
// its community's issuer as one award entry, made once.
func TestHouseholdOpening(t *testing.T) {
	community := uuid.New()
	h := Household{ID: uuid.New(), Address: "3单元502室", UnitID: uuid.New()}
	for name, tt := range map[string]struct {
		amount    Points
		community uuid.UUID
		ok        bool
		key       string
	}{
		"Zouyi60":       {amount: 60, community: community, ok: true},
		"One":           {amount: 1, community: community, ok: true},
		"Max":           {amount: MaxHouseholdOpening, community: community, ok: true},
		"None":          {amount: 0, community: community},
		"NoneNoCommune": {amount: 0},
		"Negative":      {amount: -1, community: community, key: "household.opening_invalid"},
		"TooMany":       {amount: MaxHouseholdOpening + 1, community: community, key: "household.opening_invalid"},
		"NoCommunity":   {amount: 60, key: "household.unit_kind"},
	} {
		t.Run(name, func(t *testing.T) {
			tr, ok, err := HouseholdOpening(h, tt.community, tt.amount)
			if tt.key != "" {
				if le, isErr := AsError(err); !isErr || le.Code != EINVALID || le.Key != tt.key || ok {
					t.Fatalf("got %v %v, want EINVALID %s", ok, err, tt.key)
				}
				return
			}
			if err != nil || ok != tt.ok {
				t.Fatalf("got %v %v, want %v", ok, err, tt.ok)
			}
			if !ok {
				if tr != (Transfer{}) {
					t.Fatalf("no points, yet a transfer: %+v", tr)
				}
				return
			}
			want := Transfer{Debit: IssuerAccount(community), Credit: HouseholdAccount(h.ID), Amount: tt.amount, Kind: KindAward,
				Reference: "household:" + h.ID.String(), Actor: "system", Memo: "opening",
				IdempotencyKey: "aixin:household:" + h.ID.String() + ":opening"}
			if tr != want {
				t.Fatalf("\n got %+v\nwant %+v", tr, want)
			}
			if err := tr.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMaskHouseholdAddress(t *testing.T) {
	for addr, want := range map[string]string{
		"3单元502室":      "3单元",
		"2号楼3单元502室":   "2号楼3单元",
		"5栋1201":       "5栋",
		"东区7幢2单元301":   "东区7幢2单元",
		"A座1203":       "A座",
		"502室":         "",
		"幸福路18号502":    "",
		"单元":           "",
		" 1单元 ":        "1单元",
		"1单元5楼502":     "1单元",
		"12号楼":         "12号楼",
		"3单元502室 (后门)": "3单元",
	} {
		if got := MaskHouseholdAddress(addr); got != want {
			t.Errorf("MaskHouseholdAddress(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestHouseholdVoucherAccount: a household voucher holds from and gives
// back to the household's account, and so does the reversal of its
// redemption; a member's voucher the member's.
func TestHouseholdVoucherAccount(t *testing.T) {
	v, redeem := redeemedVoucher(t)
	if v.Account() != MemberAccount(v.MemberID) {
		t.Fatalf("a member's voucher: %v", v.Account())
	}
	v.HouseholdID = uuid.New()
	if v.Account() != HouseholdAccount(v.HouseholdID) {
		t.Fatalf("a household's voucher: %v", v.Account())
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	d, err := ReverseRedemption(v, redeem, "", ReversalRequest{By: uuid.New(), Reason: "扫错了", Now: time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)}, loc)
	if err != nil {
		t.Fatal(err)
	}
	if d.Release.Credit != HouseholdAccount(v.HouseholdID) || d.Release.Validate() != nil || d.Voucher.HouseholdID != v.HouseholdID {
		t.Fatalf("release %+v", d.Release)
	}
}

// TestReconcileCountsHouseholds: the escrow and the shops hold household
// vouchers' points too; a report of all members agrees with them only with
// the households counted, and a household's month that does not add up is
// named.
func TestReconcileCountsHouseholds(t *testing.T) {
	member := MemberMonth{MemberID: uuid.New(), Opening: 100, Closing: 80, Redeemed: 20, HeldOpening: 20, HeldClosing: 0}
	home := Household{ID: uuid.New()}
	hm := MemberMonth{MemberID: home.ID, Opening: 60, Earned: 60, Behaviour: 60, Closing: 90, Redeemed: 30, HeldIn: 40, HeldClosing: 10}
	rep := MonthReport{AllMembers: true, Members: []MemberMonth{member}, EscrowClosing: 10, ShopPoints: 50,
		Households: []HouseholdMonth{{Household: home, Points: hm}}}
	if bad, agree := rep.Reconcile(); len(bad) != 0 || !agree {
		t.Fatalf("bad %v agree %v", bad, agree)
	}
	without := rep
	without.Households = nil
	if _, agree := without.Reconcile(); agree {
		t.Fatal("the escrow agrees without the household's open voucher")
	}
	broken := rep
	broken.Households = []HouseholdMonth{{Household: home, Points: hm}}
	broken.Households[0].Points.Closing++
	if bad, _ := broken.Reconcile(); !slices.Equal(bad, []uuid.UUID{home.ID}) {
		t.Fatalf("bad %v", bad)
	}
}
