package handlers

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"aixin/ledger"
	"aixin/store/bolt"
)

func TestLedgerEntries(t *testing.T) {
	e := newEnv(t)
	ck := e.login("admin")
	appendEarn(t, e, ledger.MemberAccount(e.users[ledger.RoleVolunteer].ID), 5)

	tests := []struct {
		name      string
		query     string
		seqs      []uint64
		nextAfter uint64
	}{
		{"Default", "", []uint64{1, 2, 3, 4, 5}, 5},
		{"After", "?after=2", []uint64{3, 4, 5}, 5},
		{"Limit", "?limit=2", []uint64{1, 2}, 2},
		{"AfterAndLimit", "?after=1&limit=3", []uint64{2, 3, 4}, 4},
		{"PastTheEnd", "?after=9", []uint64{}, 9},
		{"MaxLimit", "?limit=1000", []uint64{1, 2, 3, 4, 5}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.get("/api/v1/ledger/entries"+tt.query, ck)
			wantStatus(t, res, 200)
			if strings.Contains(string(res.body), `"entries":null`) {
				t.Error("entries is null, want []")
			}
			var page entriesPage
			res.decode(t, &page)
			if len(page.Entries) != len(tt.seqs) || page.NextAfter != tt.nextAfter {
				t.Fatalf("got %d entries, next_after %d; want %v, %d", len(page.Entries), page.NextAfter, tt.seqs, tt.nextAfter)
			}
			for i, en := range page.Entries {
				if en.Seq != tt.seqs[i] || en.Amount != 10 || en.Kind != ledger.KindEarn {
					t.Errorf("entry %d = %+v", i, en)
				}
				if _, off := en.Time.Zone(); off != 8*3600 {
					t.Errorf("entry time %s not in the deployment's zone", en.Time)
				}
			}
		})
	}

	bad := []struct {
		name, query, message string
	}{
		{"NegativeAfter", "?after=-1", "参数 after 的值“-1”无效，应为不小于 0 的整数"},
		{"TextAfter", "?after=abc", "参数 after 的值“abc”无效，应为不小于 0 的整数"},
		{"HugeAfter", "?after=99999999999999999999999", "参数 after 的值“99999999999999999999999”无效，应为不小于 0 的整数"},
		{"ZeroLimit", "?limit=0", "参数 limit 应在 1 到 1000 之间"},
		{"LimitTooBig", "?limit=1001", "参数 limit 应在 1 到 1000 之间"},
		{"TextLimit", "?limit=ten", "参数 limit 的值“ten”无效，应为不小于 0 的整数"},
		{"LongValueTruncated", "?after=" + strings.Repeat("九", 30), "参数 after 的值“" + strings.Repeat("九", 13) + "…”无效，应为不小于 0 的整数"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			res := e.get("/api/v1/ledger/entries"+tt.query, ck)
			wantStatus(t, res, 400)
			if got := res.errorBody(t); got["code"] != "invalid" || got["message"] != tt.message {
				t.Errorf("error = %v", got)
			}
		})
	}
	t.Run("EnglishMessage", func(t *testing.T) {
		res := e.get("/api/v1/ledger/entries?limit=0&lang=en", ck)
		wantStatus(t, res, 400)
		if got := res.errorBody(t); got["message"] != "Parameter limit must be between 1 and 1000" {
			t.Errorf("error = %v", got)
		}
	})
}

func TestLedgerVerify(t *testing.T) {
	e := newEnv(t)
	ck := e.login("admin")
	entries := appendEarn(t, e, ledger.MemberAccount(e.users[ledger.RoleVolunteer].ID), 3)
	res := e.get("/api/v1/ledger/verify", ck)
	wantStatus(t, res, 200)
	var r ledger.VerifyReport
	res.decode(t, &r)
	if !r.OK || r.Entries != 3 || r.HeadSeq != 3 || r.HeadHash != entries[2].Hash {
		t.Errorf("report = %+v", r)
	}
}

func TestBackup(t *testing.T) {
	boltOnly(t)
	e := newEnv(t)
	ck := e.login("admin")
	appendEarn(t, e, ledger.MemberAccount(e.users[ledger.RoleVolunteer].ID), 2)

	res := e.get("/api/v1/admin/backup", ck)
	wantStatus(t, res, 200)
	// The test clock says 09:30 UTC, which is 17:30 in Asia/Shanghai.
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="aixin-backup-20260314-173000.db"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if !regexp.MustCompile(`^attachment; filename="aixin-backup-\d{8}-\d{6}\.db"$`).MatchString(res.Header.Get("Content-Disposition")) {
		t.Error("Content-Disposition pattern")
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}

	// The copy is a working store with the same journal.
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, res.body, 0o600); err != nil {
		t.Fatal(err)
	}
	cp, err := bolt.Open(path, bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	r, err := cp.Verify(ctx)
	if err != nil || !r.OK || r.Entries != 2 {
		t.Errorf("backup verify = %+v, %v", r, err)
	}
}
