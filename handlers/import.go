package handlers

import (
	"bytes"
	"io"
	"net/http"

	"aixin/ledger"
	"aixin/roster"

	"github.com/labstack/echo/v4"
)

// importBodyLimit caps a roster upload: 20,000 rows of CSV or .xlsx fit well.
const importBodyLimit = "16M"

// importMembers reads a roster (multipart field "file", or the raw body)
// and creates or updates its members in the caller's scope. With bad rows
// and no ?skip_invalid=true nothing is written and the report comes back in
// a 422 error. One upload is read at a time (the others wait, without their
// bodies read), so that crafted files cannot take every core at once.
func (s *server) importMembers(c echo.Context) error {
	skip, err := queryBool(c, "skip_invalid")
	if err != nil {
		return err
	}
	select {
	case s.importSlot <- struct{}{}:
		defer func() { <-s.importSlot }()
	case <-c.Request().Context().Done():
		return ledger.Errorf(ledger.EUNAVAILABLE, "import.cancelled")
	}
	name, data, err := uploadedFile(c, "roster.no_file")
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	res, err := s.importRoster(c, scopeOf(u), name, data, skip != nil && *skip)
	if err != nil {
		return err
	}
	if res.Invalid > 0 && !res.Written && !(skip != nil && *skip) {
		return ledger.Errorf(ledger.EREJECTED, "roster.rejected", res.Invalid).With("report", res)
	}
	return c.JSON(http.StatusOK, res)
}

// importRoster imports a roster for a request, in the caller's language.
func (s *server) importRoster(c echo.Context, scope ledger.Scope, name string, data []byte, skipInvalid bool) (ledger.ImportResult, error) {
	return roster.Import(c.Request().Context(), s.cfg.Directory, s.cat, s.lang(c), scope, name, data, skipInvalid)
}

// uploadedFile returns the file of a multipart upload (field "file", or
// "photo" as the wish and award forms call theirs), or the raw request body
// with the file name from ?filename=. missing is the message when there is
// none (a roster's, a picture's).
func uploadedFile(c echo.Context, missing string) (string, []byte, error) {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); len(ct) >= 19 && ct[:19] == "multipart/form-data" {
		fh, err := c.FormFile("file")
		if err != nil {
			fh, err = c.FormFile("photo")
		}
		if err != nil {
			return "", nil, ledger.Errorf(ledger.EINVALID, missing)
		}
		f, err := fh.Open()
		if err != nil {
			return "", nil, err
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		return fh.Filename, data, err
	}
	data, err := io.ReadAll(req.Body)
	if err != nil {
		return "", nil, err
	}
	if len(data) == 0 {
		return "", nil, ledger.Errorf(ledger.EINVALID, missing)
	}
	return c.QueryParam("filename"), data, nil
}

// importTemplate answers an empty roster with the headers organisers know,
// as a UTF-8 CSV with a BOM (so that Excel opens it right) and one example row.
func (s *server) importTemplate(c echo.Context) error {
	var b bytes.Buffer
	b.WriteString("\uFEFF姓名,手机号,所属社区/网格,队伍,是否党员,报到单位,报到日期,年度目标时长,服务意愿,认领岗位\r\n")
	b.WriteString("张三,13800000000,幸福社区/第一网格,党员志愿服务队,是,区税务局,2026-03-05,50,政策宣讲、邻里互助,\r\n")
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="roster-template.csv"; filename*=UTF-8''`+
		"%E5%BF%97%E6%84%BF%E8%80%85%E5%90%8D%E5%86%8C%E6%A8%A1%E6%9D%BF.csv")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
}
