package ledger

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// history is a test member account's history, as its monthly totals rows.
type history struct {
	rows    map[Month]*MonthTotals
	balance Points
}

func newHistory() *history { return &history{rows: map[Month]*MonthTotals{}} }

func (h *history) row(m Month) *MonthTotals {
	if h.rows[m] == nil {
		h.rows[m] = &MonthTotals{Month: m}
	}
	return h.rows[m]
}

// in and out move points into and out of the account in month m by an entry of kind k.
func (h *history) in(m Month, k Kind, n Points) *history {
	h.row(m).In[k] += n
	h.balance += n
	return h
}

func (h *history) out(m Month, k Kind, n Points) *history {
	h.row(m).Out[k] += n
	h.balance -= n
	return h
}

func (h *history) list() []MonthTotals {
	var out []MonthTotals
	for _, r := range h.rows {
		out = append(out, *r)
	}
	// Any order will do: shuffle a little by sorting backwards.
	slices.SortFunc(out, func(a, b MonthTotals) int { return int(b.Month - a.Month) })
	return out
}

func TestExpiryDue(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *history
		year int
		want Points
	}{
		{"NothingEarnedAfter", newHistory().in(202503, KindEarn, 100).in(202511, KindEarn, 20), 2025, 120},
		{"NothingEarnedAtAll", newHistory(), 2025, 0},
		{"AllSpent", newHistory().in(202503, KindEarn, 100).out(202506, KindHold, 100).in(202602, KindEarn, 10).out(202603, KindHold, 10), 2025, 0},
		// 100 in 2025, 50 in 2026, 80 spent in 2026: the oldest went first, 20 of 2025 are left.
		{"SpentBetween", newHistory().in(202503, KindEarn, 100).in(202602, KindEarn, 50).out(202605, KindHold, 80), 2025, 20},
		{"SpentMoreThanTheOld", newHistory().in(202503, KindEarn, 100).in(202602, KindEarn, 50).out(202605, KindHold, 120), 2025, 0},
		{"SpentBeforeTheNew", newHistory().in(202503, KindEarn, 100).out(202509, KindHold, 70).in(202602, KindEarn, 50), 2025, 30},
		// A voucher open at the cutoff holds 120: those are the oldest, in escrow; the account keeps 30 of 2026.
		{"HeldVoucherAtTheCutoff", newHistory().in(202503, KindEarn, 100).in(202602, KindEarn, 50).out(202611, KindHold, 120), 2025, 0},
		{"SmallHeldVoucher", newHistory().in(202503, KindEarn, 100).in(202602, KindEarn, 50).out(202611, KindHold, 30), 2025, 70},
		// Cancelled after the cutoff: the 120 come back as old points, and go at the next cutoff.
		{"ReleasedAfterTheCutoffGoesNextTime", newHistory().in(202503, KindEarn, 100).in(202602, KindEarn, 50).out(202611, KindHold, 120).
			in(202702, KindRelease, 120), 2026, 150},
		{"OnlyAwards", newHistory().in(202504, KindAward, 40).in(202605, KindAward, 10), 2025, 40},
		{"AwardsAfterCount", newHistory().in(202504, KindEarn, 40).in(202605, KindAward, 30).out(202606, KindDeduct, 20), 2025, 20},
		// A correction of points earned after the cutoff's year is taken like
		// a spend, from the oldest: 50 of 2025 stay a year longer.
		{"NewEarnReversed", newHistory().in(202503, KindEarn, 100).in(202602, KindEarn, 50).out(202603, KindReverse, 50), 2025, 50},
		// A late correction of points earned in the cutoff's year never
		// reaches the points of 2026.
		{"OldEarnReversedLate", newHistory().in(202503, KindEarn, 100).in(202602, KindEarn, 50).out(202603, KindReverse, 100), 2025, 0},
		{"DeductionReversed", newHistory().in(202503, KindEarn, 100).out(202504, KindDeduct, 30).in(202605, KindReverse, 30).in(202606, KindEarn, 5), 2025, 100},
		{"ExpiredBefore", newHistory().in(202303, KindEarn, 100).in(202403, KindEarn, 40).out(202501, KindExpire, 100).in(202602, KindEarn, 7), 2024, 40},
		{"YearBoundaryMonth", newHistory().in(202512, KindEarn, 10).in(202601, KindEarn, 20), 2025, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := tc.h.list()
			got := ExpiryDue(tc.h.balance, tc.year, rows)
			if got != tc.want {
				t.Fatalf("due %d, want %d (balance %d, arrived after %d)", got, tc.want, tc.h.balance, ArrivedAfter(tc.year, rows))
			}
			// Expiring it leaves nothing to expire: the rule is idempotent.
			tc.h.out(MonthOf(time.Date(tc.year+2, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC), KindExpire, got)
			if again := ExpiryDue(tc.h.balance, tc.year, tc.h.list()); again != 0 {
				t.Fatalf("a second run expires %d", again)
			}
		})
	}
}

