package ledger

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Post decides whether t may be appended as entry seq, given the current
// balances of its debit and credit accounts, and returns the entry with its
// hash chained to prev. It returns EINVALID for a malformed transfer and
// ECONFLICT (key "entry.insufficient") if the debit account may not go below
// zero and holds less than the amount.
func Post(t Transfer, debitBalance, creditBalance Points, seq uint64, id uuid.UUID, now time.Time, prev Hash) (Entry, error) {
	if err := t.Validate(); err != nil {
		return Entry{}, err
	}
	if !t.Debit.MayGoNegative() && debitBalance < t.Amount {
		return Entry{}, Errorf(ECONFLICT, "entry.insufficient", debitBalance, t.Amount)
	}
	if creditBalance > maxBalance-t.Amount || debitBalance < -maxBalance+t.Amount {
		return Entry{}, Errorf(ECONFLICT, "entry.balance_overflow")
	}
	e := Entry{Seq: seq, ID: id, Time: now.UTC(), Transfer: t, PrevHash: prev}
	e.Hash = ChainHash(prev, e.Canonical())
	return e, nil
}

// maxBalance bounds every balance so that sums over many accounts stay far
// from int64 overflow.
const maxBalance Points = 1 << 53

// Reverse returns the transfer that corrects orig: the same amount back from
// orig's credit account to its debit account, with orig's reference kept. It
// returns EINVALID if orig is itself a reverse; the store must also refuse to
// reverse one entry twice (ECONFLICT, "entry.already_reversed").
func Reverse(orig Entry, actor, memo, key string) (Transfer, error) {
	if orig.Kind == KindReverse {
		return Transfer{}, Errorf(EINVALID, "entry.reverse_of_reverse", orig.Seq)
	}
	return Transfer{
		Debit:          orig.Credit,
		Credit:         orig.Debit,
		Amount:         orig.Amount,
		Kind:           KindReverse,
		Reference:      orig.Reference,
		Reverses:       orig.Seq,
		Minutes:        orig.Minutes,
		Actor:          actor,
		Memo:           memo,
		IdempotencyKey: key,
	}, nil
}

// CheckReverse checks that t, a reverse, matches the entry it names.
func CheckReverse(t Transfer, orig Entry) error {
	want, err := Reverse(orig, t.Actor, t.Memo, t.IdempotencyKey)
	if err != nil {
		return err
	}
	if t != want {
		return Errorf(EINVALID, "entry.reverse_mismatch", orig.Seq)
	}
	return nil
}

// Month is a calendar month in the deployment's time zone, written yyyymm
// (202611 for November 2026).
type Month int32

// DefaultTimeZone is where months are counted unless a deployment says otherwise.
const DefaultTimeZone = "Asia/Shanghai"

// MonthOf returns the month of t in loc.
func MonthOf(t time.Time, loc *time.Location) Month {
	t = t.In(loc)
	return Month(t.Year()*100 + int(t.Month()))
}

// ParseMonth parses "YYYY-MM". It returns EINVALID for anything else.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 {
		return 0, Errorf(EINVALID, "month.invalid", s)
	}
	return Month(t.Year()*100 + int(t.Month())), nil
}

// Next returns the month after m.
func (m Month) Next() Month {
	if m%100 == 12 {
		return m + 89 // 202612 -> 202701
	}
	return m + 1
}

// AddMonths returns m moved by n months (n may be negative).
func (m Month) AddMonths(n int) Month {
	i := int(m)/100*12 + int(m)%100 - 1 + n
	return Month(i/12*100 + i%12 + 1)
}

// String returns "YYYY-MM".
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", int(m)/100, int(m)%100) }

// Balance is what the ledger knows of one account.
type Balance struct {
	Account Account `json:"account"`
	Points  Points  `json:"points"`
	// Entries is how many journal entries touch the account.
	Entries uint64 `json:"entries"`
	// LastSeq is the seq of the newest entry touching the account (0 if none).
	LastSeq uint64 `json:"last_seq"`
	// ServiceMinutes is the confirmed service time credited with earn entries,
	// less reversals; spending never reduces it.
	ServiceMinutes int64 `json:"service_minutes"`
}

// MonthTotals are one account's movements in one month, by entry kind.
type MonthTotals struct {
	Month   Month   `json:"month"`
	Account Account `json:"account"`
	// In and Out are the points that arrived at and left the account, indexed by Kind.
	In  [NumKinds]Points `json:"in"`
	Out [NumKinds]Points `json:"out"`
	// Minutes is the net service time credited in the month.
	Minutes int64 `json:"minutes"`
	// Wish is the part of In[KindAward] that fulfilled wishes (微心愿)
	// brought: award entries whose reference is a wish's ("wish:<id>").
	// The rest of the awards are for behaviours (文明行为).
	Wish Points `json:"wish"`
	// Entries is how many entries touched the account in the month.
	Entries uint64 `json:"entries"`
}

// Net is the month's change of the account's balance.
func (m MonthTotals) Net() Points {
	var n Points
	for k := range NumKinds {
		n += m.In[k] - m.Out[k]
	}
	return n
}

// Apply adds entry e to the totals of account a (one side of e).
func (m *MonthTotals) Apply(e *Entry, a Account) {
	m.Entries++
	if e.Credit == a {
		m.In[e.Kind] += e.Amount
		if e.Kind == KindAward && strings.HasPrefix(e.Reference, WishReferencePrefix) {
			m.Wish += e.Amount
		}
	}
	if e.Debit == a {
		m.Out[e.Kind] += e.Amount
	}
	m.Minutes += ServiceMinutesDelta(e, a)
}

// WishReferencePrefix starts the reference of every entry a wish makes.
const WishReferencePrefix = "wish:"

// ServiceMinutesDelta is the change an entry makes to account a's service minutes.
func ServiceMinutesDelta(e *Entry, a Account) int64 {
	if a.Kind != AccountMember || e.Minutes == 0 {
		return 0
	}
	if e.Credit == a {
		return e.Minutes
	}
	return -e.Minutes
}
