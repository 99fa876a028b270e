package handlers

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// passwordBody is a JSON body of POST /api/v1/me/password.
func passwordBody(old, password string) io.Reader {
	b, _ := json.Marshal(map[string]string{"old_password": old, "password": password})
	return bytes.NewReader(b)
}

func TestChangeMyPasswordAttemptLimit(t *testing.T) {
	e := newEnv(t)
	ck := e.login("organizer")
	const newPassword = "a new password of the organiser"

	// A stolen session guesses the current password, many at once: each
	// guess is counted before its hash is checked, so no more than the
	// login's limit of them are ever checked.
	const guesses = 4 * loginFailuresPerLogin
	statuses := make([]int, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			statuses[i] = e.do("POST", "/api/v1/me/password", passwordBody("guess"+strconv.Itoa(i), newPassword), ck).StatusCode
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[400] != loginFailuresPerLogin || count[429] != guesses-loginFailuresPerLogin {
		t.Fatalf("statuses of %d parallel guesses: %v; want %d × 400 and the rest 429", guesses, count, loginFailuresPerLogin)
	}

	t.Run("RightPasswordRefusedWhileLocked", func(t *testing.T) {
		res := e.do("POST", "/api/v1/me/password", passwordBody(testPassword, newPassword), ck)
		wantStatus(t, res, 429)
		if got := res.errorBody(t); got["code"] != "too_many" || got["retry_after"] != float64(15*60) {
			t.Errorf("error = %v", got)
		}
		if res.Header.Get("Retry-After") != "900" {
			t.Errorf("Retry-After = %q", res.Header.Get("Retry-After"))
		}
	})
	t.Run("LoginOfTheAccountLockedToo", func(t *testing.T) {
		// One limit per account: the login page gives no fresh guesses.
		wantStatus(t, e.do("POST", "/api/v1/login", loginBody("organizer", testPassword), nil), 429)
		e.login("admin") // other accounts are not locked
	})
	t.Run("PasswordUnchanged", func(t *testing.T) {
		u, err := e.store.UserByLogin(ctx, "organizer")
		if err != nil {
			t.Fatal(err)
		}
		if !CheckPassword(u.PasswordHash, testPassword) {
			t.Error("the password changed while locked")
		}
		wantStatus(t, e.get("/api/v1/me", ck), 200)
	})
	t.Run("UnlocksWhenTheWindowEnds", func(t *testing.T) {
		e.clock.Add(15*time.Minute - time.Second)
		wantStatus(t, e.do("POST", "/api/v1/me/password", passwordBody(testPassword, newPassword), ck), 429)
		e.clock.Add(time.Second)
		res := e.do("POST", "/api/v1/me/password", passwordBody(testPassword, newPassword), ck)
		wantStatus(t, res, 204)
		// The browser that changed it stays logged in with a new session.
		wantStatus(t, e.get("/api/v1/me", sessionCookieOf(t, res)), 200)
		wantStatus(t, e.do("POST", "/api/v1/login", loginBody("organizer", newPassword), nil), 200)
	})
}

func TestChangeMyPasswordFailuresCount(t *testing.T) {
	e := newEnv(t)
	ck := e.login("clerk")
	// Failures of the login page and of the password form add up.
	for range loginFailuresPerLogin - 1 {
		wantStatus(t, e.do("POST", "/api/v1/login", loginBody("clerk", "wrong"), nil), 401)
	}
	res := e.do("POST", "/api/v1/me/password", passwordBody("wrong", "another long password"), ck)
	wantStatus(t, res, 400)
	if got := res.errorBody(t); got["message"] != "原密码不正确" {
		t.Errorf("error = %v", got)
	}
	wantStatus(t, e.do("POST", "/api/v1/me/password", passwordBody(testPassword, "another long password"), ck), 429)

	t.Run("SuccessForgetsFailures", func(t *testing.T) {
		e := newEnv(t)
		ck := e.login("volunteer")
		pw := testPassword
		for i := range 2 {
			for range loginFailuresPerLogin - 1 {
				wantStatus(t, e.do("POST", "/api/v1/me/password", passwordBody("wrong", "whatever password"), ck), 400)
			}
			next := "password number " + strconv.Itoa(i)
			res := e.do("POST", "/api/v1/me/password", passwordBody(pw, next), ck)
			wantStatus(t, res, 204)
			ck, pw = sessionCookieOf(t, res), next
		}
	})
	t.Run("NewPasswordTooShortIsNotAGuess", func(t *testing.T) {
		e := newEnv(t)
		ck := e.login("admin")
		for range 2 * loginFailuresPerLogin {
			res := e.do("POST", "/api/v1/me/password", passwordBody("wrong", "short"), ck)
			wantStatus(t, res, http.StatusBadRequest)
			if got := res.errorBody(t); got["message"] == "原密码不正确" {
				t.Fatalf("the old password was checked: %v", got)
			}
		}
		e.login("admin")
	})
}
