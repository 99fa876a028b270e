package handlers

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoginRacingAPasswordReset: logins with the old password race a reset.
// One that checked the old hash before the reset must not make its session
// after the reset ended the account's sessions: no session made with the
// old password outlives the reset.
func TestLoginRacingAPasswordReset(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LoginsPerMinute = 1 << 20 })
	w := newStaffWorld(t, e)
	org := e.login("xingfu")
	var resetDone atomic.Bool
	var stop atomic.Bool
	var mu sync.Mutex
	var after []*http.Cookie
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				res := e.do("POST", "/api/v1/login", loginBody("shop1", testPassword), nil)
				if res.StatusCode == 200 && resetDone.Load() {
					mu.Lock()
					after = append(after, sessionCookieOf(t, res))
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	res := e.do("PATCH", "/api/v1/users/"+w.clerk.ID.String(), patchBody(map[string]any{"password": "the new counter password"}), org)
	wantStatus(t, res, 200)
	resetDone.Store(true)
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	alive := 0
	for _, c := range after {
		if e.get("/api/v1/me", c).StatusCode == 200 {
			alive++
		}
	}

	if alive > 0 {
		t.Errorf("%d session(s) made with the old password outlive the reset", alive)
	}
}
