// Package roster reads the roster (花名册) of volunteers an organiser
// uploads, as CSV or .xlsx, and imports it into the directory in one step.
// The HTTP upload and the command line both call Import.
package roster

import (
	"bytes"
	"context"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	textunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// This file reads a roster (花名册) that an organiser uploads: a CSV saved by
// Excel or WPS, or an .xlsx workbook, with the Chinese column headers
// organisers use. parseRoster turns the file into records by canonical field;
// rosterItems turns the records into members for Directory.ImportMembers,
// with a problem per row the organiser can act on.

// maxRosterRows is the most rows a roster may have below its header
// (and above it, before the header is found), counted as a spreadsheet
// numbers them: empty rows, and rows whose cells are all in columns the
// import does not read, count too. A street's roster is a few thousand
// people; more is a mistake or an attack, and the import is one transaction.
const maxRosterRows = 20000

// maxRosterColumns is how many columns are read of each row before the
// header is found; below the header, only the columns up to its last known
// one are read. Cells further right are skipped without being read into
// memory.
const maxRosterColumns = 1024

// maxRosterCell is the most characters a cell of a known column may hold:
// every field is a name or a short list, and a cell's text comes back in
// the report with each problem.
const maxRosterCell = 500

// rosterHeaderSearch is how many non-empty rows at the top of a sheet are
// searched for the header: organisers often put a title row ("幸福社区志愿者
// 花名册") and a date line above it.
const rosterHeaderSearch = 10

// The canonical roster fields: the keys of rosterRecord.Cells and the Field of
// an ImportItem's problem.
const (
	fieldName        = "name"
	fieldPhone       = "phone"
	fieldUnit        = "unit"
	fieldTeams       = "teams"
	fieldPartyMember = "party_member"
	fieldWorkUnit    = "work_unit"
	fieldReportedAt  = "reported_at"
	fieldTargetHours = "annual_target_hours"
	fieldSkills      = "skills"
	fieldPosts       = "posts"
	fieldStatus      = "status"
)

// rosterAliases lists, per canonical field, the headers organisers write for
// it. They are compared after normaliseHeader.
var rosterAliases = []struct {
	field   string
	headers []string
}{
	{fieldName, []string{"姓名", "名字", "name"}},
	{fieldPhone, []string{"手机号", "手机", "手机号码", "联系电话", "电话", "phone", "mobile"}},
	{fieldUnit, []string{"所属社区/网格", "所属社区", "所属网格", "所属单位", "社区", "网格", "楼栋", "所在网格", "unit"}},
	{fieldTeams, []string{"队伍", "所属队伍", "服务队", "志愿服务队", "teams"}},
	{fieldPartyMember, []string{"是否党员", "党员", "政治面貌", "party_member"}},
	{fieldWorkUnit, []string{"报到单位", "工作单位", "work_unit"}},
	{fieldReportedAt, []string{"报到时间", "报到日期", "reported_at"}},
	{fieldTargetHours, []string{"年度目标时长", "目标时长", "年度服务目标(小时)", "annual_target_hours"}},
	{fieldSkills, []string{"服务意愿", "技能特长", "服务类别", "特长", "skills"}},
	{fieldPosts, []string{"认领岗位", "服务岗位", "认领服务岗位", "posts"}},
	{fieldStatus, []string{"状态", "status"}},
}

// rosterHeaders maps a normalised header to its canonical field.
var rosterHeaders = func() map[string]string {
	m := make(map[string]string)
	for _, a := range rosterAliases {
		for _, h := range a.headers {
			m[normaliseHeader(h)] = a.field
		}
	}
	return m
}()

// headerMarkers are the "required"/"optional" marks templates put in headers,
// after NFKC (which turns （必填） into (必填) and ＊ into *).
var headerMarkers = strings.NewReplacer(
	"(必填)", "", "(选填)", "", "(可选)", "", "(必须)", "", "[必填]", "", "【必填】", "", "*", "",
)

// normaliseHeader folds a header cell for lookup: NFKC (full-width letters,
// parentheses and spaces become ASCII), lower case, no spaces, underscores or
// dashes, no required/optional marks, no trailing colon.
func normaliseHeader(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '_' || r == '-' {
			return -1
		}
		return r
	}, s)
	s = headerMarkers.Replace(s)
	return strings.TrimRight(s, ":")
}

