package handlers

import (
	"bytes"
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"aixin/ledger"
	"aixin/report"

	"github.com/labstack/echo/v4"
)

// previewRows is how many rows of a view the page's preview shows.
const previewRows = 200

func (s *server) exportMonthly(c echo.Context) error {
	q := c.QueryParams()
	for k := range q {
		switch k {
		case "month", "by", "format", "full_phone", "lang":
		default:
			return ledger.Errorf(ledger.EINVALID, "export.param_unknown", truncate(k, 32))
		}
	}
	now := s.cfg.Now()
	month := ledger.MonthOf(now, s.cfg.Location)
	if v := q.Get("month"); v != "" {
		m, err := ledger.ParseMonth(v)
		if err != nil {
			return err
		}
		month = m
	}
	by := cmp.Or(q.Get("by"), "member")
	if !slices.Contains(report.Views, by) {
		return ledger.Errorf(ledger.EINVALID, "export.by_invalid", truncate(by, 16))
	}
	format := cmp.Or(q.Get("format"), "xlsx")
	if format != "csv" && format != "xlsx" && format != "json" {
		return ledger.Errorf(ledger.EINVALID, "export.format_invalid", truncate(format, 16))
	}
	u, _ := currentUser(c)
	full := false
	switch q.Get("full_phone") {
	case "", "0", "false":
	case "1", "true":
		if u.Role != ledger.RoleAdmin {
			return ledger.Errorf(ledger.EFORBIDDEN, "export.full_phone_admin")
		}
		full = true
	default:
		return ledger.Errorf(ledger.EINVALID, "export.full_phone_invalid")
	}
	opts := report.Options{Month: month, Scope: scopeOf(u), Lang: s.lang(c), FullPhone: full, By: by,
		Who: cmp.Or(u.Name, u.Login), Now: now, Location: s.cfg.Location}
	if full {
		// Personal data leaves in full: say who took it, and when.
		s.cfg.Logger.Warn("export with full phone numbers", "user_id", u.ID, "login", u.Login, "month", month.String(),
			"view", by, "format", format, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	ex, err := report.Build(c.Request().Context(), report.Deps{Directory: s.cfg.Directory, Shops: s.cfg.Shops, Reports: s.cfg.Reports, Catalogue: s.cat}, opts)
	if err != nil {
		return err
	}
	if !ex.Reconciles {
		s.cfg.Logger.Error("monthly export does not reconcile", "month", month.String(), "notes", strings.Join(ex.Summary.Notes, " | "))
	}
	if format == "json" {
		// The page's preview: the view's first rows, the totals and the checks.
		view := ex.Sheets[by]
		total := len(view.Rows)
		view.Rows = view.Rows[:min(total, previewRows)]
		return c.JSON(http.StatusOK, map[string]any{"month": month.String(), "view": view, "rows_total": total,
			"totals": ex.Total, "people": ex.People, "active": ex.Active, "reconciles": ex.Reconciles, "notes": ex.Summary.Notes})
	}
	var buf bytes.Buffer
	name, ctype, err := ex.Write(&buf, format)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	fallback := ex
	fallback.Options.Lang = "en"
	ascii, _, _ := fallback.FileName(format)
	h.Set(echo.HeaderContentDisposition, attachment(name, ascii))
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, ctype, buf.Bytes())
}

// attachment is a Content-Disposition for a file name that may be Chinese:
// an ASCII name for old clients and the UTF-8 name (RFC 6266, RFC 5987).
func attachment(name, ascii string) string {
	ascii = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, ascii)
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, url.PathEscape(name))
}
