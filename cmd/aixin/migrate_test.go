package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"aixin/ledger"
	"aixin/store/bolt"
	"aixin/store/postgres"
	"aixin/store/postgres/pgtest"

	"github.com/jackc/pgx/v5"
)

// TestMigrateDemo moves the demo district from its data folder into an
// empty PostgreSQL database with aixin migrate: the copy proves itself
// (same head, balances, records and months), a second migrate into the now
// full database is refused, a server on the database lets the demo's
// people log in and shows a volunteer the points the folder gave them, and
// a record changed in the database afterwards is caught by the proof.
func TestMigrateDemo(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	var out bytes.Buffer
	if err := run(ctx, []string{"demo", "--data", data}, envFrom(map[string]string{"AIXIN_ADMIN_PASSWORD": "admin-pass-2026"}), nil, &out, &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	// The demo holds records of every kind that matters, so the copy is
	// tried on each of them.
	src, err := bolt.Open(filepath.Join(data, "aixin.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := src.Secret(ctx, "checkin") // made on first use: a server would have made it
	if err != nil {
		t.Fatal(err)
	}
	sums := ledger.RecordSums{}
	if err := src.Dump(ctx, func(r ledger.Record) error { sums.Add(r); return nil }); err != nil {
		t.Fatal(err)
	}
	src.Close()
	for _, k := range []ledger.RecordKind{ledger.RecSecret, ledger.RecUnit, ledger.RecTeam, ledger.RecUser, ledger.RecMember,
		ledger.RecHousehold, ledger.RecMemberHousehold, ledger.RecEvent, ledger.RecAttendance, ledger.RecMemberDay,
		ledger.RecMonthEvent, ledger.RecShop, ledger.RecItem, ledger.RecStockMove, ledger.RecVoucher, ledger.RecHeld,
		ledger.RecRedeemedMonth, ledger.RecShopMonth, ledger.RecShopItemMonth, ledger.RecBehaviour, ledger.RecAward,
		ledger.RecAwardCap, ledger.RecWish, ledger.RecMemberWish} {
		if sums.Of(k).N == 0 {
			t.Errorf("the demo has no %s records to copy", k)
		}
	}

	url := pgtest.NewDatabase(t)
	out.Reset()
	if err := run(ctx, []string{"migrate", "--from", data, "--to", url}, envFrom(nil), nil, &out, &out); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "ok: head seq") {
		t.Fatalf("migrate said:\n%s", out.String())
	}
	out.Reset()
	err = run(ctx, []string{"migrate", "--from", data}, envFrom(map[string]string{"AIXIN_DB": url}), nil, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "already holds data") {
		t.Fatalf("a second migrate into the full database: %v\n%s", err, out.String())
	}

	// A server on the database: the demo's volunteer logs in with the
	// folder's password and has the folder's points.
	srcStore, err := bolt.Open(filepath.Join(data, "aixin.db"), bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	volunteer, err := srcStore.UserByLogin(ctx, demoVolunteerLogin(t, srcStore))
	if err != nil {
		t.Fatal(err)
	}
	want, err := srcStore.Balance(ctx, ledger.MemberAccount(volunteer.MemberID))
	srcStore.Close()
	if err != nil {
		t.Fatal(err)
	}
	base, _, stop := startServe(t, map[string]string{"AIXIN_DB": url, "AIXIN_DATA": t.TempDir(), "AIXIN_ADMIN_PASSWORD": "admin-pass-2026"})
	c := client(t)
	resp := postJSON(t, c, base+"/api/v1/login", map[string]string{"login": volunteer.Login, "password": demoVolunteerPassword})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the demo volunteer's login on the migrated database: %s", resp.Status)
	}
	resp, err = c.Get(base + "/api/v1/members/" + volunteer.MemberID.String() + "/balance")
	if err != nil {
		t.Fatal(err)
	}
	var bal struct {
		Available ledger.Points `json:"available"`
	}
	json.NewDecoder(resp.Body).Decode(&bal)
	resp.Body.Close()
	if bal.Available != want.Points || want.Points == 0 {
		t.Fatalf("the volunteer has %d points on PostgreSQL, %d in the folder", bal.Available, want.Points)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// A member changed in the database after the copy (the login's session
	// gone, which is the server's use of it): the proof fails.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DELETE FROM sessions`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE members SET doc = replace(doc, '"name":"', '"name":"改') WHERE id = (SELECT id FROM members ORDER BY id LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	src, err = bolt.Open(filepath.Join(data, "aixin.db"), bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, url, postgres.Options{Existing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if got, err := dst.Secret(ctx, "checkin"); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("the check-in secret did not come across: %v", err)
	}
	accounts, err := src.OpenAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := proveCopy(ctx, src, dst, accounts, sums); err == nil || !strings.Contains(err.Error(), "member records") {
		t.Fatalf("a changed member was not caught: %v", err)
	}
}

// demoVolunteerLogin is the login of the demo's first volunteer, who has points.
func demoVolunteerLogin(t *testing.T, st *bolt.Store) string {
	t.Helper()
	ms, err := st.Members(context.Background(), ledger.MemberFilter{Scope: ledger.Scope{All: true}, Limit: 1})
	if err != nil || len(ms) == 0 {
		t.Fatalf("the demo's members: %v", err)
	}
	return ms[0].Phone
}
