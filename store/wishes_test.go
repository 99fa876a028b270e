package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// wishWorld is the tree of makeTree with a building in community A's grid,
// an organiser, and n volunteers of community A, the first two in its
// party team, on a clock of the test's own.
type wishWorld struct {
	s         *Store
	clock     *testClock
	tr        tree
	building  ledger.Unit
	organiser ledger.WishActor
	members   []ledger.Member
	vols      []ledger.WishActor
}

func newWishWorld(t *testing.T, n int) *wishWorld {
	t.Helper()
	clock := newTestClock(time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC))
	s := openTest(t, Options{Now: clock.Now})
	t.Cleanup(func() { checkWishes(t, s) })
	w := &wishWorld{s: s, clock: clock, tr: makeTree(t, s), organiser: ledger.WishActor{User: uuid.New(), Role: ledger.RoleOrganizer}}
	var err error
	if w.building, err = s.CreateUnit(ctx, "3号楼", ledger.UnitBuilding, w.tr.gridA.ID, nil); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m := ledger.Member{Name: fmt.Sprintf("志愿者%d", i), Phone: fmt.Sprintf("139%08d", i), UnitID: w.tr.gridA.ID}
		if i < 3 {
			m.TeamIDs = []uuid.UUID{w.tr.teamA.ID}
		}
		if m, err = s.CreateMember(ctx, m, ""); err != nil {
			t.Fatal(err)
		}
		w.members = append(w.members, m)
		w.vols = append(w.vols, ledger.WishActor{User: uuid.New(), Role: ledger.RoleVolunteer, Member: m.ID})
	}
	return w
}

// published enters a wish of points for a resident of the building and puts it on the wall.
func (w *wishWorld) published(t *testing.T, title string, points ledger.Points) ledger.Wish {
	t.Helper()
	wish, err := w.s.CreateWish(ctx, ledger.WishRequest{Title: title, Need: "需要" + title, ResidentName: "张小明", ResidentPhone: "13800001234",
		UnitID: w.building.ID, Points: points}, w.organiser, "")
	if err != nil {
		t.Fatal(err)
	}
	if wish, err = w.s.PublishWish(ctx, wish.ID, w.organiser, nil, ""); err != nil {
		t.Fatal(err)
	}
	return wish
}

