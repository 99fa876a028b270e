package handlers

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/report"
	"aixin/report/reporttest"

	"github.com/xuri/excelize/v2"
)

// recordsWorld is the authorization world with 队员A an on-duty party
// member whose ten minutes of service in A's event are posted.
func recordsWorld(t *testing.T) (*env, *world) {
	t.Helper()
	e := newEnv(t)
	w := newWorld(t, e)
	o := w.other["A"]
	o.PartyMember, o.OnDuty = true, &ledger.OnDuty{WorkUnit: "区税务局", ReportedAt: "2026-01-05", AnnualTargetHours: 20}
	if _, err := e.store.UpdateMember(ctx, o); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Hour)
	if _, err := e.store.FinalizeEvent(ctx, w.event["A"].ID, "organiser", true); err != nil {
		t.Fatal(err)
	}
	return e, w
}

func TestServiceRecords(t *testing.T) {
	e, w := recordsWorld(t)
	orgA, orgB := e.session(w.users["organizerA"]), e.session(w.users["organizerB"])
	var out struct {
		Quarter string        `json:"quarter"`
		Issued  string        `json:"issued"`
		Groups  []recordGroup `json:"groups"`
	}
	e.get("/api/v1/exports/service-records?quarter=2026-Q1", orgA).decode(t, &out)
	if out.Quarter != "2026-Q1" || len(out.Groups) != 1 || out.Groups[0].WorkUnit != "区税务局" || len(out.Groups[0].Cards) != 1 {
		t.Fatalf("records: %+v", out)
	}
	// Who sends it, and when: 队员A's community, today.
	if g := out.Groups[0]; g.Issuer != "A社区" || g.IssuerID != w.unit["A"].ID || out.Issued != "2026-03-14" {
		t.Fatalf("issuer %q (%s), issued %q", g.Issuer, g.IssuerID, out.Issued)
	}
	card := out.Groups[0].Cards[0]
	if card.Name != "队员A" || card.Minutes != 10 || card.YearMinutes != 10 || card.TargetHours != 20 || len(card.Lines) != 1 ||
		card.Lines[0].Event != "活动A" || card.Lines[0].Category != "环境整治" || card.Progress != 0 {
		t.Fatalf("card: %+v", card)
	}
	// The next quarter has the year so far and no lines.
	e.get("/api/v1/exports/service-records?quarter=2026-Q2", orgA).decode(t, &out)
	if c := out.Groups[0].Cards[0]; c.Minutes != 0 || c.YearMinutes != 10 || len(c.Lines) != 0 {
		t.Fatalf("Q2: %+v", c)
	}
	// B's organiser sees none of it; bad quarters are refused.
	e.get("/api/v1/exports/service-records?quarter=2026-Q1", orgB).decode(t, &out)
	if len(out.Groups) != 0 {
		t.Fatalf("organiser B sees %+v", out.Groups)
	}
	for _, q := range []string{"", "2026-Q5", "2026Q1", "26-Q1", "2026-Q1x"} {
		wantStatus(t, e.get("/api/v1/exports/service-records?quarter="+q, orgA), http.StatusBadRequest)
	}
	res := e.get("/api/v1/exports/service-records?quarter=2026-Q1&format=xlsx&work_unit=区税务局", orgA)
	wantStatus(t, res, http.StatusOK)
	dump := string(reporttest.DumpXLSX(t, res.body))
	for _, want := range []string{"== 区税务局", `"队员A"`, `"活动A"`, `"2026-03-13"`, `A1 title: "区税务局 2026年第1季度 在职党员服务记录卡"`,
		`"出具单位：A社区；出具日期：2026-03-14。"`, `"出具单位（盖章）"`, `"负责人签字"`, "titles '区税务局'!$1:$2", "landscape, fit to page true (1 wide, 0 tall)"} {
		if !strings.Contains(dump, want) {
			t.Fatalf("the workbook lacks %s:\n%s", want, dump)
		}
	}

	// 队员B of B社区 reports to the same employer: the administrator gets a
	// card set from each community, each sent by its own, on sheets of their own.
	ob := w.other["B"]
	ob.PartyMember, ob.OnDuty = true, &ledger.OnDuty{WorkUnit: "区税务局", ReportedAt: "2026-02-01"}
	if _, err := e.store.UpdateMember(ctx, ob); err != nil {
		t.Fatal(err)
	}
	admin := e.session(w.users["admin"])
	e.get("/api/v1/exports/service-records?quarter=2026-Q1", admin).decode(t, &out)
	if len(out.Groups) != 2 || out.Groups[0].Issuer != "A社区" || out.Groups[1].Issuer != "B社区" ||
		out.Groups[1].Cards[0].Name != "队员B" || out.Groups[1].WorkUnit != "区税务局" {
		t.Fatalf("two communities: %+v", out.Groups)
	}
	dump = string(reporttest.DumpXLSX(t, e.get("/api/v1/exports/service-records?quarter=2026-Q1&format=xlsx", admin).body))
	for _, want := range []string{"== 区税务局-A社区", "== 区税务局-B社区", "出具单位：B社区"} {
		if !strings.Contains(dump, want) {
			t.Fatalf("the workbook lacks %s:\n%s", want, dump)
		}
	}
}