// TestExpiryAgainstLots checks the rule against a model that keeps lots:
// every point knows the year it was earned in, spends take the oldest, and
// a returned spend (a voucher released, a deduction reversed) gives back
// the very lots it took. The rule never expires more than the lots say is
// old, and exactly that much when nothing came back.
func TestExpiryAgainstLots(t *testing.T) {
	type lot struct {
		year int
		n    Points
	}
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 13))
		h := newHistory()
		var lots []lot    // in the account, oldest first
		var taken [][]lot // spends that may come back
		returned := false // something came back
		for month := Month(202401); month <= 202712; month = month.Next() {
			for range r.IntN(4) {
				switch op := r.IntN(10); {
				case op < 4:
					n := Points(1 + r.IntN(50))
					k := KindEarn
					if r.IntN(3) == 0 {
						k = KindAward
					}
					h.in(month, k, n)
					lots = append(lots, lot{int(month) / 100, n})
				case op < 8 && h.balance > 0:
					n := Points(1 + r.IntN(int(h.balance)))
					h.out(month, KindHold, n)
					var took []lot
					for n > 0 {
						x := min(n, lots[0].n)
						took = append(took, lot{lots[0].year, x})
						lots[0].n -= x
						n -= x
						if lots[0].n == 0 {
							lots = lots[1:]
						}
					}
					taken = append(taken, took)
				case op < 9 && len(taken) > 0 && seed%2 == 0:
					i := r.IntN(len(taken))
					var n Points
					for _, l := range taken[i] {
						n += l.n
					}
					h.in(month, KindRelease, n)
					lots = append(lots, taken[i]...)
					slices.SortStableFunc(lots, func(a, b lot) int { return a.year - b.year })
					taken = slices.Delete(taken, i, i+1)
					returned = true
				}
			}
			for y := 2023; y <= int(month)/100; y++ {
				var old Points
				for _, l := range lots {
					if l.year <= y {
						old += l.n
					}
				}
				got := ExpiryDue(h.balance, y, h.list())
				if got > old || (!returned && got != old) {
					t.Fatalf("seed %d, %v, year %d: the rule says %d, the lots %d (something came back: %v)", seed, month, y, got, old, returned)
				}
			}
		}
	}
}

