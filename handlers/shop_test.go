package handlers

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"aixin/ledger"

	"github.com/google/uuid"
)

// shopSetup adds a shop of community A with an item, a clerk of it, a shop
// of B with its clerk, and points for A's volunteer.
func shopSetup(t *testing.T, e *env, w *world) (shopA, shopB ledger.Shop, item ledger.Item, clerkA, clerkB *http.Cookie) {
	t.Helper()
	var err error
	if shopA, err = e.store.CreateShop(ctx, ledger.Shop{Name: "A爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: w.unit["A"].ID, RedeemScope: ledger.RedeemCommunity}); err != nil {
		t.Fatal(err)
	}
	if shopB, err = e.store.CreateShop(ctx, ledger.Shop{Name: "B文明银行", Kind: ledger.ShopCivilityBank, UnitID: w.unit["B"].ID}); err != nil {
		t.Fatal(err)
	}
	if item, err = e.store.CreateItem(ctx, ledger.Item{ShopID: shopA.ID, Name: "大米", Points: 30, Active: true}); err != nil {
		t.Fatal(err)
	}
	if item, err = e.store.MoveStock(ctx, ledger.StockMove{ItemID: item.ID, Kind: ledger.StockIntake, Qty: 5}); err != nil {
		t.Fatal(err)
	}
	ca, _ := e.store.CreateUser(ctx, ledger.User{Login: "clerkA", Role: ledger.RoleClerk, ShopID: shopA.ID, PasswordHash: testHash()})
	cb, _ := e.store.CreateUser(ctx, ledger.User{Login: "clerkB", Role: ledger.RoleClerk, ShopID: shopB.ID, PasswordHash: testHash()})
	iss := ledger.IssuerAccount(w.unit["A"].ID)
	e.store.OpenAccount(ctx, iss)
	if _, err := e.store.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(w.member["A"].ID), Amount: 100, Kind: ledger.KindEarn}); err != nil {
		t.Fatal(err)
	}
	return shopA, shopB, item, e.session(ca), e.session(cb)
}

