package main

import (
	"context"
	"fmt"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// demoHouseholdOpening are the points a demo household starts with, as
// 遵义's household accounts do (a deployment's default is none).
const demoHouseholdOpening = 60

// fillDemoHouseholds gives each community of the demo three households (一家
// 亲) of two to four of its volunteers, some of them minors, each starting
// with 60 points; one lives in a building. The love supermarket accepts
// household points; a household voucher has been redeemed there and another
// waits at the counter. members are the demo's volunteers, sixteen per
// community in order, alternating between its two grids; the demo's
// volunteer login (the first) heads a household.
func fillDemoHouseholds(ctx context.Context, st engine, clock *demoClock, members []ledger.Member, shop ledger.Shop, items []ledger.Item) error {
	if _, err := st.SetShopHouseholds(ctx, shop.ID, true); err != nil {
		return err
	}
	// Who lives together, by a member's place in its community's sixteen:
	// even ones live in the first grid, odd ones in the second.
	plans := []struct {
		address  string
		building string // a building of the grid the household lives in, if any
		members  []int  // the first is the head
		minors   []int
	}{
		{"3单元502室", "", []int{0, 10, 12}, []int{12}},
		{"1单元201室", "", []int{1, 11, 13, 15}, []int{13}},
		{"2单元301室", "5号楼", []int{2, 14}, nil},
	}
	var homes []ledger.Household
	for ci := 0; ci*16 < len(members); ci++ {
		for _, p := range plans {
			head := members[ci*16+p.members[0]]
			unit := head.UnitID
			if p.building != "" && ci == 1 {
				b, err := st.CreateUnit(ctx, p.building, ledger.UnitBuilding, unit, nil)
				if err != nil {
					return err
				}
				unit = b.ID
			}
			h, err := st.CreateHousehold(ctx, p.address, unit, demoHouseholdOpening)
			if err != nil {
				return fmt.Errorf("household %s: %w", p.address, err)
			}
			ch := ledger.HouseholdChange{HeadID: head.ID}
			for _, i := range p.members {
				minor := false
				for _, k := range p.minors {
					minor = minor || k == i
				}
				ch.Members = append(ch.Members, ledger.HouseholdMember{MemberID: members[ci*16+i].ID, Minor: minor})
			}
			if h, err = st.SetHouseholdMembers(ctx, h.ID, ch); err != nil {
				return fmt.Errorf("household %s: %w", p.address, err)
			}
			homes = append(homes, h)
		}
	}
	if len(homes) < 2 || len(items) == 0 {
		return nil
	}
	// The demo volunteer's household exchanged rice with its points, and
	// the second household's adult has a voucher waiting at the counter.
	clock.set(clock.Now().Add(30 * time.Minute))
	first := homes[0]
	v, err := st.IssueHouseholdVoucher(ctx, first.HeadID, first.ID, shop.ID, []ledger.VoucherRequestLine{{ItemID: items[0].ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
	if err != nil {
		return fmt.Errorf("household voucher: %w", err)
	}
	clock.set(clock.Now().Add(20 * time.Minute))
	if _, err := st.RedeemVoucher(ctx, v.ID, shop.ID, uuid.Nil, ""); err != nil {
		return err
	}
	second := homes[1]
	adult := second.Members[1].MemberID
	if _, err := st.IssueHouseholdVoucher(ctx, adult, second.ID, shop.ID, []ledger.VoucherRequestLine{{ItemID: items[len(items)-2].ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, ""); err != nil {
		return fmt.Errorf("household voucher: %w", err)
	}
	return nil
}
