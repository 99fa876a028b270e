package ledger

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// awardWorld is a street with two communities, a grid in each, staff of
// every kind and a member in the first grid.
type awardWorld struct {
	street, community, other, grid, otherGrid Unit
	admin, org, org2, grid1, grid2, otherOrg  User
	clerk, volunteer                          User
	member                                    Member
	household                                 Household
	sorting, hero, litter, family             Behaviour
	loc                                       *time.Location
	now                                       time.Time
}

func newAwardWorld(t *testing.T) awardWorld {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	var w awardWorld
	w.loc = loc
	w.now = time.Date(2026, 11, 20, 10, 0, 0, 0, loc)
	mk := func(kind UnitKind, parent *Unit) Unit {
		u, err := NewUnit(uuid.New(), "单位", kind, parent, w.now)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	w.street = mk(UnitStreet, nil)
	w.community, w.other = mk(UnitCommunity, &w.street), mk(UnitCommunity, &w.street)
	w.grid, w.otherGrid = mk(UnitGrid, &w.community), mk(UnitGrid, &w.other)
	user := func(role Role, unit uuid.UUID) User { return User{ID: uuid.New(), Role: role, UnitID: unit} }
	w.admin, w.org, w.org2 = user(RoleAdmin, uuid.Nil), user(RoleOrganizer, w.community.ID), user(RoleOrganizer, w.street.ID)
	w.grid1, w.grid2, w.otherOrg = user(RoleGridWorker, w.grid.ID), user(RoleGridWorker, w.otherGrid.ID), user(RoleOrganizer, w.other.ID)
	w.clerk, w.volunteer = user(RoleClerk, uuid.Nil), user(RoleVolunteer, uuid.Nil)
	w.member = Member{ID: uuid.New(), Name: "张小明", UnitID: w.grid.ID, Status: MemberActive}
	w.household = Household{ID: uuid.New(), Address: "3单元502室", UnitID: w.grid.ID}
	beh := func(unit Unit, name string, points Points, month, year int, photo bool, target BehaviourTarget) Behaviour {
		b, err := NewBehaviour(uuid.New(), Behaviour{Name: name, Category: "文明", Points: points, MonthCap: month, YearCap: year,
			EvidenceRequired: photo, Target: target}, unit, w.now)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	w.sorting = beh(w.community, "垃圾分类", 2, 4, 0, true, TargetPerson)
	w.hero = beh(w.street, "见义勇为", 50, 0, 0, false, TargetPerson)
	w.litter = beh(w.community, "乱扔垃圾", -2, 0, 0, false, TargetPerson)
	w.family = beh(w.community, "文明家庭", 30, 0, 1, false, TargetHousehold)
	return w
}

var png = Picture{ContentType: "image/png", Data: []byte("\x89PNG\r\n\x1a\n....")}

func (w awardWorld) facts(b Behaviour, by User) AwardFacts {
	m := w.member
	return AwardFacts{Behaviour: b, Recorder: by, Unit: w.grid, Member: &m, Available: 5}
}

func wantErr(t *testing.T, err error, code, key string) {
	t.Helper()
	le, ok := AsError(err)
	if !ok || le.Code != code || (key != "" && le.Key != key) {
		t.Fatalf("got %v, want %s %s", err, code, key)
	}
}

func TestNewBehaviour(t *testing.T) {
	w := newAwardWorld(t)
	ok := Behaviour{Name: " 垃圾分类 ", Category: "环境卫生", Points: 2, MonthCap: 4}
	b, err := NewBehaviour(uuid.New(), ok, w.community, w.now)
	if err != nil || b.Name != "垃圾分类" || !b.Active || b.Target != TargetPerson || b.UnitID != w.community.ID {
		t.Fatalf("%+v %v", b, err)
	}
	for name, tt := range map[string]struct {
		change func(*Behaviour)
		unit   Unit
		key    string
	}{
		"Grid":          {func(*Behaviour) {}, w.grid, "behaviour.unit_kind"},
		"NoName":        {func(b *Behaviour) { b.Name = " " }, w.community, "behaviour.name_invalid"},
		"Control":       {func(b *Behaviour) { b.Name = "垃圾\x07分类" }, w.community, "text.control"},
		"Formula":       {func(b *Behaviour) { b.Category = "=1+1" }, w.community, "text.formula"},
		"ZeroPoints":    {func(b *Behaviour) { b.Points = 0 }, w.community, "behaviour.points_invalid"},
		"TooMany":       {func(b *Behaviour) { b.Points = 1001 }, w.community, "behaviour.points_invalid"},
		"TooFew":        {func(b *Behaviour) { b.Points = -1001 }, w.community, "behaviour.points_invalid"},
		"NegativeCap":   {func(b *Behaviour) { b.YearCap = -1 }, w.community, "behaviour.cap_invalid"},
		"MonthOverYear": {func(b *Behaviour) { b.MonthCap, b.YearCap = 5, 4 }, w.community, "behaviour.caps_order"},
		"Target":        {func(b *Behaviour) { b.Target = "dog" }, w.community, "behaviour.target_invalid"},
	} {
		t.Run(name, func(t *testing.T) {
			b := ok
			tt.change(&b)
			_, err := NewBehaviour(uuid.New(), b, tt.unit, w.now)
			wantErr(t, err, EINVALID, tt.key)
		})
	}
	pts, off := Points(-5), false
	p, err := PatchBehaviour(b, BehaviourPatch{Points: &pts, Active: &off}, w.org.ID, w.now)
	if err != nil || p.Points != -5 || p.Active || p.UpdatedBy != w.org.ID || p.Name != b.Name {
		t.Fatalf("%+v %v", p, err)
	}
	zero := Points(0)
	if got, err := PatchBehaviour(b, BehaviourPatch{Points: &zero}, w.org.ID, w.now); err == nil || got.Points != b.Points {
		t.Fatalf("a zero patch: %+v %v", got, err)
	}
}

func TestRecordAward(t *testing.T) {
	w := newAwardWorld(t)
	rules := DefaultAwardRules
	req := func(b Behaviour) AwardRequest {
		return AwardRequest{BehaviourID: b.ID, MemberID: w.member.ID, Note: "分类投放", Evidence: []Picture{png}}
	}
	// A small award without a notice period posts at once.
	d, err := RecordAward(uuid.New(), req(w.sorting), w.facts(w.sorting, w.grid1), rules, w.now, w.loc)
	if err != nil || d.Award.Status != AwardPosted || d.Transfer == nil || d.Transfer.Kind != KindAward || d.Transfer.Amount != 2 ||
		d.Transfer.Debit != IssuerAccount(w.community.ID) || d.Transfer.Credit != MemberAccount(w.member.ID) ||
		d.Award.CommunityID != w.community.ID || len(d.Award.Evidence) != 1 || d.Award.Taken != 2 ||
		d.Transfer.IdempotencyKey != ServerKey("award", d.Award.ID.String(), "post") || d.Transfer.Memo != "垃圾分类：分类投放" {
		t.Fatalf("%+v %+v %v", d.Award, d.Transfer, err)
	}
	// With a notice period it waits until the end of the third day after.
	f := w.facts(w.sorting, w.org)
	f.NoticeDays = 3
	d, err = RecordAward(uuid.New(), req(w.sorting), f, rules, w.now, w.loc)
	want := time.Date(2026, 11, 24, 0, 0, 0, 0, w.loc)
	if err != nil || d.Award.Status != AwardInNotice || d.Transfer != nil || !d.Award.NoticeUntil.Equal(want) ||
		d.Award.ObjectionsClose(w.loc).Day() != 23 {
		t.Fatalf("%+v %v", d.Award, err)
	}
	// A large one waits for a second staff member, notice or not.
	d, err = RecordAward(uuid.New(), AwardRequest{BehaviourID: w.hero.ID, MemberID: w.member.ID}, w.facts(w.hero, w.org), rules, w.now, w.loc)
	if err != nil || d.Award.Status != AwardPending || !d.Award.NeedsApproval || d.Transfer != nil {
		t.Fatalf("%+v %v", d.Award, err)
	}
	if d, err := RecordAward(uuid.New(), AwardRequest{BehaviourID: w.hero.ID, MemberID: w.member.ID}, w.facts(w.hero, w.org), AwardRules{}, w.now, w.loc); err != nil || d.Award.Status != AwardPosted {
		t.Fatalf("four eyes off: %+v %v", d.Award, err)
	}
	// A deduction takes what there is.
	d, err = RecordAward(uuid.New(), AwardRequest{BehaviourID: w.litter.ID, MemberID: w.member.ID, Note: "楼道乱扔"}, func() AwardFacts {
		f := w.facts(w.litter, w.org)
		f.Available = 1
		return f
	}(), rules, w.now, w.loc)
	if err != nil || d.Award.Taken != 1 || d.Award.NotTaken != 1 || d.Transfer.Kind != KindDeduct || d.Transfer.Amount != 1 ||
		d.Transfer.Debit != MemberAccount(w.member.ID) || d.Transfer.Credit != IssuerAccount(w.community.ID) {
		t.Fatalf("%+v %+v %v", d.Award, d.Transfer, err)
	}
	// A household award goes to the household's account.
	h := w.household
	hf := AwardFacts{Behaviour: w.family, Recorder: w.org, Unit: w.grid, Household: &h}
	d, err = RecordAward(uuid.New(), AwardRequest{BehaviourID: w.family.ID, HouseholdID: h.ID}, hf, rules, w.now, w.loc)
	if err != nil || d.Award.Status != AwardPending || d.Award.Account() != HouseholdAccount(h.ID) {
		t.Fatalf("%+v %v", d.Award, err)
	}

	inactive := w.sorting
	inactive.Active = false
	left := w.member
	left.Status = MemberLeft
	for name, tt := range map[string]struct {
		req  AwardRequest
		f    AwardFacts
		code string
		key  string
	}{
		"Volunteer":          {req(w.sorting), w.facts(w.sorting, w.volunteer), EFORBIDDEN, "auth.forbidden"},
		"Clerk":              {req(w.sorting), w.facts(w.sorting, w.clerk), EFORBIDDEN, "auth.forbidden"},
		"OtherGridWorker":    {req(w.sorting), w.facts(w.sorting, w.grid2), ENOTFOUND, "member.not_found"},
		"OtherOrganiser":     {req(w.sorting), w.facts(w.sorting, w.otherOrg), ENOTFOUND, "member.not_found"},
		"UnknownBehaviour":   {AwardRequest{BehaviourID: uuid.New(), MemberID: w.member.ID}, AwardFacts{Recorder: w.org, Unit: w.grid, Member: &w.member}, EINVALID, "award.behaviour_unknown"},
		"OtherList":          {req(w.sorting), AwardFacts{Behaviour: w.sorting, Recorder: w.admin, Unit: w.otherGrid, Member: &w.member}, EINVALID, "award.behaviour_unknown"},
		"Inactive":           {req(w.sorting), w.facts(inactive, w.org), EINVALID, "award.behaviour_inactive"},
		"HouseholdForOne":    {AwardRequest{BehaviourID: w.family.ID, MemberID: w.member.ID}, w.facts(w.family, w.org), EINVALID, "award.behaviour_household"},
		"PersonForHousehold": {AwardRequest{BehaviourID: w.sorting.ID, HouseholdID: h.ID, Evidence: []Picture{png}}, AwardFacts{Behaviour: w.sorting, Recorder: w.org, Unit: w.grid, Household: &h}, EINVALID, "award.behaviour_person"},
		"NoTarget":           {AwardRequest{BehaviourID: w.sorting.ID}, w.facts(w.sorting, w.org), EINVALID, "award.target_required"},
		"TwoTargets":         {AwardRequest{BehaviourID: w.sorting.ID, MemberID: w.member.ID, HouseholdID: h.ID}, w.facts(w.sorting, w.org), EINVALID, "award.one_target"},
		"NoPhoto":            {AwardRequest{BehaviourID: w.sorting.ID, MemberID: w.member.ID}, w.facts(w.sorting, w.org), EINVALID, "award.evidence_required"},
		"TooManyPhotos":      {AwardRequest{BehaviourID: w.sorting.ID, MemberID: w.member.ID, Evidence: []Picture{png, png, png, png}}, w.facts(w.sorting, w.org), EINVALID, "award.evidence_too_many"},
		"NotAPicture":        {AwardRequest{BehaviourID: w.sorting.ID, MemberID: w.member.ID, Evidence: []Picture{{ContentType: "text/html", Data: []byte("<p>")}}}, w.facts(w.sorting, w.org), EINVALID, "award.picture_type"},
		"HugePicture":        {AwardRequest{BehaviourID: w.sorting.ID, MemberID: w.member.ID, Evidence: []Picture{{ContentType: "image/png", Data: make([]byte, MaxEvidenceBytes+1)}}}, w.facts(w.sorting, w.org), EINVALID, "award.picture_size"},
		"NoteControl":        {AwardRequest{BehaviourID: w.hero.ID, MemberID: w.member.ID, Note: "救人\x00"}, w.facts(w.hero, w.org), EINVALID, "text.control"},
		"NoteTooLong":        {AwardRequest{BehaviourID: w.hero.ID, MemberID: w.member.ID, Note: strings.Repeat("好", 201)}, w.facts(w.hero, w.org), EINVALID, "award.note_invalid"},
		"DeductionNoReason":  {AwardRequest{BehaviourID: w.litter.ID, MemberID: w.member.ID}, w.facts(w.litter, w.org), EINVALID, "award.note_required"},
		"MemberLeft":         {req(w.sorting), AwardFacts{Behaviour: w.sorting, Recorder: w.org, Unit: w.grid, Member: &left}, ECONFLICT, "award.member_inactive"},
		"NoCommunity":        {AwardRequest{BehaviourID: w.hero.ID, MemberID: w.member.ID}, AwardFacts{Behaviour: w.hero, Recorder: w.admin, Unit: w.street, Member: &w.member}, EINVALID, "award.no_community"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := RecordAward(uuid.New(), tt.req, tt.f, rules, w.now, w.loc)
			wantErr(t, err, tt.code, tt.key)
		})
	}
}

// TestAwardCaps: the fourth 垃圾分类 of a month is the last, the fifth is
// refused; a year cap of one household award refuses the second; and a
// post checks again, counting the award itself.
func TestAwardCaps(t *testing.T) {
	w := newAwardWorld(t)
	r := AwardRequest{BehaviourID: w.sorting.ID, MemberID: w.member.ID, Evidence: []Picture{png}}
	for count, ok := range map[int]bool{0: true, 3: true, 4: false, 9: false} {
		f := w.facts(w.sorting, w.org)
		f.MonthCount, f.YearCount = count, count
		_, err := RecordAward(uuid.New(), r, f, DefaultAwardRules, w.now, w.loc)
		if ok && err != nil {
			t.Fatalf("%d before: %v", count, err)
		}
		if !ok {
			wantErr(t, err, ECONFLICT, "award.month_cap")
		}
	}
	h := w.household
	f := AwardFacts{Behaviour: w.family, Recorder: w.org, Unit: w.grid, Household: &h, YearCount: 1}
	_, err := RecordAward(uuid.New(), AwardRequest{BehaviourID: w.family.ID, HouseholdID: h.ID}, f, DefaultAwardRules, w.now, w.loc)
	wantErr(t, err, ECONFLICT, "award.year_cap")

	// Posting counts the award itself: 4 of 4 posts, 5 of 4 does not.
	a := Award{ID: uuid.New(), Name: "垃圾分类", Points: 2, MonthCap: 4, Target: TargetPerson, MemberID: w.member.ID,
		CommunityID: w.community.ID, Status: AwardInNotice, NoticeUntil: w.now.Add(time.Hour)}
	st := AwardState{Award: a, Unit: w.grid, MonthCount: 4, YearCount: 4}
	if d, due, err := PostDueAward(st, w.now.Add(time.Hour)); err != nil || !due || d.Award.Status != AwardPosted {
		t.Fatalf("%+v %v %v", d.Award, due, err)
	}
	st.MonthCount = 5
	_, _, err = PostDueAward(st, w.now.Add(time.Hour))
	wantErr(t, err, ECONFLICT, "award.month_cap")
}

func TestAwardSteps(t *testing.T) {
	w := newAwardWorld(t)
	actor := func(u User) AwardActor { return AwardActor{User: u} }
	pending := Award{ID: uuid.New(), BehaviourID: w.hero.ID, Name: "见义勇为", Points: 50, Target: TargetPerson, MemberID: w.member.ID,
		UnitID: w.grid.ID, CommunityID: w.community.ID, RecordedBy: w.org.ID, RecordedAt: w.now, Status: AwardPending,
		NeedsApproval: true, History: []AwardStep{{Step: StepRecorded, By: w.org.ID, At: w.now}}}
	st := AwardState{Award: pending, Unit: w.grid, MonthCount: 1, YearCount: 1}

	t.Run("Approve", func(t *testing.T) {
		d, err := ApproveAward(st, actor(w.org2), w.now, w.loc)
		if err != nil || d.Award.Status != AwardPosted || d.Transfer == nil || d.Transfer.Amount != 50 || len(d.Award.History) != 3 ||
			d.Award.History[1].Step != StepApproved || d.Award.History[1].By != w.org2.ID {
			t.Fatalf("%+v %v", d.Award, err)
		}
		if len(pending.History) != 1 {
			t.Fatal("the decision changed its input")
		}
		st2 := st
		st2.NoticeDays = 3
		if d, err := ApproveAward(st2, actor(w.admin), w.now, w.loc); err != nil || d.Award.Status != AwardInNotice || d.Transfer != nil {
			t.Fatalf("with notice: %+v %v", d.Award, err)
		}
		for name, tt := range map[string]struct {
			by        User
			code, key string
		}{
			"Own":           {w.org, EFORBIDDEN, "award.own_approval"},
			"GridWorker":    {w.grid1, EFORBIDDEN, "award.grid_worker_decides"},
			"OtherGridWork": {w.grid2, ENOTFOUND, "award.not_found"},
			"OtherOrg":      {w.otherOrg, ENOTFOUND, "award.not_found"},
			"Volunteer":     {w.volunteer, EFORBIDDEN, "auth.forbidden"},
			"Disabled":      {User{ID: uuid.New(), Role: RoleAdmin, Disabled: true}, EUNAUTHORIZED, ""},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := ApproveAward(st, actor(tt.by), w.now, w.loc)
				wantErr(t, err, tt.code, tt.key)
			})
		}
		approved := st
		approved.Award.Status = AwardPosted
		_, err = ApproveAward(approved, actor(w.org2), w.now, w.loc)
		wantErr(t, err, ECONFLICT, "award.not_pending")
	})

	inNotice := st
	inNotice.Award.Status, inNotice.Award.NoticeUntil = AwardInNotice, w.now.Add(72*time.Hour)
	t.Run("Object", func(t *testing.T) {
		neighbour := AwardActor{User: w.volunteer, MemberUnit: &w.grid}
		d, err := ObjectAward(inNotice, neighbour, "不是他救的人", w.now)
		if err != nil || d.Award.Status != AwardHeld || d.Award.Last().Reason != "不是他救的人" {
			t.Fatalf("%+v %v", d.Award, err)
		}
		if d, err := ObjectAward(inNotice, actor(w.grid1), "电话反映", w.now); err != nil || d.Award.Status != AwardHeld {
			t.Fatalf("by phone: %+v %v", d.Award, err)
		}
		_, err = ObjectAward(inNotice, AwardActor{User: w.volunteer, MemberUnit: &w.otherGrid}, "x", w.now)
		wantErr(t, err, EFORBIDDEN, "award.object_community")
		_, err = ObjectAward(inNotice, actor(w.otherOrg), "x", w.now)
		wantErr(t, err, ENOTFOUND, "award.not_found")
		_, err = ObjectAward(inNotice, neighbour, " ", w.now)
		wantErr(t, err, EINVALID, "attendance.reason_required")
		// The period ends at NoticeUntil: the sweep posts, an objection is too late.
		_, err = ObjectAward(inNotice, neighbour, "晚了", inNotice.Award.NoticeUntil)
		wantErr(t, err, ECONFLICT, "award.notice_over")
		if _, due, _ := PostDueAward(inNotice, inNotice.Award.NoticeUntil.Add(-time.Nanosecond)); due {
			t.Fatal("due before the period ends")
		}
		if d, due, err := PostDueAward(inNotice, inNotice.Award.NoticeUntil); !due || err != nil || d.Award.Status != AwardPosted || d.Award.Last().By != uuid.Nil {
			t.Fatalf("%+v %v %v", d.Award, due, err)
		}
		_, err = ObjectAward(st, neighbour, "x", w.now)
		wantErr(t, err, ECONFLICT, "award.notice_over")
	})

	held := inNotice
	held.Award.Status = AwardHeld
	t.Run("Decide", func(t *testing.T) {
		d, err := DecideAward(held, actor(w.org), true, "核实属实", w.now)
		if err != nil || d.Award.Status != AwardPosted || d.Transfer == nil || d.Award.Last().Reason != "核实属实" {
			t.Fatalf("%+v %v", d.Award, err)
		}
		d, err = DecideAward(held, actor(w.org), false, "核实不实", w.now)
		if err != nil || d.Award.Status != AwardRejected || !d.Uncount || d.Transfer != nil {
			t.Fatalf("%+v %v", d.Award, err)
		}
		_, err = DecideAward(held, actor(w.grid1), true, "x", w.now)
		wantErr(t, err, EFORBIDDEN, "award.grid_worker_decides")
		_, err = DecideAward(inNotice, actor(w.org), true, "x", w.now)
		wantErr(t, err, ECONFLICT, "award.not_held")
		_, err = DecideAward(held, actor(w.org), true, "", w.now)
		wantErr(t, err, EINVALID, "attendance.reason_required")
	})

	t.Run("Reject", func(t *testing.T) {
		for _, s := range []AwardState{st, inNotice, held} {
			if d, err := RejectAward(s, actor(w.org2), "重复登记", w.now); err != nil || d.Award.Status != AwardRejected || !d.Uncount {
				t.Fatalf("%s: %+v %v", s.Award.Status, d.Award, err)
			}
		}
		// The grid worker who recorded it may withdraw it; another may not.
		own := st
		own.Award.RecordedBy = w.grid1.ID
		if _, err := RejectAward(own, actor(w.grid1), "录错了", w.now); err != nil {
			t.Fatal(err)
		}
		_, err := RejectAward(st, actor(w.grid1), "x", w.now)
		wantErr(t, err, EFORBIDDEN, "award.grid_worker_decides")
		posted := st
		posted.Award.Status = AwardPosted
		_, err = RejectAward(posted, actor(w.org2), "x", w.now)
		wantErr(t, err, ECONFLICT, "award.not_open")
	})

	t.Run("Reverse", func(t *testing.T) {
		posted := st
		posted.Award.Status, posted.Award.EntrySeq, posted.Award.Taken = AwardPosted, 7, 50
		entry := Entry{Seq: 7, Transfer: Transfer{Debit: IssuerAccount(w.community.ID), Credit: MemberAccount(w.member.ID), Amount: 50,
			Kind: KindAward, Reference: posted.Award.Reference()}}
		d, err := ReverseAward(posted, entry, actor(w.org), "登记错人", w.now)
		if err != nil || d.Award.Status != AwardReversed || d.Transfer == nil || d.Transfer.Kind != KindReverse || d.Transfer.Reverses != 7 ||
			d.Transfer.Debit != MemberAccount(w.member.ID) || d.Transfer.Amount != 50 || !d.Uncount {
			t.Fatalf("%+v %+v %v", d.Award, d.Transfer, err)
		}
		// A deduction that took nothing is reversed without an entry.
		empty := posted
		empty.Award.Points, empty.Award.EntrySeq, empty.Award.Taken, empty.Award.NotTaken = -5, 0, 0, 5
		if d, err := ReverseAward(empty, Entry{}, actor(w.org), "误扣", w.now); err != nil || d.Transfer != nil || d.Award.Status != AwardReversed {
			t.Fatalf("%+v %v", d, err)
		}
		wrong := entry
		wrong.Amount = 49
		if _, err := ReverseAward(posted, wrong, actor(w.org), "x", w.now); err == nil {
			t.Fatal("an entry that is not its posting")
		} else if _, ok := AsError(err); ok {
			t.Fatalf("damage is no refusal: %v", err)
		}
		reversed := posted
		reversed.Award.Status = AwardReversed
		_, err = ReverseAward(reversed, entry, actor(w.org), "x", w.now)
		wantErr(t, err, ECONFLICT, "award.already_reversed")
		_, err = ReverseAward(st, entry, actor(w.org), "x", w.now)
		wantErr(t, err, ECONFLICT, "award.not_posted")
		_, err = ReverseAward(posted, entry, actor(w.grid1), "x", w.now)
		wantErr(t, err, EFORBIDDEN, "award.grid_worker_decides")
	})

	t.Run("Evidence", func(t *testing.T) {
		a, err := AddEvidence(st, actor(w.grid1), png)
		if err != nil || len(a.Evidence) != 1 || len(st.Award.Evidence) != 0 {
			t.Fatalf("%+v %v", a, err)
		}
		_, err = AddEvidence(st, actor(w.grid2), png)
		wantErr(t, err, ENOTFOUND, "award.not_found")
		full := st
		full.Award.Evidence = []string{"a", "b", "c"}
		_, err = AddEvidence(full, actor(w.org), png)
		wantErr(t, err, EINVALID, "award.evidence_too_many")
	})
}