func TestVoucherAtTheCounter(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	shopA, shopB, item, clerkA, clerkB := shopSetup(t, e, w)
	vol := e.session(w.users["volunteer"])
	orgB := e.session(w.users["organizerB"])

	// The volunteer sees every shop: all four take their street's or their community's members.
	var shops map[string][]shopView
	e.get("/api/v1/shops", vol).decode(t, &shops)
	if len(shops["shops"]) != 4 {
		t.Fatalf("volunteer sees %d shops", len(shops["shops"]))
	}
	res := e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"shop_id": shopA.ID, "items": []map[string]any{{"item_id": item.ID, "qty": 2}}}), vol)
	wantStatus(t, res, http.StatusCreated)
	var v voucherView
	res.decode(t, &v)
	if v.Points != 60 || len(v.Code) != 10 || v.Token == "" || v.MemberName != "志**A" {
		t.Fatalf("voucher %+v", v)
	}
	var bal balanceView
	e.get("/api/v1/members/"+w.member["A"].ID.String()+"/balance", vol).decode(t, &bal)
	// The world gave 1,000 points and a voucher of 10; shopSetup 100 more.
	if bal.Points != 1100 || bal.Held != 70 || bal.Available != 1030 {
		t.Fatalf("balance %+v", bal)
	}
	// Another community's organiser cannot see or cancel it.
	wantStatus(t, e.get("/api/v1/vouchers/"+v.ID.String(), orgB), http.StatusNotFound)
	wantStatus(t, e.do("POST", "/api/v1/vouchers/"+v.ID.String()+"/cancel", nil, orgB), http.StatusNotFound)
	wantStatus(t, e.get("/api/v1/vouchers/"+v.ID.String()+"/qr.png", vol), http.StatusOK)

	redeem := func(cookie *http.Cookie, body map[string]any, key string, status int) response {
		t.Helper()
		res := e.do("POST", "/api/v1/redemptions", jsonReader(body), cookie, "Idempotency-Key", key)
		wantStatus(t, res, status)
		return res
	}
	raw, _ := ledger.Crockford.DecodeString(v.Token[4:])
	raw[len(raw)-1] ^= 1
	redeem(clerkA, map[string]any{"token": "AXV1" + ledger.Crockford.EncodeToString(raw)}, "k0", http.StatusBadRequest)
	redeem(clerkB, map[string]any{"token": v.Token}, "k1", http.StatusConflict) // another shop
	wantStatus(t, e.get("/api/v1/redemptions/preview?token="+v.Token, clerkA), http.StatusOK)
	wantStatus(t, e.get("/api/v1/redemptions/preview?token="+v.Token, vol), http.StatusForbidden)
	first := redeem(clerkA, map[string]any{"token": v.Token}, "k2", http.StatusOK)
	again := redeem(clerkA, map[string]any{"token": v.Token}, "k2", http.StatusOK) // the same key: the first answer
	if string(first.body) != string(again.body) {
		t.Fatalf("replay differs:\n%s\n%s", first.body, again.body)
	}
	second := redeem(clerkA, map[string]any{"code": v.Code}, "k3", http.StatusConflict)
	if eb := second.errorBody(t); eb["shop"] != "A爱心超市" || eb["redeemed_at"] == nil {
		t.Fatalf("second redemption %v", eb)
	}
	var today map[string]any
	e.get("/api/v1/redemptions/today", clerkA).decode(t, &today)
	if today["total_points"].(float64) != 60 {
		t.Fatalf("today %v", today)
	}
	it, _ := e.store.Item(ctx, item.ID)
	if it.OnHand != 3 || it.Reserved != 0 {
		t.Fatalf("stock %+v", it)
	}
	// Typed codes: a wrong check character is refused before any lookup;
	// guessing is limited per kiosk.
	bad := []byte(v.Code)
	bad[3] = map[bool]byte{true: '2', false: '3'}[bad[3] != '2']
	for i := range 12 {
		res := e.get("/api/v1/redemptions/preview?code="+string(bad), clerkB)
		if i < 10 && res.StatusCode != http.StatusBadRequest {
			t.Fatalf("guess %d: %d", i, res.StatusCode)
		}
		if i >= 10 && res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("guess %d was not limited: %d", i, res.StatusCode)
		}
	}
	// A clerk bound to a shop by an organiser of its community.
	orgA := e.session(w.users["organizerA"])
	wantStatus(t, e.do("POST", "/api/v1/users", jsonReader(map[string]any{"login": "clerkA2", "password": testPassword, "role": "clerk", "shop_id": shopA.ID}), orgA), http.StatusCreated)
	var staff usersPage
	e.get("/api/v1/users", orgA).decode(t, &staff)
	found := false
	for _, u := range staff.Users {
		found = found || (u.Login == "clerkA2" && u.ShopName == shopA.Name)
		if u.ShopID == shopB.ID {
			t.Fatalf("organiser A sees B's clerk %s", u.Login)
		}
	}
	if !found {
		t.Fatalf("organiser A does not see the clerk of A's shop: %+v", staff.Users)
	}
	wantStatus(t, e.do("POST", "/api/v1/users", jsonReader(map[string]any{"login": "clerkB2", "password": testPassword, "role": "clerk", "shop_id": shopB.ID}), orgA), http.StatusNotFound)
	wantStatus(t, e.do("POST", "/api/v1/users", jsonReader(map[string]any{"login": "clerkX", "password": testPassword, "role": "clerk", "shop_id": uuid.New()}), orgA), http.StatusNotFound)
}

