package handlers

import (
	"net/http"
	"strings"
	"testing"

	"aixin/ledger"
)

func TestPublicNotice(t *testing.T) {
	e, w := exportWorld(t)
	orgA, orgB := e.session(w.users["organizerA"]), e.session(w.users["organizerB"])
	page := "/notice/" + w.unit["A"].ID.String() + "?month=2026-03"
	// Off by default: nothing is public.
	if res := e.get(page, nil); res.StatusCode != http.StatusNotFound || strings.Contains(string(res.body), "志愿者A") {
		t.Fatalf("before opting in: %d", res.StatusCode)
	}
	// Only communities, only by their organisers; a refused request changes nothing.
	wantStatus(t, e.do("PATCH", "/api/v1/units/"+w.grid["A"].ID.String(), jsonReader(map[string]any{"name": "改名", "public_notice": true}), orgA), http.StatusBadRequest)
	if u, _ := e.store.Unit(ctx, w.grid["A"].ID); u.Name != "第一网格" {
		t.Fatalf("a refused patch renamed the grid to %s", u.Name)
	}
	wantStatus(t, e.do("PATCH", "/api/v1/units/"+w.unit["A"].ID.String(), jsonReader(map[string]any{"public_notice": true}), orgB), http.StatusNotFound)
	wantStatus(t, e.do("PATCH", "/api/v1/units/"+w.unit["A"].ID.String(), jsonReader(map[string]any{"public_notice": true}), orgA), http.StatusOK)

	res := e.get(page, nil)
	wantStatus(t, res, http.StatusOK)
	html := string(res.body)
	if m := pageInline.FindString(html); m != "" {
		t.Fatalf("inline %q", m)
	}
	// 志愿者A earned 1000, 队员A 1 (8 − 7): ranked, names masked; the month's chain end is printed.
	for _, want := range []string{"A社区 2026-03 积分公示", "<td>1</td><td>志**A</td>", "<td>2</td><td>队*A</td>", "1001", "本月最后一条账目 #"} {
		if !strings.Contains(html, want) {
			t.Fatalf("notice lacks %q:\n%s", want, html)
		}
	}
	for _, never := range []string{"志愿者A", "队员A", w.member["A"].Phone, "B社区"} {
		if strings.Contains(html, never) {
			t.Fatalf("notice shows %q", never)
		}
	}
	for _, bad := range []string{"/notice/" + w.unit["B"].ID.String(), "/notice/nonsense", page + "x", "/notice/" + w.unit["A"].ID.String() + "?month=2099-01"} {
		if res := e.get(bad, nil); res.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: %d", bad, res.StatusCode)
		}
	}
	// The objection period: seven days from the first day after the month, by default; whom to call: the community.
	for _, want := range []string{"公示期：2026-04-01 至 2026-04-07（7 天）。", "对公示内容有异议的，请在公示期内联系社区居委会。", `id="notice-print"`} {
		if !strings.Contains(html, want) {
			t.Fatalf("notice lacks %q", want)
		}
	}
	unitURL := "/api/v1/units/" + w.unit["A"].ID.String()
	// The community sets its own; wrong values are refused and change nothing.
	for name, body := range map[string]map[string]any{
		"NoDays":          {"notice_days": 0},
		"TooManyDays":     {"notice_days": 31},
		"DaysAsText":      {"notice_days": "7"},
		"ContactTooLong":  {"notice_contact": strings.Repeat("王", 61)},
		"ContactBidi":     {"notice_contact": "王老师‮8888"},
		"ContactTwoLines": {"notice_days": 10, "notice_contact": "王老师\n8888"},
		"WithAName":       {"notice_days": 10, "name": "改名"},
	} {
		t.Run(name, func(t *testing.T) {
			wantStatus(t, e.do("PATCH", unitURL, jsonReader(body), orgA), http.StatusBadRequest)
			if u, _ := e.store.Unit(ctx, w.unit["A"].ID); u.NoticeDays != 7 || u.NoticeContact != "" || u.Name != "A社区" {
				t.Fatalf("a refused patch changed the unit: %+v", u)
			}
		})
	}
	wantStatus(t, e.do("PATCH", unitURL, jsonReader(map[string]any{"notice_days": 10, "notice_contact": "A社区居委会 王老师 028-8888 8888"}), orgB), http.StatusNotFound)
	wantStatus(t, e.do("PATCH", "/api/v1/units/"+w.grid["A"].ID.String(), jsonReader(map[string]any{"notice_days": 10}), orgA), http.StatusBadRequest)
	var unit ledger.Unit
	e.do("PATCH", unitURL, jsonReader(map[string]any{"notice_days": 10, "notice_contact": " A社区居委会 王老师 028-8888 8888 "}), orgA).decode(t, &unit)
	if unit.NoticeDays != 10 || unit.NoticeContact != "A社区居委会 王老师 028-8888 8888" || !unit.PublicNotice {
		t.Fatalf("unit %+v", unit)
	}
	html = string(e.get(page, nil).body)
	for _, want := range []string{"公示期：2026-04-01 至 2026-04-10（10 天）。", "对公示内容有异议的，请在公示期内联系：A社区居委会 王老师 028-8888 8888"} {
		if !strings.Contains(html, want) {
			t.Fatalf("notice lacks %q", want)
		}
	}
	en := string(e.get(page+"&lang=en", nil).body)
	if !strings.Contains(en, "Objection period: 2026-04-01 to 2026-04-10 (10 days).") {
		t.Fatalf("English notice:\n%s", en)
	}
	// This month's notice says when it will be posted.
	if cur := string(e.get("/notice/"+w.unit["A"].ID.String()+"?month=2026-04", nil).body); !strings.Contains(cur, "本月结束后公示：2026-05-01 至 2026-05-10（10 天）。") {
		t.Fatalf("current month:\n%s", cur)
	}

	wantStatus(t, e.do("PATCH", unitURL, jsonReader(map[string]any{"public_notice": false}), orgA), http.StatusOK)
	wantStatus(t, e.get(page, nil), http.StatusNotFound)
	// Turned off, the settings stay for the next time.
	if u, _ := e.store.Unit(ctx, w.unit["A"].ID); u.NoticeDays != 10 || u.NoticeContact == "" {
		t.Fatalf("turning off lost the settings: %+v", u)
	}
}
