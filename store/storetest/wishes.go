package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// WishesStore is what the wishes suite needs of an engine: wishes
// (ledger.Wishes), the directory they name and the journal their points
// go to.
type WishesStore interface {
	DirectoryStore
	ledger.Wishes
	MonthTotals(ctx context.Context, m ledger.Month) ([]ledger.MonthTotals, error)
}

// OpenWishes opens a fresh, empty store whose clock is clock.
type OpenWishes func(t *testing.T, clock func() time.Time) WishesStore

// RunWishes runs the conformance tests of 微心愿.
func RunWishes(t *testing.T, open OpenWishes) {
	tests := []struct {
		name string
		fn   func(*testing.T, OpenWishes)
	}{
		{"Life", testWishLife},
		{"RacingClaims", testWishRacingClaims},
		{"ConfirmOnce", testWishConfirmOnce},
		{"TeamSplit", testWishTeamSplit},
		{"EndAfterConfirm", testWishEndAfterConfirm},
		{"Idempotency", testWishIdempotency},
		{"Walls", testWishWalls},
		{"FourEyes", testWishFourEyes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// Tree is a street with two communities, a grid in each, and a party
// team of community A.
type Tree struct {
	Street, A, B, GridA, GridB ledger.Unit
	TeamA                      ledger.Team
}

// MakeTree makes the Tree in s.
func MakeTree(t *testing.T, s DirectoryStore) Tree {
	t.Helper()
	unit := func(name string, kind ledger.UnitKind, parent uuid.UUID, posts []string) ledger.Unit {
		u, err := s.CreateUnit(ctx, name, kind, parent, posts)
		must(t, err)
		return u
	}
	var tr Tree
	tr.Street = unit("幸福街道", ledger.UnitStreet, uuid.Nil, nil)
	tr.A = unit("东河园社区", ledger.UnitCommunity, tr.Street.ID, []string{"政策宣讲岗", "助老岗"})
	tr.B = unit("西湖社区", ledger.UnitCommunity, tr.Street.ID, nil)
	tr.GridA = unit("第一网格", ledger.UnitGrid, tr.A.ID, nil)
	tr.GridB = unit("第一网格", ledger.UnitGrid, tr.B.ID, nil)
	var err error
	tr.TeamA, err = s.CreateTeam(ctx, ledger.Team{Name: "党员志愿服务队", Kind: ledger.TeamPartyVolunteer, UnitID: tr.A.ID})
	must(t, err)
	return tr
}

// WishWorld is the tree of makeTree with a building in community A's grid,
// an organiser, and n volunteers of community A, the first two in its
// party team, on a clock of the test's own.
type WishWorld struct {
	S         WishesStore
	Clock     *Clock
	Tr        Tree
	Building  ledger.Unit
	Organiser ledger.WishActor
	Members   []ledger.Member
	Vols      []ledger.WishActor
}

// NewWishWorld opens a store and makes the world in it.
func NewWishWorld(t *testing.T, open OpenWishes, n int) *WishWorld {
	t.Helper()
	clock := NewClock(time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC))
	s := open(t, clock.Now)
	w := &WishWorld{S: s, Clock: clock, Tr: MakeTree(t, s), Organiser: ledger.WishActor{User: uuid.New(), Role: ledger.RoleOrganizer}}
	var err error
	if w.Building, err = s.CreateUnit(ctx, "3号楼", ledger.UnitBuilding, w.Tr.GridA.ID, nil); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m := ledger.Member{Name: fmt.Sprintf("志愿者%d", i), Phone: fmt.Sprintf("139%08d", i), UnitID: w.Tr.GridA.ID}
		if i < 3 {
			m.TeamIDs = []uuid.UUID{w.Tr.TeamA.ID}
		}
		if m, err = s.CreateMember(ctx, m, ""); err != nil {
			t.Fatal(err)
		}
		w.Members = append(w.Members, m)
		w.Vols = append(w.Vols, ledger.WishActor{User: uuid.New(), Role: ledger.RoleVolunteer, Member: m.ID})
	}
	return w
}

// Published enters a wish of points for a resident of the building and puts it on the wall.
func (w *WishWorld) Published(t *testing.T, title string, points ledger.Points) ledger.Wish {
	t.Helper()
	wish, err := w.S.CreateWish(ctx, ledger.WishRequest{Title: title, Need: "需要" + title, ResidentName: "张小明", ResidentPhone: "13800001234",
		UnitID: w.Building.ID, Points: points}, w.Organiser, "")
	if err != nil {
		t.Fatal(err)
	}
	if wish, err = w.S.PublishWish(ctx, wish.ID, w.Organiser, nil, ""); err != nil {
		t.Fatal(err)
	}
	return wish
}

// Fulfilled is published, claimed by volunteer i (for the team when team
// is set) and fulfilled by the participants who.
func (w *WishWorld) Fulfilled(t *testing.T, title string, points ledger.Points, i int, team uuid.UUID, who []uuid.UUID) ledger.Wish {
	t.Helper()
	wish := w.Published(t, title, points)
	if _, err := w.S.ClaimWish(ctx, wish.ID, w.Vols[i], team, ""); err != nil {
		t.Fatal(err)
	}
	wish, err := w.S.FulfilWish(ctx, wish.ID, w.Vols[i], "已送到", who, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return wish
}

func (w *WishWorld) Balance(t *testing.T, m ledger.Member) ledger.Points {
	t.Helper()
	b, err := w.S.Balance(ctx, ledger.MemberAccount(m.ID))
	if err != nil {
		t.Fatal(err)
	}
	return b.Points
}

// testWishLife takes a wish from a volunteer's phone through every step:
// submitted, verified with points, published, claimed, fulfilled with a
// photo, confirmed; the claimer's points arrive as an award entry that the
// monthly rows count as wish points.
func testWishLife(t *testing.T, open OpenWishes) {
	w := NewWishWorld(t, open, 3)
	s := w.S
	wish, err := s.CreateWish(ctx, ledger.WishRequest{Title: "修理水龙头", Need: "厨房水龙头一直滴水", ResidentName: "刘桂兰",
		UnitID: w.Building.ID}, w.Vols[2], "")
	if err != nil || wish.Status != ledger.WishSubmitted || wish.CommunityID != w.Tr.A.ID {
		t.Fatalf("%v %+v", err, wish)
	}
	if _, err := s.CreateWish(ctx, ledger.WishRequest{Title: "x", Need: "x", ResidentName: "x", UnitID: uuid.New()}, w.Organiser, ""); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("unknown unit: %v", err)
	}
	points := ledger.Points(15)
	steps := []func() (ledger.Wish, error){
		func() (ledger.Wish, error) { return s.VerifyWish(ctx, wish.ID, w.Organiser, &points, "") },
		func() (ledger.Wish, error) { return s.PublishWish(ctx, wish.ID, w.Organiser, nil, "") },
		func() (ledger.Wish, error) { return s.ClaimWish(ctx, wish.ID, w.Vols[0], uuid.Nil, "") },
		func() (ledger.Wish, error) {
			return s.FulfilWish(ctx, wish.ID, w.Vols[0], "换了新阀芯，不滴了", nil, []ledger.WishUpload{{Type: "image/png", Data: []byte("\x89PNG photo")}}, "")
		},
		func() (ledger.Wish, error) {
			return s.ConfirmWish(ctx, wish.ID, w.Organiser, ledger.WishConfirmRequest{How: ledger.WishConfirmPhone, Note: "电话回访，刘阿姨说修好了"}, "")
		},
	}
	want := []ledger.WishStatus{ledger.WishVerified, ledger.WishPublished, ledger.WishClaimed, ledger.WishFulfilled, ledger.WishConfirmed}
	for i, step := range steps {
		w.Clock.Add(time.Hour)
		if wish, err = step(); err != nil || wish.Status != want[i] {
			t.Fatalf("step %d: %v %s", i, err, wish.Status)
		}
	}
	if len(wish.History) != 6 || len(wish.Awards) != 1 || wish.Awards[0].Points != 15 || wish.Awards[0].Seq == 0 {
		t.Fatalf("%+v", wish)
	}
	if got := w.Balance(t, w.Members[0]); got != 15 {
		t.Fatalf("the claimer has %d points", got)
	}
	ctype, data, err := s.WishPhoto(ctx, wish.ID, 1)
	if err != nil || ctype != "image/png" || string(data) != "\x89PNG photo" {
		t.Fatalf("photo: %q %q %v", ctype, data, err)
	}
	if _, _, err := s.WishPhoto(ctx, wish.ID, 2); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("no second photo: %v", err)
	}
	totals, err := s.MonthTotals(ctx, ledger.MonthOf(w.Clock.Now(), Shanghai))
	if err != nil {
		t.Fatal(err)
	}
	for _, mt := range totals {
		if mt.Account == ledger.MemberAccount(w.Members[0].ID) && (mt.Wish != 15 || mt.In[ledger.KindAward] != 15) {
			t.Fatalf("month row %+v", mt)
		}
	}
	// The lists: the community's, the member's (the claimer's and the
	// volunteer who entered it), a scope.
	for name, f := range map[string]ledger.WishFilter{
		"community": {Scope: ledger.Scope{All: true}, Community: w.Tr.A.ID},
		"claimer":   {Scope: ledger.Scope{All: true}, Member: w.Members[0].ID},
		"enterer":   {Scope: ledger.Scope{All: true}, Member: w.Members[2].ID},
		"grid":      {Scope: ledger.Scope{Unit: w.Tr.GridA.ID}},
		"confirmed": {Scope: ledger.Scope{All: true}, Statuses: []ledger.WishStatus{ledger.WishConfirmed}},
	} {
		if got, err := s.ListWishes(ctx, f); err != nil || len(got) != 1 || got[0].ID != wish.ID {
			t.Errorf("%s: %v %d", name, err, len(got))
		}
	}
	for name, f := range map[string]ledger.WishFilter{
		"other community": {Scope: ledger.Scope{All: true}, Community: w.Tr.B.ID},
		"other member":    {Scope: ledger.Scope{All: true}, Member: w.Members[1].ID},
		"other grid":      {Scope: ledger.Scope{Unit: w.Tr.GridB.ID}},
		"no scope":        {},
		"open":            {Scope: ledger.Scope{All: true}, Statuses: []ledger.WishStatus{ledger.WishPublished}},
	} {
		if got, err := s.ListWishes(ctx, f); err != nil || len(got) != 0 {
			t.Errorf("%s: %v %d", name, err, len(got))
		}
	}
}