func TestAwardRules(t *testing.T) {
	for _, tt := range []struct {
		rule   Points
		points Points
		want   bool
	}{{20, 19, false}, {20, 20, true}, {20, -20, true}, {20, -5, false}, {0, 500, false}, {1, 1, true}} {
		if got := (AwardRules{ApprovalPoints: tt.rule}).NeedsApproval(tt.points); got != tt.want {
			t.Errorf("threshold %d, %d points: %v", tt.rule, tt.points, got)
		}
	}
	r1 := AwardRequest{BehaviourID: uuid.New(), MemberID: uuid.New(), Note: "a"}
	r2 := r1
	r2.Note = "b"
	if r1.Fingerprint() == r2.Fingerprint() || r1.Fingerprint() != r1.Fingerprint() {
		t.Fatal("fingerprints")
	}
}

func TestPatchAwardNotice(t *testing.T) {
	w := newAwardWorld(t)
	three, tooMany, none := 3, 31, 0
	u, err := w.community.PatchNotice(NoticePatch{AwardDays: &three})
	if err != nil || u.AwardNoticeDays != 3 || u.PublicNotice {
		t.Fatalf("%+v %v", u, err)
	}
	if u, err = u.PatchNotice(NoticePatch{AwardDays: &none}); err != nil || u.AwardNoticeDays != 0 {
		t.Fatalf("%+v %v", u, err)
	}
	_, err = w.community.PatchNotice(NoticePatch{AwardDays: &tooMany})
	wantErr(t, err, EINVALID, "unit.award_notice_days_invalid")
}
