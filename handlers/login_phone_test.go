package handlers

import (
	"testing"

	"aixin/ledger"
)

func TestPhoneLogin(t *testing.T) {
	tests := []struct {
		typed string
		want  string // "" if not a phone
	}{
		{"13812345678", "13812345678"},
		{"138 1234 5678", "13812345678"},
		{"138-1234-5678", "13812345678"},
		{"+86 138 1234 5678", "13812345678"},
		{"+86-138-1234-5678", "13812345678"},
		{"+8613812345678", "13812345678"},
		{"8613812345678", "13812345678"},
		{"１３８ １２３４ ５６７８", "13812345678"},
		{"138\u00a01234\u00a05678", "13812345678"},
		{"admin", ""},
		{"wang-li", ""},
		{"1381234567", ""},   // ten digits
		{"12812345678", ""},  // no mobile starts 12
		{"010-12345678", ""}, // a landline
		{"+1 138 1234 5678", ""},
		{"138.1234.5678", ""},
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			got, ok := phoneLogin(tt.typed)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("phoneLogin(%q) = %q, %v; want %q", tt.typed, got, ok, tt.want)
			}
		})
	}
}

func TestLoginWithPhoneAsTyped(t *testing.T) {
	e := newEnv(t)
	volunteer := e.addUser("13812345678", ledger.RoleVolunteer, false)
	// A staff login that happens to look like a phone is taken as spelled.
	staff := e.addUser("139-1234-5678", ledger.RoleOrganizer, false)
	e.addUser("13912345678", ledger.RoleVolunteer, false)

	for _, typed := range []string{"13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678", " 86 138 1234 5678 ", "１３８１２３４５６７８"} {
		t.Run(typed, func(t *testing.T) {
			res := e.do("POST", "/api/v1/login", loginBody(typed, testPassword), nil)
			wantStatus(t, res, 200)
			var u ledger.User
			res.decode(t, &u)
			if u.ID != volunteer.ID {
				t.Errorf("logged in as %s, want the volunteer 13812345678", u.Login)
			}
		})
	}
	t.Run("StaffLoginAsSpelled", func(t *testing.T) {
		res := e.do("POST", "/api/v1/login", loginBody("139-1234-5678", testPassword), nil)
		wantStatus(t, res, 200)
		var u ledger.User
		res.decode(t, &u)
		if u.ID != staff.ID {
			t.Errorf("logged in as %s, want the organiser 139-1234-5678", u.Login)
		}
	})
	t.Run("StaffLoginsUnchanged", func(t *testing.T) {
		e.login("admin")
		wantStatus(t, e.do("POST", "/api/v1/login", loginBody("ad min", testPassword), nil), 401)
	})
	t.Run("OneFailureCountWhateverTheSpelling", func(t *testing.T) {
		spellings := []string{"138 1234 5678", "138-1234-5678", "+86 13812345678", "8613812345678", "13812345678"}
		for _, typed := range spellings[:loginFailuresPerLogin] {
			wantStatus(t, e.do("POST", "/api/v1/login", loginBody(typed, "wrong password"), nil), 401)
		}
		wantStatus(t, e.do("POST", "/api/v1/login", loginBody("+86 138 1234 5678", testPassword), nil), 429)
		wantStatus(t, e.do("POST", "/api/v1/login", loginBody("13812345678", testPassword), nil), 429)
	})
}
