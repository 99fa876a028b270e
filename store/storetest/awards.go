package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// AwardsStore is what the awards suite needs of an engine: behaviour lists
// and awards (ledger.Awards), the directory and households they name, and
// the journal they post to.
type AwardsStore interface {
	DirectoryStore
	ledger.Awards
	Append(ctx context.Context, t ledger.Transfer) (ledger.Entry, error)
	OpenAccount(ctx context.Context, a ledger.Account) error
	CreateHousehold(ctx context.Context, address string, unitID uuid.UUID, opening ledger.Points) (ledger.Household, error)
	SetHouseholdMembers(ctx context.Context, id uuid.UUID, ch ledger.HouseholdChange) (ledger.Household, error)
}

// OpenAwards opens a fresh, empty store whose clock is clock.
type OpenAwards func(t *testing.T, clock func() time.Time) AwardsStore

// RunAwards runs the conformance tests of the 文明行为银行's awards.
func RunAwards(t *testing.T, open OpenAwards) {
	tests := []struct {
		name string
		fn   func(*testing.T, OpenAwards)
	}{
		{"CapsAtMonthAndYearEnd", testAwardCaps},
		{"TwoApprovalsAtOnce", testTwoApprovals},
		{"ObjectionRacesTheSweep", testObjectionRacesTheSweep},
		{"ReverseOnce", testReverseAwardOnce},
		{"Households", testHouseholdAwards},
		{"Idempotent", testRecordAwardIdempotent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// Shanghai is where months are counted.
var Shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// awardWorld is a street with staff of every kind, two members of
// community A's grid, a household of both, and a behaviour list.
type awardWorld struct {
	s                             AwardsStore
	clock                         *Clock
	street, a, b, gridA, gridB    ledger.Unit
	admin, org, org2, gw, gwB     ledger.User
	ann, bob                      ledger.Member
	annUser                       ledger.User
	home                          ledger.Household
	sorting, hero, litter, family ledger.Behaviour
}

func newAwardWorld(t *testing.T, open OpenAwards, at time.Time) awardWorld {
	t.Helper()
	w := awardWorld{clock: NewClock(at)}
	s := open(t, w.clock.Now)
	w.s = s
	unit := func(name string, kind ledger.UnitKind, parent uuid.UUID) ledger.Unit {
		u, err := s.CreateUnit(ctx, name, kind, parent, nil)
		must(t, err)
		return u
	}
	w.street = unit("幸福街道", ledger.UnitStreet, uuid.Nil)
	w.a, w.b = unit("东河园社区", ledger.UnitCommunity, w.street.ID), unit("西湖社区", ledger.UnitCommunity, w.street.ID)
	w.gridA, w.gridB = unit("第一网格", ledger.UnitGrid, w.a.ID), unit("第一网格", ledger.UnitGrid, w.b.ID)
	user := func(login string, role ledger.Role, unit uuid.UUID) ledger.User {
		u, err := s.CreateUser(ctx, ledger.User{Login: login, Role: role, UnitID: unit, PasswordHash: "x"})
		must(t, err)
		return u
	}
	w.admin, w.org, w.org2 = user("admin", ledger.RoleAdmin, uuid.Nil), user("donghe", ledger.RoleOrganizer, w.a.ID), user("street", ledger.RoleOrganizer, w.street.ID)
	w.gw, w.gwB = user("grid-a", ledger.RoleGridWorker, w.gridA.ID), user("grid-b", ledger.RoleGridWorker, w.gridB.ID)
	member := func(name, phone string) ledger.Member {
		m, err := s.CreateMember(ctx, ledger.Member{Name: name, Phone: phone, UnitID: w.gridA.ID}, "x")
		must(t, err)
		return m
	}
	w.ann, w.bob = member("安文", "13800000011"), member("鲍勃", "13800000012")
	var err error
	w.annUser, err = s.UserByLogin(ctx, w.ann.Phone)
	must(t, err)
	w.home, err = s.CreateHousehold(ctx, "3单元502室", w.gridA.ID, 0)
	must(t, err)
	w.home, err = s.SetHouseholdMembers(ctx, w.home.ID, ledger.HouseholdChange{Members: []ledger.HouseholdMember{{MemberID: w.ann.ID}, {MemberID: w.bob.ID}}, HeadID: w.ann.ID})
	must(t, err)
	beh := func(unit uuid.UUID, name string, points ledger.Points, month, year int, target ledger.BehaviourTarget) ledger.Behaviour {
		b, err := s.CreateBehaviour(ctx, ledger.Behaviour{UnitID: unit, Name: name, Category: "文明", Points: points, MonthCap: month, YearCap: year, Target: target})
		must(t, err)
		return b
	}
	w.sorting = beh(w.a.ID, "垃圾分类", 2, 2, 3, ledger.TargetPerson)
	w.hero = beh(w.street.ID, "见义勇为", 50, 0, 0, ledger.TargetPerson)
	w.litter = beh(w.a.ID, "乱扔垃圾", -15, 0, 0, ledger.TargetPerson)
	w.family = beh(w.a.ID, "文明家庭", -5, 0, 0, ledger.TargetHousehold)
	return w
}

// earn gives a member points from community A.
func (w awardWorld) earn(t *testing.T, member uuid.UUID, points ledger.Points) {
	t.Helper()
	iss := ledger.IssuerAccount(w.a.ID)
	must(t, w.s.OpenAccount(ctx, iss))
	_, err := w.s.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(member), Amount: points, Kind: ledger.KindEarn})
	must(t, err)
}

func (w awardWorld) record(by ledger.User, b ledger.Behaviour, member uuid.UUID, note string) (ledger.Award, error) {
	return w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: b.ID, MemberID: member, Note: note, By: by.ID})
}

