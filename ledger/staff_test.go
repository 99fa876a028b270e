package ledger

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestChangeStaff(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	earlier := now.Add(-48 * time.Hour)
	street := Unit{ID: uuid.New(), Name: "阳光街道", Kind: UnitStreet}
	street.Path = []uuid.UUID{street.ID}
	child := func(parent Unit, name string, kind UnitKind) Unit {
		u := Unit{ID: uuid.New(), Name: name, Kind: kind, ParentID: parent.ID}
		u.Path = append(append([]uuid.UUID{}, parent.Path...), u.ID)
		return u
	}
	happy := child(street, "幸福社区", UnitCommunity)
	grid := child(happy, "第一网格", UnitGrid)
	other := child(street, "和谐社区", UnitCommunity)

	user := func(login string, role Role, unit uuid.UUID) User {
		u := User{ID: uuid.New(), Login: login, Name: "名字 " + login, Role: role, PasswordHash: "old-hash", CreatedAt: earlier}
		if role == RoleOrganizer {
			u.UnitID = unit
		}
		if role == RoleClerk {
			u.ShopID = uuid.New()
		}
		return u
	}
	var (
		admin        = user("admin", RoleAdmin, uuid.Nil)
		admin2       = user("admin2", RoleAdmin, uuid.Nil)
		streetOrg    = user("street", RoleOrganizer, street.ID)
		happyOrg     = user("happy", RoleOrganizer, happy.ID)
		happyPeer    = user("happy2", RoleOrganizer, happy.ID)
		gridOrg      = user("grid", RoleOrganizer, grid.ID)
		otherOrg     = user("other", RoleOrganizer, other.ID)
		happyClerk   = user("clerk", RoleClerk, uuid.Nil)
		otherClerk   = user("clerk2", RoleClerk, uuid.Nil)
		volunteer    = user("13812345678", RoleVolunteer, uuid.Nil)
		disabledOrg  = user("gone", RoleOrganizer, grid.ID)
		disabledAdm  = user("oldadmin", RoleAdmin, uuid.Nil)
		unitOf       = map[uuid.UUID]*Unit{}
		name         = func(s string) *string { return &s }
		yes, no      = true, false
		disable      = StaffChange{Disabled: &yes}
		enable       = StaffChange{Disabled: &no}
		reset        = StaffChange{PasswordHash: "new-hash"}
		rename       = StaffChange{Name: name("  王小明  ")}
		everything   = StaffChange{Name: name("王小明"), Disabled: &yes, PasswordHash: "new-hash"}
		wantDisabled = func(u User) User {
			u.Disabled, u.DisabledAt = true, now
			return u
		}
	)
	disabledOrg.Disabled, disabledOrg.DisabledAt = true, earlier
	disabledAdm.Disabled, disabledAdm.DisabledAt = true, earlier
	unitOf[streetOrg.ID], unitOf[happyOrg.ID], unitOf[happyPeer.ID] = &street, &happy, &happy
	unitOf[gridOrg.ID], unitOf[otherOrg.ID], unitOf[disabledOrg.ID] = &grid, &other, &grid
	unitOf[happyClerk.ID], unitOf[otherClerk.ID] = &grid, &other // their shops' units

	tests := []struct {
		name          string
		actor, target User
		admins        int // active administrators
		change        StaffChange
		code, key     string          // the refusal
		changed       []string        // what changed, if allowed
		want          func(User) User // the target as stored, from the target before
	}{
		{name: "AdminResetsAnOrganiser", actor: admin, target: happyOrg, change: reset, changed: []string{StaffChangedPassword},
			want: func(u User) User { u.PasswordHash = "new-hash"; return u }},
		{name: "AdminDisablesAnAdmin", actor: admin, target: admin2, admins: 2, change: disable, changed: []string{StaffDisabled}, want: wantDisabled},
		{name: "AdminRenames", actor: admin, target: happyClerk, change: rename, changed: []string{StaffChangedName},
			want: func(u User) User { u.Name = "王小明"; return u }},
		{name: "AdminEverythingAtOnce", actor: admin, target: gridOrg, change: everything,
			changed: []string{StaffChangedName, StaffChangedPassword, StaffDisabled},
			want:    func(u User) User { u.Name, u.PasswordHash = "王小明", "new-hash"; return wantDisabled(u) }},
		{name: "AdminEnables", actor: admin, target: disabledOrg, change: enable, changed: []string{StaffEnabled},
			want: func(u User) User { u.Disabled, u.DisabledAt = false, time.Time{}; return u }},
		{name: "AdminEnablesAnAdmin", actor: admin, target: disabledAdm, admins: 1, change: enable, changed: []string{StaffEnabled},
			want: func(u User) User { u.Disabled, u.DisabledAt = false, time.Time{}; return u }},
		{name: "AdminRenamesThemself", actor: admin, target: admin, change: rename, changed: []string{StaffChangedName},
			want: func(u User) User { u.Name = "王小明"; return u }},

		{name: "OrganiserResetsClerkOfTheirSubtree", actor: happyOrg, target: happyClerk, change: reset, changed: []string{StaffChangedPassword},
			want: func(u User) User { u.PasswordHash = "new-hash"; return u }},
		{name: "OrganiserDisablesOrganiserBelow", actor: happyOrg, target: gridOrg, change: disable, changed: []string{StaffDisabled}, want: wantDisabled},
		{name: "OrganiserOfTheStreetReachesAll", actor: streetOrg, target: otherClerk, change: disable, changed: []string{StaffDisabled}, want: wantDisabled},
		{name: "OrganiserAndPeerOfTheSameUnit", actor: happyOrg, target: happyPeer, change: reset, code: EFORBIDDEN, key: "user.peer_organizer"},
		{name: "OrganiserRenamesThemself", actor: gridOrg, target: gridOrg, change: rename, changed: []string{StaffChangedName},
			want: func(u User) User { u.Name = "王小明"; return u }},

		{name: "OrganiserAboveTheirScope", actor: gridOrg, target: happyOrg, change: reset, code: ENOTFOUND, key: "user.not_found"},
		{name: "OrganiserOfTheStreetFromBelow", actor: happyOrg, target: streetOrg, change: disable, code: ENOTFOUND, key: "user.not_found"},
		{name: "OrganiserOtherCommunity", actor: happyOrg, target: otherOrg, change: rename, code: ENOTFOUND, key: "user.not_found"},
		{name: "OrganiserOtherCommunitysClerk", actor: happyOrg, target: otherClerk, change: reset, code: ENOTFOUND, key: "user.not_found"},
		{name: "OrganiserNeverAnAdmin", actor: streetOrg, target: admin, change: rename, code: ENOTFOUND, key: "user.not_found"},
		{name: "ClerkWhoseShopIsGone", actor: happyOrg, target: User{ID: uuid.New(), Login: "lost", Role: RoleClerk}, change: reset,
			code: ENOTFOUND, key: "user.not_found"},

		{name: "Volunteer", actor: admin, target: volunteer, change: reset, code: EINVALID, key: "user.volunteer_is_member"},
		{name: "DisableThemself", actor: happyOrg, target: happyOrg, change: disable, code: EINVALID, key: "user.disable_self"},
		{name: "AdminDisablesThemself", actor: admin, target: admin, admins: 2, change: disable, code: EINVALID, key: "user.disable_self"},
		{name: "OwnPasswordHere", actor: admin, target: admin, change: reset, code: EINVALID, key: "user.own_password"},
		{name: "LastActiveAdmin", actor: admin, target: admin2, admins: 1, change: disable, code: ECONFLICT, key: "user.last_admin"},
		{name: "NothingAsked", actor: admin, target: happyOrg, change: StaffChange{}, code: EINVALID, key: "user.nothing_to_change"},
		{name: "NameTooLong", actor: admin, target: happyOrg, change: StaffChange{Name: name(strings.Repeat("名", 65))}, code: EINVALID, key: "user.name_invalid"},
		{name: "NameWithBidiOverride", actor: admin, target: happyOrg, change: StaffChange{Name: name("王\u202e明")}, code: EINVALID},
		{name: "ActorDisabled", actor: disabledAdm, target: happyOrg, change: reset, code: EUNAUTHORIZED, key: "auth.login_required"},
		{name: "ActorClerk", actor: happyClerk, target: happyClerk, change: rename, code: EFORBIDDEN, key: "auth.forbidden"},
		{name: "ActorVolunteer", actor: volunteer, target: happyClerk, change: disable, code: EFORBIDDEN, key: "auth.forbidden"},

		// Asking for what already is changes nothing and ends no session.
		{name: "DisableTheDisabled", actor: admin, target: disabledOrg, change: disable, changed: nil, want: func(u User) User { return u }},
		{name: "EnableTheEnabled", actor: admin, target: happyOrg, change: enable, changed: nil, want: func(u User) User { return u }},
		{name: "SameName", actor: admin, target: happyOrg, change: StaffChange{Name: name(" 名字 happy ")}, changed: nil, want: func(u User) User { return u }},
		{name: "DisableLastDisabledAdmin", actor: admin, target: disabledAdm, admins: 1, change: disable, changed: nil, want: func(u User) User { return u }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.target
			up, err := ChangeStaff(tt.actor, tt.target, StaffFacts{TargetUnit: unitOf[tt.target.ID], ActiveAdmins: tt.admins}, tt.change, now)
			if tt.code != "" {
				e, ok := AsError(err)
				if !ok || e.Code != tt.code || (tt.key != "" && e.Key != tt.key) {
					t.Fatalf("error %v, want %s %s", err, tt.code, tt.key)
				}
				if !reflect.DeepEqual(up, StaffUpdate{}) {
					t.Errorf("a refusal decided %+v", up)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(up.Changed, tt.changed) {
				t.Errorf("changed %v, want %v", up.Changed, tt.changed)
			}
			want := tt.want(before)
			if len(tt.changed) > 0 {
				want.UpdatedAt, want.UpdatedBy = now, tt.actor.ID
			}
			if !reflect.DeepEqual(up.User, want) {
				t.Errorf("user\n got %+v\nwant %+v", up.User, want)
			}
			if up.EndSessions != (len(tt.changed) > 0) {
				t.Errorf("EndSessions = %v with changes %v", up.EndSessions, up.Changed)
			}
			if !reflect.DeepEqual(tt.target, before) {
				t.Error("the decision changed its input")
			}
		})
	}
}

func TestSecondEyes(t *testing.T) {
	street, community, grid := uuid.New(), uuid.New(), uuid.New()
	path := []uuid.UUID{street, community, grid}
	recorder := uuid.New()
	for name, tt := range map[string]struct {
		u    User
		want bool
	}{
		"Admin":                 {User{ID: uuid.New(), Role: RoleAdmin}, true},
		"CommunityOrganiser":    {User{ID: uuid.New(), Role: RoleOrganizer, UnitID: community}, true},
		"StreetOrganiser":       {User{ID: uuid.New(), Role: RoleOrganizer, UnitID: street}, true},
		"GridOrganiser":         {User{ID: uuid.New(), Role: RoleOrganizer, UnitID: grid}, false},
		"OtherCommunity":        {User{ID: uuid.New(), Role: RoleOrganizer, UnitID: uuid.New()}, false},
		"TheRecorder":           {User{ID: recorder, Role: RoleOrganizer, UnitID: community}, false},
		"TheRecorderAsAdmin":    {User{ID: recorder, Role: RoleAdmin}, false},
		"DisabledAdmin":         {User{ID: uuid.New(), Role: RoleAdmin, Disabled: true}, false},
		"GridWorker":            {User{ID: uuid.New(), Role: RoleGridWorker, UnitID: community}, false},
		"OrganiserWithoutAUnit": {User{ID: uuid.New(), Role: RoleOrganizer}, false},
	} {
		if got := SecondEyes(tt.u, recorder, path); got != tt.want {
			t.Errorf("%s: %v, want %v", name, got, tt.want)
		}
	}
}

func TestMayMakeStaff(t *testing.T) {
	community := Unit{ID: uuid.New(), Kind: UnitCommunity}
	grid := Unit{ID: uuid.New(), Kind: UnitGrid}
	org := User{ID: uuid.New(), Role: RoleOrganizer, UnitID: community.ID}
	for name, tt := range map[string]struct {
		actor User
		role  Role
		unit  *Unit
		code  string
	}{
		"AdminAnything":        {User{Role: RoleAdmin}, RoleOrganizer, &community, ""},
		"OrganiserBelow":       {org, RoleOrganizer, &grid, ""},
		"GridWorkerBelow":      {org, RoleGridWorker, &grid, ""},
		"ClerkOfAShop":         {org, RoleClerk, nil, ""},
		"OrganiserOfOwnUnit":   {org, RoleOrganizer, &community, EFORBIDDEN},
		"GridOrganiserOwnGrid": {User{Role: RoleOrganizer, UnitID: grid.ID}, RoleGridWorker, &grid, EFORBIDDEN},
		"AnAdministrator":      {org, RoleAdmin, nil, EFORBIDDEN},
		"ByAGridWorker":        {User{Role: RoleGridWorker, UnitID: grid.ID}, RoleClerk, nil, EFORBIDDEN},
		"ByADisabledAdmin":     {User{Role: RoleAdmin, Disabled: true}, RoleClerk, nil, EUNAUTHORIZED},
	} {
		if got := ErrorCode(MayMakeStaff(tt.actor, tt.role, tt.unit)); got != tt.code {
			t.Errorf("%s: %q, want %q", name, got, tt.code)
		}
	}
}
