package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"aixin/handlers"
	"aixin/ledger"

	"github.com/google/uuid"
)

// The demo district: a street of three communities in the manner of the
// source articles (青阳县蓉城镇: 东河园社区 and its neighbours), with grids,
// party-member teams, on-duty party members from several employers,
// residents, a month of finished events in several categories, a love
// supermarket and a civility-bank counter with their catalogues, and
// vouchers issued and redeemed. Everything goes through the store's own
// operations, so the ledger verifies like any other.

// demoPasswords are the demo's logins' passwords: it is a demo.
const (
	demoOrganiserPassword = "demo-organiser-2026"
	demoClerkPassword     = "demo-counter-2026"
	demoVolunteerPassword = "demo-volunteer-2026"
)

type demoLogin struct{ role, login, password, what string }

// demoClock is the time the demo's store sees: the demo tells its story
// over the last month, day by day, so that entries carry their days. It
// only moves forward, as the ledger requires.
type demoClock struct{ t time.Time }

func (c *demoClock) Now() time.Time { return c.t }

// set moves the clock to t, never back.
func (c *demoClock) set(t time.Time) {
	if t.After(c.t) {
		c.t = t
	}
}

// fillDemo fills an empty store, opened on clock, with the demo district
// and returns the logins to try. It refuses a store that already has
// members. The clock starts five weeks back and ends at now.
func fillDemo(ctx context.Context, st engine, clock *demoClock, now time.Time) ([]demoLogin, error) {
	if ms, err := st.Members(ctx, ledger.MemberFilter{Scope: ledger.Scope{All: true}, Limit: 1}); err != nil || len(ms) > 0 {
		if err == nil {
			err = fmt.Errorf("the data folder already has members: the demo goes into a new folder (--data)")
		}
		return nil, err
	}
	r := rand.New(rand.NewPCG(2026, 11))
	loc := st.Location()
	today := time.Date(now.In(loc).Year(), now.In(loc).Month(), now.In(loc).Day(), 0, 0, 0, 0, loc)
	clock.set(today.AddDate(0, 0, -35).Add(9 * time.Hour))
	must := func(u ledger.Unit, err error) ledger.Unit {
		if err != nil {
			panic(err)
		}
		return u
	}
	var logins []demoLogin
	hash := func(pw string) string {
		h, err := handlers.HashPassword(pw)
		if err != nil {
			panic(err)
		}
		return h
	}
	orgHash, clerkHash, volHash := hash(demoOrganiserPassword), hash(demoClerkPassword), hash(demoVolunteerPassword)

	street := must(st.CreateUnit(ctx, "蓉城街道", ledger.UnitStreet, uuid.Nil, nil))
	type community struct {
		unit  ledger.Unit
		grids []ledger.Unit
		teams []ledger.Team
		login string
	}
	var comms []community
	for i, name := range []string{"东河园社区", "西华社区", "五溪社区"} {
		c := community{unit: must(st.CreateUnit(ctx, name, ledger.UnitCommunity, street.ID,
			[]string{"政策宣讲岗", "助老助残岗", "文明劝导岗", "环境整治岗"})), login: []string{"donghe", "xihua", "wuxi"}[i]}
		for _, g := range []string{"第一网格", "第二网格"} {
			c.grids = append(c.grids, must(st.CreateUnit(ctx, g, ledger.UnitGrid, c.unit.ID, nil)))
		}
		for _, tm := range []ledger.Team{
			{Name: name + "党员志愿服务队", Kind: ledger.TeamPartyVolunteer},
			{Name: name + "居民志愿服务队", Kind: ledger.TeamVolunteer},
			{Name: name + "在职党员服务队", Kind: ledger.TeamOnDuty},
		} {
			tm.UnitID = c.unit.ID
			t, err := st.CreateTeam(ctx, tm)
			if err != nil {
				return nil, err
			}
			c.teams = append(c.teams, t)
		}
		if _, err := st.CreateUser(ctx, ledger.User{Login: c.login, Name: name + "组织者", Role: ledger.RoleOrganizer, UnitID: c.unit.ID, PasswordHash: orgHash}); err != nil {
			return nil, err
		}
		logins = append(logins, demoLogin{"organiser", c.login, demoOrganiserPassword, name + "的组织者"})
		comms = append(comms, c)
	}
	if _, err := st.CreateUser(ctx, ledger.User{Login: "rongcheng", Name: "蓉城街道组织者", Role: ledger.RoleOrganizer, UnitID: street.ID, PasswordHash: orgHash}); err != nil {
		return nil, err
	}
	logins = append(logins, demoLogin{"organiser", "rongcheng", demoOrganiserPassword, "蓉城街道的组织者（看全部三个社区）"})

	// Members: party members in the party team, on-duty party members from
	// employers, residents.
	surnames := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	given := []string{"建国", "秀英", "志强", "桂兰", "明华", "丽娟", "海涛", "玉梅", "国庆", "春燕", "德胜", "淑芬", "文斌", "晓红", "永军", "凤英"}
	employers := []string{"县税务局", "县人民医院", "县第一中学", "国网青阳县供电公司"}
	var members []ledger.Member
	for ci, c := range comms {
		for i := range 16 {
			n := ci*16 + i
			m := ledger.Member{Name: string(surnames[n%len(surnames)]) + given[(n*7+ci)%len(given)], Phone: fmt.Sprintf("139%08d", 5500000+n),
				UnitID: c.grids[i%2].ID}
			switch {
			case i < 5:
				m.PartyMember, m.TeamIDs = true, []uuid.UUID{c.teams[0].ID}
			case i < 10:
				m.PartyMember, m.TeamIDs = true, []uuid.UUID{c.teams[2].ID}
				m.OnDuty = &ledger.OnDuty{WorkUnit: employers[(i+ci)%len(employers)], ReportedAt: "2026-03-01", AnnualTargetHours: 24}
				m.Posts = []string{c.unit.Posts[i%len(c.unit.Posts)]}
			default:
				m.TeamIDs = []uuid.UUID{c.teams[1].ID}
			}
			pw := ""
			if n == 0 {
				pw = volHash
			}
			created, err := st.CreateMember(ctx, m, pw)
			if err != nil {
				return nil, fmt.Errorf("member %s: %w", m.Name, err)
			}
			members = append(members, created)
		}
	}
	logins = append(logins, demoLogin{"volunteer", members[0].Phone, demoVolunteerPassword, members[0].Name + "，东河园社区的志愿者"})

	// A month of events, back-filled from sign-in sheets and finalised.
	categories := []string{"政策宣讲", "环境整治", "助老助残", "文明劝导", "医疗义诊", "邻里互助"}
	titles := map[string]string{"政策宣讲": "“四史”宣讲进楼道", "环境整治": "小区环境大扫除", "助老助残": "关爱空巢老人上门服务",
		"文明劝导": "文明交通劝导", "医疗义诊": "社区健康义诊", "邻里互助": "邻里互助议事会"}
	// In date order, each event recorded and finalised on its day; every
	// community's last one a day or three ago, so that the month a
	// newcomer opens the dashboard on has some service in it (unless it
	// began today or yesterday).
	type slot struct{ ci, k, daysAgo int }
	var slots []slot
	for ci := range comms {
		for k := range 6 {
			slots = append(slots, slot{ci, k, 1 + ci%3 + 5*(5-k)})
		}
	}
	slices.SortFunc(slots, func(a, b slot) int { return b.daysAgo - a.daysAgo })
	for _, sl := range slots {
		ci, k, c := sl.ci, sl.k, comms[sl.ci]
		day := today.AddDate(0, 0, -sl.daysAgo)
		start := day.Add(time.Duration(8+r.IntN(6)) * time.Hour)
		clock.set(start.Add(-24 * time.Hour)) // published the day before
		cat := categories[(k+ci)%len(categories)]
		ev, err := st.CreateEvent(ctx, ledger.Event{Title: titles[cat], Category: cat, UnitID: c.unit.ID, Place: c.unit.Name + "党群服务中心",
			StartsAt: start, EndsAt: start.Add(3 * time.Hour), TeamIDs: []uuid.UUID{c.teams[0].ID}})
		if err != nil {
			return nil, err
		}
		clock.set(ev.EndsAt.Add(time.Hour)) // the sign-in sheet typed in after the event
		for i := range 16 {
			if r.IntN(3) == 0 {
				continue
			}
			m := members[ci*16+i]
			in := start.Add(time.Duration(r.IntN(20)) * time.Minute)
			out := in.Add(time.Duration(60+r.IntN(120)) * time.Minute)
			if out.After(ev.EndsAt) {
				out = ev.EndsAt
			}
			if _, err := st.Backfill(ctx, ev.ID, m.ID, in, out, "纸质签到表", uuid.Nil); err != nil && ledger.ErrorCode(err) != ledger.ECONFLICT {
				return nil, fmt.Errorf("attendance: %w", err)
			}
		}
		if _, err := st.FinalizeEvent(ctx, ev.ID, "demo", true); err != nil {
			return nil, err
		}
	}

	// A love supermarket in 东河园, a civility-behaviour bank counter for the street.
	clock.set(today.AddDate(0, 0, -4).Add(9 * time.Hour))
	type shopSpec struct {
		shop  ledger.Shop
		items []ledger.Item
	}
	var shops []shopSpec
	for _, sp := range []struct {
		name  string
		kind  ledger.ShopKind
		unit  uuid.UUID
		clerk string
		items [][3]any
	}{
		{"东河园爱心超市", ledger.ShopLoveSupermarket, comms[0].unit.ID, "donghe-shop", [][3]any{{"东北大米 5kg", 50, 20}, {"花生油 1.8L", 40, 12}, {"洗衣液 2kg", 25, 15}, {"毛巾", 10, 40}, {"抽纸（一提）", 6, 3}}},
		{"蓉城文明行为银行", ledger.ShopCivilityBank, street.ID, "rongcheng-bank", [][3]any{{"牙膏", 8, 30}, {"酱油 500ml", 12, 25}, {"雨伞", 30, 4}}},
	} {
		sh, err := st.CreateShop(ctx, ledger.Shop{Name: sp.name, Kind: sp.kind, UnitID: sp.unit})
		if err != nil {
			return nil, err
		}
		spec := shopSpec{shop: sh}
		for _, it := range sp.items {
			item, err := st.CreateItem(ctx, ledger.Item{ShopID: sh.ID, Name: it[0].(string), Points: ledger.Points(it[1].(int)), Active: true})
			if err != nil {
				return nil, err
			}
			if item, err = st.MoveStock(ctx, ledger.StockMove{ItemID: item.ID, Kind: ledger.StockIntake, Qty: it[2].(int), Donor: "辖区共建单位", Note: "爱心物资"}); err != nil {
				return nil, err
			}
			spec.items = append(spec.items, item)
		}
		clerk, err := st.CreateUser(ctx, ledger.User{Login: sp.clerk, Name: sp.name + "店员", Role: ledger.RoleClerk, ShopID: sh.ID, PasswordHash: clerkHash})
		if err != nil {
			return nil, err
		}
		logins = append(logins, demoLogin{"clerk", clerk.Login, demoClerkPassword, sp.name + "的店员（/kiosk）"})
		shops = append(shops, spec)
	}

	// Vouchers over the last days: some exchanged already, some waiting at the counter.
	for i, m := range members[:24] {
		clock.set(today.AddDate(0, 0, -3+i/8).Add(time.Duration(9+i%8) * time.Hour))
		spec := shops[0]
		if i%3 == 2 {
			spec = shops[1]
		}
		it := spec.items[r.IntN(len(spec.items))]
		v, err := st.IssueVoucher(ctx, m.ID, spec.shop.ID, []ledger.VoucherRequestLine{{ItemID: it.ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
		if err != nil {
			continue // not enough points, or the item ran out: so it goes
		}
		if i%4 != 0 {
			if _, err := st.RedeemVoucher(ctx, v.ID, spec.shop.ID, uuid.Nil, ""); err != nil {
				return nil, err
			}
		}
	}
	if err := fillDemoHouseholds(ctx, st, clock, members, shops[0].shop, shops[0].items); err != nil {
		return nil, err
	}
	// The wishes, then the awards, share what is left of the time up to
	// now: the story never runs past now, or the server, which never dates
	// an entry before the last, would refuse writes until it caught up.
	var werr error
	half := clock.t.Add(now.Sub(clock.t) / 2)
	if logins, werr = addDemoWishes(ctx, st, clock, half, logins); werr != nil { // 微心愿: demo_wishes.go
		return nil, werr
	}
	// Last: the awards use the households made above.
	if err := fillDemoAwards(ctx, st, clock, now, orgHash, &logins); err != nil {
		return nil, err
	}
	clock.set(now)
	return logins, nil
}

// demo is "aixin demo": the demo district in a new data folder.
func demo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c options
	fs := newFlags("demo", getenv, stderr, &c)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	var loc *time.Location
	if c.TimeZoneGiven {
		loc = c.Location
	}
	return makeDemo(ctx, c, loc, true, stdout)
}

// makeDemo opens the data folder on a demo clock, creates the first
// administrator, and fills the folder with the demo district if it has no
// members yet; mustBeEmpty makes a folder with members an error.
func makeDemo(ctx context.Context, c options, loc *time.Location, mustBeEmpty bool, stdout io.Writer) error {
	clock := &demoClock{t: time.Now().AddDate(0, 0, -40)} // fillDemo moves it on to now
	eng, err := openEngine(ctx, c, engineOptions{loc: loc, lockTimeout: time.Second, now: clock.Now})
	if err != nil {
		return err
	}
	st := eng.engine
	defer st.Close()
	if err := ensureAdmin(ctx, st, c, stdout); err != nil {
		return err
	}
	if ms, err := st.Members(ctx, ledger.MemberFilter{Scope: ledger.Scope{All: true}, Limit: 1}); err != nil || (len(ms) > 0 && !mustBeEmpty) {
		return err
	}
	logins, err := fillDemo(ctx, st, clock, time.Now())
	if err != nil {
		return err
	}
	printDemoLogins(stdout, c.AdminLogin, logins)
	return nil
}

func printDemoLogins(w io.Writer, admin string, logins []demoLogin) {
	fmt.Fprintf(w, "\nDemo district 蓉城街道 ready / 演示数据已生成. Logins / 登录账号:\n")
	fmt.Fprintf(w, "  %-10s %-14s %-22s %s\n", "admin", admin, "(see above / 见上)", "管理员")
	for _, l := range logins {
		fmt.Fprintf(w, "  %-10s %-14s %-22s %s\n", l.role, l.login, l.password, l.what)
	}
	fmt.Fprintln(w)
}