func (w awardWorld) balance(t *testing.T, a ledger.Account) ledger.Points {
	t.Helper()
	b, err := w.s.Balance(ctx, a)
	must(t, err)
	return b.Points
}

// wantCode checks err's code, and its key unless key is empty.
func wantCode(t *testing.T, err error, code, key string) {
	t.Helper()
	le, ok := ledger.AsError(err)
	if !ok || le.Code != code || (key != "" && le.Key != key) {
		t.Fatalf("got error %v, want %s %s", err, code, key)
	}
}

func testAwardCaps(t *testing.T, open OpenAwards) {
	w := newAwardWorld(t, open, time.Date(2026, 11, 30, 23, 59, 0, 0, Shanghai))
	give := func(wantKey string) ledger.Award {
		t.Helper()
		a, err := w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: w.sorting.ID, MemberID: w.ann.ID, By: w.gw.ID})
		if wantKey == "" && err != nil {
			t.Fatalf("at %v: %v", w.clock.Now().In(Shanghai), err)
		}
		if wantKey != "" {
			wantCode(t, err, ledger.ECONFLICT, wantKey)
		}
		return a
	}
	first := give("")
	give("")
	give("award.month_cap") // the third of November
	w.clock.Set(time.Date(2026, 12, 1, 0, 0, 0, 0, Shanghai))
	give("") // December: its month is new, the year has its third
	give("award.year_cap")
	// Reversing November's first frees a place in the year (a posted award is reversed, not rejected).
	if _, err := w.s.RejectAward(ctx, first.ID, w.org.ID, "登记重复"); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("a posted award is rejected: %v", err)
	}
	_, err := w.s.ReverseAward(ctx, first.ID, w.org.ID, "登记重复")
	must(t, err)
	give("") // the year's place the reversal freed
	give("award.month_cap")
	w.clock.Set(time.Date(2026, 12, 31, 23, 59, 59, 0, Shanghai))
	give("award.month_cap")                                  // December's two, and the year's three
	w.clock.Set(time.Date(2027, 1, 1, 0, 0, 0, 0, Shanghai)) // 16:00 UTC on 31 December
	give("")
	give("")
	give("award.month_cap")
	// Bob has his own counts.
	_, err = w.record(w.gw, w.sorting, w.bob.ID, "")
	must(t, err)
	if got := w.balance(t, ledger.MemberAccount(w.ann.ID)); got != 2*5 { // six given, one reversed
		t.Fatalf("Ann has %d points", got)
	}
}