// headerField returns the canonical field of a header cell, or "". A header
// with a note in parentheses ("手机号(登录用)") is tried without it too.
func headerField(cell string) string {
	h := normaliseHeader(cell)
	if f, ok := rosterHeaders[h]; ok {
		return f
	}
	if i := strings.LastIndexByte(h, '('); i > 0 && strings.HasSuffix(h, ")") {
		return rosterHeaders[h[:i]]
	}
	return ""
}

// rosterRecord is one data row of a roster file: its spreadsheet row number
// (header = 1) and its cells by canonical field name. Every field the file
// has a column for is there, "" when the cell is empty, so that an update
// can tell a cleared cell from a column the file does not have.
type rosterRecord struct {
	Row   int
	Cells map[string]string
}

// File signatures. An .xlsx is a zip; a CFB file is a pre-2007 .xls, or an
// .xlsx encrypted with a password.
var (
	zipMagic = []byte("PK\x03\x04")
	cfbMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// parseRoster reads a roster: CSV (UTF-8 with or without BOM, or GB18030/GBK
// as Excel on Chinese Windows saves it), TSV (also UTF-16 "Unicode text" as
// Excel saves it), or .xlsx (its first sheet). The content decides the kind;
// the file name is only a hint for the delimiter. It maps headers to canonical
// fields and returns EINVALID when the file cannot be read, has no header row,
// lacks the name or phone column, has two columns for one field, has more
// than maxRosterRows rows or a cell longer than maxRosterCell. Empty rows are
// skipped; cells are trimmed. It stops with EUNAVAILABLE when ctx ends.
func parseRoster(ctx context.Context, filename string, data []byte) ([]rosterRecord, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ledger.Errorf(ledger.EINVALID, "import.empty")
	}
	switch {
	case bytes.HasPrefix(data, zipMagic):
		return readXLSX(ctx, data)
	case bytes.HasPrefix(data, cfbMagic):
		return nil, ledger.Errorf(ledger.EINVALID, "import.xls_unsupported")
	}
	text, err := decodeRosterText(data)
	if err != nil {
		return nil, err
	}
	return readTable(ctx, newCSVRows(text, sniffDelimiter(filename, text)), nil)
}

// decodeRosterText returns the text of a CSV or TSV file: a byte-order mark
// decides (UTF-8, UTF-16), else valid UTF-8 is UTF-8, else GB18030 (a superset
// of GBK, what Excel on Chinese Windows writes). Binary data is EINVALID.
func decodeRosterText(data []byte) (string, error) {
	var (
		text string
		err  error
	)
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		text = string(data[3:])
		if !utf8.ValidString(text) {
			return "", ledger.Errorf(ledger.EINVALID, "import.unreadable")
		}
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		text, err = textunicode.UTF16(textunicode.LittleEndian, textunicode.ExpectBOM).NewDecoder().String(string(data))
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		text, err = textunicode.UTF16(textunicode.BigEndian, textunicode.ExpectBOM).NewDecoder().String(string(data))
	case utf8.Valid(data):
		text = string(data)
	default:
		// The decoder turns bytes that are not GB18030 into U+FFFD.
		text, err = simplifiedchinese.GB18030.NewDecoder().String(string(data))
		if strings.ContainsRune(text, utf8.RuneError) {
			return "", ledger.Errorf(ledger.EINVALID, "import.unreadable")
		}
	}
	if err != nil || strings.ContainsRune(text, 0) {
		return "", ledger.Errorf(ledger.EINVALID, "import.unreadable")
	}
	return text, nil
}

