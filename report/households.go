package report

import (
	"context"
	"strings"

	"aixin/ledger"
	"aixin/natural"

	"github.com/google/uuid"
)

// The monthly export's household view (by=household, 按家庭): each household
// of the scope with its grid or building, its members, and its account's
// month (opening, awarded, deducted, corrected, redeemed, expired, closing,
// held), read from the household accounts' monthly rows as the member view
// reads the members'. Households' points are never a member's: this view
// stands apart from the others and is not in their totals.

// HouseholdView is the export view of households.
const HouseholdView = "household"

// householdSheet builds the household view for opts' month and scope.
// label names a unit as the export does; names are the members of the scope
// by id, and any other member is looked up. It answers the sheet, the
// households' total and whether every household's month adds up.
func householdSheet(ctx context.Context, d Deps, opts Options, t func(string, ...any) string,
	label func(ledger.Unit) string, units map[uuid.UUID]ledger.Unit, names map[uuid.UUID]string) (Sheet, ledger.MemberMonth, bool, error) {
	sh := Sheet{Name: t("export.view.household"), Header: []string{t("export.col.household"), t("export.col.unit"), t("export.col.household_members"),
		t("export.col.opening"), t("export.col.household_awarded"), t("export.col.household_deducted"), t("export.col.adjusted"), t("export.col.redeemed"),
		t("export.col.expired"), t("export.col.closing"), t("export.col.held")},
		Widths: []float64{18, 24, 36, 10, 10, 10, 10, 10, 10, 10, 11}}
	hms, err := d.Reports.HouseholdMonths(ctx, opts.Month, opts.Scope)
	if err != nil {
		return sh, ledger.MemberMonth{}, false, err
	}
	homes := make([]ledger.Household, len(hms))
	byID := make(map[uuid.UUID]ledger.MemberMonth, len(hms))
	for i, hm := range hms {
		homes[i], byID[hm.Household.ID] = hm.Household, hm.Points
	}
	natural.SortHouseholds(homes, units)
	var total ledger.MemberMonth
	ok := true
	for _, h := range homes {
		p := byID[h.ID]
		var who []string
		for _, m := range h.Members {
			name, known := names[m.MemberID]
			if !known {
				if mem, err := d.Directory.Member(ctx, m.MemberID); err == nil {
					name = mem.Name
				}
			}
			switch {
			case m.MemberID == h.HeadID:
				name = t("export.household_head", name)
			case m.Minor:
				name = t("export.household_minor", name)
			}
			who = append(who, name)
		}
		sh.Rows = append(sh.Rows, []Cell{TextCell(h.Address), TextCell(label(units[h.UnitID])), TextCell(strings.Join(who, "、")),
			PointsCell(p.Opening), PointsCell(p.Earned), PointsCell(p.Deducted), PointsCell(p.Adjusted), PointsCell(p.Redeemed),
			PointsCell(p.Expired), PointsCell(p.Closing), PointsCell(p.HeldClosing)})
		total.Add(p)
		ok = ok && p.Reconciles()
	}
	sh.Total = []Cell{TextCell(t("export.total_households", len(homes))), {}, {}, PointsCell(total.Opening), PointsCell(total.Earned),
		PointsCell(total.Deducted), PointsCell(total.Adjusted), PointsCell(total.Redeemed), PointsCell(total.Expired), PointsCell(total.Closing),
		PointsCell(total.HeldClosing)}
	return sh, total, ok, nil
}

// householdNote is the reconciliation line of the households' month: their
// total adds up, and so does each household's (ok); mark says ✓ or ✗ and
// notes a ✗ in the export's checks.
func householdNote(t func(string, ...any) string, total ledger.MemberMonth, ok bool, mark func(bool) string) string {
	good := ok && total.Closing == total.Opening+total.Earned+total.Adjusted-total.Deducted-total.Redeemed-total.Expired
	return t("export.check.households", total.Closing, total.Opening, total.Earned, total.Adjusted, total.Deducted, total.Redeemed, total.Expired, mark(good))
}
