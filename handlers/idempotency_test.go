package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// TestClientKeysCannotTakeServerKeys tries, as a volunteer, every key the
// server makes for its own entries — in today's form and in the form keys
// had before they had namespaces — and expects no effect: the voucher stays
// cancellable and redeemable, the event finalisable, the expiry sweep whole.
func TestClientKeysCannotTakeServerKeys(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	vol := e.session(w.users["volunteer"])
	orgA := e.session(w.users["organizerA"])
	clerk, err := e.store.CreateUser(ctx, ledger.User{Login: "clerkA", Role: ledger.RoleClerk, ShopID: w.shop["A"].ID, PasswordHash: testHash()})
	if err != nil {
		t.Fatal(err)
	}
	clerkA := e.session(clerk)
	item := w.item["A"]
	voucher := func(key string) voucherView {
		t.Helper()
		res := e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"shop_id": w.shop["A"].ID,
			"items": []map[string]any{{"item_id": item.ID, "qty": 1}}}), vol, "Idempotency-Key", key)
		wantStatus(t, res, http.StatusCreated)
		var v voucherView
		res.decode(t, &v)
		return v
	}
	plant := func(keys ...string) {
		t.Helper()
		for _, k := range keys {
			voucher(k)
		}
	}
	balance := func() balanceView {
		t.Helper()
		var b balanceView
		e.get("/api/v1/members/"+w.member["A"].ID.String()+"/balance", vol).decode(t, &b)
		return b
	}

	t.Run("Cancel", func(t *testing.T) {
		a := voucher(uuid.Must(uuid.NewV7()).String())
		id := a.ID.String()
		plant("voucher:"+id+":release", "aixin:voucher:"+id+":release", "client:"+id+":release")
		before := balance()
		res := e.do("POST", "/api/v1/vouchers/"+id+"/cancel", nil, vol)
		wantStatus(t, res, http.StatusOK)
		if after := balance(); after.Available != before.Available+a.Points || after.Held != before.Held-a.Points {
			t.Fatalf("cancel gave back %+v -> %+v", before, after)
		}
	})

	t.Run("Redeem", func(t *testing.T) {
		c := voucher("")
		id := c.ID.String()
		plant("voucher:"+id+":redeem", "aixin:voucher:"+id+":redeem")
		res := e.do("POST", "/api/v1/redemptions", jsonReader(map[string]any{"token": c.Token}), clerkA, "Idempotency-Key", "r-"+id)
		wantStatus(t, res, http.StatusOK)
	})

	t.Run("Finalise", func(t *testing.T) {
		ev := w.checkinEvent["A"]
		code := ledger.CheckinToken(ev, ledger.CheckinStep(e.clock.Now(), ledger.DefaultEventRules))
		res := e.do("POST", "/api/v1/checkins", jsonReader(map[string]any{"code": code}), vol)
		wantStatus(t, res, http.StatusOK)
		var in checkinView
		res.decode(t, &in)
		att := in.Attendance.ID.String()
		plant("attendance:"+att+":1", "aixin:attendance:"+att+":1")
		e.clock.Add(30 * time.Minute)
		code = ledger.CheckinToken(ev, ledger.CheckinStep(e.clock.Now(), ledger.DefaultEventRules))
		wantStatus(t, e.do("POST", "/api/v1/checkins", jsonReader(map[string]any{"code": code}), vol), http.StatusOK)
		res = e.do("POST", "/api/v1/events/"+ev.ID.String()+"/finalize", jsonReader(map[string]any{"confirm": true}), orgA)
		wantStatus(t, res, http.StatusOK)
		var fin ledger.FinalizeResult
		res.decode(t, &fin)
		if fin.Posted != 1 || fin.Points != 5 {
			t.Fatalf("finalise %+v", fin)
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		d := voucher("")
		id := d.ID.String()
		plant("voucher:"+id+":release", "aixin:voucher:"+id+":release")
		e.clock.Add(31 * 24 * time.Hour)
		res, err := e.store.ExpireVouchers(ctx)
		if err != nil || len(res.Failed) != 0 || res.Done == 0 {
			t.Fatalf("sweep %+v %v", res, err)
		}
		got, err := e.store.Voucher(ctx, d.ID)
		if err != nil || got.Status != ledger.VoucherExpired {
			t.Fatalf("voucher %s: %v", got.Status, err)
		}
	})
}

// TestClientKeysBelongToTheirUser: two users' equal keys never meet, and a
// key that is not printable ASCII of sane length is refused before anything.
func TestClientKeysBelongToTheirUser(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	volA := e.session(w.users["volunteer"])
	userB, err := e.store.UserByLogin(ctx, w.member["B"].Phone)
	if err != nil {
		t.Fatal(err)
	}
	volB := e.session(userB)
	issue := func(cookie *http.Cookie, c, key string, status int) voucherView {
		t.Helper()
		res := e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"shop_id": w.shop[c].ID,
			"items": []map[string]any{{"item_id": w.item[c].ID, "qty": 1}}}), cookie, "Idempotency-Key", key)
		wantStatus(t, res, status)
		var v voucherView
		if status == http.StatusCreated {
			res.decode(t, &v)
		}
		return v
	}
	a := issue(volA, "A", "same-key", http.StatusCreated)
	b := issue(volB, "B", "same-key", http.StatusCreated)
	if a.ID == b.ID || a.MemberID == b.MemberID {
		t.Fatalf("two users' vouchers met: %v %v", a.ID, b.ID)
	}
	// The same user and key again is the same voucher; with another request, a conflict.
	if again := issue(volA, "A", "same-key", http.StatusCreated); again.ID != a.ID {
		t.Fatalf("replay made %v, not %v", again.ID, a.ID)
	}
	res := e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"shop_id": w.shop["A"].ID,
		"items": []map[string]any{{"item_id": w.item["A"].ID, "qty": 2}}}), volA, "Idempotency-Key", "same-key")
	wantStatus(t, res, http.StatusConflict)

	// Two clerks with one key redeem two vouchers: each gets its own answer.
	clerks := map[string]*http.Cookie{}
	for _, c := range []string{"A", "B"} {
		u, err := e.store.CreateUser(ctx, ledger.User{Login: "clerk" + c, Role: ledger.RoleClerk, ShopID: w.shop[c].ID, PasswordHash: testHash()})
		if err != nil {
			t.Fatal(err)
		}
		clerks[c] = e.session(u)
	}
	for c, v := range map[string]voucherView{"A": a, "B": b} {
		res := e.do("POST", "/api/v1/redemptions", jsonReader(map[string]any{"token": v.Token}), clerks[c], "Idempotency-Key", "counter-1")
		wantStatus(t, res, http.StatusOK)
	}

	before, _, _ := e.store.Head(ctx)
	for name, key := range map[string]string{
		"Space": "a b", "TooLong": strings.Repeat("k", ledger.MaxClientKeyLen+1), "NotASCII": "钥匙",
	} {
		t.Run(name, func(t *testing.T) {
			res := e.do("POST", "/api/v1/vouchers", jsonReader(map[string]any{"shop_id": w.shop["A"].ID,
				"items": []map[string]any{{"item_id": w.item["A"].ID, "qty": 1}}}), volA, "Idempotency-Key", key)
			wantStatus(t, res, http.StatusBadRequest)
			if msg := res.errorBody(t)["message"]; !strings.Contains(msg.(string), "100") {
				t.Errorf("message %q does not say the limit", msg)
			}
		})
	}
	if after, _, _ := e.store.Head(ctx); after != before {
		t.Fatalf("refused keys wrote entries: head %d -> %d", before, after)
	}
}