// testTwoApprovals: a 见义勇为 of 50 waits for a second staff member; its
// recorder cannot approve it, a grid worker cannot; twenty approvals at
// once by two others post it once.
func testTwoApprovals(t *testing.T, open OpenAwards) {
	w := newAwardWorld(t, open, time.Date(2026, 11, 20, 10, 0, 0, 0, Shanghai))
	a, err := w.record(w.org, w.hero, w.ann.ID, "河边救起落水儿童")
	if err != nil || a.Status != ledger.AwardPending {
		t.Fatalf("%+v %v", a, err)
	}
	_, err = w.s.ApproveAward(ctx, a.ID, w.org.ID)
	wantCode(t, err, ledger.EFORBIDDEN, "award.own_approval")
	_, err = w.s.ApproveAward(ctx, a.ID, w.gw.ID)
	wantCode(t, err, ledger.EFORBIDDEN, "award.grid_worker_decides")
	_, err = w.s.ApproveAward(ctx, a.ID, w.annUser.ID)
	wantCode(t, err, ledger.EFORBIDDEN, "auth.forbidden")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for i := range 20 {
		wg.Go(func() {
			by := w.org2.ID
			if i%2 == 1 {
				by = w.admin.ID
			}
			_, err := w.s.ApproveAward(ctx, a.ID, by)
			mu.Lock()
			defer mu.Unlock()
			switch le, _ := ledger.AsError(err); {
			case err == nil:
				ok++
			case le != nil && le.Key == "award.not_pending":
				refused++
			default:
				t.Errorf("approve: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || refused != 19 {
		t.Fatalf("%d approvals went through, %d refused", ok, refused)
	}
	if got := w.balance(t, ledger.MemberAccount(w.ann.ID)); got != 50 {
		t.Fatalf("Ann has %d", got)
	}
}

// testObjectionRacesTheSweep: forty awards in a one-day notice period;
// objections race the posting sweep as the clock crosses the period's end.
// Each award is either held (its objection came first) or posted (the
// objection was refused), never both, and the points match.
func testObjectionRacesTheSweep(t *testing.T, open OpenAwards) {
	w := newAwardWorld(t, open, time.Date(2026, 11, 20, 10, 0, 0, 0, Shanghai))
	one := 1
	_, err := w.s.SetPublicNotice(ctx, w.a.ID, ledger.NoticePatch{AwardDays: &one})
	must(t, err)
	good, err := w.s.CreateBehaviour(ctx, ledger.Behaviour{UnitID: w.a.ID, Name: "好人好事", Category: "文明", Points: 5})
	must(t, err)
	const n = 40
	var as []ledger.Award
	for range n {
		a, err := w.record(w.org, good, w.bob.ID, "扶老人过马路")
		must(t, err)
		as = append(as, a)
	}
	end := as[0].NoticeUntil
	w.clock.Set(end.Add(-20 * time.Millisecond))
	objected := make([]error, n)
	var wg sync.WaitGroup
	wg.Go(func() { // the clock crosses the end
		for range 40 {
			w.clock.Add(time.Millisecond)
			time.Sleep(100 * time.Microsecond)
		}
	})
	wg.Go(func() {
		for i := range as {
			_, objected[i] = w.s.ObjectAward(ctx, as[i].ID, w.annUser.ID, "不属实")
		}
	})
	wg.Go(func() {
		for range 20 {
			if _, err := w.s.PostDueAwards(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	w.clock.Set(end.Add(time.Second))
	_, err = w.s.PostDueAwards(ctx)
	must(t, err)
	held, posted := 0, 0
	for i, a := range as {
		got, err := w.s.Award(ctx, a.ID)
		must(t, err)
		switch {
		case objected[i] == nil && got.Status == ledger.AwardHeld && got.EntrySeq == 0:
			held++
		case ledger.ErrorCode(objected[i]) == ledger.ECONFLICT && got.Status == ledger.AwardPosted && got.EntrySeq != 0:
			posted++
		default:
			t.Fatalf("award %d: objection %v, status %s, entry %d", i, objected[i], got.Status, got.EntrySeq)
		}
	}
	if got := w.balance(t, ledger.MemberAccount(w.bob.ID)); got != ledger.Points(5*posted) {
		t.Fatalf("Bob has %d for %d posted", got, posted)
	}
	t.Logf("%d held, %d posted", held, posted)
}

// testReverseAwardOnce: a posted award is reversed once, even by ten at
// once; a reversal that would take spent points is refused, and the award
// stays posted.
func testReverseAwardOnce(t *testing.T, open OpenAwards) {
	w := newAwardWorld(t, open, time.Date(2026, 11, 20, 10, 0, 0, 0, Shanghai))
	a, err := w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: w.sorting.ID, MemberID: w.ann.ID, By: w.gw.ID})
	must(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() { _, errs[i] = w.s.ReverseAward(ctx, a.ID, w.org.ID, "登记错人") })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if le, _ := ledger.AsError(err); le == nil || le.Key != "award.already_reversed" {
			t.Fatal(err)
		}
	}
	if ok != 1 || w.balance(t, ledger.MemberAccount(w.ann.ID)) != 0 {
		t.Fatalf("%d reversals", ok)
	}
	// Bob spends his award before it is reversed: the reversal is refused.
	b, err := w.record(w.gw, w.sorting, w.bob.ID, "")
	must(t, err)
	if _, err := w.s.ReverseAward(ctx, b.ID, w.gwB.ID, "x"); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("a grid worker of another grid: %v", err)
	}
	_, err = w.s.Append(ctx, ledger.Transfer{Debit: ledger.MemberAccount(w.bob.ID), Credit: ledger.Escrow, Amount: 2,
		Kind: ledger.KindHold, Reference: "voucher:" + uuid.NewString()})
	must(t, err)
	_, err = w.s.ReverseAward(ctx, b.ID, w.org.ID, "登记错人")
	wantCode(t, err, ledger.ECONFLICT, "entry.insufficient")
	if got, _ := w.s.Award(ctx, b.ID); got.Status != ledger.AwardPosted {
		t.Fatalf("after a refused reversal: %s", got.Status)
	}
}

// testHouseholdAwards: a household deduction takes from the household's
// account, not its members'; a household award (approved by a second
// organiser) goes to it; a grid worker of another grid finds the household
// nowhere.
func testHouseholdAwards(t *testing.T, open OpenAwards) {
	w := newAwardWorld(t, open, time.Date(2026, 11, 20, 10, 0, 0, 0, Shanghai))
	w.earn(t, w.ann.ID, 10)
	good, err := w.s.CreateBehaviour(ctx, ledger.Behaviour{UnitID: w.a.ID, Name: "文明家庭", Category: "家庭", Points: 30, YearCap: 1, Target: ledger.TargetHousehold})
	must(t, err)
	hh := w.home.Account()
	d, err := w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: w.family.ID, HouseholdID: w.home.ID, Note: "楼道堆物", By: w.gw.ID})
	if err != nil || d.Taken != 0 || d.NotTaken != 5 || d.EntrySeq != 0 {
		t.Fatalf("%+v %v", d, err)
	}
	_, err = w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: good.ID, HouseholdID: w.home.ID, By: w.gwB.ID})
	wantCode(t, err, ledger.ENOTFOUND, "household.not_found")
	_, err = w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: good.ID, MemberID: w.ann.ID, By: w.gw.ID})
	wantCode(t, err, ledger.EINVALID, "award.behaviour_household")
	a, err := w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: good.ID, HouseholdID: w.home.ID, Note: "五好家庭", By: w.gw.ID})
	if err != nil || a.Status != ledger.AwardPending {
		t.Fatalf("%+v %v", a, err)
	}
	if a, err = w.s.ApproveAward(ctx, a.ID, w.org.ID); err != nil || a.Status != ledger.AwardPosted {
		t.Fatalf("%+v %v", a, err)
	}
	_, err = w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: good.ID, HouseholdID: w.home.ID, By: w.gw.ID})
	wantCode(t, err, ledger.ECONFLICT, "award.year_cap")
	d2, err := w.s.RecordAward(ctx, ledger.AwardRequest{BehaviourID: w.family.ID, HouseholdID: w.home.ID, Note: "又堆物", By: w.org.ID})
	if err != nil || d2.Taken != 5 || d2.NotTaken != 0 {
		t.Fatalf("%+v %v", d2, err)
	}
	if got, ann := w.balance(t, hh), w.balance(t, ledger.MemberAccount(w.ann.ID)); got != 25 || ann != 10 {
		t.Fatalf("household %d, Ann %d", got, ann)
	}
	list, err := w.s.Awards(ctx, ledger.AwardFilter{Scope: ledger.Scope{Unit: w.gridA.ID}, HouseholdID: w.home.ID})
	if err != nil || len(list) != 3 || list[0].ID != d2.ID {
		t.Fatalf("%d %v", len(list), err)
	}
	if got, err := w.s.Awards(ctx, ledger.AwardFilter{Scope: ledger.Scope{Unit: w.gridB.ID}, HouseholdID: w.home.ID}); err != nil || len(got) != 0 {
		t.Fatalf("another grid sees %d", len(got))
	}
	mine, err := w.s.Awards(ctx, ledger.AwardFilter{Scope: ledger.Scope{All: true}, MemberID: w.ann.ID, WithHousehold: true})
	if err != nil || len(mine) != 3 {
		t.Fatalf("Ann's awards with her household's: %d %v", len(mine), err)
	}
	targets, err := w.s.AwardTargets(ctx, ledger.Scope{Unit: w.gridA.ID}, "安", 10)
	if err != nil || len(targets) != 2 || targets[0].ID != w.ann.ID || targets[0].Household != w.home.ID || targets[1].ID != w.home.ID {
		t.Fatalf("targets %+v %v", targets, err)
	}
	if targets, _ := w.s.AwardTargets(ctx, ledger.Scope{Unit: w.gridB.ID}, "安", 10); len(targets) != 0 {
		t.Fatalf("another grid finds %+v", targets)
	}
}

