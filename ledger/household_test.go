package ledger

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestNewHousehold(t *testing.T) {
	now := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	grid := Unit{ID: uuid.New(), Kind: UnitGrid}
	h, err := NewHousehold(uuid.New(), "  3单元502室 ", grid, now)
	if err != nil || h.Address != "3单元502室" || h.UnitID != grid.ID || len(h.Members) != 0 || h.HeadID != uuid.Nil {
		t.Fatalf("%+v %v", h, err)
	}
	for name, tt := range map[string]struct {
		addr string
		unit Unit
		key  string
	}{
		"Empty":     {"  ", grid, "household.address_invalid"},
		"TooLong":   {strings.Repeat("户", 61), grid, "household.address_invalid"},
		"NUL":       {"502\x00室", grid, "text.control"},
		"Formula":   {"=HYPERLINK(1)", grid, "text.formula"},
		"Bidi":      {"502\u202e室", grid, "text.bidi"},
		"Community": {"502室", Unit{ID: uuid.New(), Kind: UnitCommunity}, "household.unit_kind"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewHousehold(uuid.New(), tt.addr, tt.unit, now)
			if le, ok := AsError(err); !ok || le.Code != EINVALID || le.Key != tt.key {
				t.Fatalf("got %v, want %s", err, tt.key)
			}
		})
	}
}

func TestChangeHouseholdMembers(t *testing.T) {
	now := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	street, community, other := uuid.New(), uuid.New(), uuid.New()
	inCommunity := Unit{ID: uuid.New(), Kind: UnitGrid, Path: []uuid.UUID{street, community, uuid.Nil}}
	inOther := Unit{ID: uuid.New(), Kind: UnitGrid, Path: []uuid.UUID{street, other, uuid.Nil}}
	inCommunity.Path[2], inOther.Path[2] = inCommunity.ID, inOther.ID
	h := Household{ID: uuid.New(), Address: "502室", UnitID: inCommunity.ID}
	dad, mum, kid, stranger, neighbour, unknown := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	f := HouseholdFacts{
		Units:      map[uuid.UUID]Unit{dad: inCommunity, mum: inCommunity, kid: inCommunity, stranger: inOther, neighbour: inCommunity},
		Households: map[uuid.UUID]uuid.UUID{neighbour: uuid.New(), mum: h.ID},
		Community:  community,
	}
	family := []HouseholdMember{{MemberID: dad}, {MemberID: mum}, {MemberID: kid, Minor: true}}
	got, err := ChangeHouseholdMembers(h, HouseholdChange{Members: family, HeadID: dad}, f, now)
	if err != nil || got.HeadID != dad || len(got.Members) != 3 || !got.MaySpend(mum) || got.MaySpend(kid) || !got.Has(kid) || got.MaySpend(stranger) || !got.UpdatedAt.Equal(now) {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := ChangeHouseholdMembers(h, HouseholdChange{}, f, now); err != nil {
		t.Fatalf("emptying a household: %v", err)
	}
	many := make([]HouseholdMember, MaxHouseholdMembers+1)
	for name, tt := range map[string]struct {
		ch        HouseholdChange
		code, key string
	}{
		"Unknown":        {HouseholdChange{Members: []HouseholdMember{{MemberID: unknown}}, HeadID: unknown}, ENOTFOUND, "member.not_found"},
		"OtherCommunity": {HouseholdChange{Members: []HouseholdMember{{MemberID: dad}, {MemberID: stranger}}, HeadID: dad}, EINVALID, "household.member_community"},
		"Elsewhere":      {HouseholdChange{Members: []HouseholdMember{{MemberID: dad}, {MemberID: neighbour}}, HeadID: dad}, ECONFLICT, "household.member_elsewhere"},
		"Twice":          {HouseholdChange{Members: []HouseholdMember{{MemberID: dad}, {MemberID: dad}}, HeadID: dad}, EINVALID, "household.member_twice"},
		"NoHead":         {HouseholdChange{Members: family}, EINVALID, "household.head_invalid"},
		"MinorHead":      {HouseholdChange{Members: family, HeadID: kid}, EINVALID, "household.head_invalid"},
		"HeadOutside":    {HouseholdChange{Members: family, HeadID: neighbour}, EINVALID, "household.head_invalid"},
		"HeadOfNobody":   {HouseholdChange{HeadID: dad}, EINVALID, "household.head_invalid"},
		"TooMany":        {HouseholdChange{Members: many}, EINVALID, "household.too_many"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := ChangeHouseholdMembers(h, tt.ch, f, now)
			if le, ok := AsError(err); !ok || le.Code != tt.code || le.Key != tt.key {
				t.Fatalf("got %v, want %s %s", err, tt.code, tt.key)
			}
			if len(out.Members) != 0 || out.HeadID != uuid.Nil {
				t.Fatalf("refused, yet changed: %+v", out)
			}
		})
	}
}