// sniffDelimiter picks a tab or a comma by counting both on the first line;
// a .tsv or .txt name breaks a tie (a one-column file).
func sniffDelimiter(filename, text string) rune {
	line, _, _ := strings.Cut(text, "\n")
	tabs, commas := strings.Count(line, "\t"), strings.Count(line, ",")
	switch ext := strings.ToLower(filepath.Ext(filename)); {
	case tabs > commas, tabs == commas && (ext == ".tsv" || ext == ".txt"):
		return '\t'
	}
	return ','
}

// rowSource yields a sheet's rows in order, each with its row number as a
// spreadsheet shows it (a row the source leaves out is not returned); io.EOF
// at the end. Cells past the first n columns are left out once limit(n) is
// called (maxRosterColumns before).
type rowSource interface {
	next() (row int, cells []string, err error)
	limit(n int)
}

// readXLSX reads the first sheet of a workbook. Cells are read raw (no number
// formats), so a phone typed as a number keeps its digits, and a date cell in
// the reported_at column, a day number, is turned into YYYY-MM-DD with the
// workbook's date system.
func readXLSX(ctx context.Context, data []byte) ([]rosterRecord, error) {
	sheet, date1904, err := openXLSXChecked(data, func() error { return cancelled(ctx) })
	if err != nil {
		return nil, readXLSXError(err)
	}
	defer sheet.close()
	sheet.check = func() error { return cancelled(ctx) }
	recs, err := readTable(ctx, sheet, func(field, v string) string {
		if field != fieldReportedAt {
			return v
		}
		if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 1 && n < 2958466 {
			if t, err := excelize.ExcelDateToTime(n, date1904); err == nil {
				return t.Format(time.DateOnly)
			}
		}
		return v
	})
	if err != nil {
		return nil, readXLSXError(err)
	}
	return recs, nil
}

// cancelled returns EUNAVAILABLE once ctx has ended (the request was
// cancelled, the command interrupted).
func cancelled(ctx context.Context) error {
	if ctx.Err() != nil {
		return ledger.Errorf(ledger.EUNAVAILABLE, "import.cancelled")
	}
	return nil
}

// trimCell trims a cell of every kind of space a spreadsheet or a copy from a
// chat app leaves: ASCII and full-width (U+3000) spaces, NBSP, zero-width
// spaces and stray byte-order marks.
func trimCell(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff'
	})
}

// headerRow is a candidate header: the canonical field of every column.
type headerRow struct {
	cols   []string // up to the last known column
	labels []string // the header cells, trimmed
	has    map[string]bool
	dup    [2]string // two headers for one field, if any
}

func mapHeader(cells []string) headerRow {
	h := headerRow{cols: make([]string, len(cells)), labels: make([]string, len(cells)), has: make(map[string]bool)}
	first := make(map[string]string)
	for i, c := range cells {
		h.labels[i] = trimCell(c)
		f := headerField(c)
		if f == "" {
			continue
		}
		h.cols[i] = f
		// Several unit columns (社区, 网格, 楼栋) are one path, read left to right.
		if prev, ok := first[f]; ok && f != fieldUnit && h.dup[0] == "" {
			h.dup = [2]string{prev, trimCell(c)}
		}
		first[f] = trimCell(c)
		h.has[f] = true
	}
	for len(h.cols) > 0 && h.cols[len(h.cols)-1] == "" {
		h.cols = h.cols[:len(h.cols)-1]
	}
	return h
}

