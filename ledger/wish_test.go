package ledger

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// wishWorld is a street, a community, a grid and a building, an organiser,
// a grid worker, and three volunteers of the community (two in a team).
type wishWorld struct {
	street, community, grid, building Unit
	organiser, gridWorker, admin      WishActor
	vol, vol2, vol3                   WishActor
	m1, m2, m3                        Member
	team                              Team
	now                               time.Time
	loc                               *time.Location
}

func newWishWorld(t *testing.T) wishWorld {
	t.Helper()
	id := func(n int) uuid.UUID { return uuid.MustParse(fmt.Sprintf("0193b000-0000-7000-8000-%012d", n)) }
	var w wishWorld
	w.loc, _ = time.LoadLocation("Asia/Shanghai")
	w.now = time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC) // 10 November, 10:00 in Shanghai
	w.street = Unit{ID: id(1), Kind: UnitStreet, Name: "蓉城街道", Path: []uuid.UUID{id(1)}}
	w.community = Unit{ID: id(2), Kind: UnitCommunity, Name: "东河园社区", ParentID: id(1), Path: []uuid.UUID{id(1), id(2)}}
	w.grid = Unit{ID: id(3), Kind: UnitGrid, Name: "第一网格", ParentID: id(2), Path: []uuid.UUID{id(1), id(2), id(3)}}
	w.building = Unit{ID: id(4), Kind: UnitBuilding, Name: "3号楼", ParentID: id(3), Path: []uuid.UUID{id(1), id(2), id(3), id(4)}}
	w.team = Team{ID: id(9), Name: "党员志愿服务队", Kind: TeamPartyVolunteer, UnitID: id(2)}
	w.m1 = Member{ID: id(21), Name: "王建国", UnitID: id(3), Status: MemberActive, TeamIDs: []uuid.UUID{id(9)}}
	w.m2 = Member{ID: id(22), Name: "李秀英", UnitID: id(3), Status: MemberActive, TeamIDs: []uuid.UUID{id(9)}}
	w.m3 = Member{ID: id(23), Name: "张志强", UnitID: id(4), Status: MemberActive, TeamIDs: []uuid.UUID{}}
	w.organiser = WishActor{User: id(11), Role: RoleOrganizer}
	w.gridWorker = WishActor{User: id(12), Role: RoleGridWorker}
	w.admin = WishActor{User: id(13), Role: RoleAdmin}
	w.vol = WishActor{User: id(31), Role: RoleVolunteer, Member: w.m1.ID}
	w.vol2 = WishActor{User: id(32), Role: RoleVolunteer, Member: w.m2.ID}
	w.vol3 = WishActor{User: id(33), Role: RoleVolunteer, Member: w.m3.ID}
	return w
}

func (w wishWorld) request() WishRequest {
	return WishRequest{Title: "给孙子买个新书包", Need: "孙子上三年级，书包破了。\n想要一个结实的双肩书包。", ResidentName: "张小明",
		ResidentPhone: "138 0000 1234", UnitID: w.building.ID, Points: 20}
}

// wishAt is a wish entered by the organiser and taken through the steps up
// to status, each a minute after the one before.
func (w wishWorld) wishAt(t *testing.T, status WishStatus) Wish {
	t.Helper()
	now := w.now
	tick := func() time.Time { now = now.Add(time.Minute); return now }
	wish, err := NewWish(uuid.MustParse("0193b000-0000-7000-8000-0000000000f1"), w.request(), w.building, w.organiser, now)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(err)
	if status == WishVerified {
		return wish
	}
	wish, err = PublishWish(wish, w.organiser, nil, tick())
	must(err)
	if status == WishPublished {
		return wish
	}
	wish, _, err = ClaimWish(wish, w.vol, WishClaimFacts{Member: w.m1, Community: w.community.ID, Team: &w.team}, 7*24*time.Hour, tick())
	must(err)
	if status == WishClaimed {
		return wish
	}
	wish, err = FulfilWish(wish, w.vol, WishFulfilRequest{Note: "书包已送到张大爷家", Participants: []uuid.UUID{w.m1.ID, w.m2.ID}},
		WishTeamFacts{Members: map[uuid.UUID]Member{w.m1.ID: w.m1, w.m2.ID: w.m2}}, tick())
	must(err)
	if status == WishFulfilled {
		return wish
	}
	d, err := ConfirmWish(wish, w.organiser, WishConfirmRequest{How: WishConfirmPhone}, WishTeamFacts{}, w.loc, tick())
	must(err)
	return d.Wish
}

func wantCode(t *testing.T, err error, code, key string) {
	t.Helper()
	e, ok := AsError(err)
	if !ok || e.Code != code || (key != "" && e.Key != key) {
		t.Fatalf("got %v, want %s %s", err, code, key)
	}
}

