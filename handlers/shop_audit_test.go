package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/static"
)

// TestVoucherOnBehalfNeedsTheMember: an organiser's voucher for a member
// needs the member's card, the member's password, or the explicit choice of
// 代兑; every refusal writes nothing.
func TestVoucherOnBehalfNeedsTheMember(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	shopA, _, item, _, _ := shopSetup(t, e, w)
	org := e.session(w.users["organizerA"])
	member := w.member["A"] // has a password (testPassword, which staff set) and 1100 points
	// Staff set it: typing it at the organiser's screen proves nothing, even right.
	res := e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"member_id": member.ID, "shop_id": shopA.ID,
		"items": []map[string]any{{"item_id": item.ID, "qty": 1}}, "presence": "password", "member_password": testPassword}), org)
	wantStatus(t, res, http.StatusForbidden)
	if k := res.errorBody(t)["message"]; !strings.Contains(k.(string), "工作人员设置") {
		t.Fatalf("a password staff set: %v", k)
	}
	ownPassword(t, e, member)
	cardKey, err := e.store.Secret(ctx, "member-card")
	if err != nil {
		t.Fatal(err)
	}
	body := func(presence map[string]any) map[string]any {
		b := map[string]any{"member_id": member.ID, "shop_id": shopA.ID, "items": []map[string]any{{"item_id": item.ID, "qty": 1}}}
		for k, v := range presence {
			b[k] = v
		}
		return b
	}
	forged := ledger.SignCard([]byte("not the server's key"), member.ID)
	cat, err := loadCatalogue(static.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		presence map[string]any
		status   int
		key      string
		args     []any
	}{
		{"None", nil, 400, "voucher.presence_required", nil},
		{"Unknown", map[string]any{"presence": "phoned"}, 400, "voucher.presence_invalid", []any{"phoned"}},
		{"Self", map[string]any{"presence": "self"}, 400, "voucher.presence_invalid", []any{"self"}},
		{"CardMissing", map[string]any{"presence": "card"}, 400, "card.invalid", nil},
		{"ForgedCard", map[string]any{"presence": "card", "member_card": forged}, 400, "card.invalid", nil},
		{"CardOfAnother", map[string]any{"presence": "card", "member_card": ledger.SignCard(cardKey, w.other["A"].ID)}, 403, "voucher.card_other_member", nil},
		{"WrongPassword", map[string]any{"presence": "password", "member_password": "not it"}, 403, "voucher.member_password_wrong", nil},
		{"EmptyPassword", map[string]any{"presence": "password"}, 403, "voucher.member_password_wrong", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head, _, _ := e.store.Head(ctx)
			res := e.do("POST", "/api/v1/vouchers", jsonReader(body(tc.presence)), org)
			wantStatus(t, res, tc.status)
			if want := cat.T(langZH, tc.key, tc.args...); res.errorBody(t)["message"] != want {
				t.Fatalf("message %v, want %q", res.errorBody(t)["message"], want)
			}
			if h, _, _ := e.store.Head(ctx); h != head {
				t.Fatal("a refused voucher wrote an entry")
			}
		})
	}
	// (The two wrong passwords above count two of the five tries; the right
	// one below forgets them.)
	for _, tc := range []struct {
		name     string
		presence map[string]any
		want     ledger.PresenceMethod
	}{
		{"Card", map[string]any{"presence": "card", "member_card": strings.ToLower(ledger.SignCard(cardKey, member.ID))}, ledger.PresenceCard},
		{"Password", map[string]any{"presence": "password", "member_password": testPassword}, ledger.PresencePassword},
		{"Proxy", map[string]any{"presence": "proxy"}, ledger.PresenceProxy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do("POST", "/api/v1/vouchers", jsonReader(body(tc.presence)), org)
			wantStatus(t, res, http.StatusCreated)
			var v voucherView
			res.decode(t, &v)
			if v.Presence != tc.want || v.CreatedBy != w.users["organizerA"].ID || v.CreatedByName != "orgA" || v.Proxy != (tc.want == ledger.PresenceProxy) {
				t.Fatalf("voucher %+v", v)
			}
			// Recorded: the voucher says the same when read back, and in the member's list.
			var again voucherView
			e.get("/api/v1/vouchers/"+v.ID.String(), org).decode(t, &again)
			if again.Presence != tc.want || again.CreatedByName != "orgA" || again.Proxy != v.Proxy {
				t.Fatalf("read back %+v", again)
			}
		})
	}
	// A volunteer's own voucher needs none of it.
	res = e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"shop_id": shopA.ID, "items": []map[string]any{{"item_id": item.ID, "qty": 1}}}), e.session(w.users["volunteer"]))
	wantStatus(t, res, http.StatusCreated)
	var own voucherView
	res.decode(t, &own)
	if own.Presence != ledger.PresenceSelf || own.CreatedByName != "" || own.Proxy {
		t.Fatalf("own voucher %+v", own)
	}
}