// readTable finds the header among the first non-empty rows, then returns
// the data rows that have something in a known column. Every row read
// counts against maxRosterRows, and the context is looked at before each.
// fix, if not nil, rewrites a cell value of a field.
func readTable(ctx context.Context, src rowSource, fix func(field, v string) string) ([]rosterRecord, error) {
	var (
		header   *headerRow
		headerAt int       // its row number
		best     headerRow // the candidate with most known columns, for the error
		looked   int
		records  []rosterRecord
	)
	for {
		if err := cancelled(ctx); err != nil {
			return nil, err
		}
		row, cells, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if row > headerAt+maxRosterRows {
			return nil, ledger.Errorf(ledger.EINVALID, "import.too_many_rows", maxRosterRows)
		}
		if header == nil {
			if !slices.ContainsFunc(cells, func(c string) bool { return trimCell(c) != "" }) {
				continue
			}
			h := mapHeader(cells)
			if h.has[fieldName] && h.has[fieldPhone] {
				if h.dup[0] != "" {
					return nil, ledger.Errorf(ledger.EINVALID, "import.header_duplicate", h.dup[0], h.dup[1])
				}
				header, headerAt = &h, row
				src.limit(len(h.cols))
				continue
			}
			if len(h.has) > len(best.has) {
				best = h
			}
			if looked++; looked == rosterHeaderSearch {
				break
			}
			continue
		}
		rec := rosterRecord{Row: row, Cells: make(map[string]string, len(header.has))}
		for f := range header.has {
			rec.Cells[f] = ""
		}
		empty := true
		for i, c := range cells {
			if i >= len(header.cols) || header.cols[i] == "" {
				continue
			}
			v := trimCell(c)
			if v == "" {
				continue
			}
			if len(v) > maxRosterCell && utf8.RuneCountInString(v) > maxRosterCell {
				return nil, ledger.Errorf(ledger.EINVALID, "import.cell_too_long", row, header.labels[i], maxRosterCell)
			}
			f := header.cols[i]
			if fix != nil {
				v = fix(f, v)
			}
			if prev := rec.Cells[f]; prev != "" {
				v = prev + "/" + v // only the unit field has several columns
			}
			rec.Cells[f] = v
			empty = false
		}
		if empty {
			continue
		}
		records = append(records, rec)
	}
	if header != nil {
		return records, nil
	}
	switch {
	case best.has[fieldName]:
		return nil, ledger.Errorf(ledger.EINVALID, "import.column_phone_missing")
	case best.has[fieldPhone]:
		return nil, ledger.Errorf(ledger.EINVALID, "import.column_name_missing")
	case len(best.has) > 0:
		return nil, ledger.Errorf(ledger.EINVALID, "import.columns_missing")
	}
	return nil, ledger.Errorf(ledger.EINVALID, "import.no_header")
}

// rosterDirectory is the part of the organisation tree an importer can see,
// indexed for looking names up.
type rosterDirectory struct {
	units       map[uuid.UUID]ledger.Unit
	unitsByName map[string][]ledger.Unit
	teamsByName map[string][]ledger.Team
	only        *ledger.Unit // the one unit, when exactly one is visible
}

// nameKey folds a unit or team name for comparison: NFKC, no spaces, lower
// case. "幸福社区 第一网格" and "幸福社区第一网格" are the same name.
func nameKey(s string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, norm.NFKC.String(s)))
}

func newRosterDirectory(units []ledger.Unit, teams []ledger.Team) *rosterDirectory {
	d := &rosterDirectory{
		units:       make(map[uuid.UUID]ledger.Unit, len(units)),
		unitsByName: make(map[string][]ledger.Unit),
		teamsByName: make(map[string][]ledger.Team),
	}
	for _, u := range units {
		if _, dup := d.units[u.ID]; dup {
			continue
		}
		d.units[u.ID] = u
		k := nameKey(u.Name)
		d.unitsByName[k] = append(d.unitsByName[k], u)
	}
	if len(d.units) == 1 {
		d.only = &units[0]
	}
	for _, t := range teams {
		k := nameKey(t.Name)
		d.teamsByName[k] = append(d.teamsByName[k], t)
	}
	return d
}

