package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"aixin/ledger"
	"aixin/store/postgres"
	"aixin/store/postgres/pgtest"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	if os.Getenv("AIXIN_FAULT_CHILD") != "" {
		os.Exit(m.Run()) // a fault test's app server: its database is given
	}
	os.Exit(pgtest.Main(m))
}

// TestVerifyPostgres verifies a PostgreSQL database's journal with
// `aixin verify --db`, then catches a changed entry, and refuses a database
// that holds no ledger without creating one in it.
func TestVerifyPostgres(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	issuer, m := ledger.IssuerAccount(uuid.New()), ledger.MemberAccount(uuid.New())
	for _, a := range []ledger.Account{issuer, m} {
		if err := s.OpenAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := s.Append(ctx, ledger.Transfer{Debit: issuer, Credit: m, Amount: 4, Kind: ledger.KindEarn}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	env := envFrom(map[string]string{"AIXIN_DB": url})
	var out bytes.Buffer
	if err := run(ctx, []string{"verify"}, env, nil, &out, &out); err != nil || !strings.HasPrefix(out.String(), "ok: 3 entries, 3 accounts") {
		t.Fatalf("verify --db: %v\n%s", err, out.String())
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE accounts SET balance = balance + 4 WHERE balance > 0`); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"verify", "--db", url}, envFrom(nil), nil, &out, &out); err == nil || !strings.Contains(out.String(), "FAILED") {
		t.Fatalf("a changed balance verified: %v\n%s", err, out.String())
	}

	empty := pgtest.NewDatabase(t)
	out.Reset()
	if err := run(ctx, []string{"verify", "--db", empty}, envFrom(nil), nil, &out, &out); err == nil || !strings.Contains(err.Error(), "no aixin ledger") {
		t.Fatalf("an empty database: %v\n%s", err, out.String())
	}
	econn, err := pgx.Connect(ctx, empty)
	if err != nil {
		t.Fatal(err)
	}
	defer econn.Close(ctx)
	var tables int
	if err := econn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'journal'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("verify made the schema in an empty database (%d journal tables, %v)", tables, err)
	}
	if err := run(ctx, []string{"verify", "--db", "/var/lib/aixin"}, envFrom(nil), nil, &out, &out); err == nil || !strings.Contains(err.Error(), "PostgreSQL address") {
		t.Fatalf("a folder as --db: %v", err)
	}
}