// TestMemberPasswordOnTheOrganisersScreen: a wrong password and a member
// without one answer alike; tries are counted before the password is
// checked, against the member's login, which logging in shares.
func TestMemberPasswordOnTheOrganisersScreen(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	shopA, _, item, _, _ := shopSetup(t, e, w)
	org := e.session(w.users["organizerA"])
	ownPassword(t, e, w.member["A"])
	try := func(member ledger.Member, password string) response {
		return e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"member_id": member.ID, "shop_id": shopA.ID,
			"items": []map[string]any{{"item_id": item.ID, "qty": 1}}, "presence": "password", "member_password": password}), org)
	}
	// w.other["A"] has no password: the answer does not say so.
	wrong, none := try(w.member["A"], "guess"), try(w.other["A"], "guess")
	wantStatus(t, wrong, http.StatusForbidden)
	wantStatus(t, none, http.StatusForbidden)
	if string(wrong.body) != string(none.body) {
		t.Fatalf("a member without a password answers %s, a wrong one %s", none.body, wrong.body)
	}

	// Eight guesses at once, after the one above: four more pass the limit of
	// five and are checked, the other four are refused before any hash.
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = try(w.member["A"], "guess").StatusCode
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusForbidden] != 4 || count[http.StatusTooManyRequests] != 4 {
		t.Fatalf("statuses %v", count)
	}
	// Locked: the right password too, here and at the login page.
	res := try(w.member["A"], testPassword)
	wantStatus(t, res, http.StatusTooManyRequests)
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	wantStatus(t, e.do("POST", "/api/v1/login", loginBody(w.member["A"].Phone, testPassword), nil), http.StatusTooManyRequests)
	// The lock ends; the right password is taken and forgets the count.
	e.clock.Add(16 * time.Minute)
	wantStatus(t, try(w.member["A"], testPassword), http.StatusCreated)
	for range 4 {
		wantStatus(t, try(w.member["A"], "guess"), http.StatusForbidden)
	}
	wantStatus(t, try(w.member["A"], testPassword), http.StatusCreated)
}

