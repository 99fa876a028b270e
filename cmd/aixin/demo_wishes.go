package main

import (
	"context"
	"fmt"
	"time"

	"aixin/handlers"
	"aixin/ledger"

	"github.com/google/uuid"
)

// The demo's wishes (微心愿): in each community residents' small needs in
// every state of their life — waiting to be checked, checked, on the wall,
// claimed by a volunteer or a team, reported done, confirmed with the
// resident and their points awarded, withdrawn and rejected —, a grid
// worker of 东河园社区's first grid, and 东河园社区's public wish wall
// switched on. The demo volunteer (13905500000) has claimed one and been
// awarded for another, so their phone shows both.

// demoWish is one wish of the demo and how far its story goes.
type demoWish struct {
	community    int // 0 东河园, 1 西华, 2 五溪
	title, need  string
	resident     string
	phone        string
	grid         int
	points       ledger.Points
	byGrid       bool              // entered by 东河园's grid worker, else by the organiser
	byVolunteer  int               // entered from a volunteer's phone (member index + 1), 0: by staff
	until        ledger.WishStatus // how far it goes
	claimer      int               // member index within the community
	team         bool              // claimed for the party team, with the next member taking part
	reason       string            // withdrawn or rejected
	confirmedHow string
}

var demoWishes = []demoWish{
	{0, "给孙子买个新书包", "孙子上三年级，书包背带断了，想要一个结实的双肩书包。", "张桂兰", "13600001111", 0, 20, true, 0, ledger.WishConfirmed, 1, true, "", ledger.WishConfirmInPerson},
	{0, "代买降压药", "腿脚不便，每月需要有人去社区卫生服务中心代买降压药。", "李德顺", "028-85551234", 0, 10, false, 0, ledger.WishConfirmed, 0, false, "", ledger.WishConfirmPhone},
	{0, "修理厨房水龙头", "厨房水龙头一直滴水，想请会修的志愿者帮忙换个阀芯。", "王淑芬", "", 1, 15, false, 0, ledger.WishFulfilled, 3, false, "", ""},
	{0, "陪同去医院复查", "下周二上午要去县人民医院复查，子女在外地，想有人陪同。", "陈国强", "13600002222", 0, 15, true, 0, ledger.WishClaimed, 0, false, "", ""},
	{0, "助听器换电池", "助听器没电了，不会换，想请人帮忙买电池并换上。", "赵秀英", "", 0, 10, true, 0, ledger.WishPublished, 0, false, "", ""},
	{0, "帮忙读报、聊聊天", "独居老人，眼睛不好，希望每周有人来读读报、聊聊天。", "刘玉梅", "", 1, 5, false, 0, ledger.WishPublished, 0, false, "", ""},
	{0, "楼道换个节能灯泡", "楼道灯坏了，晚上上下楼看不清。", "孙德胜", "", 0, 0, true, 0, ledger.WishVerified, 0, false, "", ""},
	{0, "想要一副老花镜", "隔壁的吴奶奶看不清药盒上的字，想要一副老花镜。", "吴桂英", "", 0, 0, false, 1, ledger.WishSubmitted, 0, false, "", ""},
	{0, "修自行车", "自行车链条掉了，想请人帮忙修一修。", "周永军", "", 1, 5, false, 0, ledger.WishWithdrawn, 2, false, "居民的儿子回来，已经修好了", ""},
	{0, "每天送餐上门", "希望每天中午有人送午饭。", "郭春燕", "", 1, 0, false, 0, ledger.WishRejected, 0, false, "长期送餐不属于微心愿，已转给社区老年助餐点", ""},
	{1, "冬天的厚棉被", "家里的棉被太薄，想要一床厚棉被过冬。", "黄明华", "13600003333", 0, 20, false, 0, ledger.WishConfirmed, 2, false, "", ledger.WishConfirmSigned},
	{1, "帮忙搬运旧家具", "要把旧衣柜搬到楼下回收点，自己搬不动。", "林文斌", "", 1, 10, false, 0, ledger.WishClaimed, 1, true, "", ""},
	{1, "辅导孩子数学功课", "孩子读初一，数学跟不上，希望周末有人辅导一两个小时。", "何晓红", "", 0, 10, false, 0, ledger.WishPublished, 0, false, "", ""},
	{2, "轮椅坏了想修一修", "轮椅刹车不灵，想请人帮忙修理。", "罗德胜", "13600004444", 0, 15, false, 0, ledger.WishFulfilled, 0, false, "", ""},
	{2, "代缴水电费", "不会用手机缴费，想请人帮忙代缴这个月的水电费。", "马淑芬", "", 1, 5, false, 0, ledger.WishPublished, 0, false, "", ""},
}

