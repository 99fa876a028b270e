package handlers

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"aixin/ledger"
)

// countingJournal is the real journal, counting the balances read through it.
type countingJournal struct {
	ledger.Journal
	balances atomic.Int64
}

func (j *countingJournal) Balance(ctx context.Context, a ledger.Account) (ledger.Balance, error) {
	j.balances.Add(1)
	return j.Journal.Balance(ctx, a)
}

// TestMemberListFigures: the member list shows each member's points (held
// ones included) and service hours, reading them for the page's members
// only, however long the list.
func TestMemberListFigures(t *testing.T) {
	var journal *countingJournal
	e := newEnv(t, func(cfg *Config) {
		journal = &countingJournal{Journal: cfg.Journal}
		cfg.Journal = journal
	})
	w := newWorld(t, e)
	orgA := e.session(w.users["organizerA"])
	// 队员A's ten minutes are posted: one point, ten minutes.
	e.clock.Add(2 * time.Hour)
	if _, err := e.store.FinalizeEvent(ctx, w.event["A"].ID, "organiser", true); err != nil {
		t.Fatal(err)
	}
	var page membersPage
	e.get("/api/v1/members?unit_id="+w.unit["A"].ID.String(), orgA).decode(t, &page)
	byName := map[string]memberListRow{}
	for _, m := range page.Members {
		byName[m.Name] = m
	}
	// 志愿者A: 1000 earned, 10 of it held by an open voucher: still 1000 owned.
	if m := byName["志愿者A"]; m.Points != 1000 || m.ServiceMinutes != 0 {
		t.Fatalf("志愿者A: %d points, %d minutes", m.Points, m.ServiceMinutes)
	}
	if m := byName["队员A"]; m.Points != 1 || m.ServiceMinutes != 10 {
		t.Fatalf("队员A: %d points, %d minutes", m.Points, m.ServiceMinutes)
	}
	// A member who never earned shows nothing, not an error.
	for i := range 40 {
		if _, err := e.store.CreateMember(ctx, ledger.Member{Name: fmt.Sprint("新人", i), Phone: fmt.Sprintf("1590000%04d", i), UnitID: w.grid["A"].ID}, ""); err != nil {
			t.Fatal(err)
		}
	}
	before := journal.balances.Load()
	e.get("/api/v1/members?limit=5&q=新人", orgA).decode(t, &page)
	if len(page.Members) != 5 || page.Members[0].Points != 0 || page.Members[0].ServiceMinutes != 0 {
		t.Fatalf("page %+v", page.Members)
	}
	if n := journal.balances.Load() - before; n != 5 {
		t.Fatalf("%d balances read for a page of 5 among 42 members", n)
	}
}
