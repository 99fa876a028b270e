package handlers

import (
	"net/http"
	"strings"
	"testing"

	"aixin/ledger"

	"github.com/google/uuid"
)

// shopPageWorld is pageWorld with a shop of community A with one item, a
// clerk of the shop (login "clerk-a"), and an open voucher of A's member.
type shopPageWorld struct {
	pageWorld
	shop    ledger.Shop
	voucher ledger.Voucher
	clerk   ledger.User
	// The pages of each audience.
	kiosk, volunteer, organiser []string
}

func newShopPageWorld(t *testing.T, e *env) shopPageWorld {
	t.Helper()
	w := shopPageWorld{pageWorld: newPageWorld(t, e)}
	if !e.hasRoute("GET", "/kiosk") {
		t.Skip("shopPageRoutes is not registered in routes() yet")
	}
	var err error
	if w.shop, err = e.store.CreateShop(ctx, ledger.Shop{Name: "和平爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: w.a.ID}); err != nil {
		t.Fatal(err)
	}
	item, err := e.store.CreateItem(ctx, ledger.Item{ShopID: w.shop.ID, Name: "大米", Points: 20, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = e.store.MoveStock(ctx, ledger.StockMove{ItemID: item.ID, Kind: ledger.StockIntake, Qty: 10, Donor: "共建单位"}); err != nil {
		t.Fatal(err)
	}
	iss := ledger.IssuerAccount(w.a.ID)
	e.store.OpenAccount(ctx, iss)
	if _, err = e.store.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(w.member.ID), Amount: 100, Kind: ledger.KindEarn}); err != nil {
		t.Fatal(err)
	}
	if w.voucher, err = e.store.IssueVoucher(ctx, w.member.ID, w.shop.ID, []ledger.VoucherRequestLine{{ItemID: item.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, ""); err != nil {
		t.Fatal(err)
	}
	if w.clerk, err = e.store.CreateUser(ctx, ledger.User{Login: "clerk-a", Role: ledger.RoleClerk, ShopID: w.shop.ID, PasswordHash: testHash()}); err != nil {
		t.Fatal(err)
	}
	v := w.voucher.ID.String()
	w.kiosk = []string{"/kiosk"}
	w.volunteer = []string{"/m/shop", "/m/vouchers", "/m/vouchers/" + v}
	w.organiser = []string{"/admin/shops", "/admin/shops/" + w.shop.ID.String(), "/admin/vouchers/" + v + "/slip"}
	return w
}

// hasRoute says whether the router has method path.
func (e *env) hasRoute(method, path string) bool {
	for _, r := range e.echo.Routes() {
		if r.Method == method && r.Path == path {
			return true
		}
	}
	return false
}

func (w shopPageWorld) all() []string {
	return append(append(append([]string{}, w.kiosk...), w.volunteer...), w.organiser...)
}

func TestShopPagesSendAnonymousToLogin(t *testing.T) {
	e := newEnv(t)
	w := newShopPageWorld(t, e)
	wantLoginRedirects(t, e, w.all())
}

func TestShopPagesByRole(t *testing.T) {
	e := newEnv(t)
	w := newShopPageWorld(t, e)
	cookies := map[string]*http.Cookie{
		"admin": e.login("admin"), "org-a": e.login("org-a"), "clerk-a": e.login("clerk-a"), "volunteer": e.login(w.memberLogin),
	}
	want := func(who, p string) int {
		switch {
		case strings.HasPrefix(p, "/kiosk"):
			return map[bool]int{true: 200, false: 403}[who == "clerk-a"]
		case strings.HasPrefix(p, "/m/"):
			return map[bool]int{true: 200, false: 403}[who == "volunteer"]
		}
		return map[bool]int{true: 200, false: 403}[who == "admin" || who == "org-a"]
	}
	for who, ck := range cookies {
		for _, p := range w.all() {
			t.Run(who+p, func(t *testing.T) {
				res := e.get(p, ck)
				wantStatus(t, res, want(who, p))
				if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
					t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
				}
			})
		}
	}
}

// TestShopPagesScope checks that a shop or voucher the caller may not see
// gets the 404 page, as one that does not exist.
func TestShopPagesScope(t *testing.T) {
	e := newEnv(t)
	w := newShopPageWorld(t, e)
	orgB := e.login("org-b")
	other, err := e.store.CreateMember(ctx, ledger.Member{Name: "李四", Phone: "13912345678", UnitID: w.a.ID}, testHash())
	if err != nil {
		t.Fatal(err)
	}
	otherVol := e.login(other.Phone)
	v := w.voucher.ID.String()
	for _, tt := range []struct {
		name, path string
		cookie     *http.Cookie
	}{
		{"OtherCommunityShop", "/admin/shops/" + w.shop.ID.String(), orgB},
		{"OtherCommunitySlip", "/admin/vouchers/" + v + "/slip", orgB},
		{"OtherMembersVoucher", "/m/vouchers/" + v, otherVol},
		{"NoSuchShop", "/admin/shops/" + uuid.NewString(), e.login("org-a")},
		{"NotAUUID", "/admin/shops/xyz", e.login("org-a")},
		{"NoSuchVoucher", "/m/vouchers/" + uuid.NewString(), otherVol},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.get(tt.path, tt.cookie)
			wantStatus(t, res, http.StatusNotFound)
			if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
			}
		})
	}
}