// addDemoWishes tells the demo wishes' stories on the demo clock, in small
// steps from where the clock stands up to now, and returns logins with the
// grid worker's added.
func addDemoWishes(ctx context.Context, st engine, clock *demoClock, now time.Time, logins []demoLogin) ([]demoLogin, error) {
	units, err := st.Units(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]ledger.Unit{}
	gridsOf := map[uuid.UUID][]ledger.Unit{}
	for _, u := range units {
		if u.Kind == ledger.UnitCommunity {
			byName[u.Name] = u
		}
		if u.Kind == ledger.UnitGrid {
			gridsOf[u.ParentID] = append(gridsOf[u.ParentID], u)
		}
	}
	teams, err := st.Teams(ctx)
	if err != nil {
		return nil, err
	}
	type community struct {
		unit      ledger.Unit
		organiser ledger.WishActor
		members   []ledger.Member
		actors    []ledger.WishActor
		team      uuid.UUID
	}
	// The street's organiser confirms the large wishes: the community's
	// organiser set their points, and a second pair of eyes confirms them.
	streetOrg, err := st.UserByLogin(ctx, "rongcheng")
	if err != nil {
		return nil, err
	}
	street := ledger.WishActor{User: streetOrg.ID, Role: streetOrg.Role, Unit: streetOrg.UnitID}
	var comms []community
	for i, name := range []string{"东河园社区", "西华社区", "五溪社区"} {
		c := community{unit: byName[name]}
		org, err := st.UserByLogin(ctx, []string{"donghe", "xihua", "wuxi"}[i])
		if err != nil {
			return nil, err
		}
		c.organiser = ledger.WishActor{User: org.ID, Role: org.Role, Unit: org.UnitID}
		if c.members, err = st.Members(ctx, ledger.MemberFilter{Scope: ledger.Scope{Unit: c.unit.ID}, Limit: 100}); err != nil {
			return nil, err
		}
		for _, m := range c.members {
			u, err := st.UserByLogin(ctx, m.Phone)
			if err != nil {
				return nil, err
			}
			c.actors = append(c.actors, ledger.WishActor{User: u.ID, Role: ledger.RoleVolunteer, Member: m.ID})
		}
		for _, tm := range teams {
			if tm.UnitID == c.unit.ID && tm.Kind == ledger.TeamPartyVolunteer {
				c.team = tm.ID
			}
		}
		if len(gridsOf[c.unit.ID]) < 2 || len(c.members) < 5 || c.team == uuid.Nil {
			return nil, fmt.Errorf("demo wishes: %s lacks its grids, members or party team", name)
		}
		comms = append(comms, c)
	}
	// Members are listed by id, in the order they were made: the demo
	// volunteer (13905500000) is 东河园's first.
	hash, err := handlers.HashPassword(demoOrganiserPassword)
	if err != nil {
		return nil, err
	}
	dongheGrid := gridsOf[comms[0].unit.ID][0]
	gw, err := st.CreateUser(ctx, ledger.User{Login: "donghe-grid", Name: "东河园社区第一网格网格员", Role: ledger.RoleGridWorker, UnitID: dongheGrid.ID, PasswordHash: hash})
	if err != nil {
		return nil, err
	}
	gridWorker := ledger.WishActor{User: gw.ID, Role: gw.Role}
	logins = append(logins, demoLogin{"grid", "donghe-grid", demoOrganiserPassword, "东河园社区第一网格的网格员（微心愿 /admin/wishes，文明行为 /admin/awards）"})

	// Small steps from the clock to now: every wish's story fits.
	step := min(10*time.Minute, max(time.Second, now.Sub(clock.t)/time.Duration(8*len(demoWishes)+2)))
	tick := func() { clock.set(clock.t.Add(step)) }
	for _, dw := range demoWishes {
		c := comms[dw.community]
		grid := gridsOf[c.unit.ID][dw.grid]
		by := c.organiser
		switch {
		case dw.byGrid:
			by = gridWorker
		case dw.byVolunteer > 0:
			by = c.actors[dw.byVolunteer-1]
		}
		points := dw.points
		if by.Role != ledger.RoleOrganizer {
			points = 0 // set by the organiser when verifying or publishing
		}
		tick()
		w, err := st.CreateWish(ctx, ledger.WishRequest{Title: dw.title, Need: dw.need, ResidentName: dw.resident, ResidentPhone: dw.phone,
			UnitID: grid.ID, Points: points}, by, "")
		if err != nil {
			return nil, fmt.Errorf("demo wish %s: %w", dw.title, err)
		}
		do := func(f func() (ledger.Wish, error)) bool {
			if err != nil || w.Status == dw.until {
				return false
			}
			tick()
			w, err = f()
			return err == nil
		}
		p := dw.points
		do(func() (ledger.Wish, error) {
			if w.Status != ledger.WishSubmitted {
				return w, nil
			}
			return st.VerifyWish(ctx, w.ID, c.organiser, &p, "")
		})
		end := func(f func() (ledger.Wish, error)) {
			if err == nil && (dw.until == ledger.WishWithdrawn || dw.until == ledger.WishRejected) && w.Status != dw.until {
				tick()
				w, err = f()
			}
		}
		// A wish withdrawn after it was claimed, one rejected before it went up.
		if dw.until == ledger.WishRejected {
			end(func() (ledger.Wish, error) { return st.RejectWish(ctx, w.ID, c.organiser, dw.reason, "") })
		}
		do(func() (ledger.Wish, error) { return st.PublishWish(ctx, w.ID, c.organiser, &p, "") })
		claimer := c.actors[dw.claimer]
		team := uuid.Nil
		who := []uuid.UUID{claimer.Member}
		if dw.team {
			team = c.team
			who = append(who, c.members[dw.claimer+1].ID)
		}
		do(func() (ledger.Wish, error) { return st.ClaimWish(ctx, w.ID, claimer, team, "") })
		if dw.until == ledger.WishWithdrawn {
			end(func() (ledger.Wish, error) { return st.WithdrawWish(ctx, w.ID, by, dw.reason, "") })
		}
		do(func() (ledger.Wish, error) {
			return st.FulfilWish(ctx, w.ID, claimer, "已经办好了："+dw.title+"。居民很满意。", who, nil, "")
		})
		do(func() (ledger.Wish, error) {
			confirmer := c.organiser
			if p >= ledger.DefaultAwardRules.ApprovalPoints {
				confirmer = street
			}
			return st.ConfirmWish(ctx, w.ID, confirmer, ledger.WishConfirmRequest{How: dw.confirmedHow, Note: "已向居民本人确认"}, "")
		})
		if err != nil {
			return nil, fmt.Errorf("demo wish %s: %w", dw.title, err)
		}
		if w.Status != dw.until {
			return nil, fmt.Errorf("demo wish %s is %s, not %s", dw.title, w.Status, dw.until)
		}
	}
	if _, err := st.SetWishWall(ctx, comms[0].unit.ID, true, comms[0].organiser.User); err != nil {
		return nil, err
	}
	return logins, nil
}
