package roster

import (
	"context"
	"slices"

	"aixin/i18n"
	"aixin/ledger"
)

// Import reads a roster file (CSV or .xlsx), resolves its units and teams
// among those in scope, and imports it (see ledger.Directory.ImportMembers).
// Problems in the report are in lang (i18n.ZH or i18n.EN). The HTTP upload
// and the command line's "aixin import members" both call it.
func Import(ctx context.Context, d ledger.Directory, cat *i18n.Catalogue, lang string, scope ledger.Scope, name string, data []byte, skipInvalid bool) (ledger.ImportResult, error) {
	recs, err := parseRoster(ctx, name, data)
	if err != nil {
		return ledger.ImportResult{}, err
	}
	units, err := d.Units(ctx)
	if err != nil {
		return ledger.ImportResult{}, err
	}
	units = slices.DeleteFunc(units, func(u ledger.Unit) bool { return !scope.Covers(u) })
	teams, err := d.Teams(ctx)
	if err != nil {
		return ledger.ImportResult{}, err
	}
	inScope := map[[16]byte]bool{}
	for _, u := range units {
		inScope[u.ID] = true
	}
	teams = slices.DeleteFunc(teams, func(t ledger.Team) bool { return !inScope[t.UnitID] })
	items := rosterItems(recs, units, teams)
	// An update changes only what a row gives: an empty cell leaves the
	// member's value as it is.
	for i := range items {
		for f, v := range recs[i].Cells {
			if v != "" {
				items[i].Present = append(items[i].Present, f)
			}
		}
	}
	res, err := d.ImportMembers(ctx, scope, items, skipInvalid)
	if err != nil {
		return res, err
	}
	for i := range res.Rows {
		if e := res.Rows[i].Err; e != nil {
			res.Rows[i].Problem = cat.T(lang, e.Key, e.Args...)
		}
	}
	return res, nil
}
