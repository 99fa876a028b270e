package handlers

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"aixin/ledger"

	"github.com/labstack/echo/v4"
)

func TestErrorJSON(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, method, path, body string
		status                   int
		code, message            string
	}{
		{"RouteNotFound", "GET", "/api/v1/nope", "", 404, "not_found", "找不到您要访问的页面或接口"},
		{"RouteNotFoundEnglish", "GET", "/api/v1/nope?lang=en", "", 404, "not_found", "The page or API you asked for does not exist"},
		{"MethodNotAllowed", "DELETE", "/api/v1/me", "", 405, "method_not_allowed", "该地址不支持这种请求方式"},
		{"Unauthorized", "GET", "/api/v1/me", "", 401, "unauthorized", "请先登录"},
		{"BadJSON", "POST", "/api/v1/login", "{", 400, "invalid", "提交的内容不是有效的 JSON，或含有未知字段"},
		{"UnknownField", "POST", "/api/v1/login", `{"login":"a","password":"b","admin":true}`, 400, "invalid", "提交的内容不是有效的 JSON，或含有未知字段"},
		{"TrailingData", "POST", "/api/v1/login", `{"login":"a","password":"b"} {}`, 400, "invalid", "提交的内容不是有效的 JSON，或含有未知字段"},
		{"MissingPassword", "POST", "/api/v1/login", `{"login":"a"}`, 400, "invalid", "请填写登录名和密码"},
		{"UnauthorizedEnglish", "GET", "/api/v1/ledger/entries?lang=en&after=x", "", 401, "unauthorized", "Please sign in first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			res := e.do(tt.method, tt.path, body, nil)
			wantStatus(t, res, tt.status)
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			got := res.errorBody(t)
			if got["code"] != tt.code || got["message"] != tt.message {
				t.Errorf("error = %v, want code %q message %q", got, tt.code, tt.message)
			}
			if res.Header.Get(echo.HeaderXRequestID) == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
	t.Run("AllowHeaderOn405", func(t *testing.T) {
		res := e.do("DELETE", "/api/v1/me", nil, nil)
		if allow := res.Header.Get("Allow"); !strings.Contains(allow, "GET") {
			t.Errorf("Allow = %q", allow)
		}
	})
}

func TestErrorPage(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, path, header string
		status             int
		want               string
	}{
		{"NotFoundChinese", "/no/such/page", "", 404, "找不到您要访问的页面或接口"},
		{"NotFoundEnglishQuery", "/no/such/page?lang=en", "", 404, "The page or API you asked for does not exist"},
		{"NotFoundEnglishHeader", "/no/such/page", "en-GB,en;q=0.8", 404, "The page or API you asked for does not exist"},
		{"MethodNotAllowed", "/healthz", "", 405, "该地址不支持这种请求方式"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodGet
			if tt.status == 405 {
				method = http.MethodPut
			}
			res := e.do(method, tt.path, nil, nil, "Accept-Language", tt.header)
			wantStatus(t, res, tt.status)
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type %q", ct)
			}
			body := string(res.body)
			if !strings.Contains(body, tt.want) || !strings.Contains(body, res.Header.Get(echo.HeaderXRequestID)) {
				t.Errorf("page lacks %q or the request id:\n%s", tt.want, body)
			}
		})
	}
}