// TestReverseRedemptionAPI: an organiser over the shop reverses a mistaken
// redemption once, with a reason; the shop's lists, the kiosk's day and the
// goods in show it.
func TestReverseRedemptionAPI(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	shopA, _, item, clerkA, _ := shopSetup(t, e, w)
	org := e.session(w.users["organizerA"])
	orgB := e.session(w.users["organizerB"])
	member := w.member["A"]
	balance := func() balanceView {
		var b balanceView
		e.get("/api/v1/members/"+member.ID.String()+"/balance", org).decode(t, &b)
		return b
	}
	res := e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"member_id": member.ID, "shop_id": shopA.ID,
		"items": []map[string]any{{"item_id": item.ID, "qty": 2}}, "presence": "proxy"}), org)
	wantStatus(t, res, http.StatusCreated)
	var v voucherView
	res.decode(t, &v)
	res = e.do("POST", "/api/v1/redemptions", jsonReader(map[string]any{"code": v.Code}), clerkA)
	wantStatus(t, res, http.StatusOK)
	before := balance()
	stockBefore, _ := e.store.Item(ctx, item.ID)
	path := "/api/v1/vouchers/" + v.ID.String() + "/reverse"

	// Out of scope: as if there were no such voucher; a clerk or a volunteer may not.
	wantStatus(t, e.do("POST", path, jsonReader(map[string]any{"reason": "扫错了"}), orgB), http.StatusNotFound)
	wantStatus(t, e.do("POST", path, jsonReader(map[string]any{"reason": "扫错了"}), clerkA), http.StatusForbidden)
	wantStatus(t, e.do("POST", path, jsonReader(map[string]any{"reason": "扫错了"}), e.session(w.users["volunteer"])), http.StatusForbidden)
	wantStatus(t, e.do("POST", path, jsonReader(map[string]any{}), org), http.StatusBadRequest)
	wantStatus(t, e.do("POST", path, jsonReader(map[string]any{"reason": "扫错了", "points": 1}), org), http.StatusBadRequest)
	wantStatus(t, e.do("POST", "/api/v1/vouchers/not-an-id/reverse", jsonReader(map[string]any{"reason": "扫错了"}), org), http.StatusNotFound)
	if b := balance(); b != before {
		t.Fatalf("a refused reversal moved points: %+v", b)
	}

	e.clock.Add(time.Hour)
	res = e.do("POST", path, jsonReader(map[string]any{"reason": "扫错了券"}), org, "Idempotency-Key", "0193a000-0000-7000-8000-00000000aaaa")
	wantStatus(t, res, http.StatusOK)
	var rv voucherView
	res.decode(t, &rv)
	if rv.Status != ledger.VoucherReversed || rv.ReversedByName != "orgA" || rv.ReverseReason != "扫错了券" || rv.RedeemedByName != "clerkA" || !rv.Proxy {
		t.Fatalf("reversed %+v", rv)
	}
	if b := balance(); b.Available != before.Available+60 || b.Points != before.Points+60 || b.Held != before.Held {
		t.Fatalf("balance %+v, before %+v", b, before)
	}
	if it, _ := e.store.Item(ctx, item.ID); it.OnHand != stockBefore.OnHand+2 {
		t.Fatalf("stock %d, before %d", it.OnHand, stockBefore.OnHand)
	}
	// The lost answer's retry: the first answer. Another try: 409, when and by whom.
	res = e.do("POST", path, jsonReader(map[string]any{"reason": "扫错了券"}), org, "Idempotency-Key", "0193a000-0000-7000-8000-00000000aaaa")
	wantStatus(t, res, http.StatusOK)
	res = e.do("POST", path, jsonReader(map[string]any{"reason": "再撤一次"}), e.session(w.users["admin"]))
	wantStatus(t, res, http.StatusConflict)
	eb := res.errorBody(t)
	when := rv.ReversedAt.In(e.store.Location()).Format("2006-01-02 15:04")
	if msg, _ := eb["message"].(string); !strings.Contains(msg, when) || !strings.Contains(msg, "orgA") || eb["reversed_by"] != "orgA" {
		t.Fatalf("second reversal %v", eb)
	}

	// The shop's list of the day: the redemption (reversed) and its reversal, net zero.
	day := e.clock.Now().In(e.store.Location()).Format("2006-01-02")
	var page redemptionsPage
	res = e.get("/api/v1/shops/"+shopA.ID.String()+"/redemptions?day="+day, org)
	wantStatus(t, res, http.StatusOK)
	res.decode(t, &page)
	if page.Period != day || len(page.Redemptions) != 2 || page.TotalPoints != 0 || page.Redeemed != 1 || page.Reversed != 1 {
		t.Fatalf("day %+v", page)
	}
	rev, red := page.Redemptions[0], page.Redemptions[1]
	if rev.Kind != ledger.KindReverse || rev.Points != -60 || rev.ReversedByName != "orgA" || rev.Reason != "扫错了券" ||
		red.Kind != ledger.KindRedeem || red.Points != 60 || red.Status != ledger.VoucherReversed || red.RedeemedByName != "clerkA" ||
		red.MemberName != ledger.MaskName(member.Name) || !red.Proxy || red.CreatedByName != "orgA" || red.Presence != ledger.PresenceProxy {
		t.Fatalf("lines %+v", page.Redemptions)
	}
	e.get("/api/v1/shops/"+shopA.ID.String()+"/redemptions?month="+day[:7], org).decode(t, &page)
	if len(page.Redemptions) != 2 || page.Period != day[:7] {
		t.Fatalf("month %+v", page)
	}
	e.get("/api/v1/shops/"+shopA.ID.String()+"/redemptions?month="+day[:7]+"&limit=1", org).decode(t, &page)
	if len(page.Redemptions) != 1 || page.NextBefore == 0 || page.Redeemed != 1 || page.Reversed != 1 {
		t.Fatalf("first page %+v", page)
	}
	next := page.NextBefore
	page = redemptionsPage{} // next_before is left out on the last page
	e.get("/api/v1/shops/"+shopA.ID.String()+"/redemptions?month="+day[:7]+"&limit=1&before="+strconv.FormatUint(next, 10), org).decode(t, &page)
	if len(page.Redemptions) != 1 || page.Redemptions[0].Kind != ledger.KindRedeem || page.NextBefore != 0 {
		t.Fatalf("second page %+v", page)
	}
	// The kiosk's day says the same.
	var today redemptionsPage
	e.get("/api/v1/redemptions/today", clerkA).decode(t, &today)
	if len(today.Redemptions) != 2 || today.TotalPoints != 0 || today.Reversed != 1 {
		t.Fatalf("today %+v", today)
	}
	// Goods in: the opening intake and the reversal's two back, with the reason.
	var moves struct {
		Month string          `json:"month"`
		Moves []stockMoveView `json:"moves"`
		In    int             `json:"intake_qty"`
	}
	e.get("/api/v1/shops/"+shopA.ID.String()+"/stock-moves?month="+day[:7], org).decode(t, &moves)
	if len(moves.Moves) != 2 || moves.In != 5 || moves.Moves[1].Kind != ledger.StockReversal || moves.Moves[1].Qty != 2 ||
		moves.Moves[1].Note != "扫错了券" || moves.Moves[1].ItemName != "大米" || moves.Moves[1].ByName != "orgA" {
		t.Fatalf("moves %+v", moves)
	}
	// Other communities' shops do not exist for the organiser; bad periods are refused.
	wantStatus(t, e.get("/api/v1/shops/"+shopA.ID.String()+"/redemptions", orgB), http.StatusNotFound)
	wantStatus(t, e.get("/api/v1/shops/"+shopA.ID.String()+"/stock-moves", orgB), http.StatusNotFound)
	for _, q := range []string{"day=" + day + "&month=" + day[:7], "day=2026-02-30", "month=2026-13", "limit=0", "limit=501", "before=x", "week=1", "day=1&day=2"} {
		if res := e.get("/api/v1/shops/"+shopA.ID.String()+"/redemptions?"+q, org); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("?%s: %d %s", q, res.StatusCode, res.body)
		}
	}
	wantStatus(t, e.get("/api/v1/shops/"+shopA.ID.String()+"/stock-moves?month=11", org), http.StatusBadRequest)
}

