package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// The demo's behaviour bank (文明行为银行), after the practice of the source
// articles (安宁's 文明行为银行 and 一家亲积分超市): the street's list and
// 东河园社区's, a grid worker of its first grid, households, and awards in
// every state — posted, waiting for a second organiser, on the public
// notice, held by an objection, rejected, reversed — with a household
// deduction that found fewer points than it would take.

// demoBehaviours are the lists: the street's for every community, and
// 东河园社区's own.
var demoBehaviours = []struct {
	community bool
	b         ledger.Behaviour
}{
	{false, ledger.Behaviour{Name: "见义勇为", Category: "社会公德", Points: 50}},
	{false, ledger.Behaviour{Name: "孝老爱亲", Category: "家庭美德", Points: 10, MonthCap: 1}},
	{false, ledger.Behaviour{Name: "好人好事", Category: "社会公德", Points: 5, MonthCap: 4}},
	{false, ledger.Behaviour{Name: "高空抛物", Category: "公共安全", Points: -20}},
	{false, ledger.Behaviour{Name: "文明家庭", Category: "家庭美德", Points: 30, YearCap: 1, Target: ledger.TargetHousehold}},
	{true, ledger.Behaviour{Name: "垃圾分类", Category: "环境卫生", Points: 2, MonthCap: 4, EvidenceRequired: true}},
	{true, ledger.Behaviour{Name: "移风易俗", Category: "移风易俗", Points: 5, MonthCap: 2}},
	{true, ledger.Behaviour{Name: "文明养犬", Category: "公共秩序", Points: -5}},
	{true, ledger.Behaviour{Name: "乱扔垃圾", Category: "环境卫生", Points: -2}},
	{true, ledger.Behaviour{Name: "一家亲互助", Category: "邻里互助", Points: 10, MonthCap: 1, Target: ledger.TargetHousehold}},
	{true, ledger.Behaviour{Name: "楼道堆物", Category: "公共秩序", Points: -15, Target: ledger.TargetHousehold}},
}

// demoAwardsSpan bounds the demo clock's steps in fillDemoAwards, as
// written: each is shortened alike when less time is left before now.
const demoAwardsSpan = 12 * time.Hour

