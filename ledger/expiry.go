package ledger

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Points that expire (积分有效期). A street may set a policy: none (the
// default), or points expire N years after the end of the year they were
// earned in (黄山: 3). Points earned in year Y expire at the cutoff of Y:
// the start of 1 January of Y+N+1 in the deployment's time zone (earned in
// 2023 under 3 years: gone at 2027-01-01 00:00). "Earned in Y" means posted
// in Y: the ledger's monthly totals are counted by the month an entry was
// posted, and expiry reads those, never the journal.
//
// The oldest points go first, and no lots are kept. Every point that leaves
// an account is taken as one of its oldest (a spend, a hold, a deduction, a
// reversal out), and every point that comes back without being earned (a
// voucher released, a redemption or deduction reversed) as an old one. So
// what remains at a cutoff of the points that arrived up to the end of Y is
//
//	max(0, balance − the earn and award points that arrived after Y)
//
// with balance the account's own: points held by open vouchers sit in
// escrow, are not in it and are never touched. Expiring that amount leaves
// the account holding exactly what arrived after Y (or less), so the same
// rule run again finds nothing: it is idempotent by construction, and the
// entry's idempotency key (ExpiryKey) makes a repeat write nothing as well.
//
// Reversals. A reverse entry is never counted as an arrival, nor taken off
// the arrivals: the monthly totals cannot tell a correction of points earned
// after Y from a late correction of points earned before, and taking every
// correction off the arrivals would expire new points when an old entry is
// corrected. A reversal out of the account is taken like a spend, from the
// oldest points; a reversal into it brings back old points. The rule's only
// error is then in the member's favour: when points earned after Y are
// corrected, up to that much of the old points may stay a year longer.
//
// A voucher open across a cutoff keeps its held points; if it is cancelled
// afterwards, the released points are old points and expire at the street's
// next cutoff, never retroactively.

// The range of a street's policy, in years; 0 is no policy.
const (
	MinExpiryYears = 1
	MaxExpiryYears = 10
)

// ExpiryWarningDays is how long before a cutoff a volunteer is told what
// will expire then.
const ExpiryWarningDays = 30

// ExpiryActor is the actor of the entries the expiry sweep writes.
const ExpiryActor = "aixin:expiry"

// ExpiryPatch changes a street's expiry policy; a nil field stays as it is.
type ExpiryPatch struct {
	// Years is 0 for no policy, or MinExpiryYears to MaxExpiryYears.
	Years *int `json:"expiry_years"`
}

// Empty reports whether the patch changes nothing.
func (p ExpiryPatch) Empty() bool { return p.Years == nil }

// PatchExpiry decides a change to a unit's expiry policy, made by user by
// at now: only a street has one (EINVALID "unit.expiry_street"); the years
// are 0 or MinExpiryYears to MaxExpiryYears (EINVALID
// "unit.expiry_years_invalid"). It returns the unit unchanged with the error.
func (u Unit) PatchExpiry(p ExpiryPatch, by uuid.UUID, now time.Time) (Unit, error) {
	if u.Kind != UnitStreet {
		return u, Errorf(EINVALID, "unit.expiry_street")
	}
	if p.Years == nil {
		return u, nil
	}
	if n := *p.Years; n != 0 && (n < MinExpiryYears || n > MaxExpiryYears) {
		return u, Errorf(EINVALID, "unit.expiry_years_invalid", MinExpiryYears, MaxExpiryYears)
	}
	out := u
	out.ExpiryYears, out.ExpirySetAt, out.ExpirySetBy = *p.Years, now.UTC(), by
	return out, nil
}

// ExpiryCutoff returns when the points earned in year expire under a policy
// of years: the start of 1 January of year+years+1 in loc.
func ExpiryCutoff(year, years int, loc *time.Location) time.Time {
	return time.Date(year+years+1, time.January, 1, 0, 0, 0, 0, loc)
}

// ExpiryYearDue returns the latest year whose points are past their cutoff
// at now under a policy of years: now's year in loc, less years+1. It
// returns false for no policy. Expiring what remains of the points earned up
// to that year also expires those of every year before it.
func ExpiryYearDue(now time.Time, loc *time.Location, years int) (int, bool) {
	if years <= 0 {
		return 0, false
	}
	return now.In(loc).Year() - years - 1, true
}

// NextExpiry returns the next cutoff after now under a policy of years (1
// January of next year in loc) and the year whose points expire then.
func NextExpiry(now time.Time, loc *time.Location, years int) (year int, at time.Time) {
	y := now.In(loc).Year()
	return y - years, time.Date(y+1, time.January, 1, 0, 0, 0, 0, loc)
}

// ArrivedAfter sums the points that were earned (earn entries) and awarded
// (award entries) in the months after year, from an account's monthly
// totals rows (any order; rows of year and before are ignored). Reversals
// do not count (see the comment at the top of this file).
func ArrivedAfter(year int, rows []MonthTotals) Points {
	last := Month(year*100 + 12)
	var n Points
	for _, r := range rows {
		if r.Month > last {
			n += r.In[KindEarn] + r.In[KindAward]
		}
	}
	return n
}

// ExpiryDue returns what remains, of an account's balance, of the points
// that arrived up to the end of year: max(0, balance − ArrivedAfter(year,
// rows)), oldest first.
func ExpiryDue(balance Points, year int, rows []MonthTotals) Points {
	return max(0, balance-ArrivedAfter(year, rows))
}

// ExpiryKey is the idempotency key of the entry that expires account a's
// points earned up to the end of year: one entry per account and year.
func ExpiryKey(a Account, year int) string {
	return ServerKey("expire", a.String(), strconv.Itoa(year))
}

// ExpiryReference is the reference of the entries that expire a street's
// points earned up to the end of year.
func ExpiryReference(street uuid.UUID, year int) string {
	return "expiry:" + street.String() + ":" + strconv.Itoa(year)
}

// PlanExpiry decides the expiry, at a cutoff of street's policy, of what
// remains of account a's points earned up to the end of year, from its
// balance and monthly totals rows: an expire entry to the street's expired
// account, or false when nothing remains (or a is not a member's or a
// household's account). One entry moves at most MaxAmount; a larger rest
// goes at the next cutoff.
func PlanExpiry(a Account, street uuid.UUID, year int, balance Points, rows []MonthTotals) (Transfer, bool) {
	if !a.Spendable() {
		return Transfer{}, false
	}
	n := min(ExpiryDue(balance, year, rows), MaxAmount)
	if n <= 0 {
		return Transfer{}, false
	}
	return Transfer{
		Debit:          a,
		Credit:         ExpiredAccount(street),
		Amount:         n,
		Kind:           KindExpire,
		Reference:      ExpiryReference(street, year),
		Actor:          ExpiryActor,
		Memo:           fmt.Sprintf("%d年及以前获得的积分到期", year),
		IdempotencyKey: ExpiryKey(a, year),
	}, true
}

// Expiring is what of an account's points will expire at the next cutoff
// if nothing is spent before it.
type Expiring struct {
	Points Points    `json:"points"`
	At     time.Time `json:"at"` // the cutoff: the points are gone from then on
	// Year is the last year whose points expire then.
	Year int `json:"year"`
}

// ExpiringSoon returns what of an account's points (balance and monthly
// totals rows) will expire at the next cutoff of a policy of years, when
// that cutoff is at most ExpiryWarningDays days after now (in loc) and
// something will; false otherwise.
func ExpiringSoon(now time.Time, loc *time.Location, years int, balance Points, rows []MonthTotals) (Expiring, bool) {
	if years <= 0 {
		return Expiring{}, false
	}
	year, at := NextExpiry(now, loc, years)
	if now.Before(at.AddDate(0, 0, -ExpiryWarningDays)) {
		return Expiring{}, false
	}
	p := ExpiryDue(balance, year, rows)
	if p <= 0 {
		return Expiring{}, false
	}
	return Expiring{Points: p, At: at, Year: year}, true
}

// ExpiryRun is the record of a street's expiry of one year's points: the
// sweep keeps one per street and year, and does nothing more for that year
// once it is done.
type ExpiryRun struct {
	Street uuid.UUID `json:"street"`
	// Year is the last year whose points expired.
	Year   int       `json:"year"`
	Years  int       `json:"years"` // the policy it ran under
	Cutoff time.Time `json:"cutoff"`
	// Accounts and Points are the accounts whose points expired and how
	// many, over every attempt.
	Accounts int    `json:"accounts"`
	Points   Points `json:"points"`
	// Failed is how many accounts the last attempt had to skip.
	Failed int `json:"failed"`
	// Done says every account was handled: the year is over for the street.
	Done bool      `json:"done"`
	At   time.Time `json:"at"` // the last attempt
}

// ExpiryRetry is how long the sweep waits before it tries again a street's
// year that had accounts it could not handle.
const ExpiryRetry = time.Hour

// ExpiryPreview says what a street's policy (its own, or one considered)
// would take: Due at the sweep's next run (points past a cutoff that has
// not been applied yet: a policy turned on later takes them at once), Next
// at the next cutoff if nothing is spent before it.
type ExpiryPreview struct {
	Street uuid.UUID `json:"street_id"`
	Years  int       `json:"years"`
	// DueYear is the last year whose points are past their cutoff now;
	// DuePoints what the next run expires of them, from DueAccounts accounts.
	DueYear     int       `json:"due_year"`
	DueCutoff   time.Time `json:"due_cutoff"`
	DuePoints   Points    `json:"due_points"`
	DueAccounts int       `json:"due_accounts"`
	// NextYear's points expire at NextCutoff: NextPoints of NextAccounts
	// accounts, if nothing is spent before.
	NextYear     int       `json:"next_year"`
	NextCutoff   time.Time `json:"next_cutoff"`
	NextPoints   Points    `json:"next_points"`
	NextAccounts int       `json:"next_accounts"`
	// Accounts are the accounts that lose something, most first (at most
	// the limit asked for).
	Accounts []ExpiryPreviewLine `json:"accounts"`
	// More is how many more accounts lose something than are listed.
	More int `json:"more"`
}

// ExpiryPreviewLine is one account in an ExpiryPreview.
type ExpiryPreviewLine struct {
	Account Account `json:"account"`
	// Name is the member's name, or the household's address.
	Name    string    `json:"name"`
	UnitID  uuid.UUID `json:"unit_id"`
	Balance Points    `json:"balance"`
	Due     Points    `json:"due"`
	Next    Points    `json:"next"`
}

// PreviewExpiry works out one account's line of a preview at now under a
// policy of years: what the next run takes (nothing if the account's entry
// for that year exists: done says so) and then what the next cutoff takes.
func PreviewExpiry(now time.Time, loc *time.Location, years int, balance Points, rows []MonthTotals, done bool) (due, next Points) {
	if y, ok := ExpiryYearDue(now, loc, years); ok && !done {
		due = ExpiryDue(balance, y, rows)
	}
	y, _ := NextExpiry(now, loc, years)
	return due, ExpiryDue(balance-due, y, rows)
}

// Expiries applies the streets' expiry policies.
type Expiries interface {
	// SetExpiryPolicy changes a street's policy as Unit.PatchExpiry
	// decides, by user by. Returns ENOTFOUND for an unknown unit, and what
	// PatchExpiry returns.
	SetExpiryPolicy(ctx context.Context, street uuid.UUID, p ExpiryPatch, by uuid.UUID) (Unit, error)
	// Expiring returns what of a member's or household's account will
	// expire at the next cutoff of its street's policy, when that is at
	// most ExpiryWarningDays away (false when nothing will, or there is no
	// policy). Returns ENOTFOUND for an account that is not open.
	Expiring(ctx context.Context, a Account) (Expiring, bool, error)
	// ExpiryPreview says what street's policy, or a policy of years when
	// years > 0, would take from its members' and households' accounts,
	// listing at most limit accounts. Returns ENOTFOUND for an unknown
	// unit, EINVALID for a unit that is not a street or years out of range
	// ("unit.expiry_years_invalid", also when the street has no policy and
	// none is given).
	ExpiryPreview(ctx context.Context, street uuid.UUID, years, limit int) (ExpiryPreview, error)
	// ExpiryRuns returns the records of a street's expiry runs, oldest year first.
	ExpiryRuns(ctx context.Context, street uuid.UUID) ([]ExpiryRun, error)
	// ExpirePoints is the sweep: for every street whose latest cutoff has
	// passed and whose year is not done, it expires what remains of each
	// member's and household's points earned up to that year, each account
	// in a write of its own. An account that cannot be handled is skipped
	// and reported; the year is done only when none was.
	ExpirePoints(ctx context.Context) (SweepResult, error)
}