func TestExpiryCutoffs(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ExpiryCutoff(2023, 3, sh), time.Date(2027, 1, 1, 0, 0, 0, 0, sh); !got.Equal(want) {
		t.Fatalf("earned 2023, 3 years: %v, want %v", got, want)
	}
	if got, want := ExpiryCutoff(2025, 1, sh), time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("earned 2025, 1 year: %v, want %v", got, want)
	}
	newYear := time.Date(2027, 1, 1, 0, 0, 0, 0, sh)
	for _, tc := range []struct {
		name  string
		now   time.Time
		years int
		want  int
		ok    bool
	}{
		{"NoPolicy", newYear, 0, 0, false},
		{"OneYearJustBefore", newYear.Add(-time.Nanosecond), 1, 2024, true},
		{"OneYearAtTheCutoff", newYear, 1, 2025, true},
		{"ThreeYearsJustBefore", newYear.Add(-time.Nanosecond), 3, 2022, true},
		{"ThreeYearsAtTheCutoff", newYear, 3, 2023, true},
		{"ThreeYearsInJune", time.Date(2027, 6, 1, 0, 0, 0, 0, sh), 3, 2023, true},
		{"TenYears", newYear, 10, 2016, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ExpiryYearDue(tc.now, sh, tc.years)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("year %d %v, want %d %v", got, ok, tc.want, tc.ok)
			}
			if ok && (ExpiryCutoff(got, tc.years, sh).After(tc.now) || !ExpiryCutoff(got+1, tc.years, sh).After(tc.now)) {
				t.Fatalf("year %d is not the latest past its cutoff at %v", got, tc.now)
			}
		})
	}
}

func TestExpiringSoon(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	cutoff := time.Date(2027, 1, 1, 0, 0, 0, 0, sh)
	// 100 earned in 2025, 40 in 2026, 30 spent in 2026: 70 of 2025 left.
	h := newHistory().in(202503, KindEarn, 100).in(202604, KindEarn, 40).out(202605, KindHold, 30)
	three := newHistory().in(202303, KindEarn, 25).in(202405, KindEarn, 5)
	for _, tc := range []struct {
		name  string
		h     *history
		now   time.Time
		years int
		want  Points
	}{
		{"ThirtyDaysAhead", h, cutoff.AddDate(0, 0, -30), 1, 70},
		{"JustOverThirtyDays", h, cutoff.AddDate(0, 0, -30).Add(-time.Nanosecond), 1, 0},
		{"ThirtyOneDaysAhead", h, cutoff.AddDate(0, 0, -31), 1, 0},
		{"TheLastMinute", h, cutoff.Add(-time.Minute), 1, 70},
		{"AfterTheCutoffTheNextIsAYearAway", h, cutoff.Add(time.Minute), 1, 0},
		{"NoPolicy", h, cutoff.AddDate(0, 0, -3), 0, 0},
		{"TwoYearsNothingOldEnough", h, cutoff.AddDate(0, 0, -3), 2, 0},
		{"ThreeYears", three, cutoff.AddDate(0, 0, -3), 3, 25},
		{"NothingLeft", newHistory().in(202503, KindEarn, 10).out(202504, KindHold, 10), cutoff.AddDate(0, 0, -3), 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ExpiringSoon(tc.now, sh, tc.years, tc.h.balance, tc.h.list())
			if ok != (tc.want > 0) || got.Points != tc.want {
				t.Fatalf("%+v %v, want %d", got, ok, tc.want)
			}
			if ok && (!got.At.Equal(cutoff) || got.Year != 2026-tc.years) {
				t.Fatalf("at %v, year %d", got.At, got.Year)
			}
		})
	}
}