// unitPathSep separates the levels of a unit path. A dash may also be part
// of a name ("5-1号楼"), so every way of reading the separators is tried.
var unitPathSep = regexp.MustCompile(`[/／>＞\-－]`)

// maxUnitPathPieces bounds the ways a unit path is read.
const maxUnitPathPieces = 12

// unit resolves a unit cell: a unit's name, or a path from some unit down
// ("幸福社区/第一网格", "幸福社区-第一网格-5-1号楼"; a level may be
// skipped). It is an error when no unit in view, or more than one, matches.
func (d *rosterDirectory) unit(cell string) (ledger.Unit, *ledger.Error) {
	seps := unitPathSep.FindAllStringIndex(cell, maxUnitPathPieces)
	// Piece i runs from starts[i] to ends[i]; a name is one or more pieces
	// in a row, with the separators between them.
	starts, ends := []int{0}, []int{}
	for _, sp := range seps {
		ends = append(ends, sp[0])
		starts = append(starts, sp[1])
	}
	ends = append(ends, len(cell))
	if len(seps) == maxUnitPathPieces {
		starts, ends = starts[:1], ends[len(ends)-1:] // too many to try: the whole cell only
	}
	var found []ledger.Unit
	var walk func(i int, parent *ledger.Unit)
	walk = func(i int, parent *ledger.Unit) {
		for j := i; j < len(starts); j++ {
			for _, u := range d.unitsByName[nameKey(cell[starts[i]:ends[j]])] {
				if parent != nil && (u.ID == parent.ID || !u.Within(parent.ID)) {
					continue
				}
				if j < len(starts)-1 {
					walk(j+1, &u)
				} else if !slices.ContainsFunc(found, func(f ledger.Unit) bool { return f.ID == u.ID }) {
					found = append(found, u)
				}
			}
		}
	}
	walk(0, nil)
	switch len(found) {
	case 0:
		return ledger.Unit{}, ledger.Errorf(ledger.EINVALID, "import.unit_unknown", cell)
	case 1:
		return found[0], nil
	}
	return ledger.Unit{}, ledger.Errorf(ledger.EINVALID, "import.unit_ambiguous", cell)
}

// team returns the team called name in the member's unit or the nearest of
// its ancestors.
func (d *rosterDirectory) team(name string, u ledger.Unit) (ledger.Team, bool) {
	var (
		found ledger.Team
		depth = -1
	)
	for _, t := range d.teamsByName[nameKey(name)] {
		if i := slices.Index(u.Path, t.UnitID); i > depth {
			found, depth = t, i
		}
	}
	return found, depth >= 0
}

// community returns the community a unit belongs to (itself, if it is one),
// when the importer can see it.
func (d *rosterDirectory) community(u ledger.Unit) (ledger.Unit, bool) {
	for _, id := range slices.Backward(u.Path) {
		if c, ok := d.units[id]; ok && c.Kind == ledger.UnitCommunity {
			return c, true
		}
	}
	if u.Kind == ledger.UnitCommunity {
		return u, true
	}
	return ledger.Unit{}, false
}

// splitList splits a cell that lists names: 、，,;；/／ and spaces separate.
func splitList(s string) []string {
	var out []string
	for p := range strings.FieldsFuncSeq(s, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("、，,;；/／", r)
	}) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// isPlaceholder reports whether a cell says "nothing" the way spreadsheets
// do: a lone dash or slash, or 无. Such a cell is empty, not a formula.
func isPlaceholder(s string) bool {
	switch s {
	case "-", "－", "—", "——", "/", "／", "无", "暂无":
		return true
	}
	return false
}

// foldValue folds a short coded value for comparison: full-width letters and
// digits to ASCII, lower case, no spaces.
func foldValue(s string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, width.Narrow.String(s)))
}

