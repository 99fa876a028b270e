package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"aixin/ledger"

	"github.com/google/uuid"
)

type cardsAnswer struct {
	Cards []memberCardView `json:"cards"`
	Max   int              `json:"max"`
}

// TestMemberCards: the sheet's cards hold the name, the masked phone, the
// community and the QR's address, never the phone; by a selection or by the
// list's filters; other communities' members are not found; more than 200
// are refused with a message, and nothing else is read from a bad request.
func TestMemberCards(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	orgA := e.session(w.users["organizerA"])
	admin := e.session(w.users["admin"])

	var out cardsAnswer
	e.get("/api/v1/members/cards?unit_id="+w.unit["A"].ID.String(), orgA).decode(t, &out)
	if out.Max != 200 || len(out.Cards) != 2 {
		t.Fatalf("cards of A: %+v", out)
	}
	// By name in pinyin order: 队员A (dui) before 志愿者A (zhi).
	c := out.Cards[0]
	if c.Name != "队员A" || c.Phone != "137****0000" || c.Community != "A社区" || c.Unit != "第一网格" ||
		c.QRURL != "/api/v1/members/"+w.other["A"].ID.String()+"/card.png" || out.Cards[1].Name != "志愿者A" {
		t.Fatalf("cards %+v", out.Cards)
	}
	res := e.get("/api/v1/members/cards?unit_id="+w.unit["A"].ID.String(), orgA)
	if strings.Contains(string(res.body), w.other["A"].Phone) || strings.Contains(string(res.body), w.member["A"].Phone) {
		t.Fatalf("a full phone number on the cards: %s", res.body)
	}
	wantStatus(t, e.get(c.QRURL, orgA), http.StatusOK)

	// A selection, in any order, named twice: each card once, in list order.
	ids := w.member["A"].ID.String() + "," + w.other["A"].ID.String() + "," + w.member["A"].ID.String()
	e.get("/api/v1/members/cards?ids="+ids, orgA).decode(t, &out)
	if len(out.Cards) != 2 || out.Cards[0].Name != "队员A" {
		t.Fatalf("selection: %+v", out.Cards)
	}
	// Filters narrow as on the list.
	e.get("/api/v1/members/cards?q=志愿者", orgA).decode(t, &out)
	if len(out.Cards) != 1 || out.Cards[0].Name != "志愿者A" {
		t.Fatalf("q: %+v", out.Cards)
	}

	for name, tc := range map[string]struct {
		query  string
		status int
	}{
		"OtherCommunitysMember": {"ids=" + w.member["A"].ID.String() + "," + w.member["B"].ID.String(), http.StatusNotFound},
		"OtherCommunitysUnit":   {"unit_id=" + w.unit["B"].ID.String(), http.StatusNotFound},
		"UnknownMember":         {"ids=" + uuid.NewString(), http.StatusNotFound},
		"NotAnID":               {"ids=" + w.member["A"].ID.String() + ",abc", http.StatusBadRequest},
		"EmptyID":               {"ids=" + w.member["A"].ID.String() + ",", http.StatusBadRequest},
		"TooManyIDs":            {"ids=" + strings.Repeat(w.member["A"].ID.String()+",", 200) + w.member["A"].ID.String(), http.StatusBadRequest},
		"BadStatus":             {"status=gone", http.StatusBadRequest},
	} {
		t.Run(name, func(t *testing.T) {
			res := e.get("/api/v1/members/cards?"+tc.query, orgA)
			wantStatus(t, res, tc.status)
			if strings.Contains(string(res.body), "志愿者B") {
				t.Fatalf("B's member in %s", res.body)
			}
		})
	}

	// 200 cards are one request; 201 are refused and say so.
	for i := range 198 {
		if _, err := e.store.CreateMember(ctx, ledger.Member{Name: fmt.Sprint("居民", i), Phone: fmt.Sprintf("1590000%04d", i), UnitID: w.grid["A"].ID}, ""); err != nil {
			t.Fatal(err)
		}
	}
	e.get("/api/v1/members/cards?unit_id="+w.unit["A"].ID.String(), orgA).decode(t, &out)
	if len(out.Cards) != 200 {
		t.Fatalf("%d cards, want 200", len(out.Cards))
	}
	if _, err := e.store.CreateMember(ctx, ledger.Member{Name: "居民多一人", Phone: "15900009999", UnitID: w.grid["A"].ID}, ""); err != nil {
		t.Fatal(err)
	}
	res = e.get("/api/v1/members/cards?unit_id="+w.unit["A"].ID.String(), orgA)
	wantStatus(t, res, http.StatusBadRequest)
	if msg := res.errorBody(t)["message"]; !strings.Contains(fmt.Sprint(msg), "一次最多打印 200 张志愿者卡") {
		t.Fatalf("message %v", msg)
	}
	res = e.get("/api/v1/members/cards?lang=en", admin)
	wantStatus(t, res, http.StatusBadRequest)
	if msg := res.errorBody(t)["message"]; !strings.Contains(fmt.Sprint(msg), "At most 200 member cards") {
		t.Fatalf("message %v", msg)
	}

	// The page: for staff, in their language, with no inline script.
	page := e.get("/admin/members/cards?unit_id="+w.unit["A"].ID.String(), orgA)
	wantStatus(t, page, http.StatusOK)
	checkPage(t, string(page.body), "zh-CN")
}