// fulfilled is published, claimed by volunteer i (for the team when team
// is set) and fulfilled by the participants who.
func (w *wishWorld) fulfilled(t *testing.T, title string, points ledger.Points, i int, team uuid.UUID, who []uuid.UUID) ledger.Wish {
	t.Helper()
	wish := w.published(t, title, points)
	if _, err := w.s.ClaimWish(ctx, wish.ID, w.vols[i], team, ""); err != nil {
		t.Fatal(err)
	}
	wish, err := w.s.FulfilWish(ctx, wish.ID, w.vols[i], "已送到", who, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return wish
}

func (w *wishWorld) balance(t *testing.T, m ledger.Member) ledger.Points {
	t.Helper()
	b, err := w.s.Balance(ctx, ledger.MemberAccount(m.ID))
	if err != nil {
		t.Fatal(err)
	}
	return b.Points
}

// checkWishes checks that wishes and the journal agree: a confirmed wish's
// awards are its award entries (issuer of its community -> each
// participant, reference wish:<id>) and add up to its points; no other wish
// has an entry; and the index of open claims names exactly the claimed
// wishes, at their due times.
func checkWishes(t *testing.T, s *Store) {
	t.Helper()
	err := s.db.View(func(tx *bolt.Tx) error {
		byRef := map[string][]ledger.Entry{}
		err := tx.Bucket(bucketJournal).ForEach(func(k, _ []byte) error {
			e, err := readEntry(tx, binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			if strings.HasPrefix(e.Reference, ledger.WishReferencePrefix) {
				byRef[e.Reference] = append(byRef[e.Reference], e)
			}
			return nil
		})
		if err != nil {
			return err
		}
		claims := map[string]bool{}
		_ = tx.Bucket(bucketWishClaims).ForEach(func(k, _ []byte) error {
			claims[string(k)] = true
			return nil
		})
		err = tx.Bucket(bucketWishes).ForEach(func(k, _ []byte) error {
			w, err := getWish(tx, uuid.UUID(k))
			if err != nil {
				return nil // a test's damaged wish
			}
			entries := byRef[w.Reference()]
			delete(byRef, w.Reference())
			if w.Status != ledger.WishConfirmed {
				if len(entries) > 0 || len(w.Awards) > 0 {
					t.Errorf("wish %s is %s but has entries %v, awards %v", w.ID, w.Status, entries, w.Awards)
				}
			} else {
				var sum ledger.Points
				if len(entries) != len(w.Awards) {
					t.Errorf("wish %s: %d awards, %d entries", w.ID, len(w.Awards), len(entries))
				}
				for i, a := range w.Awards {
					sum += a.Points
					if i < len(entries) {
						e := entries[i]
						if e.Seq != a.Seq || e.Kind != ledger.KindAward || e.Amount != a.Points || e.Credit != ledger.MemberAccount(a.MemberID) ||
							e.Debit != ledger.IssuerAccount(w.CommunityID) {
							t.Errorf("wish %s: award %+v, entry %+v", w.ID, a, e)
						}
					}
				}
				if sum != w.Points {
					t.Errorf("wish %s of %d points awarded %d", w.ID, w.Points, sum)
				}
			}
			if w.Status == ledger.WishClaimed {
				if !claims[string(claimKey(w.Claim, w.ID))] {
					t.Errorf("claimed wish %s is not in the index of claims", w.ID)
				}
				delete(claims, string(claimKey(w.Claim, w.ID)))
			}
			return nil
		})
		for k := range claims {
			if len(k) == 24 {
				t.Errorf("the index of claims names %x, which is not claimed", k)
			}
		}
		for ref, es := range byRef {
			t.Errorf("entries %v name %s, which is no wish", es, ref)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
}

// TestWishLife takes a wish from a volunteer's phone through every step:
// submitted, verified with points, published, claimed, fulfilled with a
// photo, confirmed; the claimer's points arrive as an award entry that the
// monthly rows count as wish points.
func TestWishLife(t *testing.T) {
	w := newWishWorld(t, 3)
	s := w.s
	wish, err := s.CreateWish(ctx, ledger.WishRequest{Title: "修理水龙头", Need: "厨房水龙头一直滴水", ResidentName: "刘桂兰",
		UnitID: w.building.ID}, w.vols[2], "")
	if err != nil || wish.Status != ledger.WishSubmitted || wish.CommunityID != w.tr.a.ID {
		t.Fatalf("%v %+v", err, wish)
	}
	if _, err := s.CreateWish(ctx, ledger.WishRequest{Title: "x", Need: "x", ResidentName: "x", UnitID: uuid.New()}, w.organiser, ""); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("unknown unit: %v", err)
	}
	points := ledger.Points(15)
	steps := []func() (ledger.Wish, error){
		func() (ledger.Wish, error) { return s.VerifyWish(ctx, wish.ID, w.organiser, &points, "") },
		func() (ledger.Wish, error) { return s.PublishWish(ctx, wish.ID, w.organiser, nil, "") },
		func() (ledger.Wish, error) { return s.ClaimWish(ctx, wish.ID, w.vols[0], uuid.Nil, "") },
		func() (ledger.Wish, error) {
			return s.FulfilWish(ctx, wish.ID, w.vols[0], "换了新阀芯，不滴了", nil, []ledger.WishUpload{{Type: "image/png", Data: []byte("\x89PNG photo")}}, "")
		},
		func() (ledger.Wish, error) {
			return s.ConfirmWish(ctx, wish.ID, w.organiser, ledger.WishConfirmRequest{How: ledger.WishConfirmPhone, Note: "电话回访，刘阿姨说修好了"}, "")
		},
	}
	want := []ledger.WishStatus{ledger.WishVerified, ledger.WishPublished, ledger.WishClaimed, ledger.WishFulfilled, ledger.WishConfirmed}
	for i, step := range steps {
		w.clock.Add(time.Hour)
		if wish, err = step(); err != nil || wish.Status != want[i] {
			t.Fatalf("step %d: %v %s", i, err, wish.Status)
		}
	}
	if len(wish.History) != 6 || len(wish.Awards) != 1 || wish.Awards[0].Points != 15 || wish.Awards[0].Seq == 0 {
		t.Fatalf("%+v", wish)
	}
	if got := w.balance(t, w.members[0]); got != 15 {
		t.Fatalf("the claimer has %d points", got)
	}
	ctype, data, err := s.WishPhoto(ctx, wish.ID, 1)
	if err != nil || ctype != "image/png" || string(data) != "\x89PNG photo" {
		t.Fatalf("photo: %q %q %v", ctype, data, err)
	}
	if _, _, err := s.WishPhoto(ctx, wish.ID, 2); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("no second photo: %v", err)
	}
	totals, err := s.MonthTotals(ctx, ledger.MonthOf(w.clock.Now(), s.Location()))
	if err != nil {
		t.Fatal(err)
	}
	for _, mt := range totals {
		if mt.Account == ledger.MemberAccount(w.members[0].ID) && (mt.Wish != 15 || mt.In[ledger.KindAward] != 15) {
			t.Fatalf("month row %+v", mt)
		}
	}
	// The lists: the community's, the member's (the claimer's and the
	// volunteer who entered it), a scope.
	for name, f := range map[string]ledger.WishFilter{
		"community": {Scope: ledger.Scope{All: true}, Community: w.tr.a.ID},
		"claimer":   {Scope: ledger.Scope{All: true}, Member: w.members[0].ID},
		"enterer":   {Scope: ledger.Scope{All: true}, Member: w.members[2].ID},
		"grid":      {Scope: ledger.Scope{Unit: w.tr.gridA.ID}},
		"confirmed": {Scope: ledger.Scope{All: true}, Statuses: []ledger.WishStatus{ledger.WishConfirmed}},
	} {
		if got, err := s.ListWishes(ctx, f); err != nil || len(got) != 1 || got[0].ID != wish.ID {
			t.Errorf("%s: %v %d", name, err, len(got))
		}
	}
	for name, f := range map[string]ledger.WishFilter{
		"other community": {Scope: ledger.Scope{All: true}, Community: w.tr.b.ID},
		"other member":    {Scope: ledger.Scope{All: true}, Member: w.members[1].ID},
		"other grid":      {Scope: ledger.Scope{Unit: w.tr.gridB.ID}},
		"no scope":        {},
		"open":            {Scope: ledger.Scope{All: true}, Statuses: []ledger.WishStatus{ledger.WishPublished}},
	} {
		if got, err := s.ListWishes(ctx, f); err != nil || len(got) != 0 {
			t.Errorf("%s: %v %d", name, err, len(got))
		}
	}
}

// TestWishRacingClaims: 32 volunteers claim one wish at the same moment;
// exactly one wins, the other 31 hear it is taken, and the wish and the
// index of claims name the winner alone.
func TestWishRacingClaims(t *testing.T) {
	const n = 32
	w := newWishWorld(t, n)
	wish := w.published(t, "陪同就医", 10)
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = w.s.ClaimWish(ctx, wish.ID, w.vols[i], uuid.Nil, "")
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
	got, err := w.s.Wish(ctx, wish.ID)
	if err != nil || got.Status != ledger.WishClaimed || got.Claim.MemberID != w.members[winner].ID {
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

// TestWishConfirmOnce: a wish confirmed twice, and by 16 organisers at
// once, posts its points once; the same request with its key again is the
// first answer; the ledger verifies and the balance is the wish's points.
func TestWishConfirmOnce(t *testing.T) {
	w := newWishWorld(t, 3)
	wish := w.fulfilled(t, "代买药品", 12, 1, uuid.Nil, nil)
	confirm := ledger.WishConfirmRequest{How: ledger.WishConfirmInPerson}
	first, err := w.s.ConfirmWish(ctx, wish.ID, w.organiser, confirm, "client:org:k1")
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := w.s.Head(ctx)
	again, err := w.s.ConfirmWish(ctx, wish.ID, w.organiser, confirm, "client:org:k1")
	if err != nil || again.Confirmation.At != first.Confirmation.At {
		t.Fatalf("the same confirmation again: %v", err)
	}
	if _, err := w.s.ConfirmWish(ctx, wish.ID, w.organiser, ledger.WishConfirmRequest{How: ledger.WishConfirmPhone}, "client:org:k1"); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("the key with another request: %v", err)
	}
	if _, err := w.s.ConfirmWish(ctx, wish.ID, w.organiser, confirm, ""); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("confirmed twice: %v", err)
	}
	if h, _, _ := w.s.Head(ctx); h != head {
		t.Fatalf("a repeated confirmation wrote entries %d..%d", head, h)
	}

	// Sixteen organisers at once on another wish.
	wish2 := w.fulfilled(t, "陪同就医", 20, 1, uuid.Nil, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, conflicts := 0, 0
	for range 16 {
		wg.Go(func() {
			_, err := w.s.ConfirmWish(ctx, wish2.ID, ledger.WishActor{User: uuid.New(), Role: ledger.RoleAdmin}, confirm, "")
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
	if got := w.balance(t, w.members[1]); got != 32 {
		t.Fatalf("balance %d, want 12 + 20", got)
	}
	checkConsistent(t, w.s)
}

// TestWishTeamSplit: a team's claim shares the points among the members
// who took part, in whole points, the remainder to the first named; the
// shares add up to the wish's points exactly. A wish of no points is
// confirmed with no entry at all.
func TestWishTeamSplit(t *testing.T) {
	w := newWishWorld(t, 4)
	team := w.tr.teamA.ID
	who := []uuid.UUID{w.members[2].ID, w.members[0].ID, w.members[1].ID}
	wish := w.fulfilled(t, "给孩子买书包", 20, 0, team, who)
	if _, err := w.s.ClaimWish(ctx, w.published(t, "x", 1).ID, w.vols[3], team, ""); ledger.ErrorCode(err) != ledger.EINVALID {
		t.Fatalf("a claim for a team one is not in: %v", err)
	}
	// 20 points: confirmed by a second pair of eyes, not the organiser who set them.
	got, err := w.s.ConfirmWish(ctx, wish.ID, ledger.WishActor{User: uuid.New(), Role: ledger.RoleAdmin}, ledger.WishConfirmRequest{How: ledger.WishConfirmSigned}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]ledger.Points{2: 7, 0: 7, 1: 6, 3: 0}
	var sum ledger.Points
	for i, p := range want {
		if b := w.balance(t, w.members[i]); b != p {
			t.Errorf("member %d has %d, want %d", i, b, p)
		}
		sum += p
	}
	if sum != 20 || len(got.Awards) != 3 || got.Awards[0].MemberID != who[0] {
		t.Fatalf("sum %d, awards %+v", sum, got.Awards)
	}
	head, _, _ := w.s.Head(ctx)
	zero := w.fulfilled(t, "帮忙搬花盆", 0, 3, uuid.Nil, nil)
	if z, err := w.s.ConfirmWish(ctx, zero.ID, w.organiser, ledger.WishConfirmRequest{How: ledger.WishConfirmPhone}, ""); err != nil || z.Status != ledger.WishConfirmed {
		t.Fatalf("a wish of no points: %v", err)
	}
	if h, _, _ := w.s.Head(ctx); h != head {
		t.Fatal("a wish of no points wrote an entry")
	}
}

// TestWishEndAfterConfirm: once confirmed, a wish can be neither withdrawn
// nor rejected, and the refusal writes nothing; the points stay.
func TestWishEndAfterConfirm(t *testing.T) {
	w := newWishWorld(t, 2)
	wish := w.fulfilled(t, "助听器换电池", 10, 0, uuid.Nil, nil)
	if _, err := w.s.ConfirmWish(ctx, wish.ID, w.organiser, ledger.WishConfirmRequest{How: ledger.WishConfirmPhone}, ""); err != nil {
		t.Fatal(err)
	}
	head, _, _ := w.s.Head(ctx)
	before, _ := w.s.Wish(ctx, wish.ID)
	if _, err := w.s.WithdrawWish(ctx, wish.ID, w.organiser, "搞错了", ""); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("withdrawn after confirmation: %v", err)
	}
	if _, err := w.s.RejectWish(ctx, wish.ID, w.organiser, "搞错了", ""); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("rejected after confirmation: %v", err)
	}
	after, _ := w.s.Wish(ctx, wish.ID)
	if h, _, _ := w.s.Head(ctx); h != head || after.Status != ledger.WishConfirmed || len(after.History) != len(before.History) {
		t.Fatalf("a refusal changed something: %s %d", after.Status, len(after.History))
	}
	if b := w.balance(t, w.members[0]); b != 10 {
		t.Fatalf("balance %d", b)
	}
	// Before confirmation a claimed wish is withdrawn, and its claim leaves the index.
	other := w.published(t, "代取快递", 5)
	if _, err := w.s.ClaimWish(ctx, other.ID, w.vols[1], uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := w.s.WithdrawWish(ctx, other.ID, w.organiser, "居民已自行解决", ""); err != nil || got.Status != ledger.WishWithdrawn {
		t.Fatalf("%v %s", err, got.Status)
	}
}

// TestWishClaimSweep: claims not fulfilled in time go back to the wall,
// one by one; a damaged wish and a damaged index row among them are
// skipped and counted, and the rest still lapse; claims not yet due and
// fulfilled wishes stay as they are.
func TestWishClaimSweep(t *testing.T) {
	w := newWishWorld(t, 6)
	var claimed []ledger.Wish
	for i := range 4 {
		wish := w.published(t, fmt.Sprintf("心愿%d", i), 5)
		if _, err := w.s.ClaimWish(ctx, wish.ID, w.vols[i], uuid.Nil, ""); err != nil {
			t.Fatal(err)
		}
		claimed = append(claimed, wish)
	}
	done := w.fulfilled(t, "已完成的心愿", 5, 4, uuid.Nil, nil)
	w.clock.Add(3 * 24 * time.Hour)
	late := w.published(t, "晚认领的心愿", 5)
	if _, err := w.s.ClaimWish(ctx, late.ID, w.vols[5], uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	// Damage: the second wish's record, and a row of the index that is not a key.
	err := w.s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketWishes).Put(claimed[1].ID[:], []byte("{not json")); err != nil {
			return err
		}
		return tx.Bucket(bucketWishClaims).Put([]byte{0, 1}, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	failures := w.s.Stats().SweepFailures["wish_claims"]
	if res, err := w.s.LapseWishClaims(ctx); err != nil || res.Done != 0 || len(res.Failed) != 1 {
		t.Fatalf("nothing is due yet: %+v %v", res, err)
	}
	w.clock.Add(5 * 24 * time.Hour) // 8 days after the first claims, 5 after the late one
	res, err := w.s.LapseWishClaims(ctx)
	if err != nil || res.Done != 3 || len(res.Failed) != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	if res.Failed[1].ID != claimed[1].ID {
		t.Fatalf("skipped %v", res.Failed)
	}
	if got := w.s.Stats().SweepFailures["wish_claims"]; got != failures+3 {
		t.Fatalf("%d failures counted", got-failures)
	}
	for i, c := range claimed {
		if i == 1 {
			continue
		}
		got, err := w.s.Wish(ctx, c.ID)
		if err != nil || got.Status != ledger.WishPublished || got.Claim != nil || got.History[len(got.History)-1].Step != ledger.WishStepLapse {
			t.Fatalf("wish %d: %v %s", i, err, got.Status)
		}
	}
	for _, id := range []uuid.UUID{late.ID, done.ID} {
		if got, _ := w.s.Wish(ctx, id); got.Status != ledger.WishClaimed && got.Status != ledger.WishFulfilled {
			t.Fatalf("%s changed to %s", id, got.Status)
		}
	}
	// A lapsed wish can be claimed again, by its former claimer too.
	if _, err := w.s.ClaimWish(ctx, claimed[0].ID, w.vols[0], uuid.Nil, ""); err != nil {
		t.Fatal(err)
	}
	// Repair the damage so the end-of-test checks read a sound file.
	err = w.s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketWishClaims).Delete([]byte{0, 1}); err != nil {
			return err
		}
		c := tx.Bucket(bucketWishClaims).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if bytes.Equal(k[8:], claimed[1].ID[:]) {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketWishes).Delete(claimed[1].ID[:])
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWishIdempotency: creating with a client's key twice makes one wish;
// the key with another request, or for another step, is a conflict; two
// users' keys never meet.
func TestWishIdempotency(t *testing.T) {
	w := newWishWorld(t, 2)
	req := ledger.WishRequest{Title: "买书包", Need: "书包", ResidentName: "张小明", UnitID: w.building.ID, Points: 10}
	key, _ := ledger.ClientKey(w.organiser.User, "0193b000-0000-7000-8000-000000000001")
	a, err := w.s.CreateWish(ctx, req, w.organiser, key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.s.CreateWish(ctx, req, w.organiser, key)
	if err != nil || b.ID != a.ID {
		t.Fatalf("a repeat made %s after %s: %v", b.ID, a.ID, err)
	}
	other := req
	other.Points = 20
	if _, err := w.s.CreateWish(ctx, other, w.organiser, key); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("the key with another wish: %v", err)
	}
	if _, err := w.s.PublishWish(ctx, a.ID, w.organiser, nil, key); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("the key of the creation for a step: %v", err)
	}
	someone := ledger.WishActor{User: uuid.New(), Role: ledger.RoleOrganizer}
	theirs, _ := ledger.ClientKey(someone.User, "0193b000-0000-7000-8000-000000000001")
	if c, err := w.s.CreateWish(ctx, req, someone, theirs); err != nil || c.ID == a.ID {
		t.Fatalf("another user's same key: %v", err)
	}
	all, _ := w.s.ListWishes(ctx, ledger.WishFilter{Scope: ledger.Scope{All: true}})
	if len(all) != 2 {
		t.Fatalf("%d wishes", len(all))
	}
	// A step's key: a repeat changes nothing; claiming by the same
	// volunteer again without a key is a repeat as well.
	pk, _ := ledger.ClientKey(w.organiser.User, "publish-1")
	p1, err := w.s.PublishWish(ctx, a.ID, w.organiser, nil, pk)
	if err != nil {
		t.Fatal(err)
	}
	if p2, err := w.s.PublishWish(ctx, a.ID, w.organiser, nil, pk); err != nil || len(p2.History) != len(p1.History) {
		t.Fatalf("publish again: %v", err)
	}
	c1, err := w.s.ClaimWish(ctx, a.ID, w.vols[0], uuid.Nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if c2, err := w.s.ClaimWish(ctx, a.ID, w.vols[0], uuid.Nil, ""); err != nil || len(c2.History) != len(c1.History) {
		t.Fatalf("claim again: %v", err)
	}
}

// TestWishWalls: the switch is a community's, off until set.
func TestWishWalls(t *testing.T) {
	w := newWishWorld(t, 0)
	if walls, err := w.s.WishWalls(ctx); err != nil || len(walls) != 0 {
		t.Fatalf("%v %v", walls, err)
	}
	if _, err := w.s.SetWishWall(ctx, w.tr.gridA.ID, true, uuid.Nil); ledger.ErrorCode(err) != ledger.EINVALID {
		t.Fatalf("a grid's wall: %v", err)
	}
	if _, err := w.s.SetWishWall(ctx, uuid.New(), true, uuid.Nil); ledger.ErrorCode(err) != ledger.ENOTFOUND {
		t.Fatalf("no unit: %v", err)
	}
	if _, err := w.s.SetWishWall(ctx, w.tr.a.ID, true, w.organiser.User); err != nil {
		t.Fatal(err)
	}
	walls, err := w.s.WishWalls(ctx)
	if err != nil || !walls[w.tr.a.ID].On || walls[w.tr.b.ID].On || walls[w.tr.a.ID].UpdatedBy != w.organiser.User {
		t.Fatalf("%v %v", walls, err)
	}
}

// TestWishFourEyes: a wish of the approval threshold's points or more is
// confirmed by someone other than who set its points, of the community or
// its street (an organiser of a grid below, whom the community's organiser
// could have made, is not enough); a smaller one by the same organiser. A
// participant who has left gets no points: the confirmation is refused
// until they are taken off. Refusals write nothing.
func TestWishFourEyes(t *testing.T) {
	w := newWishWorld(t, 3)
	community := ledger.WishActor{User: uuid.New(), Role: ledger.RoleOrganizer, Unit: w.tr.a.ID}
	gridOrg := ledger.WishActor{User: uuid.New(), Role: ledger.RoleOrganizer, Unit: w.tr.gridA.ID}
	street := ledger.WishActor{User: uuid.New(), Role: ledger.RoleOrganizer, Unit: w.tr.street.ID}
	w.organiser = community
	confirm := ledger.WishConfirmRequest{How: ledger.WishConfirmPhone}
	big := w.fulfilled(t, "陪同就医", 20, 0, uuid.Nil, nil)
	head, _, _ := w.s.Head(ctx)
	for name, by := range map[string]ledger.WishActor{"WhoSetThePoints": community, "AGridsOrganiser": gridOrg} {
		if _, err := w.s.ConfirmWish(ctx, big.ID, by, confirm, ""); ledger.ErrorCode(err) != ledger.EFORBIDDEN {
			t.Fatalf("%s confirms a 20-point wish: %v", name, err)
		}
	}
	if h, _, _ := w.s.Head(ctx); h != head {
		t.Fatal("a refused confirmation wrote entries")
	}
	if got, err := w.s.ConfirmWish(ctx, big.ID, street, confirm, ""); err != nil || got.Status != ledger.WishConfirmed {
		t.Fatalf("the street's organiser: %+v %v", got.Status, err)
	}
	small := w.fulfilled(t, "换灯泡", 19, 1, uuid.Nil, nil)
	if _, err := w.s.ConfirmWish(ctx, small.ID, community, confirm, ""); err != nil {
		t.Fatalf("19 points by who set them: %v", err)
	}
	// A participant who has left since reporting it done.
	left := w.fulfilled(t, "修水龙头", 5, 2, uuid.Nil, nil)
	m := w.members[2]
	m.Status = ledger.MemberLeft
	if _, err := w.s.UpdateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.ConfirmWish(ctx, left.ID, community, confirm, ""); ledger.ErrorCode(err) != ledger.ECONFLICT {
		t.Fatalf("points for a member who left: %v", err)
	}
	if b, _ := w.s.Balance(ctx, ledger.MemberAccount(m.ID)); b.Points != 0 {
		t.Fatalf("the member who left got %d", b.Points)
	}
	checkConsistent(t, w.s)
}