func TestParsePeriod(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC) // 1 December, 00:30 in Shanghai
	for _, tc := range []struct {
		q, name, from, to string
	}{
		{"", "2026-12", "2026-12-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00"},
		{"month=2026-11", "2026-11", "2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00"},
		{"day=2026-11-30", "2026-11-30", "2026-11-30T00:00:00+08:00", "2026-12-01T00:00:00+08:00"},
		{"day=&month=2026-02", "2026-02", "2026-02-01T00:00:00+08:00", "2026-03-01T00:00:00+08:00"},
	} {
		q, _ := url.ParseQuery(tc.q)
		from, to, name, err := parsePeriod(q, now, loc)
		if err != nil || name != tc.name || from.Format(time.RFC3339) != tc.from || to.Format(time.RFC3339) != tc.to {
			t.Fatalf("%q: %v %v %q %v", tc.q, from, to, name, err)
		}
	}
	for _, bad := range []string{"day=2026-11-30&month=2026-11", "month=2026-11&month=2026-12", "day=30.11.2026", "month=202611"} {
		q, _ := url.ParseQuery(bad)
		if _, _, _, err := parsePeriod(q, now, loc); ledger.ErrorCode(err) != ledger.EINVALID {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}

func FuzzParsePeriod(f *testing.F) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC)
	for _, s := range []string{"", "day=2026-11-30", "month=2026-11", "day=2026-11-30&month=2026-11", "month=0000-00", "day=9999-12-31", "day=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		from, to, name, err := parsePeriod(q, now, loc)
		if err != nil {
			if ledger.ErrorCode(err) != ledger.EINVALID {
				t.Fatalf("%q: %v", raw, err)
			}
			return
		}
		if !to.After(from) || to.Sub(from) > 32*24*time.Hour || (name != q.Get("day") && name != q.Get("month") && name != "2026-12") {
			t.Fatalf("%q: %v %v %q", raw, from, to, name)
		}
	})
}