// TestHandleError calls the error handler directly, for the cases no route
// produces yet.
func TestHandleError(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		err     error
		status  int
		code    string
		message string
		extra   map[string]any
		logged  bool
	}{
		{"Invalid", ledger.Errorf(ledger.EINVALID, "month.invalid", "2026-13"), 400, "invalid", "月份“2026-13”无效，请按“2026-01”的格式填写", nil, false},
		{"Unauthorized", ledger.Errorf(ledger.EUNAUTHORIZED, "session.expired"), 401, "unauthorized", "登录已过期，请重新登录", nil, false},
		{"Forbidden", ledger.Errorf(ledger.EFORBIDDEN, "auth.forbidden"), 403, "forbidden", "您的账号没有权限进行这项操作", nil, false},
		{"NotFound", ledger.Errorf(ledger.ENOTFOUND, "entry.not_found", 7), 404, "not_found", "找不到第 7 号账本记录", nil, false},
		{"ConflictWithFields", ledger.Errorf(ledger.ECONFLICT, "entry.already_reversed", 7).With("reversed_by", 9), 409, "conflict",
			"第 7 号记录已经冲正过，不能重复冲正", map[string]any{"reversed_by": float64(9)}, false},
		{"Insufficient", fmt.Errorf("posting: %w", ledger.Errorf(ledger.ECONFLICT, "entry.insufficient", 10, 30)), 409, "conflict", "积分不足：可用 10 分，需要 30 分", nil, false},
		{"Gone", ledger.Errorf(ledger.EGONE, "session.expired"), 410, "gone", "登录已过期，请重新登录", nil, false},
		{"TooLarge", ledger.Errorf(ledger.ETOOLARGE, "http.too_large"), 413, "too_large", "提交的内容太大了，请减少后再试", nil, false},
		{"TooMany", tooMany(1500e6), 429, "too_many", "尝试次数太多，请 2 秒后再试", map[string]any{"retry_after": float64(2)}, false},
		{"Unavailable", ledger.Errorf(ledger.EUNAVAILABLE, "store.disk_full"), 503, "unavailable", "服务器磁盘已满，暂时不能保存，请联系管理员", nil, true},
		{"LedgerInternal", ledger.Errorf(ledger.EINTERNAL, "entry.encoding_invalid"), 500, "internal", "服务器出错了，请稍后再试。如果问题持续，请把请求编号 rid-1 告诉管理员", nil, true},
		{"UnknownCode", ledger.Errorf("weird", "x"), 500, "internal", "服务器出错了，请稍后再试。如果问题持续，请把请求编号 rid-1 告诉管理员", nil, true},
		{"PlainError", errors.New("disk on fire"), 500, "internal", "服务器出错了，请稍后再试。如果问题持续，请把请求编号 rid-1 告诉管理员", nil, true},
		{"EchoTooLarge", echo.ErrStatusRequestEntityTooLarge, 413, "too_large", "提交的内容太大了，请减少后再试", nil, false},
		{"EchoWrapped", echo.NewHTTPError(500).SetInternal(echo.ErrNotFound), 404, "not_found", "找不到您要访问的页面或接口", nil, false},
		{"EchoOther4xx", echo.NewHTTPError(http.StatusTeapot), 418, "invalid", "请求格式不正确", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.logs.lines(t))
			rec := httptest.NewRecorder()
			c := e.echo.NewContext(httptest.NewRequest("GET", "/api/v1/x", nil), rec)
			c.Response().Header().Set(echo.HeaderXRequestID, "rid-1")
			e.echo.HTTPErrorHandler(tt.err, c)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			got := response{Response: rec.Result(), body: rec.Body.Bytes()}.errorBody(t)
			if got["code"] != tt.code || got["message"] != tt.message {
				t.Errorf("error = %v, want %q %q", got, tt.code, tt.message)
			}
			for k, v := range tt.extra {
				if got[k] != v {
					t.Errorf("error[%q] = %v, want %v", k, got[k], v)
				}
			}
			if tt.code == "too_many" && rec.Header().Get("Retry-After") != "2" {
				t.Errorf("Retry-After = %q", rec.Header().Get("Retry-After"))
			}
			if logged := len(e.logs.lines(t)) > before; logged != tt.logged {
				t.Errorf("logged = %v, want %v", logged, tt.logged)
			}
		})
	}

	t.Run("FieldsDoNotReplaceCodeOrMessage", func(t *testing.T) {
		rec := httptest.NewRecorder()
		c := e.echo.NewContext(httptest.NewRequest("GET", "/api/v1/x", nil), rec)
		e.echo.HTTPErrorHandler(ledger.Errorf(ledger.ECONFLICT, "idempotency.mismatch").With("code", "ha").With("message", "ha"), c)
		got := response{body: rec.Body.Bytes()}.errorBody(t)
		if got["code"] != "conflict" || got["message"] == "ha" {
			t.Errorf("error = %v", got)
		}
	})
	t.Run("CommittedResponseLeftAlone", func(t *testing.T) {
		rec := httptest.NewRecorder()
		c := e.echo.NewContext(httptest.NewRequest("GET", "/api/v1/admin/backup", nil), rec)
		c.Response().WriteHeader(http.StatusOK)
		c.Response().Write([]byte("partial"))
		e.echo.HTTPErrorHandler(errors.New("disk read failed"), c)
		if rec.Code != http.StatusOK || rec.Body.String() != "partial" {
			t.Errorf("committed response changed: %d %q", rec.Code, rec.Body.String())
		}
	})
	t.Run("HeadHasNoBody", func(t *testing.T) {
		rec := httptest.NewRecorder()
		c := e.echo.NewContext(httptest.NewRequest("HEAD", "/api/v1/x", nil), rec)
		e.echo.HTTPErrorHandler(echo.ErrNotFound, c)
		if rec.Code != 404 || rec.Body.Len() != 0 {
			t.Errorf("HEAD: %d %q", rec.Code, rec.Body.String())
		}
	})
}

func TestStatusTableCoversEveryCode(t *testing.T) {
	codes := []string{ledger.EINVALID, ledger.EREJECTED, ledger.ENOTFOUND, ledger.ECONFLICT, ledger.EGONE, ledger.EFORBIDDEN,
		ledger.EUNAUTHORIZED, ledger.ETOOMANY, ledger.ETOOLARGE, ledger.EUNAVAILABLE, ledger.EINTERNAL}
	for _, code := range codes {
		if _, ok := statusOf[code]; !ok {
			t.Errorf("no status for %q", code)
		}
	}
	if len(statusOf) != len(codes) {
		t.Errorf("statusOf has %d codes, want %d", len(statusOf), len(codes))
	}
}

func TestPanicIsA500(t *testing.T) {
	e := newEnv(t)
	e.echo.GET("/api/v1/test-panic", func(echo.Context) error { panic("boom") })
	res := e.get("/api/v1/test-panic", nil)
	wantStatus(t, res, 500)
	if got := res.errorBody(t); got["code"] != "internal" || !strings.Contains(got["message"].(string), res.Header.Get(echo.HeaderXRequestID)) {
		t.Errorf("error = %v", got)
	}
	var sawPanic, sawFailure bool
	for _, l := range e.logs.lines(t) {
		sawPanic = sawPanic || l["msg"] == "panic" && strings.Contains(l["stack"].(string), "goroutine")
		sawFailure = sawFailure || l["msg"] == "request failed" && strings.Contains(l["error"].(string), "boom")
	}
	if !sawPanic || !sawFailure {
		t.Errorf("panic logged %v, failure logged %v", sawPanic, sawFailure)
	}
}