func TestItemPicture(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	orgA, orgB, vol := e.session(w.users["organizerA"]), e.session(w.users["organizerB"]), e.session(w.users["volunteer"])
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	path := "/api/v1/items/" + w.item["A"].ID.String() + "/picture"
	wantStatus(t, e.get(path, vol), http.StatusNotFound) // none yet
	wantStatus(t, e.do("POST", path+"?filename=a.png", bytesReader(png), orgB, "Content-Type", "image/png"), http.StatusNotFound)
	wantStatus(t, e.do("POST", path+"?filename=a.txt", bytesReader([]byte("=cmd|' /C calc'!A0")), orgA, "Content-Type", "image/png"), http.StatusBadRequest)
	wantStatus(t, e.do("POST", path+"?filename=big.png", bytesReader(append(png, make([]byte, 600<<10)...)), orgA, "Content-Type", "image/png"), http.StatusBadRequest)
	wantStatus(t, e.do("POST", path+"?filename=a.png", bytesReader(png), orgA, "Content-Type", "image/png"), http.StatusNoContent)
	res := e.get(path, vol)
	wantStatus(t, res, http.StatusOK)
	if res.Header.Get("Content-Type") != "image/png" || string(res.body) != string(png) {
		t.Fatalf("picture %s %q", res.Header.Get("Content-Type"), res.body)
	}
	// The catalogue names the picture by its bytes: a new picture gets a
	// new address (so no cache shows the old one), an edit keeps it.
	pictureURL := func() string {
		var out struct{ Items []itemView }
		e.get("/api/v1/shops/"+w.shop["A"].ID.String()+"/items", vol).decode(t, &out)
		for _, it := range out.Items {
			if it.ID == w.item["A"].ID {
				return it.PictureURL
			}
		}
		t.Fatal("item not listed")
		return ""
	}
	first := pictureURL()
	if !strings.HasPrefix(first, path+"?v=") {
		t.Fatalf("picture_url %q", first)
	}
	wantStatus(t, e.get(first, vol), http.StatusOK)
	png2 := append(bytes.Clone(png), 0)
	wantStatus(t, e.do("POST", path+"?filename=b.png", bytesReader(png2), orgA, "Content-Type", "image/png"), http.StatusNoContent)
	second := pictureURL()
	if second == first || second == "" {
		t.Fatalf("picture_url did not change: %q", second)
	}
	wantStatus(t, e.do("PATCH", "/api/v1/items/"+w.item["A"].ID.String(), jsonReader(map[string]any{"name": "新毛巾"}), orgA), http.StatusOK)
	if got := pictureURL(); got != second {
		t.Fatalf("an edit changed picture_url: %q → %q", second, got)
	}
}

func bytesReader(b []byte) *strings.Reader { return strings.NewReader(string(b)) }

func TestUpdateItem(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	orgA, orgB := e.session(w.users["organizerA"]), e.session(w.users["organizerB"])
	path := "/api/v1/items/" + w.item["A"].ID.String()
	wantStatus(t, e.do("PATCH", path, jsonReader(map[string]any{"active": false}), orgB), http.StatusNotFound)
	wantStatus(t, e.do("PATCH", path, jsonReader(map[string]any{"points": 0}), orgA), http.StatusBadRequest)
	res := e.do("PATCH", path, jsonReader(map[string]any{"points": 12, "active": false}), orgA)
	wantStatus(t, res, http.StatusOK)
	var it itemView
	res.decode(t, &it)
	if it.Points != 12 || it.Active || it.Name != "毛巾" || it.OnHand != 1000 {
		t.Fatalf("item %+v", it)
	}
	// Off sale: no new vouchers; the open one keeps its price.
	vol := e.session(w.users["volunteer"])
	wantStatus(t, e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"shop_id": w.shop["A"].ID, "items": []map[string]any{{"item_id": w.item["A"].ID, "qty": 1}}}), vol), http.StatusConflict)
	if v, _ := e.store.Voucher(ctx, w.voucher["A"].ID); v.Points != 10 {
		t.Fatalf("the open voucher's price changed: %d", v.Points)
	}
}

// TestTakenThisMonth: a volunteer sees how much of a limited item this
// month's vouchers already hold; staff do not get the field.
func TestTakenThisMonth(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	orgA, vol := e.session(w.users["organizerA"]), e.session(w.users["volunteer"])
	wantStatus(t, e.do("PATCH", "/api/v1/items/"+w.item["A"].ID.String(), jsonReader(map[string]any{"monthly_limit": 2}), orgA), http.StatusOK)
	list := func(c *http.Cookie) itemView {
		var out struct{ Items []itemView }
		e.get("/api/v1/shops/"+w.shop["A"].ID.String()+"/items", c).decode(t, &out)
		return out.Items[0]
	}
	if it := list(vol); it.TakenThisMonth == nil || *it.TakenThisMonth != 1 {
		t.Fatalf("volunteer: %+v", it.TakenThisMonth)
	}
	if it := list(orgA); it.TakenThisMonth != nil {
		t.Fatalf("organiser got taken_this_month %d", *it.TakenThisMonth)
	}
	// The last one allowed, then the limit.
	wantStatus(t, e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"shop_id": w.shop["A"].ID, "items": []map[string]any{{"item_id": w.item["A"].ID, "qty": 1}}}), vol), http.StatusCreated)
	if it := list(vol); *it.TakenThisMonth != 2 {
		t.Fatalf("after a second: %d", *it.TakenThisMonth)
	}
}