// TestExportReconcilesAcrossAReversal: a redemption of March reversed in
// April; the monthly export of both months, over everything (so that the
// escrow and shop cross-checks apply) and for one community, passes every
// check, and April's shop row is a negative redemption.
func TestExportReconcilesAcrossAReversal(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	shopA, _, item, clerkA, _ := shopSetup(t, e, w)
	org := e.session(w.users["organizerA"])
	admin := e.session(w.users["admin"])
	res := e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"member_id": w.member["A"].ID, "shop_id": shopA.ID,
		"items": []map[string]any{{"item_id": item.ID, "qty": 1}}, "presence": "proxy"}), org)
	wantStatus(t, res, http.StatusCreated)
	var v voucherView
	res.decode(t, &v)
	wantStatus(t, e.do("POST", "/api/v1/redemptions", jsonReader(map[string]any{"code": v.Code}), clerkA), http.StatusOK)
	e.clock.Add(20 * 24 * time.Hour) // from 14 March into April
	org, admin = e.session(w.users["organizerA"]), e.session(w.users["admin"])
	wantStatus(t, e.do("POST", "/api/v1/vouchers/"+v.ID.String()+"/reverse", jsonReader(map[string]any{"reason": "扫错了券"}), org), http.StatusOK)
	for _, month := range []string{"2026-03", "2026-04"} {
		for _, who := range []*http.Cookie{admin, org} {
			var got struct {
				Reconciles bool               `json:"reconciles"`
				Notes      []string           `json:"notes"`
				Totals     ledger.MemberMonth `json:"totals"`
			}
			res := e.get("/api/v1/exports/monthly?format=json&by=shop&month="+month, who)
			wantStatus(t, res, http.StatusOK)
			res.decode(t, &got)
			if !got.Reconciles {
				t.Fatalf("%s: the export does not reconcile: %v", month, got.Notes)
			}
			want := ledger.Points(30)
			if month == "2026-04" {
				want = -30
			}
			if got.Totals.Redeemed != want {
				t.Fatalf("%s: redeemed %d, want %d (%+v)", month, got.Totals.Redeemed, want, got.Totals)
			}
		}
	}
}

// ownPassword makes the member's password (testPassword) their own, as
// changing it on their phone does.
func ownPassword(t *testing.T, e *env, m ledger.Member) {
	t.Helper()
	u, err := e.store.UserByLogin(ctx, m.Phone)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetOwnPassword(ctx, u.ID, testHash()); err != nil {
		t.Fatal(err)
	}
}
