package ledger

import (
	"testing"

	"github.com/google/uuid"
)

// TestMemberMonthSources: a month with hours, a fulfilled wish, a
// behaviour award and a deduction splits what was earned by source, shows
// the deduction on its own, and adds up; the month before is worked back
// from today's balance through them.
func TestMemberMonthSources(t *testing.T) {
	id := uuid.New()
	a := MemberAccount(id)
	var dec MonthTotals
	for _, e := range []Entry{
		{Transfer: Transfer{Debit: issuer, Credit: a, Amount: 30, Kind: KindEarn, Minutes: 180, Reference: "attendance:1"}},
		{Transfer: Transfer{Debit: issuer, Credit: a, Amount: 20, Kind: KindAward, Reference: WishReferencePrefix + uuid.NewString()}},
		{Transfer: Transfer{Debit: issuer, Credit: a, Amount: 5, Kind: KindAward, Reference: "award:" + uuid.NewString()}},
		{Transfer: Transfer{Debit: a, Credit: issuer, Amount: 3, Kind: KindDeduct, Reference: "award:" + uuid.NewString()}},
		{Transfer: Transfer{Debit: a, Credit: Escrow, Amount: 10, Kind: KindHold}},
	} {
		dec.Apply(&e, a)
	}
	dec.Month, dec.Account = 202612, a
	if dec.Wish != 20 || dec.In[KindAward] != 25 || dec.Out[KindDeduct] != 3 {
		t.Fatalf("totals %+v", dec)
	}
	// Today: 100 available before December's 30+20+5-3-10 = 42, so 142, and 10 held.
	m := MemberMonthOf(id, 202612, 142, 10, []MonthTotals{dec}, nil)
	want := MemberMonth{MemberID: id, Opening: 100, Earned: 55, Service: 30, Wishes: 20, Behaviour: 5, Deducted: 3,
		Closing: 152, HeldIn: 10, HeldClosing: 10, Minutes: 180}
	if m != want {
		t.Fatalf("got  %+v\nwant %+v", m, want)
	}
	if !m.Reconciles() {
		t.Fatal("does not reconcile")
	}
	nov := MemberMonthOf(id, 202611, 142, 10, []MonthTotals{dec}, nil)
	if nov.Closing != 100 || nov.HeldClosing != 0 || !nov.Reconciles() {
		t.Fatalf("November %+v", nov)
	}
	m.Behaviour++
	if m.Reconciles() {
		t.Fatal("sources that do not add up to what was earned reconcile")
	}
}

// TestGained: a month's points gained are what was earned, corrected and
// deducted — the figure notices rank by, from the export's own columns.
func TestGained(t *testing.T) {
	m := MemberMonth{Earned: 20, Service: 0, Wishes: 10, Behaviour: 10, Deducted: 19, Adjusted: 10}
	if got := m.Gained(); got != 11 {
		t.Fatalf("gained %d, want 20 + 10 − 19 = 11", got)
	}
}
