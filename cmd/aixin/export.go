package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"aixin/i18n"
	"aixin/ledger"
	"aixin/report"

	"github.com/google/uuid"
)

// exportMonthly is "aixin export monthly": the monthly totals of a stopped
// server's data, the same file GET /api/v1/exports/monthly gives.
func exportMonthly(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		return usageError(stderr, "export", "say what to export: monthly")
	case args[0] != "monthly":
		return usageError(stderr, "export", "no export %q: give monthly", args[0])
	}
	var c options
	fs := newFlags("export monthly", getenv, stderr, &c)
	monthFlag := fs.String("month", "", "YYYY-MM (default: the previous month, the last one finished, as on the Exports page)")
	by := fs.String("by", "member", "the view: member, team, unit, shop, late or household (.xlsx has them all and opens at this one)")
	format := fs.String("format", "xlsx", "xlsx or csv")
	unit := fs.String("unit", "", "only this unit's subtree (its id); default every unit")
	full := fs.Bool("full-phone", false, "full phone numbers instead of 138****5678")
	out := fs.String("o", "", "output file (default: the export's own name, in the current folder; - for standard output)")
	lang := fs.String("lang", envOr(getenv, "AIXIN_LANG", "zh-CN"), "language of the headers: zh-CN or en")
	if err := parseArgs(fs, args[1:], stderr, 0); err != nil {
		return err
	}
	st, err := openStopped(c.dbPath(), true, "download it from the web page (导出) or GET /api/v1/exports/monthly instead")
	if err != nil {
		return err
	}
	defer st.Close()
	loc := st.Location()
	month := ledger.MonthOf(time.Now(), loc).AddMonths(-1)
	if *monthFlag != "" {
		if month, err = ledger.ParseMonth(*monthFlag); err != nil {
			return fmt.Errorf("--month %q: give a month as YYYY-MM, e.g. 2026-11", *monthFlag)
		}
	}
	scope := ledger.Scope{All: true}
	if *unit != "" {
		id, err := uuid.Parse(*unit)
		if err != nil {
			return fmt.Errorf("--unit %q is not a unit id", *unit)
		}
		if _, err := st.Unit(ctx, id); err != nil {
			return fmt.Errorf("--unit %s: no such unit", id)
		}
		scope = ledger.Scope{Unit: id}
	}
	if *format != "csv" && *format != "xlsx" {
		return fmt.Errorf("--format %q: use csv or xlsx", *format)
	}
	var buf bytes.Buffer
	name, err := report.ExportMonthly(ctx, st, st, st, report.Options{Month: month, Scope: scope, Lang: *lang,
		FullPhone: *full, By: *by, Who: "aixin export", Now: time.Now(), Location: loc}, *format, &buf)
	if err != nil {
		if le, ok := ledger.AsError(err); ok {
			return fmt.Errorf("%s", i18n.Message(*lang, le.Key, le.Args...))
		}
		return err
	}
	switch *out {
	case "-":
		_, err = buf.WriteTo(stdout)
		return err
	case "":
		*out = name
	}
	mode := os.FileMode(0o644)
	if *full {
		mode = 0o600 // full phone numbers: for the one who asked
	}
	if err := os.WriteFile(*out, buf.Bytes(), mode); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%d bytes)\n", filepath.Clean(*out), buf.Len())
	return nil
}
