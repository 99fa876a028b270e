package handlers

import (
	"flag"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/report"
	"aixin/report/reporttest"

	"github.com/google/uuid"
)

var update = flag.Bool("update", false, "rewrite the golden files of the export tests")

// golden compares got with testdata/export/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	reporttest.Golden(t, filepath.Join("testdata", "export", name), got, *update)
}

// hashes hides what changes from run to run: entry hashes (entry ids are random).
var hashes = regexp.MustCompile(`[0-9a-f]{64}`)

func stable(b []byte) []byte { return hashes.ReplaceAll(b, []byte("<hash>")) }

// exportWorld is the authorization world with a month of movement: points
// earned, vouchers redeemed, one cancelled, one left open, a correction.
func exportWorld(t *testing.T) (*env, *world) {
	t.Helper()
	e := newEnv(t)
	w := newWorld(t, e)
	st := e.store
	// 志愿者A serves in A's party team; 队员A is an on-duty party member.
	m := w.member["A"]
	m.TeamIDs, m.PartyMember = []uuid.UUID{w.team["A"].ID}, true
	if _, err := st.UpdateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	o := w.other["A"]
	o.PartyMember, o.OnDuty = true, &ledger.OnDuty{WorkUnit: "区税务局", ReportedAt: "2026-01-05", AnnualTargetHours: 20}
	if _, err := st.UpdateMember(ctx, o); err != nil {
		t.Fatal(err)
	}
	// B's voucher is redeemed; A's stays open; a second voucher of A's is cancelled.
	if _, err := st.RedeemVoucher(ctx, w.voucher["B"].ID, w.shop["B"].ID, uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	v, err := st.IssueVoucher(ctx, w.member["A"].ID, w.shop["A"].ID, []ledger.VoucherRequestLine{{ItemID: w.item["A"].ID, Qty: 3}}, uuid.Nil, ledger.PresenceSelf, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CancelVoucher(ctx, v.ID, uuid.Nil); err != nil {
		t.Fatal(err)
	}
	// A's event is finalised: 队员A's ten minutes become points.
	e.clock.Add(2 * time.Hour) // after the event
	if _, err := st.FinalizeEvent(ctx, w.event["A"].ID, "organiser", true); err != nil {
		t.Fatal(err)
	}
	// A wrong award, corrected.
	iss := ledger.IssuerAccount(w.unit["A"].ID)
	wrong, err := st.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(w.other["A"].ID), Amount: 7, Kind: ledger.KindEarn, Minutes: 42})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Reverse(ctx, wrong.Seq, "organiser", "wrong person", ""); err != nil {
		t.Fatal(err)
	}
	// Some of it the next month: not in March's figures, but in its closing held.
	e.clock.Add(20 * 24 * time.Hour)
	if _, err := st.RedeemVoucher(ctx, w.voucher["A"].ID, w.shop["A"].ID, uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(w.member["A"].ID), Amount: 5, Kind: ledger.KindEarn, Minutes: 30}); err != nil {
		t.Fatal(err)
	}
	return e, w
}

func TestExportGolden(t *testing.T) {
	e, w := exportWorld(t)
	orgA := e.session(w.users["organizerA"])
	admin := e.session(w.users["admin"])
	for _, by := range report.Views {
		res := e.get("/api/v1/exports/monthly?month=2026-03&format=csv&by="+by, orgA)
		wantStatus(t, res, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Fatalf("content type %q", ct)
		}
		golden(t, "organiser-a-"+by+".csv", stable(res.body))
	}
	res := e.get("/api/v1/exports/monthly?month=2026-03&format=csv&by=member&lang=en", admin)
	wantStatus(t, res, http.StatusOK)
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="points-2026-03-Members.csv"; filename*=UTF-8''points-2026-03-Members.csv` {
		t.Fatalf("disposition %q", cd)
	}
	golden(t, "admin-member-en.csv", stable(res.body))

	res = e.get("/api/v1/exports/monthly?month=2026-03&format=xlsx&by=team", admin)
	wantStatus(t, res, http.StatusOK)
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="points-2026-03.xlsx"; filename*=UTF-8''2026%E5%B9%B43%E6%9C%88%E7%A7%AF%E5%88%86%E6%B1%87%E6%80%BB.xlsx` {
		t.Fatalf("disposition %q", cd)
	}
	golden(t, "admin.xlsx.txt", stable(reporttest.DumpXLSX(t, res.body)))
}

