package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// benchRedeem is "aixin bench redeem": kiosks redeeming distinct vouchers
// at once on a running server. It makes a shop, clerks, volunteers with
// points (a back-filled, finalised event) and their vouchers through the
// API as an administrator; start the server with AIXIN_LOGIN_LIMIT=100000 AIXIN_USER_LIMIT=1000000
// so that it may log its clerks in.
func benchRedeem(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench redeem", stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "the server")
	kiosks := fs.Int("kiosks", 50, "concurrent kiosks (clerks)")
	vouchers := fs.Int("vouchers", 2000, "vouchers to redeem")
	login := fs.String("admin", envOr(getenv, "AIXIN_ADMIN_LOGIN", "admin"), "administrator login (password: AIXIN_ADMIN_PASSWORD)")
	if err := parseArgs(fs, args, stderr, 0); err != nil {
		return err
	}
	if *kiosks < 1 || *vouchers < 1 {
		return usageError(stderr, "bench redeem", "--kiosks and --vouchers must be at least 1")
	}
	password := getenv("AIXIN_ADMIN_PASSWORD")
	if password == "" {
		return errors.New("set AIXIN_ADMIN_PASSWORD to the administrator's password")
	}
	b := &bencher{base: strings.TrimRight(*base, "/"), client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: *kiosks + 20}}}
	start := time.Now()
	admin, err := b.login(*login, password)
	if err != nil {
		return fmt.Errorf("administrator login: %w", err)
	}
	clerks, tokens, shopID, err := b.redeemSetup(admin, *kiosks, *vouchers)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "set up a shop, %d clerks and %d vouchers in %v\n", *kiosks, len(tokens), time.Since(start).Round(time.Millisecond))

	var next atomic.Int64
	lat := make([][]time.Duration, *kiosks)
	codes := make([]map[int]int, *kiosks)
	var wg sync.WaitGroup
	t0 := time.Now()
	for k := range *kiosks {
		codes[k] = map[int]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(tokens) {
					return
				}
				req, _ := http.NewRequest("POST", b.base+"/api/v1/redemptions", strings.NewReader(`{"token":"`+tokens[i]+`"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Cookie", clerks[k])
				req.Header.Set("Idempotency-Key", uuid.Must(uuid.NewV7()).String())
				s := time.Now()
				res, err := b.client.Do(req)
				lat[k] = append(lat[k], time.Since(s))
				if err != nil {
					codes[k][0]++
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				codes[k][res.StatusCode]++
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	all := slices.Concat(lat...)
	counts := map[int]int{}
	for _, m := range codes {
		for c, n := range m {
			counts[c] += n
		}
	}
	p := percentiles(all)
	fmt.Fprintf(stdout, "%d kiosks redeemed %d vouchers in %v: %.0f redemptions/s, p50 %v, p99 %v, statuses %v\n",
		*kiosks, len(all), elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds(), p[0], p[1], counts)
	var rep struct{ OK bool }
	if err := b.call(admin, "GET", "/api/v1/ledger/verify", nil, &rep); err != nil {
		return err
	}
	var items struct {
		Items []struct {
			OnHand   int `json:"on_hand"`
			Reserved int
		}
	}
	if err := b.call(admin, "GET", "/api/v1/shops/"+shopID+"/items", nil, &items); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stock left %d (reserved %d); ledger verify ok=%v\n", items.Items[0].OnHand, items.Items[0].Reserved, rep.OK)
	if counts[200] != len(tokens) || !rep.OK {
		return fmt.Errorf("%d of %d redemptions answered 200", counts[200], len(tokens))
	}
	return nil
}

// redeemSetup makes a shop with a towel in stock, volunteers with points
// (a back-filled, finalised event), vouchers of theirs, and clerks logged
// in; it answers the clerks' cookies, the vouchers' tokens and the shop.
func (b *bencher) redeemSetup(admin string, kiosks, vouchers int) ([]string, []string, string, error) {
	tag := time.Now().Format("0102-150405")
	var street, community, shop, item, event struct{ ID string }
	if err := b.call(admin, "POST", "/api/v1/units", map[string]any{"name": "兑换压测街道 " + tag, "kind": "street"}, &street); err != nil {
		return nil, nil, "", err
	}
	if err := b.call(admin, "POST", "/api/v1/units", map[string]any{"name": "压测社区", "kind": "community", "parent_id": street.ID}, &community); err != nil {
		return nil, nil, "", err
	}
	if err := b.call(admin, "POST", "/api/v1/shops", map[string]any{"name": "压测爱心超市", "kind": "love_supermarket", "unit_id": community.ID}, &shop); err != nil {
		return nil, nil, "", err
	}
	if err := b.call(admin, "POST", "/api/v1/shops/"+shop.ID+"/items", map[string]any{"name": "毛巾", "points": 10, "stock": vouchers}, &item); err != nil {
		return nil, nil, "", err
	}
	// Volunteers, two vouchers each, with 20 points from two back-filled hours.
	members := (vouchers + 1) / 2
	var csv strings.Builder
	csv.WriteString("姓名,手机号,所属社区/网格\r\n")
	phoneBase := 16600000000 + time.Now().UnixNano()%9_000_000/1000*1000
	for i := range members {
		fmt.Fprintf(&csv, "兑换%d,%d,兑换压测街道 %s/压测社区\r\n", i, phoneBase+int64(i), tag)
	}
	if err := b.upload(admin, "/api/v1/members/import", "bench.csv", csv.String()); err != nil {
		return nil, nil, "", err
	}
	ids, err := b.memberIDs(admin, community.ID)
	if err != nil {
		return nil, nil, "", err
	}
	now := time.Now()
	if err := b.call(admin, "POST", "/api/v1/events", map[string]any{"title": "兑换压测积分", "category": "其他", "unit_id": community.ID,
		"starts_at": now.Add(-4 * time.Hour), "ends_at": now.Add(-time.Hour)}, &event); err != nil {
		return nil, nil, "", err
	}
	if err := parallel(ids, 8, func(id string) error {
		return b.call(admin, "POST", "/api/v1/events/"+event.ID+"/attendance", map[string]any{"member_id": id, "action": "backfill",
			"checked_in_at": now.Add(-4 * time.Hour), "checked_out_at": now.Add(-2 * time.Hour), "reason": "压测"}, nil)
	}); err != nil {
		return nil, nil, "", err
	}
	if err := b.call(admin, "POST", "/api/v1/events/"+event.ID+"/finalize", nil, nil); err != nil {
		return nil, nil, "", err
	}
	var tokens []string
	var mu sync.Mutex
	if err := parallel(ids, 8, func(id string) error {
		for range 2 {
			var v struct{ Token string }
			if err := b.call(admin, "POST", "/api/v1/vouchers", map[string]any{"member_id": id, "shop_id": shop.ID,
				"items": []map[string]any{{"item_id": item.ID, "qty": 1}}, "presence": "proxy"}, &v); err != nil {
				return err
			}
			mu.Lock()
			tokens = append(tokens, v.Token)
			mu.Unlock()
		}
		return nil
	}); err != nil {
		return nil, nil, "", err
	}
	tokens = tokens[:vouchers]
	// Clerks.
	clerks := make([]string, kiosks)
	for i := range kiosks {
		login := fmt.Sprintf("clerk-%s-%d", tag, i)
		if err := b.call(admin, "POST", "/api/v1/users", map[string]any{"login": login, "password": "bench-clerk-pass", "role": "clerk", "shop_id": shop.ID}, nil); err != nil {
			return nil, nil, "", err
		}
		if clerks[i], err = b.login(login, "bench-clerk-pass"); err != nil {
			return nil, nil, "", err
		}
	}
	return clerks, tokens, shop.ID, nil
}

// parallel runs fn for each id, n at a time, and returns the first error.
func parallel(ids []string, n int, fn func(string) error) error {
	sem := make(chan struct{}, n)
	errs := make(chan error, len(ids))
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := fn(id); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
