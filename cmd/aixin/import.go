package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"aixin/i18n"
	"aixin/ledger"
	"aixin/roster"
)

// importMembers is "aixin import members FILE": a roster into a stopped
// server's data, with an administrator's reach (every unit).
func importMembers(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		return usageError(stderr, "import", "say what to import: members FILE")
	case args[0] != "members":
		return usageError(stderr, "import", "no import %q: give members FILE", args[0])
	}
	var c options
	fs := newFlags("import members", getenv, stderr, &c)
	skip := fs.Bool("skip-invalid", false, "import the good rows and report the rest (default: one bad row imports nothing)")
	lang := fs.String("lang", envOr(getenv, "AIXIN_LANG", "zh-CN"), "language of the report: zh-CN or en")
	if err := parseArgs(fs, args[1:], stderr, 1); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError(stderr, "import members", "give the roster file (.csv or .xlsx)")
	}
	path := fs.Arg(0)
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	st, err := openStopped(c.dbPath(), false, "import through the web page (导入) or POST /api/v1/members/import instead")
	if err != nil {
		return err
	}
	defer st.Close()
	cat, err := i18n.Embedded()
	if err != nil {
		return err
	}
	res, err := roster.Import(ctx, st, cat, *lang, ledger.Scope{All: true}, filepath.Base(path), data, *skip)
	if err != nil {
		if le, ok := ledger.AsError(err); ok {
			return fmt.Errorf("%s: %s", path, i18n.Message(*lang, le.Key, le.Args...))
		}
		return err
	}
	for _, r := range res.Rows {
		if r.Status == "invalid" {
			fmt.Fprintf(stdout, "row %d\t%s\t%s\n", r.Row, r.Field, r.Problem)
		}
	}
	fmt.Fprintf(stdout, "%s: %d created, %d updated, %d unchanged, %d invalid\n", path, res.Created, res.Updated, res.Unchanged, res.Invalid)
	if res.Invalid > 0 && !*skip {
		return fmt.Errorf("nothing was imported: fix the rows above, or pass --skip-invalid to import the good rows")
	}
	return nil
}
