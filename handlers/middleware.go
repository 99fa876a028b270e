package handlers

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"aixin/ledger"

	"github.com/labstack/echo/v4"
)

// observe writes one log line and the metrics of every request. It hands a
// returned error to the error handler first, so that the status it logs is
// the one the client got.
func (s *server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		elapsed := time.Since(start)
		req, res := c.Request(), c.Response()
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		s.metrics.observe(req.Method, route, res.Status, elapsed)

		attrs := []slog.Attr{
			slog.String("method", req.Method),
			slog.String("route", route),
			slog.String("path", req.URL.Path),
			slog.Int("status", res.Status),
			slog.Duration("duration", elapsed),
			slog.Int64("bytes", res.Size),
			slog.String("request_id", res.Header().Get(echo.HeaderXRequestID)),
			slog.String("remote_ip", c.RealIP()),
		}
		if u, ok := currentUser(c); ok {
			attrs = append(attrs, slog.String("user_id", u.ID.String()))
		}
		s.cfg.Logger.LogAttrs(req.Context(), slog.LevelInfo, "request", attrs...)
		return nil
	}
}

// logPanic logs a recovered panic with its stack and turns it into an error
// for the error handler.
func (s *server) logPanic(c echo.Context, err error, stack []byte) error {
	s.cfg.Logger.ErrorContext(c.Request().Context(), "panic",
		"error", err.Error(), "stack", string(stack),
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	return fmt.Errorf("panic: %w", err)
}

// dropBadRequestID removes a client's X-Request-Id unless it is a short
// token, so that a request id taken from the client cannot flood or garble
// the logs. The request id middleware then makes a new one.
func dropBadRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if id := h.Get(echo.HeaderXRequestID); id != "" && !validRequestID(id) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

func validRequestID(id string) bool {
	if len(id) > 64 {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

// refuseCrossOrigin refuses unsafe requests (POST, PUT, DELETE, ...) that a
// browser says come from another site, using the Sec-Fetch-Site and Origin
// headers. Clients that are not browsers send neither and pass.
func refuseCrossOrigin() echo.MiddlewareFunc {
	cop := http.NewCrossOriginProtection()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := cop.Check(c.Request()); err != nil {
				return ledger.Errorf(ledger.EFORBIDDEN, "request.cross_origin")
			}
			return next(c)
		}
	}
}

// Context keys of the logged-in user and their session.
const (
	ctxUser    = "aixin.user"
	ctxSession = "aixin.session"
)

// currentUser returns the logged-in user, if any.
func currentUser(c echo.Context) (ledger.User, bool) {
	u, ok := c.Get(ctxUser).(ledger.User)
	return u, ok
}

// loadSession puts the user of a valid session cookie into the context. A
// missing, expired or revoked session, or a disabled user, leaves the
// request anonymous; routes that need a user say so with requireLogin or
// requireRole.
func (s *server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(sessionCookie)
		if err != nil {
			return next(c)
		}
		h, ok := hashToken(ck.Value)
		if !ok {
			return next(c)
		}
		ctx := c.Request().Context()
		u, err := s.cfg.Users.SessionUser(ctx, h, s.cfg.Now())
		if code := ledger.ErrorCode(err); code == ledger.EUNAUTHORIZED || code == ledger.ENOTFOUND {
			return next(c)
		} else if err != nil {
			return err
		}
		if !u.Disabled {
			c.Set(ctxUser, u)
			c.Set(ctxSession, h)
		}
		return next(c)
	}
}

// requireLogin refuses anonymous requests with 401.
func requireLogin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := currentUser(c); !ok {
			return ledger.Errorf(ledger.EUNAUTHORIZED, "auth.login_required")
		}
		return next(c)
	}
}

// requireRole refuses anonymous requests with 401 and users with none of
// the roles with 403.
func requireRole(roles ...ledger.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, ok := currentUser(c)
			if !ok {
				return ledger.Errorf(ledger.EUNAUTHORIZED, "auth.login_required")
			}
			for _, r := range roles {
				if u.Role == r {
					return next(c)
				}
			}
			return ledger.Errorf(ledger.EFORBIDDEN, "auth.forbidden")
		}
	}
}
