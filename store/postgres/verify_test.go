package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/postgres"
	"aixin/store/storetest"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TestVerifyCatchesDerivedTampering changes the monthly redemption and
// service rows behind the engine's back, one way at a time, on a store
// with a redemption and a correction posted in a later month, and expects
// Verify, which rebuilds those rows from the journal, to notice each.
func TestVerifyCatchesDerivedTampering(t *testing.T) {
	tampers := []struct {
		name, sql, kind string
	}{
		{"Redeemed", `UPDATE redeemed_months SET points = points + 1`, "redeemed_month"},
		{"RedeemedDeleted", `DELETE FROM redeemed_months`, "redeemed_month"},
		{"ShopVouchers", `UPDATE shop_months SET vouchers = vouchers + 1`, "shop_month"},
		{"ShopLastSeq", `UPDATE shop_months SET last_seq = last_seq - 1`, "shop_month"},
		{"ShopItem", `UPDATE shop_item_months SET qty = qty + 1 WHERE ctid IN (SELECT ctid FROM shop_item_months LIMIT 1)`, "shop_item_month"},
		{"EventMinutes", `UPDATE month_events SET minutes = minutes + 1 WHERE minutes < 0`, "month_event"},
		{"EventMinutesAdded", `INSERT INTO month_events (month, event, minutes) VALUES (202601, gen_random_uuid(), 60)`, "month_event"},
		{"LateDeleted", `DELETE FROM month_late`, "month_late"},
		{"LateTime", `UPDATE month_late SET at = at + 1`, "month_late"},
		{"EventCountTotal", `UPDATE event_counts SET total = total + 1`, "event_counts"},
		{"EventCountOpen", `UPDATE event_counts SET open = open + 1`, "event_counts"},
		{"EventCountDeleted", `DELETE FROM event_counts`, "event_counts"},
	}
	for _, tc := range tampers {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			var url string
			var s *postgres.Store
			open := func(t *testing.T, clock func() time.Time) *postgres.Store {
				s, url = openTest(t, postgres.Options{Now: clock})
				return s
			}
			if strings.HasPrefix(tc.kind, "month_") || tc.kind == "event_counts" {
				// Service of 21 November, corrected on 2 December: late service.
				_, clock, _, e, ms := storetest.NewEventWorld(t, func(t *testing.T, clock func() time.Time) storetest.EventsStore {
					return open(t, clock)
				}, 1)
				clock.Set(e.EndsAt.Add(time.Hour))
				a, err := s.Backfill(ctx, e.ID, ms[0].ID, e.StartsAt, e.EndsAt, "纸质签到表", uuid.Nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.FinalizeEvent(ctx, e.ID, "x", true); err != nil {
					t.Fatal(err)
				}
				clock.Set(e.EndsAt.AddDate(0, 0, 12))
				if _, err := s.ReviewAttendance(ctx, a.ID, ledger.ReviewAdjust, 150, "提前离开", uuid.Nil); err != nil {
					t.Fatal(err)
				}
			} else {
				w := storetest.NewShopWorld(t, func(t *testing.T, clock func() time.Time) storetest.ShopsStore { return open(t, clock) }, 100)
				v, err := s.IssueVoucher(ctx, w.Member.ID, w.ShopA.ID, []ledger.VoucherRequestLine{{ItemID: w.Rice.ID, Qty: 1},
					{ItemID: w.Towel.ID, Qty: 2}}, uuid.Nil, ledger.PresenceSelf, "")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.RedeemVoucher(ctx, v.ID, w.ShopA.ID, uuid.Nil, "k1"); err != nil {
					t.Fatal(err)
				}
			}
			if rep, err := s.Verify(ctx); err != nil || !rep.OK {
				t.Fatalf("before tampering: %+v %v", rep, err)
			}
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if tag, err := conn.Exec(ctx, tc.sql); err != nil || tag.RowsAffected() == 0 {
				t.Fatalf("%s: %v (%d rows)", tc.sql, err, tag.RowsAffected())
			}
			rep, err := s.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || !strings.Contains(rep.Problem, tc.kind) {
				t.Fatalf("verify did not notice %s: %+v", tc.sql, rep)
			}
		})
	}
}
