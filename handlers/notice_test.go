package handlers

import (
	"net/http"
	"strings"
	"testing"
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
	wantStatus(t, e.do("PATCH", "/api/v1/units/"+w.unit["A"].ID.String(), jsonReader(map[string]any{"public_notice": false}), orgA), http.StatusOK)
	wantStatus(t, e.get(page, nil), http.StatusNotFound)
}