func TestCertificate(t *testing.T) {
	e, w := recordsWorld(t)
	orgA, orgB := e.session(w.users["organizerA"]), e.session(w.users["organizerB"])
	body := func(from, to string) *strings.Reader {
		return jsonReader(map[string]any{"member_id": w.other["A"].ID, "from": from, "to": to})
	}
	wantStatus(t, e.do("POST", "/api/v1/certificates", body("2026-01-01", "2026-03-14"), orgB), http.StatusNotFound)
	wantStatus(t, e.do("POST", "/api/v1/certificates", body("2026-01-01", "2026-02-01"), orgA), http.StatusUnprocessableEntity)
	wantStatus(t, e.do("POST", "/api/v1/certificates", body("2026-03-14", "2026-01-01"), orgA), http.StatusBadRequest)
	wantStatus(t, e.do("POST", "/api/v1/certificates", body("2026-01-01", "2027-01-01"), orgA), http.StatusBadRequest)
	wantStatus(t, e.do("POST", "/api/v1/certificates", body("2026/01/01", "2026-03-14"), orgA), http.StatusBadRequest)
	res := e.do("POST", "/api/v1/certificates", body("2026-01-01", "2026-03-14"), orgA)
	wantStatus(t, res, http.StatusCreated)
	var cert certificateView
	res.decode(t, &cert)
	if cert.Name != "队员A" || cert.Minutes != 10 || cert.Services != 1 || cert.UnitName != "A社区" || len(cert.Lines) != 1 ||
		!strings.HasPrefix(cert.Serial, "2026-") || !strings.HasSuffix(cert.VerifyURL, "/verify/"+cert.Serial) {
		t.Fatalf("certificate %+v", cert)
	}
	wantStatus(t, e.get("/api/v1/certificates/"+cert.Serial, orgA), http.StatusOK)
	wantStatus(t, e.get("/api/v1/certificates/"+strings.ToLower(cert.Serial), orgA), http.StatusOK)
	wantStatus(t, e.get("/api/v1/certificates/"+cert.Serial, orgB), http.StatusNotFound)
	wantStatus(t, e.get("/api/v1/certificates/"+cert.Serial+"/qr.png", orgA), http.StatusOK)
	wantStatus(t, e.get("/admin/certificates/"+cert.Serial, orgB), http.StatusNotFound)
	res = e.get("/admin/certificates/"+cert.Serial, orgA)
	wantStatus(t, res, http.StatusOK)
	checkPage(t, string(res.body), "zh-CN")

	// The public page: genuine, the name masked, nothing else personal.
	res = e.get("/verify/"+cert.Serial, nil)
	wantStatus(t, res, http.StatusOK)
	html := string(res.body)
	if m := pageInline.FindString(html); m != "" || !strings.Contains(html, `<html lang="zh-CN">`) {
		t.Fatalf("verify page: inline %q", m)
	}
	for _, want := range []string{"真实有效", "队*A", cert.Serial, "0.2 小时（1 次）", "A社区", "2026-01-01 — 2026-03-14"} {
		if !strings.Contains(html, want) {
			t.Fatalf("verify page lacks %q", want)
		}
	}
	for _, never := range []string{"队员A", w.other["A"].Phone, "区税务局"} {
		if strings.Contains(html, never) {
			t.Fatalf("verify page shows %q", never)
		}
	}
	for _, serial := range []string{"2026-ZZZZZZZZ", "nonsense", strings.Repeat("9", 300)} {
		res := e.get("/verify/"+serial, nil)
		if res.StatusCode != http.StatusNotFound || !strings.Contains(string(res.body), "查无此证明") {
			t.Fatalf("verify %s: %d", serial[:min(len(serial), 20)], res.StatusCode)
		}
	}
}

// TestSheetNames: employer names become sheet names a spreadsheet takes,
// each its own, however they are written.
func TestSheetNames(t *testing.T) {
	used := map[string]bool{}
	var sheets []report.Sheet
	names := []string{"A/B", "A_B", "ABC公司", "abc公司", "'引号'", "", strings.Repeat("很长的单位名称", 8), strings.Repeat("很长的单位名称", 8) + "二"}
	for i, n := range names {
		sheets = append(sheets, report.Sheet{Name: sheetName(n, i, used), Header: []string{n}})
	}
	seen := map[string]bool{}
	for _, sh := range sheets {
		key := strings.ToLower(sh.Name)
		if seen[key] || len([]rune(sh.Name)) > 31 || strings.HasPrefix(sh.Name, "'") || strings.ContainsAny(sh.Name, `:\/?*[]`) {
			t.Fatalf("sheet name %q", sh.Name)
		}
		seen[key] = true
	}
	var buf bytes.Buffer
	if err := report.WriteXLSX(&buf, 0, sheets...); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f.GetSheetList()); got != len(names) {
		t.Fatalf("%d sheets, want %d: %v", got, len(names), f.GetSheetList())
	}
}