// testWishRacingClaims: 32 volunteers claim one wish at the same moment;
// exactly one wins, the other 31 hear it is taken, and the wish and the
// index of claims name the winner alone.
func testWishRacingClaims(t *testing.T, open OpenWishes) {
	const n = 32
	w := NewWishWorld(t, open, n)
	wish := w.Published(t, "陪同就医", 10)
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = w.S.ClaimWish(ctx, wish.ID, w.Vols[i], uuid.Nil, "")
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch ledger.ErrorCode(err) {
		case "":
			if winner >= 0 {
				t.Fatalf("volunteers %d and %d both claimed it", winner, i)
			}
			winner = i
		case ledger.ECONFLICT:
		default:
			t.Fatalf("volunteer %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("nobody claimed it")
	}
	got, err := w.S.Wish(ctx, wish.ID)
	if err != nil || got.Status != ledger.WishClaimed || got.Claim.MemberID != w.Members[winner].ID {
		t.Fatalf("%v %+v", err, got.Claim)
	}
	claims := 0
	for _, h := range got.History {
		if h.Step == ledger.WishStepClaim {
			claims++
		}
	}
	if claims != 1 {
		t.Fatalf("%d claims in the history", claims)
	}
}

// testWishConfirmOnce: a wish confirmed twice, and by 16 organisers at
// once, posts its points once; the same request with its key again is the
// first answer; the ledger verifies and the balance is the wish's points.
func testWishConfirmOnce(t *testing.T, open OpenWishes) {
	w := NewWishWorld(t, open, 3)
	wish := w.Fulfilled(t, "代买药品", 12, 1, uuid.Nil, nil)
	confirm := ledger.WishConfirmRequest{How: ledger.WishConfirmInPerson}
	first, err := w.S.ConfirmWish(ctx, wish.ID, w.Organiser, confirm, "client:org:k1")
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := w.S.Head(ctx)
	again, err := w.S.ConfirmWish(ctx, wish.ID, w.Organiser, confirm, "client:org:k1")
	if err != nil || again.Confirmation.At != first.Confirmation.At {
		t.Fatalf("the same confirmation again: %v", err)
	}
	if _, err := w.S.ConfirmWish(ctx, wish.ID, w.Organiser, ledger.WishConfirmRequest{How: ledger.WishConfirmPhone}, "client:org:k1"); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("the key with another request: %v", err)
	}
	if _, err := w.S.ConfirmWish(ctx, wish.ID, w.Organiser, confirm, ""); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("confirmed twice: %v", err)
	}
	if h, _, _ := w.S.Head(ctx); h != head {
		t.Fatalf("a repeated confirmation wrote entries %d..%d", head, h)
	}

	// Sixteen organisers at once on another wish.
	wish2 := w.Fulfilled(t, "陪同就医", 20, 1, uuid.Nil, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, conflicts := 0, 0
	for range 16 {
		wg.Go(func() {
			_, err := w.S.ConfirmWish(ctx, wish2.ID, ledger.WishActor{User: uuid.New(), Role: ledger.RoleAdmin}, confirm, "")
			mu.Lock()
			defer mu.Unlock()
			switch ledger.ErrorCode(err) {
			case "":
				ok++
			case ledger.ECONFLICT:
				conflicts++
			default:
				t.Errorf("confirm: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || conflicts != 15 {
		t.Fatalf("%d confirmed, %d refused", ok, conflicts)
	}
	if got := w.Balance(t, w.Members[1]); got != 32 {
		t.Fatalf("balance %d, want 12 + 20", got)
	}
}

// testWishTeamSplit: a team's claim shares the points among the members
// who took part, in whole points, the remainder to the first named; the
// shares add up to the wish's points exactly. A wish of no points is
// confirmed with no entry at all.
func testWishTeamSplit(t *testing.T, open OpenWishes) {
	w := NewWishWorld(t, open, 4)
	team := w.Tr.TeamA.ID
	who := []uuid.UUID{w.Members[2].ID, w.Members[0].ID, w.Members[1].ID}
	wish := w.Fulfilled(t, "给孩子买书包", 20, 0, team, who)
	if _, err := w.S.ClaimWish(ctx, w.Published(t, "x", 1).ID, w.Vols[3], team, ""); ledger.ErrorCode(err) != ledger.EINVALID {
		t.Fatalf("a claim for a team one is not in: %v", err)
	}
	// 20 points: confirmed by a second pair of eyes, not the organiser who set them.
	got, err := w.S.ConfirmWish(ctx, wish.ID, ledger.WishActor{User: uuid.New(), Role: ledger.RoleAdmin}, ledger.WishConfirmRequest{How: ledger.WishConfirmSigned}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]ledger.Points{2: 7, 0: 7, 1: 6, 3: 0}
	var sum ledger.Points
	for i, p := range want {
		if b := w.Balance(t, w.Members[i]); b != p {
			t.Errorf("member %d has %d, want %d", i, b, p)
		}
		sum += p
	}
	if sum != 20 || len(got.Awards) != 3 || got.Awards[0].MemberID != who[0] {
		t.Fatalf("sum %d, awards %+v", sum, got.Awards)
	}
	head, _, _ := w.S.Head(ctx)
	zero := w.Fulfilled(t, "帮忙搬花盆", 0, 3, uuid.Nil, nil)
	if z, err := w.S.ConfirmWish(ctx, zero.ID, w.Organiser, ledger.WishConfirmRequest{How: ledger.WishConfirmPhone}, ""); err != nil || z.Status != ledger.WishConfirmed {
		t.Fatalf("a wish of no points: %v", err)
	}
	if h, _, _ := w.S.Head(ctx); h != head {
		t.Fatal("a wish of no points wrote an entry")
	}
}

// testWishEndAfterConfirm: once confirmed, a wish can be neither withdrawn
// nor rejected, and the refusal writes nothing; the points stay.
func testWishEndAfterConfirm(t *testing.T, open OpenWishes) {
	w := NewWishWorld(t, open, 2)
	wish := w.Fulfilled(t, "助听器换电池", 10, 0, uuid.Nil, nil)
	if _, err := w.S.ConfirmWish(ctx, wish.ID, w.Organiser, ledger.WishConfirmRequest{How: ledger.WishConfirmPhone}, ""); err != nil {
		t.Fatal(err)
	}
	head, _, _ := w.S.Head(ctx)
	before, _ := w.S.Wish(ctx, wish.ID)
	if _, err := w.S.WithdrawWish(ctx, wish.ID, w.Organiser, "搞错了", ""); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("withdrawn after confirmation: %v", err)
	}
	if _, err := w.S.RejectWish(ctx, wish.ID, w.Organiser, "搞错了", ""); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("rejected after confirmation: %v", err)
	}
	after, _ := w.S.Wish(ctx, wish.ID)
	if h, _, _ := w.S.Head(ctx); h != head || after.Status != ledger.WishConfirmed || len(after.History) != len(before.History) {
		t.Fatalf("a refusal changed something: %s %d", after.Status, len(after.History))
	}
	if b := w.Balance(t, w.Members[0]); b != 10 {
		t.Fatalf("balance %d", b)
	}
	// Before confirmation a claimed wish is withdrawn, and its claim leaves the index.
	other := w.Published(t, "代取快递", 5)
	if _, err := w.S.ClaimWish(ctx, other.ID, w.Vols[1], uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := w.S.WithdrawWish(ctx, other.ID, w.Organiser, "居民已自行解决", ""); err != nil || got.Status != ledger.WishWithdrawn {
		t.Fatalf("%v %s", err, got.Status)
	}
}

// testWishIdempotency: creating with a client's key twice makes one wish;
// the key with another request, or for another step, is a conflict; two
// users' keys never meet.
func testWishIdempotency(t *testing.T, open OpenWishes) {
	w := NewWishWorld(t, open, 2)
	req := ledger.WishRequest{Title: "买书包", Need: "书包", ResidentName: "张小明", UnitID: w.Building.ID, Points: 10}
	key, _ := ledger.ClientKey(w.Organiser.User, "0193b000-0000-7000-8000-000000000001")
	a, err := w.S.CreateWish(ctx, req, w.Organiser, key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.S.CreateWish(ctx, req, w.Organiser, key)
	if err != nil || b.ID != a.ID {
		t.Fatalf("a repeat made %s after %s: %v", b.ID, a.ID, err)
	}
	other := req
	other.Points = 20
	if _, err := w.S.CreateWish(ctx, other, w.Organiser, key); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("the key with another wish: %v", err)
	}
	if _, err := w.S.PublishWish(ctx, a.ID, w.Organiser, nil, key); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("the key of the creation for a step: %v", err)
	}
	someone := ledger.WishActor{User: uuid.New(), Role: ledger.RoleOrganizer}
	theirs, _ := ledger.ClientKey(someone.User, "0193b000-0000-7000-8000-000000000001")
	if c, err := w.S.CreateWish(ctx, req, someone, theirs); err != nil || c.ID == a.ID {
		t.Fatalf("another user's same key: %v", err)
	}
	all, _ := w.S.ListWishes(ctx, ledger.WishFilter{Scope: ledger.Scope{All: true}})
	if len(all) != 2 {
		t.Fatalf("%d wishes", len(all))
	}
	// A step's key: a repeat changes nothing; claiming by the same
	// volunteer again without a key is a repeat as well.
	pk, _ := ledger.ClientKey(w.Organiser.User, "publish-1")
	p1, err := w.S.PublishWish(ctx, a.ID, w.Organiser, nil, pk)
	if err != nil {
		t.Fatal(err)
	}
	if p2, err := w.S.PublishWish(ctx, a.ID, w.Organiser, nil, pk); err != nil || len(p2.History) != len(p1.History) {
		t.Fatalf("publish again: %v", err)
	}
	c1, err := w.S.ClaimWish(ctx, a.ID, w.Vols[0], uuid.Nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if c2, err := w.S.ClaimWish(ctx, a.ID, w.Vols[0], uuid.Nil, ""); err != nil || len(c2.History) != len(c1.History) {
		t.Fatalf("claim again: %v", err)
	}
}

// testWishWalls: the switch is a community's, off until set.
func testWishWalls(t *testing.T, open OpenWishes) {
	w := NewWishWorld(t, open, 0)
	if walls, err := w.S.WishWalls(ctx); err != nil || len(walls) != 0 {
		t.Fatalf("%v %v", walls, err)
	}
	if _, err := w.S.SetWishWall(ctx, w.Tr.GridA.ID, true, uuid.Nil); ledger.ErrorCode(err) != ledger.EINVALID {
		t.Fatalf("a grid's wall: %v", err)
	}
	if _, err := w.S.SetWishWall(ctx, uuid.New(), true, uuid.Nil); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("no unit: %v", err)
	}
	if _, err := w.S.SetWishWall(ctx, w.Tr.A.ID, true, w.Organiser.User); err != nil {
		t.Fatal(err)
	}
	walls, err := w.S.WishWalls(ctx)
	if err != nil || !walls[w.Tr.A.ID].On || walls[w.Tr.B.ID].On || walls[w.Tr.A.ID].UpdatedBy != w.Organiser.User {
		t.Fatalf("%v %v", walls, err)
	}
}

// testWishFourEyes: a wish of the approval threshold's points or more is
// confirmed by someone other than who set its points, of the community or
// its street (an organiser of a grid below, whom the community's organiser
// could have made, is not enough); a smaller one by the same organiser. A
// participant who has left gets no points: the confirmation is refused
// until they are taken off. Refusals write nothing.
func testWishFourEyes(t *testing.T, open OpenWishes) {
	w := NewWishWorld(t, open, 3)
	community := ledger.WishActor{User: uuid.New(), Role: ledger.RoleOrganizer, Unit: w.Tr.A.ID}
	gridOrg := ledger.WishActor{User: uuid.New(), Role: ledger.RoleOrganizer, Unit: w.Tr.GridA.ID}
	street := ledger.WishActor{User: uuid.New(), Role: ledger.RoleOrganizer, Unit: w.Tr.Street.ID}
	w.Organiser = community
	confirm := ledger.WishConfirmRequest{How: ledger.WishConfirmPhone}
	big := w.Fulfilled(t, "陪同就医", 20, 0, uuid.Nil, nil)
	head, _, _ := w.S.Head(ctx)
	for name, by := range map[string]ledger.WishActor{"WhoSetThePoints": community, "AGridsOrganiser": gridOrg} {
		if _, err := w.S.ConfirmWish(ctx, big.ID, by, confirm, ""); ledger.ErrorCode(err) != ledger.EFORBIDDEN {
			t.Fatalf("%s confirms a 20-point wish: %v", name, err)
		}
	}
	if h, _, _ := w.S.Head(ctx); h != head {
		t.Fatal("a refused confirmation wrote entries")
	}
	if got, err := w.S.ConfirmWish(ctx, big.ID, street, confirm, ""); err != nil || got.Status != ledger.WishConfirmed {
		t.Fatalf("the street's organiser: %+v %v", got.Status, err)
	}
	small := w.Fulfilled(t, "换灯泡", 19, 1, uuid.Nil, nil)
	if _, err := w.S.ConfirmWish(ctx, small.ID, community, confirm, ""); err != nil {
		t.Fatalf("19 points by who set them: %v", err)
	}
	// A participant who has left since reporting it done.
	left := w.Fulfilled(t, "修水龙头", 5, 2, uuid.Nil, nil)
	m := w.Members[2]
	m.Status = ledger.MemberLeft
	if _, err := w.S.UpdateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := w.S.ConfirmWish(ctx, left.ID, community, confirm, ""); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("points for a member who left: %v", err)
	}
	if b, _ := w.S.Balance(ctx, ledger.MemberAccount(m.ID)); b.Points != 0 {
		t.Fatalf("the member who left got %d", b.Points)
	}
}