// fillDemoAwards adds the behaviour bank to the demo district, on the
// demo's clock from where it stands (it only moves forward) up to now at
// the latest. Logins it makes are added to logins.
func fillDemoAwards(ctx context.Context, st engine, clock *demoClock, now time.Time, orgHash string, logins *[]demoLogin) error {
	scale := min(1, float64(now.Sub(clock.t))/float64(demoAwardsSpan))
	tick := func(d time.Duration) { clock.set(clock.t.Add(time.Duration(float64(d) * scale))) }
	units, err := st.Units(ctx)
	if err != nil {
		return err
	}
	var street, donghe, grid ledger.Unit
	for _, u := range units {
		switch {
		case u.Kind == ledger.UnitStreet && u.Name == "蓉城街道":
			street = u
		case u.Kind == ledger.UnitCommunity && u.Name == "东河园社区":
			donghe = u
		case u.Kind == ledger.UnitGrid && u.Name == "第一网格" && donghe.ID != uuid.Nil && u.ParentID == donghe.ID:
			grid = u
		}
	}
	if street.ID == uuid.Nil || donghe.ID == uuid.Nil || grid.ID == uuid.Nil {
		return fmt.Errorf("demo awards: the district is not there")
	}
	user := func(login string) (ledger.User, error) { return st.UserByLogin(ctx, login) }
	org, err := user("donghe")
	if err != nil {
		return err
	}
	streetOrg, err := user("rongcheng")
	if err != nil {
		return err
	}
	// The grid worker of 东河园's first grid: the one the wishes made, or a
	// new one (whose login is printed) when they are not in the demo.
	gw, err := user("donghe-grid")
	if ledger.ErrorCode(err) == ledger.ENOTFOUND {
		gw, err = st.CreateUser(ctx, ledger.User{Login: "donghe-grid", Name: "东河园社区第一网格网格员", Role: ledger.RoleGridWorker, UnitID: grid.ID, PasswordHash: orgHash})
		if err == nil {
			*logins = append(*logins, demoLogin{"grid", gw.Login, demoOrganiserPassword, "东河园社区第一网格的网格员（/admin/awards）"})
		}
	}
	if err != nil {
		return err
	}

	byName := map[string]ledger.Behaviour{}
	for _, d := range demoBehaviours {
		d.b.UnitID = street.ID
		if d.community {
			d.b.UnitID = donghe.ID
		}
		b, err := st.CreateBehaviour(ctx, d.b)
		if err != nil {
			return fmt.Errorf("behaviour %s: %w", d.b.Name, err)
		}
		byName[b.Name] = b
	}

	members, err := st.Members(ctx, ledger.MemberFilter{Scope: ledger.Scope{Unit: grid.ID}, Limit: 100})
	if err != nil || len(members) < 6 {
		return fmt.Errorf("demo awards: the grid's members: %d %v", len(members), err)
	}
	// Households: those the demo has in the grid, else two made here of
	// members in none.
	households, err := st.Households(ctx, ledger.Scope{Unit: grid.ID})
	if err != nil {
		return err
	}
	for i := 0; len(households) < 2 && i+1 < len(members); i += 2 {
		a, b := members[len(members)-1-i], members[len(members)-2-i]
		if _, err := st.MemberHousehold(ctx, a.ID); err == nil {
			continue
		}
		if _, err := st.MemberHousehold(ctx, b.ID); err == nil {
			continue
		}
		h, err := st.CreateHousehold(ctx, fmt.Sprintf("%d单元%d室", 2+i/2, 301+i), grid.ID, 0)
		if err != nil {
			return err
		}
		if h, err = st.SetHouseholdMembers(ctx, h.ID, ledger.HouseholdChange{HeadID: a.ID,
			Members: []ledger.HouseholdMember{{MemberID: a.ID}, {MemberID: b.ID}}}); err != nil {
			return err
		}
		households = append(households, h)
	}
	if len(households) < 2 {
		return fmt.Errorf("demo awards: no households")
	}

	photo := demoPhoto()
	record := func(by ledger.User, name string, member, household uuid.UUID, note string) (ledger.Award, error) {
		tick(7 * time.Minute)
		req := ledger.AwardRequest{BehaviourID: byName[name].ID, MemberID: member, HouseholdID: household, Note: note, By: by.ID}
		if byName[name].EvidenceRequired {
			req.Evidence = []ledger.Picture{{ContentType: "image/png", Data: photo}}
		}
		a, err := st.RecordAward(ctx, req)
		if err != nil {
			return a, fmt.Errorf("award %s: %w", name, err)
		}
		return a, nil
	}
	m := func(i int) uuid.UUID { return members[i%len(members)].ID }
	// Posted at once: the grid worker's rounds, good deeds, a deduction taken in full.
	for i, note := range []string{"厨余垃圾分类投放正确", "主动分拣可回收物", "带动邻居参与分类", "桶边督导一小时"} {
		if _, err := record(gw, "垃圾分类", m(i), uuid.Nil, note); err != nil {
			return err
		}
	}
	steps := []struct {
		by                ledger.User
		behaviour, note   string
		member, household int // index; -1 none
	}{
		{org, "孝老爱亲", "照顾卧床婆婆多年，邻里称赞", 1, -1},
		{org, "好人好事", "拾到钱包交还失主", 2, -1},
		{gw, "移风易俗", "子女婚事简办，不收礼金", 3, -1},
		{gw, "文明养犬", "遛狗未牵绳，经劝导后改正", 4, -1},
		{org, "一家亲互助", "全家参与楼道清扫", -1, 0},
		{org, "楼道堆物", "楼道长期堆放杂物，劝导未清理", -1, 0},
	}
	for _, s := range steps {
		member, household := uuid.Nil, uuid.Nil
		if s.member >= 0 {
			member = m(s.member)
		} else {
			household = households[s.household].ID
		}
		if _, err := record(s.by, s.behaviour, member, household, s.note); err != nil {
			return err
		}
	}
	// 见义勇为: one approved by the street's organiser, one waiting.
	hero, err := record(org, "见义勇为", m(5), uuid.Nil, "河边救起落水儿童")
	if err != nil {
		return err
	}
	tick(time.Hour)
	if _, err := st.ApproveAward(ctx, hero.ID, streetOrg.ID); err != nil {
		return err
	}
	if _, err := record(gw, "见义勇为", m(2), uuid.Nil, "夜间发现火情及时报警并疏散住户"); err != nil {
		return err
	}
	// 高空抛物 on the resident with the fewest points at hand in the grid
	// (some of theirs held by a voucher): it takes what is there and
	// records the rest as not taken. Approved by the street, as it is
	// 20 points.
	low, lowAvail := uuid.Nil, ledger.Points(0)
	for _, mem := range members {
		b, err := st.Balance(ctx, ledger.MemberAccount(mem.ID))
		if err != nil {
			return err
		}
		if b.Points > 0 && b.Points < -byName["高空抛物"].Points && (low == uuid.Nil || b.Points < lowAvail) {
			low, lowAvail = mem.ID, b.Points
		}
	}
	if low != uuid.Nil {
		thrown, err := record(gw, "高空抛物", low, uuid.Nil, "从五楼扔下花盆碎片，经查属实")
		if err != nil {
			return err
		}
		tick(time.Hour)
		if _, err := st.ApproveAward(ctx, thrown.ID, streetOrg.ID); err != nil {
			return err
		}
	}
	// A household's 文明家庭, waiting too.
	if _, err := record(org, "文明家庭", uuid.Nil, households[1].ID, "年度文明家庭评选入选"); err != nil {
		return err
	}
	// Rejected: entered twice by mistake.
	dup, err := record(gw, "见义勇为", m(2), uuid.Nil, "夜间发现火情及时报警并疏散住户")
	if err != nil {
		return err
	}
	if _, err := st.RejectAward(ctx, dup.ID, org.ID, "与前一条重复登记"); err != nil {
		return err
	}
	// Reversed: given to the wrong neighbour.
	wrong, err := record(org, "好人好事", m(3), uuid.Nil, "帮助邻居搬运家具")
	if err != nil {
		return err
	}
	tick(time.Hour)
	if _, err := st.ReverseAward(ctx, wrong.ID, org.ID, "登记错人，应为同楼另一位居民"); err != nil {
		return err
	}
	// From now on 东河园 puts awards on its public notice for three days.
	days, on := 3, true
	if _, err := st.SetPublicNotice(ctx, donghe.ID, ledger.NoticePatch{On: &on, AwardDays: &days}); err != nil {
		return err
	}
	if _, err := record(gw, "好人好事", m(0), uuid.Nil, "为独居老人代买药品"); err != nil {
		return err
	}
	held, err := record(gw, "好人好事", m(4), uuid.Nil, "清理小区绿地白色垃圾")
	if err != nil {
		return err
	}
	tick(2 * time.Hour)
	neighbour, err := user(members[1].Phone)
	if err != nil {
		return err
	}
	if _, err := st.ObjectAward(ctx, held.ID, neighbour.ID, "那天清理绿地的是物业保洁，不是他"); err != nil {
		return err
	}
	return nil
}

// demoPhoto is a small picture for the awards that need one: a green
// sorting bin on grey.
func demoPhoto() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 96, 72))
	for y := range 72 {
		for x := range 96 {
			c := color.RGBA{0xd8, 0xdc, 0xe0, 0xff}
			if x > 30 && x < 66 && y > 16 && y < 64 {
				c = color.RGBA{0x2e, 0x8b, 0x57, 0xff}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}