// testRecordAwardIdempotent: the same key and request is the same award,
// even sent ten times at once; the same key with another note is refused.
func testRecordAwardIdempotent(t *testing.T, open OpenAwards) {
	w := newAwardWorld(t, open, time.Date(2026, 11, 20, 10, 0, 0, 0, Shanghai))
	key, _ := ledger.ClientKey(w.gw.ID, "0190a1b2-0000-7000-8000-000000000001")
	req := ledger.AwardRequest{BehaviourID: w.sorting.ID, MemberID: w.ann.ID, By: w.gw.ID, Key: key, Note: "分类正确",
		Evidence: []ledger.Picture{{ContentType: "image/png", Data: []byte("\x89PNG fake")}}}
	ids := make([]uuid.UUID, 10)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			a, err := w.s.RecordAward(ctx, req)
			if err != nil {
				t.Error(err)
			}
			ids[i] = a.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("two awards: %v", ids)
		}
	}
	other := req
	other.Note = "别的"
	_, err := w.s.RecordAward(ctx, other)
	wantCode(t, err, ledger.ECONFLICT, "idempotency.mismatch")
	if got := w.balance(t, ledger.MemberAccount(w.ann.ID)); got != 2 {
		t.Fatalf("Ann has %d", got)
	}
	p, err := w.s.AwardEvidence(ctx, ids[0], 1)
	if err != nil || p.ContentType != "image/png" || string(p.Data) != "\x89PNG fake" {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := w.s.AwardEvidence(ctx, ids[0], 2); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("no second photo: %v", err)
	}
}