// partyValues maps what organisers write for 是否党员 / 政治面貌.
var partyValues = map[string]bool{
	"是": true, "y": true, "yes": true, "true": true, "1": true, "√": true,
	"党员": true, "中共党员": true, "预备党员": true, "中共预备党员": true, "共产党员": true, "中国共产党党员": true,
	"否": false, "n": false, "no": false, "false": false, "0": false, "×": false,
	"群众": false, "共青团员": false, "团员": false, "非党员": false, "无": false, "空": false,
}

// statusValues maps what organisers write for 状态.
var statusValues = map[string]ledger.MemberStatus{
	"正常": ledger.MemberActive, "在册": ledger.MemberActive, "启用": ledger.MemberActive, "active": ledger.MemberActive,
	"暂停": ledger.MemberSuspended, "停用": ledger.MemberSuspended, "suspended": ledger.MemberSuspended,
	"离开": ledger.MemberLeft, "退出": ledger.MemberLeft, "已离开": ledger.MemberLeft, "已退出": ledger.MemberLeft,
	"迁出": ledger.MemberLeft, "left": ledger.MemberLeft,
}

// rosterItems turns records into import items, resolving unit and team names
// among the units and teams the importer can see (the caller has filtered
// them to its scope). Each item has its row and either a member (active
// unless a 状态 column says otherwise) or the field and the problem; the
// member then holds what was read before the problem, for the report.
func rosterItems(recs []rosterRecord, units []ledger.Unit, teams []ledger.Team) []ledger.ImportItem {
	d := newRosterDirectory(units, teams)
	items := make([]ledger.ImportItem, len(recs))
	for i, rec := range recs {
		item := ledger.ImportItem{Row: rec.Row, Member: ledger.Member{Status: ledger.MemberActive}}
		if field, err := d.member(rec.Cells, &item.Member); err != nil {
			item.Field, item.Err = field, err
		}
		items[i] = item
	}
	return items
}