// TestShopPagesFollowTheCSP checks the shop pages as TestPagesFollowTheCSP
// checks the others.
func TestShopPagesFollowTheCSP(t *testing.T) {
	e := newEnv(t)
	w := newShopPageWorld(t, e)
	who := map[string]*http.Cookie{}
	for _, p := range w.kiosk {
		who[p] = e.login("clerk-a")
	}
	vol := e.login(w.memberLogin)
	for _, p := range w.volunteer {
		who[p] = vol
	}
	org := e.login("org-a")
	for _, p := range w.organiser {
		who[p] = org
	}
	for p, ck := range who {
		for _, lang := range []string{langZH, langEN} {
			t.Run(p+"/"+lang, func(t *testing.T) {
				res := e.get(p+"?lang="+lang, ck)
				wantStatus(t, res, http.StatusOK)
				if res.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
				}
				body := string(res.body)
				msgs := checkPage(t, body, lang)
				if msgs["js.shop.status.open"] != e.catalogue().T(lang, "js.shop.status.open") {
					t.Errorf("#messages lacks the shop messages in %s", lang)
				}
			})
		}
	}
}

// TestShopPagesNavigation checks the new entries of the organiser's
// navigation and the volunteer's tab bar, and the pages' own data.
func TestShopPagesNavigation(t *testing.T) {
	e := newEnv(t)
	w := newShopPageWorld(t, e)
	admin := e.get("/admin/events?lang=zh-CN", e.login("org-a"))
	wantStatus(t, admin, 200)
	if !strings.Contains(string(admin.body), `href="/admin/shops?lang=zh-CN"`) || !strings.Contains(string(admin.body), ">兑换点<") {
		t.Error("the organiser's navigation lacks 兑换点")
	}
	home := e.get("/m/?lang=zh-CN", e.login(w.memberLogin))
	wantStatus(t, home, 200)
	for _, s := range []string{`href="/m/shop?lang=zh-CN"`, `<span class="label">兑换</span></a>`, `href="/m/vouchers?lang=zh-CN"`, `<span class="label">我的兑换券</span></a>`} {
		if !strings.Contains(string(home.body), s) {
			t.Errorf("the volunteer's tab bar lacks %s", s)
		}
	}
	shop := e.get("/admin/shops/"+w.shop.ID.String(), e.login("org-a"))
	if !strings.Contains(string(shop.body), `data-shop-id="`+w.shop.ID.String()+`"`) || !strings.Contains(string(shop.body), "和平爱心超市") {
		t.Error("the shop page lacks its shop")
	}
	kiosk := e.get("/kiosk", e.login("clerk-a"))
	if !strings.Contains(string(kiosk.body), `data-shop-id="`+w.shop.ID.String()+`"`) {
		t.Error("the kiosk lacks the clerk's shop")
	}
	for paper, class := range map[string]string{"": "paper-a4", "a5": "paper-a5", "58mm": "paper-58mm", "x": "paper-a4"} {
		slip := e.get("/admin/vouchers/"+w.voucher.ID.String()+"/slip?paper="+paper, e.login("org-a"))
		wantStatus(t, slip, 200)
		if !strings.Contains(string(slip.body), `class="slip-page `+class+`"`) {
			t.Errorf("paper %q: the slip is not laid out for %s", paper, class)
		}
	}
}
