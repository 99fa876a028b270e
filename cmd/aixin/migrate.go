package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"time"

	"aixin/ledger"
	"aixin/store/bolt"
	"aixin/store/postgres"
)

// migrate is "aixin migrate --from DIR --to postgres://…": a stopped
// server's data folder copied into an empty PostgreSQL database in one
// transaction, then proved: the same head hash, every balance, every
// record by kind (an order-free digest of each kind on both sides), and
// every month's report, service by event, late service and sums read from
// both engines and compared.
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr)
	from := fs.String("from", envOr(getenv, "AIXIN_DATA", "./aixin-data"), "the data folder to copy (AIXIN_DATA); its server must be stopped")
	to := fs.String("to", getenv("AIXIN_DB"), "the empty PostgreSQL database to copy into, postgres://user@host:port/database (AIXIN_DB)")
	if err := parseArgs(fs, args, stderr, 0); err != nil {
		return err
	}
	if !isPostgres(*to) {
		return usageError(stderr, "migrate", "--to must name a PostgreSQL database, postgres://user@host:port/database")
	}
	t0 := time.Now()
	src, err := openStopped(filepath.Join(*from, "aixin.db"), true, "stop it first: a copy must not miss what it writes meanwhile")
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, *to, postgres.Options{Location: src.Location()})
	if err != nil {
		return err
	}
	defer dst.Close()

	accounts, err := src.OpenAccounts(ctx)
	if err != nil {
		return err
	}
	n, sums, err := dst.Load(ctx, postgres.Source{
		Accounts: accounts,
		Entries:  func(after uint64, limit int) ([]ledger.Entry, error) { return src.Entries(ctx, after, limit) },
		Records:  func(fn func(ledger.Record) error) error { return src.Dump(ctx, fn) },
	})
	if errors.Is(err, postgres.ErrNotEmpty) {
		return fmt.Errorf("%s already holds data: migrate copies only into a new, empty database (createdb a new one)", redact(*to))
	}
	if err != nil {
		return fmt.Errorf("nothing was copied: %w", err)
	}
	fmt.Fprintf(stdout, "copied %d entries, %d accounts and %d records in %v; checking…\n",
		n, len(accounts), sums.Total(), time.Since(t0).Round(time.Millisecond))

	t1 := time.Now()
	if err := proveCopy(ctx, src, dst, accounts, sums); err != nil {
		return fmt.Errorf("the copy in %s does not match the data folder (%w): drop that database and do not use it", redact(*to), err)
	}
	seq, hash, err := dst.Head(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok: head seq %d hash %s, %d balances, every record and month the same on both (checked in %v)\n",
		seq, hash, len(accounts), time.Since(t1).Round(time.Millisecond))
	fmt.Fprintf(stdout, "start the servers with --db (AIXIN_DB) naming the database; keep %s as it is, as the copy's origin\n", *from)
	return nil
}

// proveCopy compares what matters on the two engines: the journal (the
// target verifies and has the same head), the balances, the records and
// the monthly figures derived from them.
func proveCopy(ctx context.Context, src *bolt.Store, dst *postgres.Store, accounts []ledger.Account, loaded ledger.RecordSums) error {
	rep, err := dst.Verify(ctx)
	if err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("the database's journal does not verify at seq %d: %s", rep.FirstBadSeq, rep.Problem)
	}
	sseq, shash, err := src.Head(ctx)
	if err != nil {
		return err
	}
	if rep.HeadSeq != sseq || rep.HeadHash != shash {
		return fmt.Errorf("head seq %d hash %s, the data folder's seq %d hash %s", rep.HeadSeq, rep.HeadHash, sseq, shash)
	}
	for _, a := range accounts {
		sb, err := src.Balance(ctx, a)
		if err != nil {
			return err
		}
		db, err := dst.Balance(ctx, a)
		if err != nil {
			return err
		}
		if sb != db {
			return fmt.Errorf("%s has %d points, %d in the data folder", a, db, sb)
		}
	}
	srcSums := ledger.RecordSums{}
	if err := src.Dump(ctx, func(r ledger.Record) error { srcSums.Add(r); return nil }); err != nil {
		return err
	}
	dstSums, err := dst.DumpSums(ctx)
	if err != nil {
		return err
	}
	for _, k := range ledger.RecordKinds {
		s, l, d := srcSums.Of(k), loaded.Of(k), dstSums.Of(k)
		if s != l || s != d {
			return fmt.Errorf("%s records: %d in the data folder, %d loaded, %d read back, or their contents differ", k, s.N, l.N, d.N)
		}
	}
	if sseq == 0 {
		return nil
	}
	first, err := src.Entries(ctx, 0, 1)
	if err != nil {
		return err
	}
	last, err := src.Entries(ctx, sseq-1, 1)
	if err != nil || len(first) != 1 || len(last) != 1 {
		return fmt.Errorf("reading the first and last entries: %v", err)
	}
	loc := src.Location()
	m0, m1 := ledger.MonthOf(first[0].Time, loc), ledger.MonthOf(last[0].Time, loc)
	for m := m0; m <= m1; m = m.Next() {
		for _, check := range []struct {
			what string
			read func(r ledger.Reports) (any, error)
		}{
			{"report", func(r ledger.Reports) (any, error) { return r.MonthReport(ctx, m, nil, nil) }},
			{"service by event", func(r ledger.Reports) (any, error) { return r.EventMinutes(ctx, m) }},
			{"late service", func(r ledger.Reports) (any, error) { return r.LateService(ctx, m) }},
		} {
			a, err := check.read(src)
			if err != nil {
				return err
			}
			b, err := check.read(dst)
			if err != nil {
				return err
			}
			if !sameFigures(a, b) {
				return fmt.Errorf("the %s of %s differs", check.what, m)
			}
		}
	}
	a, err := src.MonthSums(ctx, m0, m1, nil)
	if err != nil {
		return err
	}
	b, err := dst.MonthSums(ctx, m0, m1, nil)
	if err != nil {
		return err
	}
	if !sameFigures(a, b) {
		return errors.New("the monthly sums differ")
	}
	return nil
}

// sameFigures compares two engines' answers as their JSON says them, where
// an empty list and no list are the same.
func sameFigures(a, b any) bool {
	norm := func(v any) any {
		raw, err := json.Marshal(v)
		if err != nil {
			return err.Error()
		}
		var out any
		if json.Unmarshal(raw, &out) != nil {
			return nil
		}
		return dropEmpty(out)
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func dropEmpty(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e = dropEmpty(e); e == nil {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		if len(x) == 0 {
			return nil
		}
	case []any:
		for i := range x {
			x[i] = dropEmpty(x[i])
		}
		if len(x) == 0 {
			return nil
		}
	}
	return v
}