func TestExportFiguresAndScope(t *testing.T) {
	e, w := exportWorld(t)
	orgA, orgB := e.session(w.users["organizerA"]), e.session(w.users["organizerB"])
	admin := e.session(w.users["admin"])
	var out struct {
		View       report.Sheet `json:"view"`
		Notes      []string     `json:"notes"`
		Reconciles bool         `json:"reconciles"`
		RowsTotal  int          `json:"rows_total"`
	}
	e.get("/api/v1/exports/monthly?month=2026-03&format=json", orgA).decode(t, &out)
	if !out.Reconciles || len(out.View.Rows) != 2 {
		t.Fatalf("organiser A: %+v", out)
	}
	// 志愿者A: 1000 earned, one open voucher of 10 at the end of March (redeemed in April), 30 held and released.
	row := map[string]report.Cell{}
	for i, h := range out.View.Header {
		row[h] = out.View.Rows[1][i]
	}
	if row["姓名"].Text != "志愿者A" || row["手机号"].Text != "138****0000" || row["本月获得"].Num != 1000 || row["期末积分"].Num != 1000 ||
		row["其中待兑换（已冻结）"].Num != 10 || row["兑换券退回"].Num != 30 || row["本月兑换"].Num != 0 {
		t.Fatalf("志愿者A's row: %+v", out.View.Rows[1])
	}
	// 队员A: ten minutes, one point; the correction shows as −7 with no hours left of it.
	for i, h := range out.View.Header {
		row[h] = out.View.Rows[0][i]
	}
	if row["姓名"].Text != "队员A" || row["服务时长（小时）"].Num != 0.2 || row["本月获得"].Num != 8 || row["本月调整（冲正）"].Num != -7 || row["期末积分"].Num != 1 {
		t.Fatalf("队员A's row: %+v", out.View.Rows[0])
	}
	// Nothing of B's reaches A's organiser, in any view.
	for _, by := range report.Views {
		body := string(e.get("/api/v1/exports/monthly?month=2026-03&format=csv&by="+by, orgA).body)
		for _, name := range []string{"志愿者B", "队员B", "B社区", "B爱心超市"} {
			if strings.Contains(body, name) {
				t.Fatalf("organiser A's %s export shows %s", by, name)
			}
		}
	}
	// The administrator's whole-ledger export checks against the accounts.
	e.get("/api/v1/exports/monthly?month=2026-03&format=json", admin).decode(t, &out)
	if !out.Reconciles || len(out.View.Rows) != 4 || out.RowsTotal != 4 || !strings.Contains(strings.Join(out.Notes, "\n"), "兑换券托管账户月末余额 10 ✓") {
		t.Fatalf("admin: %+v", out.Notes)
	}
	// Full phones: administrators only, and logged.
	wantStatus(t, e.get("/api/v1/exports/monthly?month=2026-03&format=csv&full_phone=1", orgB), http.StatusForbidden)
	res := e.get("/api/v1/exports/monthly?month=2026-03&format=csv&full_phone=1", admin)
	wantStatus(t, res, http.StatusOK)
	if !strings.Contains(string(res.body), ",13800000000,") {
		t.Fatalf("no full phone in %s", res.body)
	}
	logged := false
	for _, l := range e.logs.lines(t) {
		if l["msg"] == "export with full phone numbers" && l["login"] == w.users["admin"].Login {
			logged = true
		}
	}
	if !logged {
		t.Fatal("the full-phone export was not logged")
	}
	// Wrong requests say what is wrong.
	for q, want := range map[string]int{
		"month=2026-13": 400, "month=26-03": 400, "by=street": 400, "format=pdf": 400, "full_phone=yes": 400, "mnth=2026-03": 400,
	} {
		res := e.get("/api/v1/exports/monthly?"+q, orgA)
		if res.StatusCode != want || !strings.Contains(string(res.body), `"message"`) {
			t.Errorf("%s: %d %s", q, res.StatusCode, res.body)
		}
	}
}
