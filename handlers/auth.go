package handlers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"golang.org/x/text/width"
)

// Sessions.
const (
	sessionCookie   = "aixin_session"
	sessionTTL      = 14 * 24 * time.Hour
	sessionTokenLen = 32 // random bytes; the cookie holds them in base64url
)

// Limits on the login body, beyond the body size limit.
const (
	maxLoginRunes  = 64
	maxPasswordLen = 1024
)

// loginRequest is the body of POST /api/v1/login.
type loginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// parseLogin reads a login request: one JSON object with a login and a
// password, both present and of sane length.
func parseLogin(r io.Reader) (loginRequest, error) {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		return loginRequest{}, err
	}
	req.Login = strings.TrimSpace(req.Login)
	if req.Login == "" || req.Password == "" {
		return loginRequest{}, ledger.Errorf(ledger.EINVALID, "login.missing")
	}
	if utf8.RuneCountInString(req.Login) > maxLoginRunes || len(req.Password) > maxPasswordLen {
		return loginRequest{}, ledger.Errorf(ledger.EINVALID, "login.too_long")
	}
	return req, nil
}

// login checks a login and password and starts a session. The answer is
// the same whether the login is unknown or the password wrong, and costs the
// same time. Attempts are limited per client IP, and failures per login.
func (s *server) login(c echo.Context) error {
	now := s.cfg.Now()
	ctx := c.Request().Context()
	if err := s.hit(ctx, s.ipLimit, c.RealIP(), now); err != nil {
		return err
	}
	req, err := parseLogin(c.Request().Body)
	if err != nil {
		return err
	}
	login, err := s.accountLogin(ctx, req.Login)
	if err != nil {
		return err
	}
	// Count the attempt before checking the password, so that parallel
	// guesses cannot all pass the limit while the hashes are computed; a
	// success forgets the count. The count is the account's, however its
	// phone number was typed.
	key := strings.ToLower(login)
	if err := s.hit(ctx, s.loginFail, key, now); err != nil {
		return err
	}

	u, err := s.cfg.Users.UserByLogin(ctx, login)
	known := err == nil
	if err != nil && ledger.ErrorCode(err) != ledger.ENOTFOUND {
		return err
	}
	hash := s.dummyHash
	if known {
		hash = u.PasswordHash
	}
	if ok := s.checkPassword(hash, req.Password); !ok || !known || u.PasswordHash == "" {
		return ledger.Errorf(ledger.EUNAUTHORIZED, "auth.bad_credentials")
	}
	// A disabled account says so, but only to the right password: a wrong
	// one is the 401 of any login, so that guesses learn nothing. The
	// failures are not forgotten.
	if u.Disabled {
		return ledger.Errorf(ledger.EFORBIDDEN, "auth.account_disabled")
	}
	s.forget(ctx, s.loginFail, key)

	token, sess := newSession(u.ID, now)
	sess.Verified = u.PasswordHash
	if err := s.cfg.Users.CreateSession(ctx, sess); err != nil {
		return err
	}
	c.SetCookie(s.sessionCookie(token, sess.ExpiresAt))
	c.Set(ctxUser, u) // for the request log
	return c.JSON(http.StatusOK, s.userView(u))
}

// phoneLogin returns the 11 digits of a login typed as a mainland mobile
// number with spaces, dashes, a +86 or full-width digits, as the member
// form takes a phone (ledger.NormalizePhone), and false for any other login.
func phoneLogin(login string) (string, bool) {
	p, err := ledger.NormalizePhone(width.Narrow.String(login))
	return p, err == nil
}

// accountLogin is the login a typed login names: a volunteer's phone as
// the member form would store it ("138 1234 5678", "+86 138-1234-5678"),
// unless a staff login is spelled exactly as typed; any other login as typed.
func (s *server) accountLogin(ctx context.Context, typed string) (string, error) {
	p, ok := phoneLogin(typed)
	if !ok || p == typed {
		return typed, nil
	}
	switch _, err := s.cfg.Users.UserByLogin(ctx, typed); ledger.ErrorCode(err) {
	case "":
		return typed, nil
	case ledger.ENOTFOUND:
		return p, nil
	default:
		return "", err
	}
}

// logout revokes the session and clears the cookie.
func (s *server) logout(c echo.Context) error {
	h, _ := c.Get(ctxSession).(ledger.Hash)
	if err := s.cfg.Users.DeleteSession(c.Request().Context(), h); err != nil {
		return err
	}
	ck := s.sessionCookie("", time.Unix(0, 0))
	ck.MaxAge = -1
	c.SetCookie(ck)
	return c.NoContent(http.StatusNoContent)
}

// me answers the logged-in user.
func (s *server) me(c echo.Context) error {
	u, _ := currentUser(c)
	return c.JSON(http.StatusOK, s.userView(u))
}

// userView is a user as the API shows it: times in the deployment's zone
// (the password hash never leaves the server: ledger.User omits it).
func (s *server) userView(u ledger.User) ledger.User {
	u.CreatedAt = u.CreatedAt.In(s.cfg.Location)
	if !u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.UpdatedAt.In(s.cfg.Location)
	}
	if !u.DisabledAt.IsZero() {
		u.DisabledAt = u.DisabledAt.In(s.cfg.Location)
	}
	u.PasswordHash = ""
	return u
}

// checkPassword runs CheckPassword, waiting for a free slot first so that a
// burst of logins cannot take all memory.
func (s *server) checkPassword(hash, pw string) bool {
	s.hashSlots <- struct{}{}
	defer func() { <-s.hashSlots }()
	return CheckPassword(hash, pw)
}

// newSession returns a new random token and the session that stores only
// its hash.
func newSession(user uuid.UUID, now time.Time) (string, ledger.Session) {
	b := make([]byte, sessionTokenLen)
	rand.Read(b) // never fails: crypto/rand panics instead
	token := base64.RawURLEncoding.EncodeToString(b)
	h, _ := hashToken(token)
	return token, ledger.Session{TokenHash: h, UserID: user, CreatedAt: now, ExpiresAt: now.Add(sessionTTL)}
}

// hashToken returns the SHA-256 of a session token, or false if the token
// cannot be one of ours.
func hashToken(token string) (ledger.Hash, bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != sessionTokenLen {
		return ledger.Hash{}, false
	}
	return sha256.Sum256(b), true
}

func (s *server) sessionCookie(token string, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name:     sessionCookie,
		Value:    token,
		Path:     "/",
		Expires:  expires,
		MaxAge:   int(sessionTTL / time.Second),
		HttpOnly: true,
		Secure:   s.cfg.CookieSecure,
		SameSite: http.SameSiteLaxMode,
	}
}

// tooMany is the error of a rate limit that ends after wait.
func tooMany(wait time.Duration) error {
	secs := retrySeconds(wait)
	return ledger.Errorf(ledger.ETOOMANY, "auth.too_many", secs).With("retry_after", secs)
}