func TestNewWish(t *testing.T) {
	w := newWishWorld(t)
	t.Run("StaffEntersVerified", func(t *testing.T) {
		for _, by := range []WishActor{w.organiser, w.admin, w.gridWorker} {
			req := w.request()
			if by.Role == RoleGridWorker {
				req.Points = 0
			}
			got, err := NewWish(uuid.New(), req, w.building, by, w.now)
			if err != nil {
				t.Fatalf("%s: %v", by.Role, err)
			}
			if got.Status != WishVerified || got.CommunityID != w.community.ID || got.UnitID != w.building.ID || got.EnteredBy != by.User ||
				got.Resident.Phone != "13800001234" || got.Points != req.Points || len(got.History) != 1 || got.History[0].Step != WishStepEnter {
				t.Fatalf("%s: %+v", by.Role, got)
			}
		}
	})
	t.Run("VolunteerSubmits", func(t *testing.T) {
		req := w.request()
		req.Points = 0
		got, err := NewWish(uuid.New(), req, w.grid, w.vol, w.now)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != WishSubmitted || got.EnteredMember != w.m1.ID || got.History[0].Step != WishStepSubmit || got.CommunityID != w.community.ID {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("Landline", func(t *testing.T) {
		req := w.request()
		req.ResidentPhone = "028-85551234"
		got, err := NewWish(uuid.New(), req, w.grid, w.organiser, w.now)
		if err != nil || got.Resident.Phone != "028-85551234" {
			t.Fatalf("%v %q", err, got.Resident.Phone)
		}
		req.ResidentPhone = ""
		if got, err = NewWish(uuid.New(), req, w.grid, w.organiser, w.now); err != nil || got.Resident.Phone != "" {
			t.Fatalf("no phone: %v %q", err, got.Resident.Phone)
		}
	})
	refusals := []struct {
		name      string
		change    func(*WishRequest, *Unit, *WishActor)
		code, key string
	}{
		{"NoTitle", func(r *WishRequest, _ *Unit, _ *WishActor) { r.Title = "  " }, EINVALID, "wish.title_invalid"},
		{"LongTitle", func(r *WishRequest, _ *Unit, _ *WishActor) { r.Title = strings.Repeat("书", 41) }, EINVALID, "wish.title_invalid"},
		{"NoNeed", func(r *WishRequest, _ *Unit, _ *WishActor) { r.Need = "" }, EINVALID, "wish.need_invalid"},
		{"ControlInNeed", func(r *WishRequest, _ *Unit, _ *WishActor) { r.Need = "书包\x07" }, EINVALID, "text.control"},
		{"BidiInName", func(r *WishRequest, _ *Unit, _ *WishActor) { r.ResidentName = "张\u202e明" }, EINVALID, "text.bidi"},
		{"FormulaTitle", func(r *WishRequest, _ *Unit, _ *WishActor) { r.Title = "=HYPERLINK(\"x\")" }, EINVALID, "text.formula"},
		{"NoResident", func(r *WishRequest, _ *Unit, _ *WishActor) { r.ResidentName = "" }, EINVALID, "wish.resident_invalid"},
		{"BadPhone", func(r *WishRequest, _ *Unit, _ *WishActor) { r.ResidentPhone = "12345" }, EINVALID, "wish.phone_invalid"},
		{"TooManyPoints", func(r *WishRequest, _ *Unit, _ *WishActor) { r.Points = MaxWishPoints + 1 }, EINVALID, "wish.points_invalid"},
		{"NegativePoints", func(r *WishRequest, _ *Unit, _ *WishActor) { r.Points = -1 }, EINVALID, "wish.points_invalid"},
		{"GridWorkerSetsPoints", func(_ *WishRequest, _ *Unit, a *WishActor) { *a = w.gridWorker }, EFORBIDDEN, "wish.points_staff"},
		{"VolunteerSetsPoints", func(_ *WishRequest, _ *Unit, a *WishActor) { *a = w.vol }, EFORBIDDEN, "wish.points_staff"},
		{"CommunityUnit", func(_ *WishRequest, u *Unit, _ *WishActor) { *u = w.community }, EINVALID, "wish.unit_kind"},
		{"Clerk", func(r *WishRequest, _ *Unit, a *WishActor) {
			r.Points = 0
			*a = WishActor{User: uuid.New(), Role: RoleClerk}
		}, EFORBIDDEN, ""},
		{"VolunteerWithoutMember", func(r *WishRequest, _ *Unit, a *WishActor) {
			r.Points = 0
			*a = WishActor{User: uuid.New(), Role: RoleVolunteer}
		}, EFORBIDDEN, "wish.no_member"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			req, unit, by := w.request(), w.building, w.organiser
			tc.change(&req, &unit, &by)
			_, err := NewWish(uuid.New(), req, unit, by, w.now)
			wantCode(t, err, tc.code, tc.key)
		})
	}
}

func TestVerifyAndPublishWish(t *testing.T) {
	w := newWishWorld(t)
	req := w.request()
	req.Points = 0
	submitted, err := NewWish(uuid.New(), req, w.grid, w.vol, w.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("VerifySetsPoints", func(t *testing.T) {
		p := Points(30)
		got, err := VerifyWish(submitted, w.organiser, &p, w.now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != WishVerified || got.Points != 30 || got.History[1].Step != WishStepVerify || got.History[1].Points != 30 ||
			!got.UpdatedAt.Equal(w.now.Add(time.Hour)) || len(submitted.History) != 1 {
			t.Fatalf("%+v", got)
		}
		pub, err := PublishWish(got, w.admin, nil, w.now.Add(2*time.Hour))
		if err != nil || pub.Status != WishPublished || pub.Points != 30 || !pub.PublishedAt().Equal(w.now.Add(2*time.Hour)) {
			t.Fatalf("publish: %v %+v", err, pub)
		}
	})
	cases := []struct {
		name      string
		do        func() error
		code, key string
	}{
		{"VolunteerVerifies", func() error { _, err := VerifyWish(submitted, w.vol2, nil, w.now); return err }, EFORBIDDEN, "wish.staff_only"},
		{"GridWorkerVerifies", func() error { _, err := VerifyWish(submitted, w.gridWorker, nil, w.now); return err }, EFORBIDDEN, "wish.staff_only"},
		{"PublishUnverified", func() error { _, err := PublishWish(submitted, w.organiser, nil, w.now); return err }, ECONFLICT, "wish.wrong_status"},
		{"VerifyTwice", func() error {
			v, _ := VerifyWish(submitted, w.organiser, nil, w.now)
			_, err := VerifyWish(v, w.organiser, nil, w.now)
			return err
		}, ECONFLICT, "wish.wrong_status"},
		{"PointsOverCap", func() error { p := Points(101); _, err := VerifyWish(submitted, w.organiser, &p, w.now); return err }, EINVALID, "wish.points_invalid"},
		{"PublishPointsOverCap", func() error {
			p := Points(500)
			_, err := PublishWish(w.wishAt(t, WishVerified), w.organiser, &p, w.now)
			return err
		}, EINVALID, "wish.points_invalid"},
		{"GridWorkerPublishes", func() error { _, err := PublishWish(w.wishAt(t, WishVerified), w.gridWorker, nil, w.now); return err }, EFORBIDDEN, "wish.staff_only"},
		{"VerifyConfirmed", func() error { _, err := VerifyWish(w.wishAt(t, WishConfirmed), w.organiser, nil, w.now); return err }, ECONFLICT, "wish.closed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.do(), tc.code, tc.key) })
	}
}

func TestClaimWish(t *testing.T) {
	w := newWishWorld(t)
	pub := w.wishAt(t, WishPublished)
	week := 7 * 24 * time.Hour
	own := WishClaimFacts{Member: w.m3, Community: w.community.ID}
	t.Run("ForThemself", func(t *testing.T) {
		got, repeat, err := ClaimWish(pub, w.vol3, own, week, w.now)
		if err != nil || repeat {
			t.Fatal(err, repeat)
		}
		if got.Status != WishClaimed || got.Claim.MemberID != w.m3.ID || got.Claim.TeamID != uuid.Nil || !got.Claim.DueAt.Equal(w.now.Add(week)) ||
			got.Step(WishStepClaim) == nil || got.Step(WishStepClaim).MemberID != w.m3.ID || pub.Claim != nil {
			t.Fatalf("%+v", got)
		}
		again, repeat, err := ClaimWish(got, w.vol3, own, week, w.now.Add(time.Minute))
		if err != nil || !repeat || len(again.History) != len(got.History) {
			t.Fatalf("a repeated claim: %v %v %+v", err, repeat, again)
		}
		_, _, err = ClaimWish(got, w.vol, WishClaimFacts{Member: w.m1, Community: w.community.ID}, week, w.now)
		wantCode(t, err, ECONFLICT, "wish.taken")
		_, _, err = ClaimWish(got, w.vol3, WishClaimFacts{Member: w.m3, Community: w.community.ID, Team: &w.team}, week, w.now)
		wantCode(t, err, ECONFLICT, "wish.taken")
	})
	t.Run("ForTheirTeam", func(t *testing.T) {
		got, _, err := ClaimWish(pub, w.vol, WishClaimFacts{Member: w.m1, Community: w.community.ID, Team: &w.team}, week, w.now)
		if err != nil || got.Claim.TeamID != w.team.ID || !got.TookPart(w.m1.ID) || got.TookPart(w.m2.ID) {
			t.Fatalf("%v %+v", err, got.Claim)
		}
	})
	inactive := w.m3
	inactive.Status = MemberSuspended
	otherCommunity := uuid.New()
	volEntered := func() Wish {
		req := w.request()
		req.Points = 0
		x, _ := NewWish(uuid.New(), req, w.grid, w.vol, w.now)
		x, _ = VerifyWish(x, w.organiser, nil, w.now)
		x, _ = PublishWish(x, w.organiser, nil, w.now)
		return x
	}
	cases := []struct {
		name      string
		wish      Wish
		by        WishActor
		f         WishClaimFacts
		code, key string
	}{
		{"Organiser", pub, w.organiser, WishClaimFacts{}, EFORBIDDEN, "wish.volunteers_claim"},
		{"AnotherMembersFacts", pub, w.vol, own, EFORBIDDEN, "wish.volunteers_claim"},
		{"OtherCommunity", pub, w.vol3, WishClaimFacts{Member: w.m3, Community: otherCommunity}, ENOTFOUND, "wish.not_found"},
		{"NotPublished", w.wishAt(t, WishVerified), w.vol3, own, ECONFLICT, "wish.wrong_status"},
		{"Fulfilled", w.wishAt(t, WishFulfilled), w.vol3, own, ECONFLICT, "wish.taken"},
		{"Confirmed", w.wishAt(t, WishConfirmed), w.vol3, own, ECONFLICT, "wish.closed"},
		{"Inactive", pub, w.vol3, WishClaimFacts{Member: inactive, Community: w.community.ID}, EFORBIDDEN, "wish.member_inactive"},
		{"NotInTeam", pub, w.vol3, WishClaimFacts{Member: w.m3, Community: w.community.ID, Team: &w.team}, EINVALID, "wish.team_not_yours"},
		{"OwnWish", volEntered(), w.vol, WishClaimFacts{Member: w.m1, Community: w.community.ID}, EFORBIDDEN, "wish.claim_own"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ClaimWish(tc.wish, tc.by, tc.f, week, w.now)
			wantCode(t, err, tc.code, tc.key)
		})
	}
}

func TestLapseClaim(t *testing.T) {
	w := newWishWorld(t)
	claimed := w.wishAt(t, WishClaimed)
	if _, ok := LapseClaim(claimed, claimed.Claim.DueAt.Add(-time.Nanosecond)); ok {
		t.Fatal("a claim lapsed before its time")
	}
	got, ok := LapseClaim(claimed, claimed.Claim.DueAt)
	if !ok || got.Status != WishPublished || got.Claim != nil {
		t.Fatalf("%v %+v", ok, got)
	}
	last := got.History[len(got.History)-1]
	if last.Step != WishStepLapse || last.MemberID != w.m1.ID || last.TeamID != w.team.ID || last.By != uuid.Nil {
		t.Fatalf("history: %+v", last)
	}
	// Back on the wall, anyone may claim it again; the one who let it lapse too.
	if _, _, err := ClaimWish(got, w.vol, WishClaimFacts{Member: w.m1, Community: w.community.ID}, time.Hour, claimed.Claim.DueAt); err != nil {
		t.Fatal(err)
	}
	for _, s := range []WishStatus{WishPublished, WishFulfilled, WishConfirmed} {
		if _, ok := LapseClaim(w.wishAt(t, s), w.now.AddDate(1, 0, 0)); ok {
			t.Fatalf("a %s wish lapsed", s)
		}
	}
}

func TestFulfilWish(t *testing.T) {
	w := newWishWorld(t)
	claimed := w.wishAt(t, WishClaimed) // by m1 for the team
	team := WishTeamFacts{Members: map[uuid.UUID]Member{w.m1.ID: w.m1, w.m2.ID: w.m2, w.m3.ID: w.m3}}
	png := WishUpload{Type: "image/png", Data: []byte("\x89PNG\r\n\x1a\nphoto")}
	at := claimed.Claim.At.Add(time.Hour)
	t.Run("WithPhotosAndTeam", func(t *testing.T) {
		got, err := FulfilWish(claimed, w.vol, WishFulfilRequest{Note: " 送到了 ", Participants: []uuid.UUID{w.m2.ID, w.m1.ID}, Photos: []WishUpload{png, png}}, team, at)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != WishFulfilled || got.Fulfilment.Note != "送到了" || !slices.Equal(got.Fulfilment.Participants, []uuid.UUID{w.m2.ID, w.m1.ID}) ||
			len(got.Photos) != 2 || got.Photos[0].N != 1 || got.Photos[1].N != 2 || got.Photos[0].Stage != WishPhotoFulfil || got.Photos[0].Hash == "" {
			t.Fatalf("%+v %+v", got.Fulfilment, got.Photos)
		}
	})
	t.Run("DefaultsToTheClaimer", func(t *testing.T) {
		got, err := FulfilWish(claimed, w.vol, WishFulfilRequest{Note: "送到了"}, team, at)
		if err != nil || !slices.Equal(got.Fulfilment.Participants, []uuid.UUID{w.m1.ID}) {
			t.Fatalf("%v %+v", err, got.Fulfilment)
		}
	})
	own, _, _ := ClaimWish(w.wishAt(t, WishPublished), w.vol3, WishClaimFacts{Member: w.m3, Community: w.community.ID}, time.Hour, w.now)
	big := WishUpload{Type: "image/jpeg", Data: make([]byte, MaxWishPhotoBytes+1)}
	cases := []struct {
		name      string
		wish      Wish
		by        WishActor
		req       WishFulfilRequest
		at        time.Time
		code, key string
	}{
		{"NotTheClaimer", claimed, w.vol2, WishFulfilRequest{Note: "x"}, at, EFORBIDDEN, "wish.not_claimer"},
		{"Organiser", claimed, w.organiser, WishFulfilRequest{Note: "x"}, at, EFORBIDDEN, "wish.not_claimer"},
		{"Lapsed", claimed, w.vol, WishFulfilRequest{Note: "x"}, claimed.Claim.DueAt, EGONE, "wish.claim_lapsed"},
		{"NoNote", claimed, w.vol, WishFulfilRequest{Note: " "}, at, EINVALID, "wish.note_invalid"},
		{"FourPhotos", claimed, w.vol, WishFulfilRequest{Note: "x", Photos: []WishUpload{png, png, png, png}}, at, EINVALID, "wish.photos_too_many"},
		{"BigPhoto", claimed, w.vol, WishFulfilRequest{Note: "x", Photos: []WishUpload{big}}, at, EINVALID, "wish.photo_size"},
		{"NotAPicture", claimed, w.vol, WishFulfilRequest{Note: "x", Photos: []WishUpload{{Type: "text/html", Data: []byte("<script>")}}}, at, EINVALID, "wish.photo_type"},
		{"EmptyPhoto", claimed, w.vol, WishFulfilRequest{Note: "x", Photos: []WishUpload{{Type: "image/png"}}}, at, EINVALID, "wish.photo_empty"},
		{"OutsiderInTeam", claimed, w.vol, WishFulfilRequest{Note: "x", Participants: []uuid.UUID{w.m1.ID, w.m3.ID}}, at, EINVALID, "wish.participant_not_in_team"},
		{"Unknown", claimed, w.vol, WishFulfilRequest{Note: "x", Participants: []uuid.UUID{uuid.New()}}, at, EINVALID, "wish.participant_unknown"},
		{"Twice", claimed, w.vol, WishFulfilRequest{Note: "x", Participants: []uuid.UUID{w.m1.ID, w.m1.ID}}, at, EINVALID, "wish.participant_twice"},
		{"TooMany", claimed, w.vol, WishFulfilRequest{Note: "x", Participants: make([]uuid.UUID, MaxWishParticipants+1)}, at, EINVALID, "wish.participants_too_many"},
		{"OthersOnOwnClaim", own, w.vol3, WishFulfilRequest{Note: "x", Participants: []uuid.UUID{w.m3.ID, w.m1.ID}}, w.now, EINVALID, "wish.participants_own"},
		{"Published", w.wishAt(t, WishPublished), w.vol, WishFulfilRequest{Note: "x"}, at, ECONFLICT, "wish.wrong_status"},
		{"Again", w.wishAt(t, WishFulfilled), w.vol, WishFulfilRequest{Note: "x"}, at, ECONFLICT, "wish.wrong_status"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FulfilWish(tc.wish, tc.by, tc.req, team, tc.at)
			wantCode(t, err, tc.code, tc.key)
		})
	}
}

func TestSplitWishPoints(t *testing.T) {
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	cases := []struct {
		name  string
		total Points
		who   []uuid.UUID
		want  []WishAward
	}{
		{"One", 20, []uuid.UUID{a}, []WishAward{{a, 20, 0}}},
		{"Even", 20, []uuid.UUID{a, b}, []WishAward{{a, 10, 0}, {b, 10, 0}}},
		{"RemainderToTheFirst", 20, []uuid.UUID{a, b, c}, []WishAward{{a, 7, 0}, {b, 7, 0}, {c, 6, 0}}},
		{"RemainderInStatedOrder", 20, []uuid.UUID{c, b, a}, []WishAward{{c, 7, 0}, {b, 7, 0}, {a, 6, 0}}},
		{"FewerPointsThanPeople", 2, []uuid.UUID{a, b, c}, []WishAward{{a, 1, 0}, {b, 1, 0}}},
		{"Nothing", 0, []uuid.UUID{a, b}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := SplitWishPoints(tc.total, tc.who)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	// The shares always sum to the total, whatever the count.
	for total := Points(0); total <= MaxWishPoints; total++ {
		for n := 1; n <= MaxWishParticipants; n++ {
			who := make([]uuid.UUID, n)
			for i := range who {
				who[i] = uuid.New()
			}
			var sum Points
			prev := Points(total + 1)
			for _, s := range SplitWishPoints(total, who) {
				if s.Points <= 0 || s.Points > prev {
					t.Fatalf("%d among %d: a share of %d after %d", total, n, s.Points, prev)
				}
				prev = s.Points
				sum += s.Points
			}
			if sum != total {
				t.Fatalf("%d among %d sums to %d", total, n, sum)
			}
		}
	}
}

func TestConfirmWish(t *testing.T) {
	w := newWishWorld(t)
	fulfilled := w.wishAt(t, WishFulfilled) // 20 points, m1 and m2 took part
	team := WishTeamFacts{Members: map[uuid.UUID]Member{w.m1.ID: w.m1, w.m2.ID: w.m2, w.m3.ID: w.m3}}
	at := w.now.Add(time.Hour)
	t.Run("AwardsOncePerParticipant", func(t *testing.T) {
		d, err := ConfirmWish(fulfilled, w.organiser, WishConfirmRequest{How: WishConfirmInPerson, Note: "张大爷很满意"}, team, w.loc, at)
		if err != nil {
			t.Fatal(err)
		}
		got := d.Wish
		if got.Status != WishConfirmed || got.Confirmation.How != WishConfirmInPerson || got.Confirmation.Note != "张大爷很满意" ||
			!got.Confirmation.At.Equal(at) || got.Confirmation.By != w.organiser.User {
			t.Fatalf("%+v", got.Confirmation)
		}
		if len(d.Transfers) != 2 || len(got.Awards) != 2 {
			t.Fatalf("transfers %+v awards %+v", d.Transfers, got.Awards)
		}
		var sum Points
		for i, tr := range d.Transfers {
			want := Transfer{Debit: IssuerAccount(w.community.ID), Credit: MemberAccount(got.Awards[i].MemberID), Amount: got.Awards[i].Points,
				Kind: KindAward, Reference: "wish:" + got.ID.String(), Actor: "user:" + w.organiser.User.String(), Memo: "给孙子买个新书包",
				IdempotencyKey: "aixin:wish:" + got.ID.String() + ":award:" + got.Awards[i].MemberID.String()}
			if tr != want {
				t.Fatalf("transfer %d\n got %+v\nwant %+v", i, tr, want)
			}
			if err := tr.Validate(); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(tr.Reference, WishReferencePrefix) {
				t.Fatal("the monthly rows would not count it as wish points")
			}
			sum += tr.Amount
		}
		if sum != fulfilled.Points {
			t.Fatalf("awarded %d of %d", sum, fulfilled.Points)
		}
		_, err = ConfirmWish(got, w.organiser, WishConfirmRequest{How: WishConfirmInPerson}, team, w.loc, at.Add(time.Minute))
		wantCode(t, err, ECONFLICT, "wish.already_confirmed")
		if e, _ := AsError(err); e.Args[0] != "2026-11-10 11:00" {
			t.Fatalf("confirmed at %v", e.Args)
		}
	})
	t.Run("OrganiserNamesParticipants", func(t *testing.T) {
		d, err := ConfirmWish(fulfilled, w.admin, WishConfirmRequest{How: WishConfirmPhone, Participants: []uuid.UUID{w.m2.ID}}, team, w.loc, at)
		if err != nil || len(d.Transfers) != 1 || d.Transfers[0].Credit != MemberAccount(w.m2.ID) || d.Transfers[0].Amount != 20 ||
			!slices.Equal(d.Wish.Fulfilment.Participants, []uuid.UUID{w.m2.ID}) || !slices.Equal(fulfilled.Fulfilment.Participants, []uuid.UUID{w.m1.ID, w.m2.ID}) {
			t.Fatalf("%v %+v", err, d)
		}
	})
	t.Run("NoPointsNoEntry", func(t *testing.T) {
		zero := fulfilled
		zero.Points = 0
		d, err := ConfirmWish(zero, w.organiser, WishConfirmRequest{How: WishConfirmSigned}, team, w.loc, at)
		if err != nil || len(d.Transfers) != 0 || len(d.Wish.Awards) != 0 || d.Wish.Status != WishConfirmed {
			t.Fatalf("%v %+v", err, d)
		}
	})
	cases := []struct {
		name      string
		wish      Wish
		by        WishActor
		req       WishConfirmRequest
		code, key string
	}{
		{"Volunteer", fulfilled, w.vol, WishConfirmRequest{How: WishConfirmPhone}, EFORBIDDEN, "wish.staff_only"},
		{"GridWorker", fulfilled, w.gridWorker, WishConfirmRequest{How: WishConfirmPhone}, EFORBIDDEN, "wish.staff_only"},
		{"NotFulfilled", w.wishAt(t, WishClaimed), w.organiser, WishConfirmRequest{How: WishConfirmPhone}, ECONFLICT, "wish.wrong_status"},
		{"HowUnknown", fulfilled, w.organiser, WishConfirmRequest{How: "telepathy"}, EINVALID, "wish.confirm_how"},
		{"OtherWithoutNote", fulfilled, w.organiser, WishConfirmRequest{How: WishConfirmOther}, EINVALID, "wish.confirm_note_needed"},
		{"LongNote", fulfilled, w.organiser, WishConfirmRequest{How: WishConfirmPhone, Note: strings.Repeat("好", 201)}, EINVALID, "wish.confirm_note_invalid"},
		{"OutsiderNamed", fulfilled, w.organiser, WishConfirmRequest{How: WishConfirmPhone, Participants: []uuid.UUID{w.m3.ID}}, EINVALID, "wish.participant_not_in_team"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ConfirmWish(tc.wish, tc.by, tc.req, team, w.loc, at)
			wantCode(t, err, tc.code, tc.key)
		})
	}
}

func TestWithdrawAndRejectWish(t *testing.T) {
	w := newWishWorld(t)
	for _, s := range []WishStatus{WishVerified, WishPublished, WishClaimed, WishFulfilled} {
		t.Run("Withdraw"+string(s), func(t *testing.T) {
			got, err := WithdrawWish(w.wishAt(t, s), w.organiser, "居民家人已经买了", w.now)
			if err != nil || got.Status != WishWithdrawn || got.Reason != "居民家人已经买了" || got.History[len(got.History)-1].Step != WishStepWithdraw {
				t.Fatalf("%v %+v", err, got)
			}
		})
		t.Run("Reject"+string(s), func(t *testing.T) {
			got, err := RejectWish(w.wishAt(t, s), w.admin, "不属于微心愿范围", w.now)
			if err != nil || got.Status != WishRejected || got.Reason != "不属于微心愿范围" {
				t.Fatalf("%v %+v", err, got)
			}
		})
	}
	confirmed := w.wishAt(t, WishConfirmed)
	withdrawn, _ := WithdrawWish(w.wishAt(t, WishPublished), w.organiser, "重复登记", w.now)
	cases := []struct {
		name      string
		do        func() error
		code, key string
	}{
		{"WithdrawConfirmed", func() error { _, err := WithdrawWish(confirmed, w.organiser, "x", w.now); return err }, ECONFLICT, "wish.closed"},
		{"RejectConfirmed", func() error { _, err := RejectWish(confirmed, w.organiser, "x", w.now); return err }, ECONFLICT, "wish.closed"},
		{"RejectWithdrawn", func() error { _, err := RejectWish(withdrawn, w.organiser, "x", w.now); return err }, ECONFLICT, "wish.closed"},
		{"WithdrawBySomeoneElse", func() error { _, err := WithdrawWish(w.wishAt(t, WishPublished), w.admin, "x", w.now); return err }, EFORBIDDEN, "wish.withdraw_who"},
		{"RejectByVolunteer", func() error { _, err := RejectWish(w.wishAt(t, WishPublished), w.vol, "x", w.now); return err }, EFORBIDDEN, "wish.staff_only"},
		{"WithdrawWithoutReason", func() error { _, err := WithdrawWish(w.wishAt(t, WishPublished), w.organiser, " ", w.now); return err }, EINVALID, "attendance.reason_required"},
		{"ConfirmRejected", func() error {
			r, _ := RejectWish(w.wishAt(t, WishFulfilled), w.organiser, "虚报", w.now)
			_, err := ConfirmWish(r, w.organiser, WishConfirmRequest{How: WishConfirmPhone}, WishTeamFacts{}, w.loc, w.now)
			return err
		}, ECONFLICT, "wish.closed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.do(), tc.code, tc.key) })
	}
}

func TestAddWishPhoto(t *testing.T) {
	w := newWishWorld(t)
	pub := w.wishAt(t, WishPublished)
	jpg := WishUpload{Type: "image/jpeg", Data: []byte("\xff\xd8\xff photo")}
	got := pub
	for i := 1; i <= MaxWishPhotos; i++ {
		var err error
		if got, err = AddWishPhoto(got, w.gridWorker, jpg, w.now); err != nil {
			t.Fatal(err)
		}
		if len(got.Photos) != i || got.Photos[i-1].N != i || got.Photos[i-1].Stage != WishPhotoWish {
			t.Fatalf("%+v", got.Photos)
		}
	}
	_, err := AddWishPhoto(got, w.organiser, jpg, w.now)
	wantCode(t, err, EINVALID, "wish.photos_too_many")
	_, err = AddWishPhoto(pub, w.vol2, jpg, w.now)
	wantCode(t, err, EFORBIDDEN, "wish.photo_who")
	_, err = AddWishPhoto(w.wishAt(t, WishClaimed), w.organiser, jpg, w.now)
	wantCode(t, err, ECONFLICT, "wish.wrong_status")
	// Fulfilment photos are numbered after the wish's own.
	claimed, _, _ := ClaimWish(got, w.vol3, WishClaimFacts{Member: w.m3, Community: w.community.ID}, time.Hour, w.now)
	done, err := FulfilWish(claimed, w.vol3, WishFulfilRequest{Note: "修好了", Photos: []WishUpload{jpg}}, WishTeamFacts{}, w.now)
	if err != nil || done.Photos[3].N != 4 || done.Photos[3].Stage != WishPhotoFulfil {
		t.Fatalf("%v %+v", err, done.Photos)
	}
}

func TestNormalizeWishPhone(t *testing.T) {
	for in, want := range map[string]string{"": "", "13800001234": "13800001234", "+86 138-0000-1234": "13800001234",
		"028-85551234": "028-85551234", "02885551234": "02885551234", "0571 8555 1234": "057185551234", "010-8555123": "010-8555123"} {
		if got, err := NormalizeWishPhone(in); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"12345", "abc", "=1+1", "110", "13800001234 ext 5", "0000-12345678"} {
		if _, err := NormalizeWishPhone(in); ErrorCode(err) != EINVALID {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestCountWishes(t *testing.T) {
	w := newWishWorld(t)
	m := MonthOf(w.now, w.loc)
	confirmed := w.wishAt(t, WishConfirmed)
	fulfilled := w.wishAt(t, WishFulfilled)
	claimed := w.wishAt(t, WishClaimed)
	published := w.wishAt(t, WishPublished)
	verified := w.wishAt(t, WishVerified)
	req := w.request()
	req.Points = 0
	submitted, _ := NewWish(uuid.New(), req, w.grid, w.vol, w.now)
	// Published last month, confirmed this month: counts in last month's rate.
	old := confirmed
	old.History = slices.Clone(old.History)
	for i := range old.History {
		if old.History[i].Step != WishStepConfirm {
			old.History[i].At = old.History[i].At.AddDate(0, -1, 0)
		}
	}
	old.CreatedAt = old.CreatedAt.AddDate(0, -1, 0)
	all := []Wish{confirmed, fulfilled, claimed, published, verified, submitted, old}
	got := CountWishes(all, m, w.loc)
	want := WishFigures{Month: "2026-11", Open: 1, InHand: 2, Waiting: 1, Received: 6, Verified: 5, Published: 4, Claimed: 3,
		Fulfilled: 2, Confirmed: 2, Points: 40, Done: 1, Rate: 25, RateKnown: true}
	if got != want {
		t.Fatalf("\n got %+v\nwant %+v", got, want)
	}
	prev := CountWishes(all, m.AddMonths(-1), w.loc)
	if prev.Published != 1 || prev.Done != 1 || prev.Rate != 100 || prev.Confirmed != 0 || prev.Received != 1 {
		t.Fatalf("last month: %+v", prev)
	}
	if none := CountWishes(nil, m, w.loc); none.RateKnown || none.Rate != 0 {
		t.Fatalf("%+v", none)
	}
}

// FuzzNormalizeWishPhone: whatever is typed, a phone read is one that reads
// as itself again, and is a mobile or a landline with its area code.
func FuzzNormalizeWishPhone(f *testing.F) {
	for _, s := range []string{"", "13800001234", "+86 138-0000-1234", "028-85551234", "0571 8555 1234", "=1+1", "０２８-85551234", "1380000123\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := NormalizeWishPhone(s)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if again, err := NormalizeWishPhone(p); err != nil || again != p {
			t.Fatalf("%q read as %q, which reads as %q %v", s, p, again, err)
		}
		if p != "" && !mobile.MatchString(p) && !landline.MatchString(p) {
			t.Fatalf("%q read as %q", s, p)
		}
	})
}