// member fills m from one record's cells. On a problem it returns the field
// and the error.
func (d *rosterDirectory) member(cells map[string]string, m *ledger.Member) (string, *ledger.Error) {
	// get returns a cell; a placeholder is empty, a formula is an error.
	get := func(field string) (string, *ledger.Error) {
		v := cells[field]
		if isPlaceholder(v) {
			return "", nil
		}
		if ledger.LooksLikeFormula(v) {
			return v, ledger.Errorf(ledger.EINVALID, "import.formula", v)
		}
		return v, nil
	}

	name, err := get(fieldName)
	switch {
	case err != nil:
		return fieldName, err
	case name == "":
		return fieldName, ledger.Errorf(ledger.EINVALID, "import.name_required")
	case !plainText(name):
		return fieldName, ledger.Errorf(ledger.EINVALID, "import.name_invalid", name)
	}
	m.Name = name

	raw := cells[fieldPhone]
	switch {
	case raw == "" || isPlaceholder(raw):
		return fieldPhone, ledger.Errorf(ledger.EINVALID, "import.phone_required")
	case ledger.LooksLikeFormula(raw) && !strings.HasPrefix(raw, "+"):
		// "+86 138…" is how people write a mobile number; NormalizePhone
		// keeps only its digits, and any other + text fails below.
		return fieldPhone, ledger.Errorf(ledger.EINVALID, "import.formula", raw)
	}
	phone, err := rosterPhone(raw)
	if err != nil {
		return fieldPhone, err
	}
	m.Phone = phone

	unitCell, err := get(fieldUnit)
	var u ledger.Unit
	switch {
	case err != nil:
		return fieldUnit, err
	case unitCell != "":
		if u, err = d.unit(unitCell); err != nil {
			return fieldUnit, err
		}
	case d.only != nil:
		u = *d.only // the importer sees one unit: the column may be left out
	default:
		return fieldUnit, ledger.Errorf(ledger.EINVALID, "import.unit_required")
	}
	m.UnitID = u.ID

	teamCell, err := get(fieldTeams)
	if err != nil {
		return fieldTeams, err
	}
	if teamCell != "" {
		// A team name may itself hold a space or a slash.
		names := []string{teamCell}
		if _, ok := d.team(teamCell, u); !ok {
			names = splitList(teamCell)
		}
		for _, n := range names {
			t, ok := d.team(n, u)
			if !ok {
				return fieldTeams, ledger.Errorf(ledger.EINVALID, "import.team_unknown", n)
			}
			if !slices.Contains(m.TeamIDs, t.ID) {
				m.TeamIDs = append(m.TeamIDs, t.ID)
			}
		}
	}

	party, err := get(fieldPartyMember)
	if err != nil {
		return fieldPartyMember, err
	}
	if party != "" {
		b, ok := partyValues[foldValue(party)]
		if !ok {
			return fieldPartyMember, ledger.Errorf(ledger.EINVALID, "import.party_invalid", party)
		}
		m.PartyMember = b
	}

	status, err := get(fieldStatus)
	if err != nil {
		return fieldStatus, err
	}
	if status != "" {
		s, ok := statusValues[foldValue(status)]
		if !ok {
			return fieldStatus, ledger.Errorf(ledger.EINVALID, "import.status_invalid", status)
		}
		m.Status = s
	}

	if f, err := d.onDuty(get, m); err != nil {
		return f, err
	}

	skills, err := get(fieldSkills)
	if err != nil {
		return fieldSkills, err
	}
	for _, s := range splitList(skills) {
		if !slices.Contains(ledger.Categories, s) {
			return fieldSkills, ledger.Errorf(ledger.EINVALID, "import.skill_unknown", s, strings.Join(ledger.Categories, "、"))
		}
		m.Skills = append(m.Skills, s)
	}

	posts, err := get(fieldPosts)
	if err != nil {
		return fieldPosts, err
	}
	if posts != "" {
		// The posts of a community out of view are checked by the store; a
		// unit above community level has none.
		community, known := d.community(u)
		names := []string{posts}
		if !known || !slices.Contains(community.Posts, posts) {
			names = splitList(posts)
		}
		for _, p := range names {
			if known && !slices.Contains(community.Posts, p) || !known && u.Kind == ledger.UnitStreet {
				return fieldPosts, ledger.Errorf(ledger.EINVALID, "import.post_unknown", p)
			}
			m.Posts = append(m.Posts, p)
		}
	}
	return "", nil
}

// onDuty fills the 在职党员“双报到” details: a work unit makes them; a date
// or a target without one is a mistake.
func (d *rosterDirectory) onDuty(get func(string) (string, *ledger.Error), m *ledger.Member) (string, *ledger.Error) {
	work, err := get(fieldWorkUnit)
	if err != nil {
		return fieldWorkUnit, err
	}
	reported, err := get(fieldReportedAt)
	if err != nil {
		return fieldReportedAt, err
	}
	target, err := get(fieldTargetHours)
	if err != nil {
		return fieldTargetHours, err
	}
	if work == "" {
		if reported != "" || target != "" {
			return fieldWorkUnit, ledger.Errorf(ledger.EINVALID, "import.work_unit_required")
		}
		return "", nil
	}
	if !plainText(work) {
		return fieldWorkUnit, ledger.Errorf(ledger.EINVALID, "import.work_unit_invalid", work)
	}
	od := &ledger.OnDuty{WorkUnit: work}
	if reported != "" {
		day, ok := rosterDate(reported)
		if !ok {
			return fieldReportedAt, ledger.Errorf(ledger.EINVALID, "import.reported_at_invalid", reported)
		}
		od.ReportedAt = day
	}
	if target != "" {
		h, ok := rosterHours(target)
		if !ok {
			return fieldTargetHours, ledger.Errorf(ledger.EINVALID, "import.target_invalid", target)
		}
		od.AnnualTargetHours = h
	}
	m.OnDuty = od
	return "", nil
}

// plainText reports whether s can be a name: at most 64 characters, no line
// breaks or other control characters.
func plainText(s string) bool {
	return utf8.RuneCountInString(s) <= 64 && !strings.ContainsFunc(s, unicode.IsControl)
}

