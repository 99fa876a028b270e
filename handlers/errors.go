package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"aixin/ledger"

	"github.com/labstack/echo/v4"
)

// statusOf maps each ledger error code to its one HTTP status.
var statusOf = map[string]int{
	ledger.EINVALID:      http.StatusBadRequest,
	ledger.EREJECTED:     http.StatusUnprocessableEntity,
	ledger.EUNAUTHORIZED: http.StatusUnauthorized,
	ledger.EFORBIDDEN:    http.StatusForbidden,
	ledger.ENOTFOUND:     http.StatusNotFound,
	ledger.ECONFLICT:     http.StatusConflict,
	ledger.EGONE:         http.StatusGone,
	ledger.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	ledger.ETOOMANY:      http.StatusTooManyRequests,
	ledger.EUNAVAILABLE:  http.StatusServiceUnavailable,
	ledger.EINTERNAL:     http.StatusInternalServerError,
}

// codeMethodNotAllowed is the one error code that is not a ledger code: only
// the router produces it.
const codeMethodNotAllowed = "method_not_allowed"

// httpErrors maps the statuses of Echo's own errors (route not found, body
// too large, ...) to an error code and a message key.
var httpErrors = map[int]struct{ code, key string }{
	http.StatusBadRequest:            {ledger.EINVALID, "http.bad_request"},
	http.StatusUnauthorized:          {ledger.EUNAUTHORIZED, "http.unauthorized"},
	http.StatusForbidden:             {ledger.EFORBIDDEN, "http.forbidden"},
	http.StatusNotFound:              {ledger.ENOTFOUND, "http.not_found"},
	http.StatusMethodNotAllowed:      {codeMethodNotAllowed, "http.method_not_allowed"},
	http.StatusRequestEntityTooLarge: {ledger.ETOOLARGE, "http.too_large"},
	http.StatusUnsupportedMediaType:  {ledger.EINVALID, "http.unsupported_media_type"},
	http.StatusTooManyRequests:       {ledger.ETOOMANY, "http.too_many"},
	http.StatusServiceUnavailable:    {ledger.EUNAVAILABLE, "http.unavailable"},
}

// problem is an error as the client sees it.
type problem struct {
	status  int
	code    string
	message string
	fields  map[string]any
}

// problemOf translates err for a client speaking lang. Anything that is
// neither a *ledger.Error nor an *echo.HTTPError is an internal error whose
// details stay in the log.
func (s *server) problemOf(err error, lang, requestID string) problem {
	if e, ok := ledger.AsError(err); ok {
		if status, ok := statusOf[e.Code]; ok && e.Code != ledger.EINTERNAL {
			return problem{status, e.Code, s.cat.T(lang, e.Key, e.Args...), e.Fields}
		}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if inner, ok := he.Internal.(*echo.HTTPError); ok {
			he = inner
		}
		if m, ok := httpErrors[he.Code]; ok {
			return problem{he.Code, m.code, s.cat.T(lang, m.key), nil}
		}
		if he.Code >= 400 && he.Code < 500 {
			return problem{he.Code, ledger.EINVALID, s.cat.T(lang, "http.bad_request"), nil}
		}
	}
	return problem{http.StatusInternalServerError, ledger.EINTERNAL, s.cat.T(lang, "error.internal", requestID), nil}
}

// handleError is the one HTTPErrorHandler. It logs server errors, leaves
// committed responses alone, and renders JSON under /api/ and a page
// elsewhere.
func (s *server) handleError(err error, c echo.Context) {
	req := c.Request()
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	p := s.problemOf(err, s.lang(c), rid)
	if p.status >= 500 {
		s.cfg.Logger.ErrorContext(req.Context(), "request failed",
			"error", err.Error(), "method", req.Method, "path", req.URL.Path, "request_id", rid,
			"committed", c.Response().Committed)
	}
	if c.Response().Committed {
		return
	}
	c.Response().Header().Del(echo.HeaderContentDisposition) // set by a download that failed before its first byte
	if secs, ok := p.fields["retry_after"].(int); ok && p.code == ledger.ETOOMANY {
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	}
	var werr error
	switch {
	case req.Method == http.MethodHead:
		werr = c.NoContent(p.status)
	case strings.HasPrefix(req.URL.Path, "/api/"):
		body := make(map[string]any, len(p.fields)+2)
		for k, v := range p.fields {
			body[k] = v
		}
		body["code"] = p.code
		body["message"] = p.message
		werr = c.JSON(p.status, map[string]any{"error": body})
	default:
		werr = s.render(c, p.status, "error.html", errorPage{
			pageData:  s.pageData(c),
			Status:    p.status,
			Message:   p.message,
			RequestID: rid,
		})
	}
	if werr != nil {
		s.cfg.Logger.ErrorContext(req.Context(), "writing error response", "error", werr.Error(), "request_id", rid)
	}
}

// errorPage is the data of templates/error.html.
type errorPage struct {
	pageData
	Status    int
	Message   string
	RequestID string
}