func TestPlanExpiry(t *testing.T) {
	street, member, household := uuid.New(), uuid.New(), uuid.New()
	h := newHistory().in(202503, KindEarn, 100).in(202602, KindAward, 30).out(202603, KindHold, 10)
	tr, ok := PlanExpiry(MemberAccount(member), street, 2025, h.balance, h.list())
	if !ok {
		t.Fatal("nothing planned")
	}
	want := Transfer{Debit: MemberAccount(member), Credit: ExpiredAccount(street), Amount: 90, Kind: KindExpire,
		Reference: "expiry:" + street.String() + ":2025", Actor: ExpiryActor, Memo: "2025年及以前获得的积分到期",
		IdempotencyKey: "aixin:expire:member:" + member.String() + ":2025"}
	if tr != want {
		t.Fatalf("planned %+v\nwant    %+v", tr, want)
	}
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	if tr, ok := PlanExpiry(HouseholdAccount(household), street, 2025, h.balance, h.list()); !ok || tr.Amount != 90 || tr.Validate() != nil {
		t.Fatalf("household: %+v %v", tr, ok)
	}
	if tr, ok := PlanExpiry(IssuerAccount(street), street, 2025, 500, nil); ok {
		t.Fatalf("an issuer's points expire: %+v", tr)
	}
	if _, ok := PlanExpiry(MemberAccount(member), street, 2024, h.balance, h.list()); ok {
		t.Fatal("points of 2025 and 2026 would expire with those of 2024")
	}
	if tr, _ := PlanExpiry(MemberAccount(member), street, 2025, 3*MaxAmount, nil); tr.Amount != MaxAmount {
		t.Fatalf("one entry moves %d", tr.Amount)
	}
	if ExpiryKey(MemberAccount(member), 2025) == ExpiryKey(MemberAccount(member), 2024) ||
		ExpiryKey(MemberAccount(member), 2025) == ExpiryKey(HouseholdAccount(member), 2025) {
		t.Fatal("keys collide")
	}
}

func TestPatchExpiry(t *testing.T) {
	years := func(n int) *int { return &n }
	street := Unit{Name: "屯溪街道", Kind: UnitStreet}
	by := uuid.New()
	now := time.Date(2026, 11, 3, 2, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		unit    Unit
		patch   ExpiryPatch
		want    int
		wantKey string
	}{
		{"ThreeYears", street, ExpiryPatch{Years: years(3)}, 3, ""},
		{"One", street, ExpiryPatch{Years: years(1)}, 1, ""},
		{"Ten", street, ExpiryPatch{Years: years(10)}, 10, ""},
		{"OffAgain", Unit{Kind: UnitStreet, ExpiryYears: 3}, ExpiryPatch{Years: years(0)}, 0, ""},
		{"Eleven", street, ExpiryPatch{Years: years(11)}, 0, "unit.expiry_years_invalid"},
		{"Negative", street, ExpiryPatch{Years: years(-1)}, 0, "unit.expiry_years_invalid"},
		{"Community", Unit{Kind: UnitCommunity}, ExpiryPatch{Years: years(3)}, 0, "unit.expiry_street"},
		{"Grid", Unit{Kind: UnitGrid}, ExpiryPatch{Years: years(0)}, 0, "unit.expiry_street"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.unit.PatchExpiry(tc.patch, by, now)
			if tc.wantKey != "" {
				if e, ok := err.(*Error); !ok || e.Key != tc.wantKey || e.Code != EINVALID {
					t.Fatalf("error %v, want %s", err, tc.wantKey)
				}
				if got.ExpiryYears != tc.unit.ExpiryYears || !got.ExpirySetAt.IsZero() {
					t.Fatalf("a refused patch changed the unit: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ExpiryYears != tc.want || !got.ExpirySetAt.Equal(now) || got.ExpirySetBy != by {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

func TestPreviewExpiry(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	// Turned on in June 2027 with one year: 2025's cutoff has passed, 2026's is next.
	now := time.Date(2027, 6, 1, 10, 0, 0, 0, sh)
	h := newHistory().in(202503, KindEarn, 100).in(202604, KindEarn, 40).in(202702, KindEarn, 8).out(202703, KindHold, 30)
	due, next := PreviewExpiry(now, sh, 1, h.balance, h.list(), false)
	if due != 70 || next != 40 {
		t.Fatalf("due %d next %d, want 70 and 40", due, next)
	}
	// Once the account's entry of 2025 is written, only the next cutoff is left.
	h.out(202706, KindExpire, 70)
	if due, next := PreviewExpiry(now, sh, 1, h.balance, h.list(), true); due != 0 || next != 40 {
		t.Fatalf("after the run: due %d next %d", due, next)
	}
}
