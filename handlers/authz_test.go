package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
)

// world is two communities, A and B, under one street, with a grid, a team
// and a volunteer each, and a user for every role the matrix tries.
type world struct {
	street                    ledger.Unit
	unit, grid                map[string]ledger.Unit // by community "A", "B"
	team                      map[string]ledger.Team
	member, other             map[string]ledger.Member // other: a second volunteer, for records that would block the first
	event, checkinEvent       map[string]ledger.Event
	attendance                map[string]ledger.Attendance
	shop                      map[string]ledger.Shop
	item                      map[string]ledger.Item
	voucher                   map[string]ledger.Voucher
	users                     map[string]ledger.User // by matrix role
	roles                     []string
	communityName, memberName map[string]string
}

func newWorld(t *testing.T, e *env) *world {
	t.Helper()
	st := e.store
	w := &world{unit: map[string]ledger.Unit{}, grid: map[string]ledger.Unit{}, team: map[string]ledger.Team{},
		member: map[string]ledger.Member{}, other: map[string]ledger.Member{}, users: map[string]ledger.User{},
		event: map[string]ledger.Event{}, checkinEvent: map[string]ledger.Event{}, attendance: map[string]ledger.Attendance{},
		shop: map[string]ledger.Shop{}, item: map[string]ledger.Item{}, voucher: map[string]ledger.Voucher{}}
	var err error
	if w.street, err = st.CreateUnit(ctx, "幸福街道", ledger.UnitStreet, uuid.Nil, nil); err != nil {
		t.Fatal(err)
	}
	for i, c := range []string{"A", "B"} {
		if w.unit[c], err = st.CreateUnit(ctx, c+"社区", ledger.UnitCommunity, w.street.ID, nil); err != nil {
			t.Fatal(err)
		}
		if w.grid[c], err = st.CreateUnit(ctx, "第一网格", ledger.UnitGrid, w.unit[c].ID, nil); err != nil {
			t.Fatal(err)
		}
		if w.team[c], err = st.CreateTeam(ctx, ledger.Team{Name: "党员志愿服务队", Kind: ledger.TeamPartyVolunteer, UnitID: w.unit[c].ID}); err != nil {
			t.Fatal(err)
		}
		if w.member[c], err = st.CreateMember(ctx, ledger.Member{Name: "志愿者" + c, Phone: fmt.Sprintf("1380000000%d", i), UnitID: w.grid[c].ID}, testHash()); err != nil {
			t.Fatal(err)
		}
		org, err := st.CreateUser(ctx, ledger.User{Login: "org" + c, Role: ledger.RoleOrganizer, UnitID: w.unit[c].ID, PasswordHash: testHash()})
		if err != nil {
			t.Fatal(err)
		}
		w.users["organizer"+c] = org
		now := e.clock.Now()
		if w.event[c], err = st.CreateEvent(ctx, ledger.Event{Title: "活动" + c, Category: "环境整治", UnitID: w.unit[c].ID,
			StartsAt: now.Add(-23 * time.Hour), EndsAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if w.checkinEvent[c], err = st.CreateEvent(ctx, ledger.Event{Title: "签到活动" + c, Category: "环境整治", UnitID: w.unit[c].ID,
			StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if w.other[c], err = st.CreateMember(ctx, ledger.Member{Name: "队员" + c, Phone: fmt.Sprintf("1370000000%d", i), UnitID: w.grid[c].ID}, ""); err != nil {
			t.Fatal(err)
		}
		if w.shop[c], err = st.CreateShop(ctx, ledger.Shop{Name: c + "爱心超市", Kind: ledger.ShopLoveSupermarket, UnitID: w.unit[c].ID}); err != nil {
			t.Fatal(err)
		}
		if w.item[c], err = st.CreateItem(ctx, ledger.Item{ShopID: w.shop[c].ID, Name: "毛巾", Points: 10, Active: true}); err != nil {
			t.Fatal(err)
		}
		if _, err = st.MoveStock(ctx, ledger.StockMove{ItemID: w.item[c].ID, Kind: ledger.StockIntake, Qty: 1000}); err != nil {
			t.Fatal(err)
		}
		iss := ledger.IssuerAccount(w.unit[c].ID)
		st.OpenAccount(ctx, iss)
		if _, err = st.Append(ctx, ledger.Transfer{Debit: iss, Credit: ledger.MemberAccount(w.member[c].ID), Amount: 1000, Kind: ledger.KindEarn}); err != nil {
			t.Fatal(err)
		}
		if w.voucher[c], err = st.IssueVoucher(ctx, w.member[c].ID, w.shop[c].ID, []ledger.VoucherRequestLine{{ItemID: w.item[c].ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, ""); err != nil {
			t.Fatal(err)
		}
		start := w.event[c].StartsAt
		if w.attendance[c], err = st.Backfill(ctx, w.event[c].ID, w.other[c].ID, start, start.Add(10*time.Minute), "纸质签到表", uuid.Nil); err != nil {
			t.Fatal(err)
		}
	}
	vol, err := st.UserByLogin(ctx, w.member["A"].Phone)
	if err != nil {
		t.Fatal(err)
	}
	w.users["volunteer"] = vol
	w.users["clerk"] = e.users[ledger.RoleClerk]
	w.users["admin"] = e.users[ledger.RoleAdmin]
	w.roles = []string{"anonymous", "volunteer", "clerk", "organizerA", "organizerB", "admin"}
	return w
}

// session logs a user in without the cost of a password hash.
func (e *env) session(u ledger.User) *http.Cookie {
	e.t.Helper()
	token, sess := newSession(u.ID, e.clock.Now())
	if err := e.store.CreateSession(ctx, sess); err != nil {
		e.t.Fatal(err)
	}
	return &http.Cookie{Name: sessionCookie, Value: token}
}

// snapshot is everything a refused request must leave as it was.
func (e *env) snapshot(w *world) string {
	e.t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	units, _ := e.store.Units(ctx)
	teams, _ := e.store.Teams(ctx)
	members, _ := e.store.Members(ctx, ledger.MemberFilter{Scope: ledger.Scope{All: true}, Limit: 1 << 20})
	staff, _ := e.store.Staff(ctx)
	head, _, _ := e.store.Head(ctx)
	enc.Encode(units)
	enc.Encode(teams)
	enc.Encode(members)
	enc.Encode(staff)
	enc.Encode(head)
	events, _ := e.store.Events(ctx)
	enc.Encode(events)
	shops, _ := e.store.Shops(ctx)
	enc.Encode(shops)
	for _, sh := range shops {
		items, _ := e.store.Items(ctx, sh.ID)
		enc.Encode(items)
	}
	for _, m := range members {
		vs, _ := e.store.MemberVouchers(ctx, m.ID)
		enc.Encode(vs)
	}
	for _, ev := range events {
		atts, _ := e.store.Attendances(ctx, ev.ID)
		enc.Encode(atts)
	}
	for _, m := range members {
		u, _ := e.store.UserByLogin(ctx, m.Phone)
		enc.Encode(u.PasswordHash)
	}
	return b.String()
}

// cell is one route tried on one community's object.
type cell struct {
	method, path string
	body         func(n int) (io.Reader, string) // request body and content type, n makes names unique
}

func jsonBody(v func(n int) any) func(n int) (io.Reader, string) {
	return func(n int) (io.Reader, string) {
		b, _ := json.Marshal(v(n))
		return bytes.NewReader(b), "application/json"
	}
}

func csvUpload(text func(n int) string) func(n int) (io.Reader, string) {
	return func(n int) (io.Reader, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		fw, _ := mw.CreateFormFile("file", "名册.csv")
		io.WriteString(fw, text(n))
		mw.Close()
		return &b, mw.FormDataContentType()
	}
}

// TestAuthorizationMatrix tries every route as every role on an object of
// community A and one of community B. Each cell names the status it must
// get; where it is refused, nothing may have changed.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	// A redeemed voucher in each community, for the reversal.
	redeemed := map[string]ledger.Voucher{}
	for _, c := range []string{"A", "B"} {
		v, err := e.store.IssueVoucher(ctx, w.member[c].ID, w.shop[c].ID, []ledger.VoucherRequestLine{{ItemID: w.item[c].ID, Qty: 1}}, uuid.Nil, ledger.PresenceSelf, "")
		if err != nil {
			t.Fatal(err)
		}
		if redeemed[c], err = e.store.RedeemVoucher(ctx, v.ID, w.shop[c].ID, uuid.Nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	const (
		R = 0 // placeholder for "as the row says"
	)
	type row struct {
		name  string
		cells func(c string) cell
		// want[role] is the status for community A's object, then B's.
		want map[string][2]int
	}
	staffOnly := func(okA, okB int) map[string][2]int {
		return map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
			"organizerA": {okA, 404}, "organizerB": {404, okB}, "admin": {okA, okB}}
	}
	memberRecord := func(ok int) map[string][2]int {
		return map[string][2]int{"anonymous": {401, 401}, "volunteer": {ok, 404}, "clerk": {403, 403},
			"organizerA": {ok, 404}, "organizerB": {404, ok}, "admin": {ok, ok}}
	}
	everyone := func(ok int) map[string][2]int {
		return map[string][2]int{"anonymous": {401, 401}, "volunteer": {ok, ok}, "clerk": {ok, ok},
			"organizerA": {ok, ok}, "organizerB": {ok, ok}, "admin": {ok, ok}}
	}
	adminOnly := map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
		"organizerA": {403, 403}, "organizerB": {403, 403}, "admin": {200, 200}}
	// A hot backup is the bbolt engine's: on PostgreSQL an administrator
	// is told to use PostgreSQL's own tools (400) once authorised.
	backup := map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
		"organizerA": {403, 403}, "organizerB": {403, 403}, "admin": {backupStatus, backupStatus}}
	staffList := map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
		"organizerA": {200, 200}, "organizerB": {200, 200}, "admin": {200, 200}}
	_ = R
	// Staff accounts of each community for the changes of PATCH /users/{id}.
	clerkOf, gridOrganizer, peer := map[string]ledger.User{}, map[string]ledger.User{}, map[string]ledger.User{}
	for _, c := range []string{"A", "B"} {
		var err error
		if clerkOf[c], err = e.store.CreateUser(ctx, ledger.User{Login: "clerk" + c, Role: ledger.RoleClerk, ShopID: w.shop[c].ID, PasswordHash: testHash()}); err != nil {
			t.Fatal(err)
		}
		if gridOrganizer[c], err = e.store.CreateUser(ctx, ledger.User{Login: "grid" + c, Role: ledger.RoleOrganizer, UnitID: w.grid[c].ID, PasswordHash: testHash()}); err != nil {
			t.Fatal(err)
		}
		if peer[c], err = e.store.CreateUser(ctx, ledger.User{Login: "peer" + c, Role: ledger.RoleOrganizer, UnitID: w.unit[c].ID, PasswordHash: testHash()}); err != nil {
			t.Fatal(err)
		}
	}
	admin2, err := e.store.CreateUser(ctx, ledger.User{Login: "admin2", Role: ledger.RoleAdmin, PasswordHash: testHash()})
	if err != nil {
		t.Fatal(err)
	}
	rows := []row{
		{"ListUnits", func(c string) cell { return cell{"GET", "/api/v1/units", nil} }, staffList},
		{"CreateGrid", func(c string) cell {
			return cell{"POST", "/api/v1/units", jsonBody(func(n int) any {
				return map[string]any{"name": fmt.Sprint("网格", n), "kind": "grid", "parent_id": w.unit[c].ID}
			})}
		}, staffOnly(201, 201)},
		{"CreateStreet", func(c string) cell {
			return cell{"POST", "/api/v1/units", jsonBody(func(n int) any { return map[string]any{"name": fmt.Sprint("街道", n), "kind": "street"} })}
		}, map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
			"organizerA": {403, 403}, "organizerB": {403, 403}, "admin": {201, 201}}},
		{"RenameUnit", func(c string) cell {
			return cell{"PATCH", "/api/v1/units/" + w.grid[c].ID.String(), jsonBody(func(n int) any { return map[string]any{"name": fmt.Sprint("网格", n)} })}
		}, staffOnly(200, 200)},
		{"ListTeamsOfUnit", func(c string) cell { return cell{"GET", "/api/v1/teams?unit_id=" + w.unit[c].ID.String(), nil} }, staffOnly(200, 200)},
		{"CreateTeam", func(c string) cell {
			return cell{"POST", "/api/v1/teams", jsonBody(func(n int) any {
				return map[string]any{"name": fmt.Sprint("队伍", n), "kind": "volunteer_team", "unit_id": w.unit[c].ID}
			})}
		}, staffOnly(201, 201)},
		{"Categories", func(c string) cell { return cell{"GET", "/api/v1/categories", nil} }, everyone(200)},
		{"Me", func(c string) cell { return cell{"GET", "/api/v1/me", nil} }, everyone(200)},
		{"ChangeOwnPassword", func(c string) cell {
			return cell{"POST", "/api/v1/me/password", jsonBody(func(n int) any {
				return map[string]any{"old_password": testPassword, "password": testPassword}
			})}
		}, everyone(204)},
		{"ListMembersOfUnit", func(c string) cell { return cell{"GET", "/api/v1/members?unit_id=" + w.unit[c].ID.String(), nil} }, staffOnly(200, 200)},
		{"CreateMember", func(c string) cell {
			return cell{"POST", "/api/v1/members", jsonBody(func(n int) any {
				return map[string]any{"name": fmt.Sprint("新人", n), "phone": fmt.Sprintf("1390%07d", n), "unit_id": w.grid[c].ID}
			})}
		}, staffOnly(201, 201)},
		{"CreateMemberInOtherTeam", func(c string) cell {
			other := map[string]string{"A": "B", "B": "A"}[c]
			return cell{"POST", "/api/v1/members", jsonBody(func(n int) any {
				return map[string]any{"name": fmt.Sprint("新人", n), "phone": fmt.Sprintf("1391%07d", n), "unit_id": w.grid[c].ID, "team_ids": []uuid.UUID{w.team[other].ID}}
			})}
		}, map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
			"organizerA": {404, 404}, "organizerB": {404, 404}, "admin": {400, 400}}},
		{"GetMember", func(c string) cell { return cell{"GET", "/api/v1/members/" + w.member[c].ID.String(), nil} }, memberRecord(200)},
		{"UpdateMember", func(c string) cell {
			return cell{"PATCH", "/api/v1/members/" + w.member[c].ID.String(), jsonBody(func(n int) any {
				return map[string]any{"name": fmt.Sprint("志愿者", c, n), "phone": w.member[c].Phone, "unit_id": w.grid[c].ID}
			})}
		}, staffOnly(200, 200)},
		{"SetMemberPassword", func(c string) cell {
			return cell{"POST", "/api/v1/members/" + w.member[c].ID.String() + "/password", jsonBody(func(n int) any {
				return map[string]any{"password": testPassword}
			})}
		}, staffOnly(204, 204)},
		{"MemberBalance", func(c string) cell {
			return cell{"GET", "/api/v1/members/" + w.member[c].ID.String() + "/balance", nil}
		}, memberRecord(200)},
		{"MemberEntries", func(c string) cell {
			return cell{"GET", "/api/v1/members/" + w.member[c].ID.String() + "/entries", nil}
		}, memberRecord(200)},
		{"MemberCard", func(c string) cell {
			return cell{"GET", "/api/v1/members/" + w.member[c].ID.String() + "/card.png", nil}
		}, memberRecord(200)},
		{"UnknownMember", func(c string) cell { return cell{"GET", "/api/v1/members/" + uuid.NewString(), nil} },
			map[string][2]int{"anonymous": {401, 401}, "volunteer": {404, 404}, "clerk": {403, 403},
				"organizerA": {404, 404}, "organizerB": {404, 404}, "admin": {404, 404}}},
		{"ImportRoster", func(c string) cell {
			return cell{"POST", "/api/v1/members/import", csvUpload(func(n int) string {
				return fmt.Sprintf("姓名,手机号,所属社区/网格\r\n导入%d,1392%07d,%s社区\r\n", n, n, c) // grids are renamed by an earlier row
			})}
		}, map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
			"organizerA": {200, 422}, "organizerB": {422, 200}, "admin": {200, 200}}},
		{"ImportTemplate", func(c string) cell { return cell{"GET", "/api/v1/members/import/template.csv", nil} }, staffList},
		{"MemberCardsOfUnit", func(c string) cell { return cell{"GET", "/api/v1/members/cards?unit_id=" + w.unit[c].ID.String(), nil} }, staffOnly(200, 200)},
		{"MemberCardsByID", func(c string) cell {
			return cell{"GET", "/api/v1/members/cards?ids=" + w.member[c].ID.String() + "," + w.other[c].ID.String(), nil}
		}, staffOnly(200, 200)},
		{"ListStaff", func(c string) cell { return cell{"GET", "/api/v1/users", nil} }, staffList},
		{"CreateOrganizer", func(c string) cell {
			return cell{"POST", "/api/v1/users", jsonBody(func(n int) any {
				return map[string]any{"login": fmt.Sprint("org", n), "password": testPassword, "role": "organizer", "unit_id": w.grid[c].ID}
			})}
		}, staffOnly(201, 201)},
		{"CreateAdmin", func(c string) cell {
			return cell{"POST", "/api/v1/users", jsonBody(func(n int) any {
				return map[string]any{"login": fmt.Sprint("adm", n), "password": testPassword, "role": "admin"}
			})}
		}, map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
			"organizerA": {403, 403}, "organizerB": {403, 403}, "admin": {201, 201}}},
		{"RenameClerk", func(c string) cell {
			return cell{"PATCH", "/api/v1/users/" + clerkOf[c].ID.String(), jsonBody(func(n int) any { return map[string]any{"name": fmt.Sprint("店员", n)} })}
		}, staffOnly(200, 200)},
		{"ResetOrganizerBelow", func(c string) cell {
			return cell{"PATCH", "/api/v1/users/" + gridOrganizer[c].ID.String(), jsonBody(func(n int) any { return map[string]any{"password": fmt.Sprint(testPassword, n)} })}
		}, staffOnly(200, 200)},
		{"DisableOrganizerOfCommunity", func(c string) cell {
			return cell{"PATCH", "/api/v1/users/" + peer[c].ID.String(), jsonBody(func(n int) any { return map[string]any{"disabled": n%2 == 0} })}
		}, map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403}, // a colleague of the same unit: not by a peer
			"organizerA": {403, 404}, "organizerB": {404, 403}, "admin": {200, 200}}},
		{"RenameAdmin", func(c string) cell {
			return cell{"PATCH", "/api/v1/users/" + admin2.ID.String(), jsonBody(func(n int) any { return map[string]any{"name": fmt.Sprint("管理员", n)} })}
		}, map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
			"organizerA": {404, 404}, "organizerB": {404, 404}, "admin": {200, 200}}},
		{"ChangeVolunteerAccount", func(c string) cell {
			return cell{"PATCH", "/api/v1/users/" + w.users["volunteer"].ID.String(), jsonBody(func(n int) any { return map[string]any{"name": fmt.Sprint("改名", n)} })}
		}, map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
			// A's volunteer: A's organiser is told where to change it, B's learns nothing.
			"organizerA": {400, 400}, "organizerB": {404, 404}, "admin": {400, 400}}},
		{"UnknownUser", func(c string) cell {
			return cell{"PATCH", "/api/v1/users/" + uuid.NewString(), jsonBody(func(n int) any { return map[string]any{"disabled": true} })}
		}, map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
			"organizerA": {404, 404}, "organizerB": {404, 404}, "admin": {404, 404}}},
		{"ListEvents", func(c string) cell { return cell{"GET", "/api/v1/events", nil} }, staffList},
		{"CreateEvent", func(c string) cell {
			return cell{"POST", "/api/v1/events", jsonBody(func(n int) any {
				now := e.clock.Now()
				return map[string]any{"title": fmt.Sprint("活动", n), "category": "其他", "unit_id": w.grid[c].ID, "starts_at": now, "ends_at": now.Add(time.Hour)}
			})}
		}, staffOnly(201, 201)},
		{"GetEvent", func(c string) cell { return cell{"GET", "/api/v1/events/" + w.event[c].ID.String(), nil} }, staffOnly(200, 200)},
		{"EventCode", func(c string) cell { return cell{"GET", "/api/v1/events/" + w.event[c].ID.String() + "/code", nil} }, staffOnly(200, 200)},
		{"EditEvent", func(c string) cell {
			return cell{"PATCH", "/api/v1/events/" + w.event[c].ID.String(), jsonBody(func(n int) any { return map[string]any{"place": fmt.Sprint("活动室", n)} })}
		}, staffOnly(200, 200)},
		{"EventChanges", func(c string) cell { return cell{"GET", "/api/v1/events/" + w.event[c].ID.String() + "/changes", nil} }, staffOnly(200, 200)},
		{"CheckoutAll", func(c string) cell {
			return cell{"POST", "/api/v1/events/" + w.checkinEvent[c].ID.String() + "/checkout-all", jsonBody(func(int) any { return map[string]any{"at": "now", "reason": "统一签退"} })}
		}, staffOnly(200, 200)},
		{"EventCodeImage", func(c string) cell { return cell{"GET", "/api/v1/events/" + w.event[c].ID.String() + "/code.png", nil} }, staffOnly(200, 200)},
		{"EventAttendance", func(c string) cell {
			return cell{"GET", "/api/v1/events/" + w.event[c].ID.String() + "/attendance", nil}
		}, staffOnly(200, 200)},
		{"Backfill", func(c string) cell {
			return cell{"POST", "/api/v1/events/" + w.event[c].ID.String() + "/attendance", jsonBody(func(n int) any {
				in := w.event[c].StartsAt.Add(time.Duration(20+2*n) * time.Minute)
				return map[string]any{"member_id": w.other[c].ID, "action": "backfill", "checked_in_at": in, "checked_out_at": in.Add(time.Minute), "reason": "纸质签到表"}
			})}
		}, staffOnly(200, 200)},
		{"ReviewAttendance", func(c string) cell {
			return cell{"POST", "/api/v1/attendances/" + w.attendance[c].ID.String() + "/review", jsonBody(func(n int) any { return map[string]any{"decision": "confirm"} })}
		}, staffOnly(200, 200)},
		{"MemberFootprint", func(c string) cell {
			return cell{"GET", "/api/v1/members/" + w.member[c].ID.String() + "/attendances", nil}
		}, memberRecord(200)},
		{"CheckIn", func(c string) cell {
			return cell{"POST", "/api/v1/checkins", jsonBody(func(n int) any {
				ev := w.checkinEvent[c]
				return map[string]any{"code": ledger.CheckinToken(ev, ledger.CheckinStep(e.clock.Now(), ledger.DefaultEventRules))}
			})}
		}, map[string][2]int{"anonymous": {401, 401}, "volunteer": {200, 409}, "clerk": {403, 403},
			"organizerA": {403, 403}, "organizerB": {403, 403}, "admin": {403, 403}}},
		{"Finalize", func(c string) cell {
			return cell{"POST", "/api/v1/events/" + w.event[c].ID.String() + "/finalize", jsonBody(func(int) any { return map[string]any{"confirm": true} })}
		}, staffOnly(200, 200)},
		{"ListShops", func(c string) cell { return cell{"GET", "/api/v1/shops", nil} }, everyone(200)},
		{"CreateShop", func(c string) cell {
			return cell{"POST", "/api/v1/shops", jsonBody(func(n int) any {
				return map[string]any{"name": fmt.Sprint("超市", n), "kind": "civility_bank", "unit_id": w.grid[c].ID}
			})}
		}, staffOnly(201, 201)},
		{"ListItems", func(c string) cell { return cell{"GET", "/api/v1/shops/" + w.shop[c].ID.String() + "/items", nil} },
			map[string][2]int{"anonymous": {401, 401}, "volunteer": {200, 200}, "clerk": {404, 404}, // both shops take the street's members
				"organizerA": {200, 404}, "organizerB": {404, 200}, "admin": {200, 200}}},
		{"CreateItem", func(c string) cell {
			return cell{"POST", "/api/v1/shops/" + w.shop[c].ID.String() + "/items", jsonBody(func(n int) any { return map[string]any{"name": fmt.Sprint("物品", n), "points": 5, "stock": 3} })}
		}, staffOnly(201, 201)},
		{"StockIntake", func(c string) cell {
			return cell{"POST", "/api/v1/items/" + w.item[c].ID.String() + "/stock", jsonBody(func(n int) any { return map[string]any{"kind": "intake", "qty": 1, "donor": "爱心企业"} })}
		}, staffOnly(200, 200)},
		// A volunteer's own voucher needs no presence; an organiser's needs
		// one (here 代兑), which a volunteer may not choose.
		{"IssueVoucher", func(c string) cell {
			return cell{"POST", "/api/v1/vouchers", jsonBody(func(n int) any {
				return map[string]any{"member_id": w.member[c].ID, "shop_id": w.shop[c].ID, "items": []map[string]any{{"item_id": w.item[c].ID, "qty": 1}}}
			})}
		}, map[string][2]int{"anonymous": {401, 401}, "volunteer": {201, 404}, "clerk": {403, 403},
			"organizerA": {400, 404}, "organizerB": {404, 400}, "admin": {400, 400}}},
		{"IssueVoucherProxy", func(c string) cell {
			return cell{"POST", "/api/v1/vouchers", jsonBody(func(n int) any {
				return map[string]any{"member_id": w.member[c].ID, "shop_id": w.shop[c].ID, "items": []map[string]any{{"item_id": w.item[c].ID, "qty": 1}},
					"presence": "proxy"}
			})}
		}, map[string][2]int{"anonymous": {401, 401}, "volunteer": {400, 404}, "clerk": {403, 403},
			"organizerA": {201, 404}, "organizerB": {404, 201}, "admin": {201, 201}}},
		{"ShopRedemptions", func(c string) cell {
			return cell{"GET", "/api/v1/shops/" + w.shop[c].ID.String() + "/redemptions?day=" + e.clock.Now().In(e.store.Location()).Format("2006-01-02"), nil}
		}, staffOnly(200, 200)},
		{"ShopStockMoves", func(c string) cell {
			return cell{"GET", "/api/v1/shops/" + w.shop[c].ID.String() + "/stock-moves", nil}
		}, staffOnly(200, 200)},
		// Once: the organiser of A reverses A's, and the administrator then meets the first reversal.
		{"ReverseRedemption", func(c string) cell {
			return cell{"POST", "/api/v1/vouchers/" + redeemed[c].ID.String() + "/reverse", jsonBody(func(n int) any { return map[string]any{"reason": "扫错了券"} })}
		}, map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
			"organizerA": {200, 404}, "organizerB": {404, 200}, "admin": {409, 409}}},
		{"GetVoucher", func(c string) cell { return cell{"GET", "/api/v1/vouchers/" + w.voucher[c].ID.String(), nil} }, memberRecord(200)},
		{"VoucherQR", func(c string) cell {
			return cell{"GET", "/api/v1/vouchers/" + w.voucher[c].ID.String() + "/qr.png", nil}
		}, memberRecord(200)},
		{"RedemptionPreview", func(c string) cell {
			return cell{"GET", "/api/v1/redemptions/preview?code=" + w.voucher[c].Code, nil}
		}, map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403}, // this clerk has no shop
			"organizerA": {403, 403}, "organizerB": {403, 403}, "admin": {403, 403}}},
		{"RedemptionsToday", func(c string) cell { return cell{"GET", "/api/v1/redemptions/today", nil} },
			map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
				"organizerA": {403, 403}, "organizerB": {403, 403}, "admin": {403, 403}}},
		{"ExportMonthly", func(c string) cell { return cell{"GET", "/api/v1/exports/monthly?format=csv", nil} },
			map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
				"organizerA": {200, 200}, "organizerB": {200, 200}, "admin": {200, 200}}},
		{"ExportFullPhones", func(c string) cell { return cell{"GET", "/api/v1/exports/monthly?format=csv&full_phone=1", nil} },
			map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
				"organizerA": {403, 403}, "organizerB": {403, 403}, "admin": {200, 200}}},
		{"ServiceRecords", func(c string) cell { return cell{"GET", "/api/v1/exports/service-records?quarter=2026-Q1", nil} },
			map[string][2]int{"anonymous": {401, 401}, "volunteer": {403, 403}, "clerk": {403, 403},
				"organizerA": {200, 200}, "organizerB": {200, 200}, "admin": {200, 200}}},
		{"IssueCertificate", func(c string) cell {
			return cell{"POST", "/api/v1/certificates", jsonBody(func(int) any {
				return map[string]any{"member_id": w.other[c].ID, "from": "2025-01-01", "to": "2025-12-31"}
			})}
		}, staffOnly(422, 422)}, // a year before any service: nothing to certify
		{"LedgerEntries", func(c string) cell { return cell{"GET", "/api/v1/ledger/entries", nil} }, adminOnly},
		{"LedgerVerify", func(c string) cell { return cell{"GET", "/api/v1/ledger/verify", nil} }, adminOnly},
		{"Backup", func(c string) cell { return cell{"GET", "/api/v1/admin/backup", nil} }, backup},
	}
	n := 0
	for _, r := range rows {
		for i, c := range []string{"A", "B"} {
			for _, role := range w.roles {
				t.Run(r.name+"/"+c+"/"+role, func(t *testing.T) {
					n++
					cl := r.cells(c)
					var cookie *http.Cookie
					if role != "anonymous" {
						cookie = e.session(w.users[role])
					}
					var body io.Reader
					var hdr []string
					if cl.body != nil {
						var ctype string
						body, ctype = cl.body(n)
						hdr = []string{"Content-Type", ctype}
					}
					before := e.snapshot(w)
					res := e.do(cl.method, cl.path, body, cookie, hdr...)
					want := r.want[role][i]
					if res.StatusCode != want {
						t.Fatalf("status %d, want %d: %s", res.StatusCode, want, res.body)
					}
					if want >= 400 && e.snapshot(w) != before {
						t.Fatalf("a refused request (%d) changed the data", want)
					}
					if want == 404 && strings.Contains(string(res.body), w.member[c].Phone) {
						t.Fatal("a not-found answer shows the member's phone")
					}
				})
			}
		}
	}
}