// scientific matches a number in E notation, as a spreadsheet shows a long
// number in a narrow column: 1.3812345678E+10.
var scientific = regexp.MustCompile(`^([0-9])(?:\.([0-9]+))?[eE]\+?([0-9]{1,2})$`)

// rosterPhone reads a phone cell. A number cell of a workbook or a CSV from
// one may show the phone as 13812345678.0 or in E notation; E notation with
// fewer digits than the number has lost the last digits and is refused, not
// guessed.
func rosterPhone(cell string) (string, *ledger.Error) {
	v := width.Narrow.String(cell)
	if m := scientific.FindStringSubmatch(v); m != nil {
		exp, _ := strconv.Atoi(m[3])
		digits := strings.TrimRight(m[2], "0")
		switch {
		case exp != 10 || len(digits) > exp:
			return "", ledger.Errorf(ledger.EINVALID, "import.phone_invalid", cell)
		case len(m[2]) < exp && len(digits) < 7:
			// Excel shows at most 6 digits in E notation (1.38123E+10):
			// the others were rounded away and cannot be guessed.
			return "", ledger.Errorf(ledger.EINVALID, "import.phone_scientific", cell)
		}
		v = m[1] + digits + strings.Repeat("0", exp-len(digits))
	} else if i := strings.IndexByte(v, '.'); i > 0 && strings.Trim(v[i+1:], "0") == "" {
		v = v[:i]
	}
	p, err := ledger.NormalizePhone(v)
	if err != nil {
		return "", ledger.Errorf(ledger.EINVALID, "import.phone_invalid", cell)
	}
	return p, nil
}

// dateForm matches the dates organisers type: 2026-03-05, 2026/3/5,
// 2026.3.5, 2026年3月5日.
var dateForm = regexp.MustCompile(`^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?$`)

// excelEpoch is day 0 of Excel's 1900 date system, as it counts after its
// 29 February 1900 that never was.
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// rosterDate reads a date cell as YYYY-MM-DD. It takes the forms of
// dateForm, 20260305, an ISO date-time (the date part), and an Excel day
// number (1900 system) such as 46086. Years outside 1949–2100 are refused.
func rosterDate(cell string) (string, bool) {
	v := width.Narrow.String(cell)
	if i := strings.IndexAny(v, " T"); i > 0 {
		v = v[:i] // a time after the date
	}
	var y, m, d int
	if p := dateForm.FindStringSubmatch(v); p != nil {
		y, _ = strconv.Atoi(p[1])
		m, _ = strconv.Atoi(p[2])
		d, _ = strconv.Atoi(p[3])
	} else if len(v) == 8 && strings.Trim(v, "0123456789") == "" {
		y, _ = strconv.Atoi(v[:4])
		m, _ = strconv.Atoi(v[4:6])
		d, _ = strconv.Atoi(v[6:])
	} else if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 61 && n < 80000 {
		t := excelEpoch.AddDate(0, 0, int(n))
		y, m, d = t.Year(), int(t.Month()), t.Day()
	} else {
		return "", false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d || y < 1949 || y > 2100 {
		return "", false
	}
	return t.Format(time.DateOnly), true
}

// hourUnits are the units an organiser may write after the target hours.
var hourUnits = []string{"个小时", "小时", "hours", "hour", "hrs", "hr", "h"}

// rosterHours reads an annual target: a whole number of hours, 0 to 2000,
// with or without a unit ("50", "50小时", "50h"). A workbook may give 50 as
// "50.0".
func rosterHours(cell string) (int, bool) {
	v := foldValue(cell)
	for _, u := range hourUnits {
		if s, ok := strings.CutSuffix(v, u); ok {
			v = s
			break
		}
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n != math.Trunc(n) || n < 0 || n > 2000 {
		return 0, false
	}
	return int(n), true
}