// TestScopeOfLists checks that what lists show stays inside the caller's subtree.
func TestScopeOfLists(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t, e)
	orgA := e.session(w.users["organizerA"])
	var units unitsPage
	e.get("/api/v1/units", orgA).decode(t, &units)
	for _, u := range units.Units {
		if !u.Within(w.unit["A"].ID) {
			t.Errorf("organiser of A sees unit %s", u.Name)
		}
	}
	if len(units.Units) != 2 {
		t.Errorf("organiser of A sees %d units, want A and its grid", len(units.Units))
	}
	var members membersPage
	e.get("/api/v1/members", orgA).decode(t, &members)
	if len(members.Members) != 2 || members.Members[0].ID != w.member["A"].ID || members.Members[1].ID != w.other["A"].ID {
		t.Fatalf("organiser of A lists %+v", members.Members)
	}
	if got := members.Members[0].Phone; got != "138****0000" {
		t.Errorf("listed phone %q is not masked", got)
	}
	var teams teamsPage
	e.get("/api/v1/teams", orgA).decode(t, &teams)
	if len(teams.Teams) != 1 || teams.Teams[0].ID != w.team["A"].ID {
		t.Fatalf("organiser of A lists teams %+v", teams.Teams)
	}
	var staff usersPage
	e.get("/api/v1/users", orgA).decode(t, &staff)
	for _, u := range staff.Users {
		if u.Login == "orgB" || u.Role == ledger.RoleAdmin {
			t.Errorf("organiser of A sees staff %s", u.Login)
		}
	}
	// The member's own detail shows the full phone.
	var m memberView
	e.get("/api/v1/members/"+w.member["A"].ID.String(), orgA).decode(t, &m)
	if m.Phone != w.member["A"].Phone || m.UnitName != "第一网格" {
		t.Fatalf("detail %+v", m)
	}
}
