package roster

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"aixin/i18n"
	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// rosterTree is the part of the organisation tree the tests' importer sees:
//
//	阳光街道
//	├── 幸福社区 (posts 政策宣讲岗, 环境卫生岗, 楼道 保洁岗)
//	│   ├── 第一网格 ── 3号楼, 5-1号楼
//	│   └── 第二网格
//	└── 和谐社区 (post 助老岗)
//	    └── 第一网格
//
// Units are named by their path below the street ("幸福社区/第一网格").
type rosterTree struct {
	units []ledger.Unit
	teams []ledger.Team
	unit  map[string]ledger.Unit
	team  map[string]ledger.Team // by "unit path:team name"
}

func newRosterTree(tb testing.TB) rosterTree {
	tb.Helper()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tr := rosterTree{unit: map[string]ledger.Unit{}, team: map[string]ledger.Team{}}
	add := func(path string, kind ledger.UnitKind, posts ...string) {
		tb.Helper()
		var parent *ledger.Unit
		name := path
		if i := strings.LastIndex(path, "/"); i >= 0 {
			p := tr.unit[path[:i]]
			parent, name = &p, path[i+1:]
		} else if kind != ledger.UnitStreet {
			p := tr.unit[""]
			parent = &p
		}
		u, err := ledger.NewUnit(uuid.NewSHA1(uuid.NameSpaceOID, []byte("unit:"+path)), name, kind, parent, now)
		if err != nil {
			tb.Fatalf("unit %s: %v", path, err)
		}
		u.Posts = posts
		if kind == ledger.UnitStreet {
			path = ""
		}
		tr.unit[path] = u
		tr.units = append(tr.units, u)
	}
	add("阳光街道", ledger.UnitStreet)
	add("幸福社区", ledger.UnitCommunity, "政策宣讲岗", "环境卫生岗", "楼道 保洁岗")
	add("幸福社区/第一网格", ledger.UnitGrid)
	add("幸福社区/第一网格/3号楼", ledger.UnitBuilding)
	add("幸福社区/第一网格/5-1号楼", ledger.UnitBuilding)
	add("幸福社区/第二网格", ledger.UnitGrid)
	add("和谐社区", ledger.UnitCommunity, "助老岗")
	add("和谐社区/第一网格", ledger.UnitGrid)
	for _, t := range []struct {
		unit, name string
		kind       ledger.TeamKind
	}{
		{"幸福社区", "幸福社区党员志愿服务队", ledger.TeamPartyVolunteer},
		{"幸福社区", "红马甲 志愿队", ledger.TeamVolunteer},
		{"幸福社区", "巡逻队", ledger.TeamVolunteer},
		{"幸福社区/第一网格", "第一网格巡逻队", ledger.TeamVolunteer},
		{"幸福社区/第一网格", "巡逻队", ledger.TeamVolunteer},
		{"和谐社区", "和谐社区服务队", ledger.TeamVolunteer},
	} {
		key := t.unit + ":" + t.name
		team := ledger.Team{ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte("team:"+key)), Name: t.name, Kind: t.kind, UnitID: tr.unit[t.unit].ID}
		tr.team[key] = team
		tr.teams = append(tr.teams, team)
	}
	return tr
}

// within returns the units and teams of the subtree of the unit at path, as
// the handler filters them for an organiser of that unit.
func (tr rosterTree) within(path string) ([]ledger.Unit, []ledger.Team) {
	root := tr.unit[path].ID
	var units []ledger.Unit
	ids := map[uuid.UUID]bool{}
	for _, u := range tr.units {
		if u.Within(root) {
			units = append(units, u)
			ids[u.ID] = true
		}
	}
	var teams []ledger.Team
	for _, t := range tr.teams {
		if ids[t.UnitID] {
			teams = append(teams, t)
		}
	}
	return units, teams
}

// community returns the community of unit id, nil above community level.
func (tr rosterTree) community(id uuid.UUID) *ledger.Unit {
	for _, u := range tr.units {
		if u.ID == id {
			for _, a := range slices.Backward(u.Path) {
				for _, c := range tr.units {
					if c.ID == a && c.Kind == ledger.UnitCommunity {
						return &c
					}
				}
			}
		}
	}
	return nil
}

// checkRosterError checks err is an EINVALID *ledger.Error whose key is in
// both catalogues with as many verbs as it has arguments, and returns it.
func checkRosterError(tb testing.TB, err error) *ledger.Error {
	tb.Helper()
	e, ok := ledger.AsError(err)
	if !ok {
		tb.Fatalf("error %v (%T) is not a *ledger.Error", err, err)
	}
	if e.Code != ledger.EINVALID {
		tb.Errorf("code = %q, want %q (%v)", e.Code, ledger.EINVALID, e)
	}
	cat := rosterCatalogue(tb)
	for _, lang := range []string{i18n.ZH, i18n.EN} {
		msg, ok := cat.Lookup(lang, e.Key)
		if !ok {
			tb.Errorf("key %q is missing from %s", e.Key, lang)
		} else if i18n.Verbs(msg) != len(e.Args) {
			tb.Errorf("key %q has %d verbs in %s but the error has %d arguments", e.Key, i18n.Verbs(msg), lang, len(e.Args))
		}
	}
	return e
}

// ctx is the tests' context.
var ctx = context.Background()

// rosterCatalogue is the embedded catalogue, read once for all roster tests.
func rosterCatalogue(tb testing.TB) *i18n.Catalogue {
	tb.Helper()
	c, err := i18n.Embedded()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// fixture reads a file of testdata.
func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// allCells returns the cells of a record with all eleven fields, "" unless given.
func allCells(kv ...string) map[string]string {
	m := map[string]string{}
	for _, a := range rosterAliases {
		m[a.field] = ""
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestParseRosterEncodings(t *testing.T) {
	// The same roster as Excel on Chinese Windows saves it (GB18030, CRLF),
	// as "CSV UTF-8" (with a BOM), as plain UTF-8 (LF), and as "Unicode
	// text" (UTF-16 with tabs).
	want := []rosterRecord{
		{2, allCells("name", "张三", "phone", "13812345678", "unit", "幸福社区/第一网格", "teams", "幸福社区党员志愿服务队",
			"party_member", "是", "work_unit", "区税务局", "reported_at", "2026/3/5", "annual_target_hours", "50小时",
			"skills", "环境整治、助老助残", "posts", "政策宣讲岗", "status", "正常")},
		{3, allCells("name", "李四", "phone", "139 1234 5678", "unit", "第二网格", "party_member", "否")},
		{5, allCells("name", "王五", "phone", "+86 137-1234-5678", "unit", "幸福社区", "teams", "红马甲 志愿队",
			"party_member", "群众", "skills", "邻里互助", "status", "暂停")},
		{6, allCells("name", "赵六", "phone", "15012345678", "unit", "幸福社区-第一网格-5-1号楼",
			"teams", "第一网格巡逻队，幸福社区党员志愿服务队", "party_member", "中共党员", "work_unit", "市第一医院",
			"reported_at", "2025年12月1日", "annual_target_hours", "40", "skills", "医疗义诊")},
	}
	gbk := fixture(t, "gbk.csv")
	if utf8.Valid(gbk) || !bytes.Contains(gbk, []byte("\r\n")) {
		t.Fatal("gbk.csv should be GB18030 with CRLF line ends")
	}
	tests := []struct{ name, file string }{
		{"GBK", "gbk.csv"},
		{"UTF8BOM", "bom.csv"},
		{"UTF8", "utf8.csv"},
		{"UTF16Tabs", "utf16.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRoster(ctx, tt.file, fixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("records:\n got %v\nwant %v", got, want)
			}
		})
	}
	t.Run("NameIsOnlyAHint", func(t *testing.T) {
		got, err := parseRoster(ctx, "名单.xlsx", gbk)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("a CSV named .xlsx: %v, %v", got, err)
		}
	})
}

func TestRosterFixtureMembers(t *testing.T) {
	tr := newRosterTree(t)
	recs, err := parseRoster(ctx, "gbk.csv", fixture(t, "gbk.csv"))
	if err != nil {
		t.Fatal(err)
	}
	items := rosterItems(recs, tr.units, tr.teams)
	want := []ledger.ImportItem{
		{Row: 2, Member: ledger.Member{
			Name: "张三", Phone: "13812345678", UnitID: tr.unit["幸福社区/第一网格"].ID,
			TeamIDs: []uuid.UUID{tr.team["幸福社区:幸福社区党员志愿服务队"].ID}, PartyMember: true,
			Skills: []string{"环境整治", "助老助残"}, Status: ledger.MemberActive,
			OnDuty: &ledger.OnDuty{WorkUnit: "区税务局", ReportedAt: "2026-03-05", AnnualTargetHours: 50},
			Posts:  []string{"政策宣讲岗"},
		}},
		{Row: 3, Member: ledger.Member{Name: "李四", Phone: "13912345678", UnitID: tr.unit["幸福社区/第二网格"].ID, Status: ledger.MemberActive}},
		{Row: 5, Member: ledger.Member{
			Name: "王五", Phone: "13712345678", UnitID: tr.unit["幸福社区"].ID,
			TeamIDs: []uuid.UUID{tr.team["幸福社区:红马甲 志愿队"].ID}, Skills: []string{"邻里互助"}, Status: ledger.MemberSuspended,
		}},
		{Row: 6, Member: ledger.Member{
			Name: "赵六", Phone: "15012345678", UnitID: tr.unit["幸福社区/第一网格/5-1号楼"].ID,
			TeamIDs:     []uuid.UUID{tr.team["幸福社区/第一网格:第一网格巡逻队"].ID, tr.team["幸福社区:幸福社区党员志愿服务队"].ID},
			PartyMember: true, Skills: []string{"医疗义诊"}, Status: ledger.MemberActive,
			OnDuty: &ledger.OnDuty{WorkUnit: "市第一医院", ReportedAt: "2025-12-01", AnnualTargetHours: 40},
		}},
	}
	if !reflect.DeepEqual(items, want) {
		t.Errorf("items:\n got %+v\nwant %+v", items, want)
	}
	for _, it := range items {
		m := it.Member
		if err := m.Check(tr.community(m.UnitID)); err != nil {
			t.Errorf("row %d: Member.Check: %v", it.Row, err)
		}
	}
}

func TestRosterProblemsFile(t *testing.T) {
	// One file with the mistakes organisers make, saved by Excel on
	// Chinese Windows.
	tr := newRosterTree(t)
	recs, err := parseRoster(ctx, "problems.csv", fixture(t, "problems.csv"))
	if err != nil {
		t.Fatal(err)
	}
	items := rosterItems(recs, tr.units, tr.teams)
	type outcome struct {
		field, key string
		args       []any
	}
	want := map[int]outcome{
		2:  {},
		3:  {"phone", "import.phone_invalid", []any{"1381234567"}},
		4:  {}, // the same phone as row 2: the store reports it
		5:  {"unit", "import.unit_unknown", []any{"幸福社区/第九网格"}},
		6:  {"name", "import.name_required", nil},
		7:  {"name", "import.formula", []any{"=cmd|' /C calc'!A0"}},
		8:  {"unit", "import.unit_ambiguous", []any{"第一网格"}},
		9:  {"party_member", "import.party_invalid", []any{"不清楚"}},
		10: {}, // a formula in an ignored column (备注) is not imported
	}
	if len(items) != len(want) {
		t.Fatalf("%d items, want %d: %+v", len(items), len(want), items)
	}
	for _, it := range items {
		t.Run(fmt.Sprint("Row", it.Row), func(t *testing.T) {
			w, ok := want[it.Row]
			if !ok {
				t.Fatalf("unexpected row %d", it.Row)
			}
			var got outcome
			if it.Err != nil {
				got = outcome{it.Field, it.Err.Key, it.Err.Args}
				checkRosterError(t, it.Err)
			}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("got %+v, want %+v", got, w)
			}
		})
	}
	if items[0].Member.Phone != items[2].Member.Phone || items[0].Member.Phone != "13812345678" {
		t.Errorf("rows 2 and 4 should have the same normalised phone: %q, %q", items[0].Member.Phone, items[2].Member.Phone)
	}
}

// xlsxFile builds a workbook with fill and returns its bytes.
func xlsxFile(tb testing.TB, fill func(f *excelize.File, sheet string)) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	fill(f, "Sheet1")
	buf, err := f.WriteToBuffer()
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// must fails the test on err.
func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func TestParseRosterXLSX(t *testing.T) {
	day := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	fill := func(f *excelize.File, sh string) {
		must(t, f.SetCellStr(sh, "A1", "幸福社区在职党员“双报到”花名册"))
		must(t, f.SetSheetRow(sh, "A2", &[]any{"*姓名", "手机号（必填）", "社区", "网格", "报到单位", "报到日期", "年度服务目标（小时）", "政治面貌"}))
		must(t, f.SetCellStr(sh, "A3", "张三"))
		must(t, f.SetCellInt(sh, "B3", 13812345678)) // a phone typed as a number
		must(t, f.SetSheetRow(sh, "C3", &[]any{"幸福社区", "第一网格", "区税务局"}))
		must(t, f.SetCellValue(sh, "F3", day)) // a date cell
		must(t, f.SetCellInt(sh, "G3", 50))
		must(t, f.SetCellStr(sh, "H3", "中共党员"))
		// Row 4 is left empty.
		must(t, f.SetSheetRow(sh, "A5", &[]any{"李四", "13912345678", "和谐社区", "第一网格"})) // a text phone
		must(t, f.SetCellStr(sh, "H5", "群众"))
		must(t, f.SetCellStr(sh, "A6", "王五"))
		must(t, f.SetCellDefault(sh, "B6", "1.3712345678E+10")) // a number as some writers store it
		must(t, f.SetCellStr(sh, "C6", "幸福社区"))
		must(t, f.SetCellStr(sh, "A7", "赵六"))
		must(t, f.SetCellFloat(sh, "B7", 13512345678, -1, 64))
		must(t, f.SetCellStr(sh, "C7", "幸福社区"))
		must(t, f.SetCellStr(sh, "E7", "市第一医院"))
		must(t, f.SetCellStr(sh, "F7", "2025年12月1日"))
		must(t, f.SetCellBool(sh, "H7", true))
	}
	fields := []string{"name", "phone", "unit", "work_unit", "reported_at", "annual_target_hours", "party_member"}
	cells := func(kv ...string) map[string]string {
		m := map[string]string{}
		for _, f := range fields {
			m[f] = ""
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	want := []rosterRecord{
		{3, cells("name", "张三", "phone", "13812345678", "unit", "幸福社区/第一网格", "work_unit", "区税务局",
			"reported_at", "2026-03-05", "annual_target_hours", "50", "party_member", "中共党员")},
		{5, cells("name", "李四", "phone", "13912345678", "unit", "和谐社区/第一网格", "party_member", "群众")},
		{6, cells("name", "王五", "phone", "1.3712345678E+10", "unit", "幸福社区")},
		{7, cells("name", "赵六", "phone", "13512345678", "unit", "幸福社区", "work_unit", "市第一医院",
			"reported_at", "2025年12月1日", "party_member", "1")},
	}
	tests := []struct {
		name     string
		date1904 bool
	}{
		{"Date1900", false},
		{"Date1904", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := xlsxFile(t, func(f *excelize.File, sh string) {
				if tt.date1904 {
					must(t, f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &tt.date1904}))
				}
				fill(f, sh)
			})
			got, err := parseRoster(ctx, "upload.bin", data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("records:\n got %v\nwant %v", got, want)
			}
			tr := newRosterTree(t)
			for _, it := range rosterItems(got, tr.units, tr.teams) {
				if it.Err != nil {
					t.Errorf("row %d: %s: %v", it.Row, it.Field, it.Err)
				}
			}
		})
	}
	t.Run("FirstSheetOnly", func(t *testing.T) {
		data := xlsxFile(t, func(f *excelize.File, sh string) {
			must(t, f.SetSheetRow(sh, "A1", &[]any{"姓名", "手机号"}))
			must(t, f.SetSheetRow(sh, "A2", &[]any{"张三", "13812345678"}))
			_, err := f.NewSheet("说明")
			must(t, err)
			must(t, f.SetSheetRow("说明", "A1", &[]any{"姓名", "手机号"}))
			must(t, f.SetSheetRow("说明", "A2", &[]any{"示例", "13900000000"}))
		})
		got, err := parseRoster(ctx, "roster.xlsx", data)
		if err != nil || len(got) != 1 || got[0].Cells["name"] != "张三" {
			t.Errorf("got %v, %v", got, err)
		}
	})
}

func TestParseRosterHeaders(t *testing.T) {
	tests := []struct {
		name   string
		header string
		row    string
		want   map[string]string // cells of the one record
	}{
		{"Plain", "姓名,手机号", "张三,13812345678", map[string]string{"name": "张三", "phone": "13812345678"}},
		{"RequiredMarks", "*姓名,手机号码（必填）,所属社区＊", "张三,13812345678,幸福社区",
			map[string]string{"name": "张三", "phone": "13812345678", "unit": "幸福社区"}},
		{"Spaces", " 姓 名 ,　联系电话　,所属单位", "张三,13812345678,幸福社区",
			map[string]string{"name": "张三", "phone": "13812345678", "unit": "幸福社区"}},
		{"English", "Name,MOBILE,Party Member,work_unit,Annual_Target_Hours", "Zhang San,13812345678,yes,Tax office,50",
			map[string]string{"name": "Zhang San", "phone": "13812345678", "party_member": "yes", "work_unit": "Tax office", "annual_target_hours": "50"}},
		{"NoteInParentheses", "名字,手机(登录用),报到时间(年月日)", "张三,13812345678,2026-03-05",
			map[string]string{"name": "张三", "phone": "13812345678", "reported_at": "2026-03-05"}},
		{"FullWidthParentheses", "姓名,电话,年度服务目标（小时）", "张三,13812345678,50",
			map[string]string{"name": "张三", "phone": "13812345678", "annual_target_hours": "50"}},
		{"UnknownIgnored", "序号,姓名,身份证号,手机,备注", "1,张三,110101199001011234,13812345678,无",
			map[string]string{"name": "张三", "phone": "13812345678"}},
		{"UnitColumnsArePath", "社区,网格,楼栋,姓名,手机号", "幸福社区,第一网格,3号楼,张三,13812345678",
			map[string]string{"unit": "幸福社区/第一网格/3号楼", "name": "张三", "phone": "13812345678"}},
		{"UnitColumnsSomeEmpty", "所属社区,所属网格,姓名,手机号", "幸福社区,,张三,13812345678",
			map[string]string{"unit": "幸福社区", "name": "张三", "phone": "13812345678"}},
		{"AllOtherFields", "姓名,手机号,队伍,是否党员,工作单位,报到日期,目标时长,技能特长,认领服务岗位,状态",
			"张三,13812345678,巡逻队,是,区税务局,2026-03-05,50,环境整治,政策宣讲岗,正常",
			map[string]string{"name": "张三", "phone": "13812345678", "teams": "巡逻队", "party_member": "是", "work_unit": "区税务局",
				"reported_at": "2026-03-05", "annual_target_hours": "50", "skills": "环境整治", "posts": "政策宣讲岗", "status": "正常"}},
		{"TitleRowAbove", "幸福社区志愿者花名册,,\n填表日期：2026年3月,,\n姓名,手机号,所属网格", "张三,13812345678,第二网格",
			map[string]string{"name": "张三", "phone": "13812345678", "unit": "第二网格"}},
		{"Tabs", "姓名\t手机号\t服务意愿", "张三\t13812345678\t环境整治, 助老助残",
			map[string]string{"name": "张三", "phone": "13812345678", "skills": "环境整治, 助老助残"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := parseRoster(ctx, "roster.csv", []byte(tt.header+"\n"+tt.row+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 {
				t.Fatalf("%d records: %v", len(recs), recs)
			}
			if !maps.Equal(recs[0].Cells, tt.want) {
				t.Errorf("cells = %v, want %v", recs[0].Cells, tt.want)
			}
		})
	}
}

func TestParseRosterErrors(t *testing.T) {
	garbage := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(r.Uint32())
	}
	var zipBuf bytes.Buffer
	zw := zip.NewWriter(&zipBuf)
	w, err := zw.Create("readme.txt")
	must(t, err)
	_, err = w.Write([]byte("姓名,手机号"))
	must(t, err)
	must(t, zw.Close())

	var tooMany strings.Builder
	tooMany.WriteString("姓名,手机号\n")
	for i := range maxRosterRows + 1 {
		fmt.Fprintf(&tooMany, "成员%d,138%08d\n", i, i)
	}

	tests := []struct {
		name string
		file string
		data []byte
		key  string
		args []any
	}{
		{"Empty", "roster.csv", nil, "import.empty", nil},
		{"OnlySpaces", "roster.csv", []byte(" \r\n\t\n"), "import.empty", nil},
		{"OnlyEmptyRows", "roster.csv", []byte(",,,\r\n,,,\r\n"), "import.no_header", nil},
		{"Garbage", "roster.csv", garbage, "import.unreadable", nil},
		{"NUL", "roster.csv", []byte("姓名,手机号\n张三,138\x00"), "import.unreadable", nil},
		{"PNG", "roster.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "import.unreadable", nil},
		{"BOMThenInvalidUTF8", "roster.csv", []byte("\xef\xbb\xbf姓名,手机号\n\xff\xfe"), "import.unreadable", nil},
		{"OldXLS", "roster.xls", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...), "import.xls_unsupported", nil},
		{"BrokenZip", "roster.xlsx", []byte("PK\x03\x04 this is not a workbook"), "import.xlsx_invalid", nil},
		{"ZipNotWorkbook", "roster.xlsx", zipBuf.Bytes(), "import.xlsx_invalid", nil},
		{"NoHeader", "roster.csv", []byte("张三,13812345678\n李四,13912345678\n"), "import.no_header", nil},
		{"MissingPhone", "roster.csv", []byte("姓名,所属社区\n张三,幸福社区\n"), "import.column_phone_missing", nil},
		{"MissingName", "roster.csv", []byte("手机号,所属社区\n13812345678,幸福社区\n"), "import.column_name_missing", nil},
		{"MissingBoth", "roster.csv", []byte("所属社区,队伍\n幸福社区,巡逻队\n"), "import.columns_missing", nil},
		{"TwoPhoneColumns", "roster.csv", []byte("姓名,手机,联系电话\n张三,13812345678,13812345678\n"), "import.header_duplicate", []any{"手机", "联系电话"}},
		{"TwoNameColumns", "roster.csv", []byte("姓名,手机号,名字\n"), "import.header_duplicate", []any{"姓名", "名字"}},
		{"UnmatchedQuote", "roster.csv", []byte("姓名,手机号\n张三,13812345678\n\"李四,13912345678\n"), "import.csv_invalid", []any{3}},
		{"BareQuote", "roster.csv", []byte("姓名,手机号\n张\"三,13812345678\n"), "import.csv_invalid", []any{2}},
		{"TooManyRows", "roster.csv", []byte(tooMany.String()), "import.too_many_rows", []any{maxRosterRows}},
		{"HeaderTooFarDown", "roster.csv", []byte(strings.Repeat("说明\n", rosterHeaderSearch) + "姓名,手机号\n张三,13812345678\n"), "import.no_header", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := parseRoster(ctx, tt.file, tt.data)
			if err == nil {
				t.Fatalf("no error; records %v", recs)
			}
			e := checkRosterError(t, err)
			if e.Key != tt.key || !reflect.DeepEqual(e.Args, tt.args) {
				t.Errorf("error %s %v, want %s %v", e.Key, e.Args, tt.key, tt.args)
			}
		})
	}
	t.Run("ExactlyTheLimit", func(t *testing.T) {
		data := []byte(tooMany.String())
		data = data[:bytes.LastIndexByte(data[:len(data)-1], '\n')+1] // drop the last row
		recs, err := parseRoster(ctx, "roster.csv", data)
		if err != nil || len(recs) != maxRosterRows {
			t.Errorf("%d records, %v", len(recs), err)
		}
	})
}

func TestParseRosterRowNumbers(t *testing.T) {
	// Row numbers are what Excel shows when it opens the file: a cell with
	// a line break stays in its row, blank lines and empty rows count.
	tests := []struct {
		name string
		data string
		rows []int
	}{
		{"Plain", "姓名,手机号\n张三,13812345678\n李四,13912345678\n", []int{2, 3}},
		{"NoFinalNewline", "姓名,手机号\n张三,13812345678", []int{2}},
		{"BlankLines", "\n姓名,手机号\n\n张三,13812345678\n\n\n李四,13912345678\n", []int{4, 7}},
		{"EmptyRows", "姓名,手机号,备注\n,,\n张三,13812345678,\n , ,\n李四,13912345678,\n", []int{3, 5}},
		{"LineBreakInCell", "姓名,手机号,备注\r\n张三,13812345678,\"第一行\r\n第二行\r\n第三行\"\r\n李四,13912345678,\r\n", []int{2, 3}},
		{"LineBreakInFirstCell", "备注,姓名,手机号\n\"两行\n备注\",张三,13812345678\n\n李四,13912345678,\n", []int{2, 4}},
		{"TitleRows", "花名册\n\n制表：幸福社区\n姓名,手机号\n张三,13812345678\n", []int{5}},
		{"OnlyIgnoredColumn", "姓名,手机号,备注\n,,填表说明：带*为必填\n张三,13812345678,\n", []int{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := parseRoster(ctx, "roster.csv", []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			var rows []int
			for _, r := range recs {
				rows = append(rows, r.Row)
			}
			if !slices.Equal(rows, tt.rows) {
				t.Errorf("rows = %v, want %v", rows, tt.rows)
			}
		})
	}
}

func TestRosterItems(t *testing.T) {
	tr := newRosterTree(t)
	unit := func(path string) uuid.UUID { return tr.unit[path].ID }
	team := func(key string) uuid.UUID { return tr.team[key].ID }
	base := func(m ledger.Member) ledger.Member {
		if m.Name == "" {
			m.Name = "张三"
		}
		if m.Phone == "" {
			m.Phone = "13812345678"
		}
		if m.UnitID == uuid.Nil {
			m.UnitID = unit("幸福社区")
		}
		if m.Status == "" {
			m.Status = ledger.MemberActive
		}
		return m
	}
	categories := strings.Join(ledger.Categories, "、")
	tests := []struct {
		name  string
		cells []string // field, value pairs over 张三, 13812345678, 幸福社区
		want  ledger.Member
		field string // of the problem, "" if none
		key   string
		args  []any
	}{
		{name: "Minimal"},

		{name: "NameEmpty", cells: []string{"name", ""}, field: "name", key: "import.name_required"},
		{name: "NamePlaceholder", cells: []string{"name", "-"}, field: "name", key: "import.name_required"},
		{name: "NameTooLong", cells: []string{"name", strings.Repeat("张", 65)}, field: "name", key: "import.name_invalid", args: []any{strings.Repeat("张", 65)}},
		{name: "NameLineBreak", cells: []string{"name", "张\n三"}, field: "name", key: "import.name_invalid", args: []any{"张\n三"}},
		{name: "Name64", cells: []string{"name", strings.Repeat("张", 64)}, want: ledger.Member{Name: strings.Repeat("张", 64)}},

		{name: "FormulaDDE", cells: []string{"name", "=cmd|' /C calc'!A0"}, field: "name", key: "import.formula", args: []any{"=cmd|' /C calc'!A0"}},
		{name: "FormulaPlus", cells: []string{"teams", "+1"}, field: "teams", key: "import.formula", args: []any{"+1"}},
		{name: "FormulaAt", cells: []string{"skills", "@SUM(1)"}, field: "skills", key: "import.formula", args: []any{"@SUM(1)"}},
		{name: "FormulaMinus", cells: []string{"work_unit", "-2+3"}, field: "work_unit", key: "import.formula", args: []any{"-2+3"}},
		{name: "FormulaInUnit", cells: []string{"unit", "=HYPERLINK(\"http://x\")"}, field: "unit", key: "import.formula", args: []any{"=HYPERLINK(\"http://x\")"}},
		{name: "FormulaInPhone", cells: []string{"phone", "=13812345678"}, field: "phone", key: "import.formula", args: []any{"=13812345678"}},
		{name: "FormulaPlusNotAPhone", cells: []string{"phone", "+cmd|' /C calc'!A0"}, field: "phone", key: "import.phone_invalid", args: []any{"+cmd|' /C calc'!A0"}},
		{name: "FormulaInParty", cells: []string{"party_member", "=1"}, field: "party_member", key: "import.formula", args: []any{"=1"}},
		{name: "FormulaInPosts", cells: []string{"posts", "@政策宣讲岗"}, field: "posts", key: "import.formula", args: []any{"@政策宣讲岗"}},
		{name: "FormulaInStatus", cells: []string{"status", "=\"正常\""}, field: "status", key: "import.formula", args: []any{"=\"正常\""}},
		{name: "FormulaInDate", cells: []string{"work_unit", "区税务局", "reported_at", "=TODAY()"}, field: "reported_at", key: "import.formula", args: []any{"=TODAY()"}},

		{name: "PhoneEmpty", cells: []string{"phone", ""}, field: "phone", key: "import.phone_required"},
		{name: "PhoneTooShort", cells: []string{"phone", "1381234567"}, field: "phone", key: "import.phone_invalid", args: []any{"1381234567"}},
		{name: "PhoneLandline", cells: []string{"phone", "010-12345678"}, field: "phone", key: "import.phone_invalid", args: []any{"010-12345678"}},
		{name: "PhoneSpaces", cells: []string{"phone", "138 1234 5678"}},
		{name: "PhoneDashes", cells: []string{"phone", "138-1234-5678"}},
		{name: "PhonePlus86", cells: []string{"phone", "+86 138 1234 5678"}},
		{name: "PhoneFullWidth", cells: []string{"phone", "１３８１２３４５６７８"}},
		{name: "PhoneNumberCell", cells: []string{"phone", "13812345678.0"}},
		{name: "PhoneENotation", cells: []string{"phone", "1.3812345678E+10"}},
		{name: "PhoneENotationTrailingZeros", cells: []string{"phone", "1.38123456E+10"}, want: ledger.Member{Phone: "13812345600"}},
		{name: "PhoneENotationLossy", cells: []string{"phone", "1.38123E+10"}, field: "phone", key: "import.phone_scientific", args: []any{"1.38123E+10"}},
		{name: "PhoneENotationWrongSize", cells: []string{"phone", "1.3812345678E+11"}, field: "phone", key: "import.phone_invalid", args: []any{"1.3812345678E+11"}},
		{name: "PhoneDecimal", cells: []string{"phone", "13812345678.5"}, field: "phone", key: "import.phone_invalid", args: []any{"13812345678.5"}},

		{name: "UnitEmpty", cells: []string{"unit", ""}, field: "unit", key: "import.unit_required"},
		{name: "UnitUnknown", cells: []string{"unit", "幸福社区/第九网格"}, field: "unit", key: "import.unit_unknown", args: []any{"幸福社区/第九网格"}},
		{name: "UnitUnknownName", cells: []string{"unit", "光明社区"}, field: "unit", key: "import.unit_unknown", args: []any{"光明社区"}},
		{name: "UnitAmbiguous", cells: []string{"unit", "第一网格"}, field: "unit", key: "import.unit_ambiguous", args: []any{"第一网格"}},
		{name: "UnitPath", cells: []string{"unit", "幸福社区/第一网格"}, want: ledger.Member{UnitID: unit("幸福社区/第一网格")}},
		{name: "UnitPathOtherCommunity", cells: []string{"unit", "和谐社区/第一网格"}, want: ledger.Member{UnitID: unit("和谐社区/第一网格")}},
		{name: "UnitPathFullWidthSlash", cells: []string{"unit", "和谐社区／第一网格"}, want: ledger.Member{UnitID: unit("和谐社区/第一网格")}},
		{name: "UnitPathArrow", cells: []string{"unit", "阳光街道>幸福社区>第二网格"}, want: ledger.Member{UnitID: unit("幸福社区/第二网格")}},
		{name: "UnitPathDash", cells: []string{"unit", "和谐社区-第一网格"}, want: ledger.Member{UnitID: unit("和谐社区/第一网格")}},
		{name: "UnitPathFullWidthDash", cells: []string{"unit", "和谐社区－第一网格"}, want: ledger.Member{UnitID: unit("和谐社区/第一网格")}},
		{name: "UnitPathSpaces", cells: []string{"unit", "幸福社区 / 第一网格"}, want: ledger.Member{UnitID: unit("幸福社区/第一网格")}},
		{name: "UnitPathSkipsLevel", cells: []string{"unit", "幸福社区/3号楼"}, want: ledger.Member{UnitID: unit("幸福社区/第一网格/3号楼")}},
		{name: "UnitNameWithDash", cells: []string{"unit", "5-1号楼"}, want: ledger.Member{UnitID: unit("幸福社区/第一网格/5-1号楼")}},
		{name: "UnitDashPathAndDashName", cells: []string{"unit", "幸福社区-第一网格-5-1号楼"}, want: ledger.Member{UnitID: unit("幸福社区/第一网格/5-1号楼")}},
		{name: "UnitPathWrongOrder", cells: []string{"unit", "第一网格/幸福社区"}, field: "unit", key: "import.unit_unknown", args: []any{"第一网格/幸福社区"}},
		{name: "UnitPathNotBelow", cells: []string{"unit", "和谐社区/第二网格"}, field: "unit", key: "import.unit_unknown", args: []any{"和谐社区/第二网格"}},
		{name: "UnitPlaceholder", cells: []string{"unit", "/"}, field: "unit", key: "import.unit_required"},

		{name: "TeamOfUnit", cells: []string{"teams", "幸福社区党员志愿服务队"}, want: ledger.Member{TeamIDs: []uuid.UUID{team("幸福社区:幸福社区党员志愿服务队")}}},
		{name: "TeamOfAncestor", cells: []string{"unit", "幸福社区/第一网格/3号楼", "teams", "幸福社区党员志愿服务队"},
			want: ledger.Member{UnitID: unit("幸福社区/第一网格/3号楼"), TeamIDs: []uuid.UUID{team("幸福社区:幸福社区党员志愿服务队")}}},
		{name: "TeamsSplit", cells: []string{"unit", "幸福社区/第一网格", "teams", "第一网格巡逻队、幸福社区党员志愿服务队；第一网格巡逻队"},
			want: ledger.Member{UnitID: unit("幸福社区/第一网格"), TeamIDs: []uuid.UUID{team("幸福社区/第一网格:第一网格巡逻队"), team("幸福社区:幸福社区党员志愿服务队")}}},
		{name: "TeamsSplitBySpaces", cells: []string{"unit", "幸福社区/第一网格", "teams", "第一网格巡逻队 幸福社区党员志愿服务队"},
			want: ledger.Member{UnitID: unit("幸福社区/第一网格"), TeamIDs: []uuid.UUID{team("幸福社区/第一网格:第一网格巡逻队"), team("幸福社区:幸福社区党员志愿服务队")}}},
		{name: "TeamNameWithSpace", cells: []string{"teams", "红马甲 志愿队"}, want: ledger.Member{TeamIDs: []uuid.UUID{team("幸福社区:红马甲 志愿队")}}},
		{name: "TeamNearestOfTwo", cells: []string{"unit", "幸福社区/第一网格", "teams", "巡逻队"},
			want: ledger.Member{UnitID: unit("幸福社区/第一网格"), TeamIDs: []uuid.UUID{team("幸福社区/第一网格:巡逻队")}}},
		{name: "TeamOfOtherCommunity", cells: []string{"teams", "和谐社区服务队"}, field: "teams", key: "import.team_unknown", args: []any{"和谐社区服务队"}},
		{name: "TeamOfChildUnit", cells: []string{"teams", "第一网格巡逻队"}, field: "teams", key: "import.team_unknown", args: []any{"第一网格巡逻队"}},
		{name: "TeamOneUnknown", cells: []string{"teams", "幸福社区党员志愿服务队，舞蹈队"}, field: "teams", key: "import.team_unknown", args: []any{"舞蹈队"}},

		{name: "PartyYes", cells: []string{"party_member", "是"}, want: ledger.Member{PartyMember: true}},
		{name: "PartyY", cells: []string{"party_member", "Y"}, want: ledger.Member{PartyMember: true}},
		{name: "PartyFullWidthY", cells: []string{"party_member", "Ｙ"}, want: ledger.Member{PartyMember: true}},
		{name: "PartyTRUE", cells: []string{"party_member", "TRUE"}, want: ledger.Member{PartyMember: true}},
		{name: "Party1", cells: []string{"party_member", "1"}, want: ledger.Member{PartyMember: true}},
		{name: "PartyCPC", cells: []string{"party_member", "中共党员"}, want: ledger.Member{PartyMember: true}},
		{name: "PartyProbationary", cells: []string{"party_member", "预备党员"}, want: ledger.Member{PartyMember: true}},
		{name: "PartyNo", cells: []string{"party_member", "否"}},
		{name: "PartyMasses", cells: []string{"party_member", "群众"}},
		{name: "PartyLeague", cells: []string{"party_member", "共青团员"}},
		{name: "PartyZero", cells: []string{"party_member", "0"}},
		{name: "PartyBad", cells: []string{"party_member", "不清楚"}, field: "party_member", key: "import.party_invalid", args: []any{"不清楚"}},
		{name: "PartyOtherParty", cells: []string{"party_member", "民革党员"}, field: "party_member", key: "import.party_invalid", args: []any{"民革党员"}},

		{name: "StatusNormal", cells: []string{"status", "正常"}},
		{name: "StatusPaused", cells: []string{"status", "暂停"}, want: ledger.Member{Status: ledger.MemberSuspended}},
		{name: "StatusDisabled", cells: []string{"status", "停用"}, want: ledger.Member{Status: ledger.MemberSuspended}},
		{name: "StatusLeft", cells: []string{"status", "离开"}, want: ledger.Member{Status: ledger.MemberLeft}},
		{name: "StatusQuit", cells: []string{"status", "退出"}, want: ledger.Member{Status: ledger.MemberLeft}},
		{name: "StatusBad", cells: []string{"status", "休假"}, field: "status", key: "import.status_invalid", args: []any{"休假"}},

		{name: "OnDuty", cells: []string{"work_unit", "区税务局", "reported_at", "2026-03-05", "annual_target_hours", "50"},
			want: ledger.Member{OnDuty: &ledger.OnDuty{WorkUnit: "区税务局", ReportedAt: "2026-03-05", AnnualTargetHours: 50}}},
		{name: "OnDutyWorkUnitOnly", cells: []string{"work_unit", "区税务局"}, want: ledger.Member{OnDuty: &ledger.OnDuty{WorkUnit: "区税务局"}}},
		{name: "OnDutyPlaceholder", cells: []string{"work_unit", "-"}},
		{name: "OnDutyNone", cells: []string{"work_unit", "无"}},
		{name: "OnDutyWithoutWorkUnit", cells: []string{"reported_at", "2026-03-05"}, field: "work_unit", key: "import.work_unit_required"},
		{name: "WorkUnitTooLong", cells: []string{"work_unit", strings.Repeat("局", 65)}, field: "work_unit", key: "import.work_unit_invalid", args: []any{strings.Repeat("局", 65)}},
		{name: "DateSlashes", cells: []string{"work_unit", "局", "reported_at", "2026/3/5"}, want: ledger.Member{OnDuty: &ledger.OnDuty{WorkUnit: "局", ReportedAt: "2026-03-05"}}},
		{name: "DateDots", cells: []string{"work_unit", "局", "reported_at", "2026.3.5"}, want: ledger.Member{OnDuty: &ledger.OnDuty{WorkUnit: "局", ReportedAt: "2026-03-05"}}},
		{name: "DateChinese", cells: []string{"work_unit", "局", "reported_at", "2026年3月5日"}, want: ledger.Member{OnDuty: &ledger.OnDuty{WorkUnit: "局", ReportedAt: "2026-03-05"}}},
		{name: "DateWithTime", cells: []string{"work_unit", "局", "reported_at", "2026/3/5 0:00"}, want: ledger.Member{OnDuty: &ledger.OnDuty{WorkUnit: "局", ReportedAt: "2026-03-05"}}},
		{name: "DateISO", cells: []string{"work_unit", "局", "reported_at", "2026-03-05T00:00:00Z"}, want: ledger.Member{OnDuty: &ledger.OnDuty{WorkUnit: "局", ReportedAt: "2026-03-05"}}},
		{name: "DateExcelSerial", cells: []string{"work_unit", "局", "reported_at", "46086"}, want: ledger.Member{OnDuty: &ledger.OnDuty{WorkUnit: "局", ReportedAt: "2026-03-05"}}},
		{name: "DateCompact", cells: []string{"work_unit", "局", "reported_at", "20260305"}, want: ledger.Member{OnDuty: &ledger.OnDuty{WorkUnit: "局", ReportedAt: "2026-03-05"}}},
		{name: "DateNoSuchDay", cells: []string{"work_unit", "局", "reported_at", "2026-02-30"}, field: "reported_at", key: "import.reported_at_invalid", args: []any{"2026-02-30"}},
		{name: "DateMonthFirst", cells: []string{"work_unit", "局", "reported_at", "3/5/2026"}, field: "reported_at", key: "import.reported_at_invalid", args: []any{"3/5/2026"}},
		{name: "DateWords", cells: []string{"work_unit", "局", "reported_at", "去年春天"}, field: "reported_at", key: "import.reported_at_invalid", args: []any{"去年春天"}},
		{name: "TargetHoursChinese", cells: []string{"work_unit", "局", "annual_target_hours", "50小时"}, want: ledger.Member{OnDuty: &ledger.OnDuty{WorkUnit: "局", AnnualTargetHours: 50}}},
		{name: "TargetHoursH", cells: []string{"work_unit", "局", "annual_target_hours", "50h"}, want: ledger.Member{OnDuty: &ledger.OnDuty{WorkUnit: "局", AnnualTargetHours: 50}}},
		{name: "TargetHoursSpace", cells: []string{"work_unit", "局", "annual_target_hours", "50 小时"}, want: ledger.Member{OnDuty: &ledger.OnDuty{WorkUnit: "局", AnnualTargetHours: 50}}},
		{name: "TargetNumberCell", cells: []string{"work_unit", "局", "annual_target_hours", "50.0"}, want: ledger.Member{OnDuty: &ledger.OnDuty{WorkUnit: "局", AnnualTargetHours: 50}}},
		{name: "TargetMax", cells: []string{"work_unit", "局", "annual_target_hours", "２０００"}, want: ledger.Member{OnDuty: &ledger.OnDuty{WorkUnit: "局", AnnualTargetHours: 2000}}},
		{name: "TargetTooBig", cells: []string{"work_unit", "局", "annual_target_hours", "2001"}, field: "annual_target_hours", key: "import.target_invalid", args: []any{"2001"}},
		{name: "TargetFraction", cells: []string{"work_unit", "局", "annual_target_hours", "50.5"}, field: "annual_target_hours", key: "import.target_invalid", args: []any{"50.5"}},
		{name: "TargetWords", cells: []string{"work_unit", "局", "annual_target_hours", "五十"}, field: "annual_target_hours", key: "import.target_invalid", args: []any{"五十"}},

		{name: "Skills", cells: []string{"skills", "环境整治、助老助残,环境整治"}, want: ledger.Member{Skills: []string{"环境整治", "助老助残"}}},
		{name: "SkillUnknown", cells: []string{"skills", "环境整治、唱歌"}, field: "skills", key: "import.skill_unknown", args: []any{"唱歌", categories}},

		{name: "Posts", cells: []string{"unit", "幸福社区/第一网格", "posts", "政策宣讲岗/环境卫生岗"},
			want: ledger.Member{UnitID: unit("幸福社区/第一网格"), Posts: []string{"政策宣讲岗", "环境卫生岗"}}},
		{name: "PostWithSpace", cells: []string{"posts", "楼道 保洁岗"}, want: ledger.Member{Posts: []string{"楼道 保洁岗"}}},
		{name: "PostOfOtherCommunity", cells: []string{"posts", "助老岗"}, field: "posts", key: "import.post_unknown", args: []any{"助老岗"}},
		{name: "PostAboveCommunity", cells: []string{"unit", "阳光街道", "posts", "政策宣讲岗"}, field: "posts", key: "import.post_unknown", args: []any{"政策宣讲岗"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cells := map[string]string{"name": "张三", "phone": "13812345678", "unit": "幸福社区"}
			for i := 0; i+1 < len(tt.cells); i += 2 {
				cells[tt.cells[i]] = tt.cells[i+1]
			}
			items := rosterItems([]rosterRecord{{Row: 7, Cells: cells}}, tr.units, tr.teams)
			if len(items) != 1 || items[0].Row != 7 {
				t.Fatalf("items = %+v", items)
			}
			it := items[0]
			if tt.key != "" {
				if it.Err == nil {
					t.Fatalf("no error; member %+v", it.Member)
				}
				checkRosterError(t, it.Err)
				if it.Field != tt.field || it.Err.Key != tt.key || !reflect.DeepEqual(it.Err.Args, tt.args) {
					t.Errorf("problem %s: %s %v, want %s: %s %v", it.Field, it.Err.Key, it.Err.Args, tt.field, tt.key, tt.args)
				}
				return
			}
			if it.Err != nil {
				t.Fatalf("problem %s: %v", it.Field, it.Err)
			}
			if want := base(tt.want); !reflect.DeepEqual(it.Member, want) {
				t.Errorf("member:\n got %+v\nwant %+v", it.Member, want)
			}
			m := it.Member
			if err := m.Check(tr.community(m.UnitID)); err != nil {
				t.Errorf("Member.Check: %v", err)
			}
		})
	}
}

func TestRosterItemsScope(t *testing.T) {
	tr := newRosterTree(t)
	tests := []struct {
		name  string
		scope string // the organiser's unit
		unit  string // the cell
		want  string // the unit's path, or the error key
	}{
		{"OwnCommunity", "和谐社区", "和谐社区", "和谐社区"},
		{"OtherCommunity", "和谐社区", "幸福社区", "import.unit_unknown"},
		{"NameUniqueInScope", "和谐社区", "第一网格", "和谐社区/第一网格"},
		{"StreetOutOfScope", "幸福社区", "阳光街道/幸福社区/第二网格", "import.unit_unknown"},
		{"OneUnitInViewFillsEmptyCell", "幸福社区/第二网格", "", "幸福社区/第二网格"},
		{"EmptyCellWithSeveralUnits", "幸福社区/第一网格", "", "import.unit_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			units, teams := tr.within(tt.scope)
			items := rosterItems([]rosterRecord{{Row: 2, Cells: map[string]string{"name": "张三", "phone": "13812345678", "unit": tt.unit}}}, units, teams)
			it := items[0]
			if strings.HasPrefix(tt.want, "import.") {
				if it.Err == nil || it.Err.Key != tt.want || it.Field != "unit" {
					t.Errorf("got %s %v, want %s", it.Field, it.Err, tt.want)
				}
				return
			}
			if it.Err != nil || it.Member.UnitID != tr.unit[tt.want].ID {
				t.Errorf("got unit %v (%v), want %s", it.Member.UnitID, it.Err, tt.want)
			}
		})
	}
	t.Run("TeamOutOfScope", func(t *testing.T) {
		// An organiser of a grid sees neither the community nor its teams.
		units, teams := tr.within("幸福社区/第一网格")
		items := rosterItems([]rosterRecord{{Row: 2, Cells: map[string]string{
			"name": "张三", "phone": "13812345678", "unit": "第一网格", "teams": "幸福社区党员志愿服务队",
		}}}, units, teams)
		if it := items[0]; it.Err == nil || it.Err.Key != "import.team_unknown" {
			t.Errorf("got %+v", it)
		}
	})
	t.Run("PostsOfCommunityOutOfView", func(t *testing.T) {
		// The store checks posts against the community it can see.
		units, teams := tr.within("幸福社区/第一网格")
		items := rosterItems([]rosterRecord{{Row: 2, Cells: map[string]string{
			"name": "张三", "phone": "13812345678", "unit": "第一网格", "posts": "政策宣讲岗",
		}}}, units, teams)
		if it := items[0]; it.Err != nil || !slices.Equal(it.Member.Posts, []string{"政策宣讲岗"}) {
			t.Errorf("got %+v", it)
		}
	})
}

// roster10k returns a 10,000-row roster as Excel on Chinese Windows saves a
// CSV, as UTF-8, and as .xlsx (phones as text cells, a date cell).
func roster10k(tb testing.TB) (gbk, utf []byte, xlsx []byte) {
	tb.Helper()
	const n = 10000
	header := []string{"序号", "姓名", "手机号", "所属社区/网格", "队伍", "是否党员", "报到单位", "报到时间", "年度目标时长", "服务意愿", "状态"}
	units := []string{"幸福社区/第一网格", "幸福社区/第二网格", "和谐社区/第一网格", "幸福社区/第一网格/3号楼"}
	teams := []string{"幸福社区党员志愿服务队", "", "和谐社区服务队", "第一网格巡逻队、巡逻队"}
	row := func(i int) []string {
		k := i % len(units)
		r := []string{fmt.Sprint(i + 1), fmt.Sprintf("志愿者%05d", i), fmt.Sprintf("138%08d", i), units[k], teams[k], "否", "", "", "", ledger.Categories[i%len(ledger.Categories)], "正常"}
		if i%3 == 0 {
			r[5], r[6], r[7], r[8] = "是", "区税务局", "2026/3/5", "50"
		}
		return r
	}
	var b strings.Builder
	b.WriteString(strings.Join(header, ",") + "\r\n")
	for i := range n {
		b.WriteString(strings.Join(row(i), ",") + "\r\n")
	}
	utf = []byte(b.String())
	gbk, err := simplifiedchinese.GB18030.NewEncoder().Bytes(utf)
	must(tb, err)

	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	must(tb, err)
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	must(tb, err)
	values := make([]any, len(header))
	for i, h := range header {
		values[i] = h
	}
	must(tb, sw.SetRow("A1", values))
	for i := range n {
		r := row(i)
		values := make([]any, len(r))
		for j, v := range r {
			values[j] = v
		}
		if r[7] != "" {
			values[7] = excelize.Cell{StyleID: dateStyle, Value: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)}
		}
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		must(tb, err)
		must(tb, sw.SetRow(cell, values))
	}
	must(tb, sw.Flush())
	buf, err := f.WriteToBuffer()
	must(tb, err)
	return gbk, utf, buf.Bytes()
}

func TestParseRoster10k(t *testing.T) {
	gbk, utf, xlsx := roster10k(t)
	tr := newRosterTree(t)
	tests := []struct {
		name, file string
		data       []byte
	}{
		{"CSVGBK", "roster.csv", gbk},
		{"CSVUTF8", "roster.csv", utf},
		{"XLSX", "roster.xlsx", xlsx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := parseRoster(ctx, tt.file, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 10000 || recs[0].Row != 2 || recs[len(recs)-1].Row != 10001 {
				t.Fatalf("%d records, rows %d..%d", len(recs), recs[0].Row, recs[len(recs)-1].Row)
			}
			if got := recs[3].Cells["reported_at"]; got != "2026/3/5" && got != "2026-03-05" {
				t.Errorf("reported_at = %q", got)
			}
			items := rosterItems(recs, tr.units, tr.teams)
			phones := map[string]bool{}
			for _, it := range items {
				if it.Err != nil {
					t.Fatalf("row %d: %s: %v", it.Row, it.Field, it.Err)
				}
				phones[it.Member.Phone] = true
			}
			if len(phones) != 10000 {
				t.Errorf("%d distinct phones", len(phones))
			}
		})
	}
}

// BenchmarkParseRoster10k parses a 10,000-row roster; rows/s counts parsed
// rows. The items case times rosterItems on the parsed records.
func BenchmarkParseRoster10k(b *testing.B) {
	gbk, utf, xlsx := roster10k(b)
	for _, bb := range []struct {
		name string
		data []byte
	}{
		{"csv-gbk", gbk},
		{"csv-utf8", utf},
		{"xlsx", xlsx},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.data)))
			for b.Loop() {
				recs, err := parseRoster(ctx, "roster", bb.data)
				if err != nil || len(recs) != 10000 {
					b.Fatal(len(recs), err)
				}
			}
			b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
	b.Run("items", func(b *testing.B) {
		tr := newRosterTree(b)
		recs, err := parseRoster(ctx, "roster.csv", utf)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			rosterItems(recs, tr.units, tr.teams)
		}
		b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

func FuzzParseRoster(f *testing.F) {
	gb := func(s string) []byte {
		b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	for _, s := range []struct {
		name string
		data []byte
	}{
		{"r.csv", []byte("姓名,手机号\n张三,13812345678\n")},
		{"r.csv", []byte("\xef\xbb\xbf姓名,手机号,所属社区/网格\r\n张三,13812345678,幸福社区/第一网格\r\n")},
		{"r.csv", gb("姓名,手机号码,所属社区/网格,是否党员\r\n张三,13812345678,幸福社区-第一网格-5-1号楼,是\r\n,,,\r\n李四,139 1234 5678,第一网格,否\r\n")},
		{"r.csv", gb("*姓名,手机（必填）,队伍,报到单位,报到时间,年度目标时长,服务意愿,认领岗位,状态\r\n王五,+86 137-1234-5678,红马甲 志愿队,区税务局,2026年3月5日,50小时,环境整治、助老助残,政策宣讲岗,暂停\r\n")},
		{"r.csv", []byte("姓名,手机号\n=cmd|' /C calc'!A0,13812345678\n@SUM(1),+1\n")},
		{"r.csv", []byte("花名册\n\n姓名,手机号,备注\n张三,1.3812345678E+10,\"两\n行\"\n\n")},
		{"r.tsv", []byte("姓名\t手机号\t社区\t网格\n张三\t13812345678\t幸福社区\t第一网格\n")},
		{"r.txt", append([]byte{0xff, 0xfe}, []byte("J\x59\x0d\x54\t\x00")...)},
		{"r.csv", []byte("姓名,手机,联系电话\n")},
		{"r.csv", []byte("姓名,手机号\n\"张三,138\n")},
		{"r.csv", []byte("PK\x03\x04")},
		{"r.csv", []byte{0xd5, 0xc5, 0xff, 0x00}},
		{"r.csv", []byte("")},
	} {
		f.Add(s.name, s.data)
	}
	for _, name := range []string{"gbk.csv", "bom.csv", "problems.csv", "utf16.txt"} {
		f.Add(name, fixture(f, name))
	}
	f.Add("r.xlsx", xlsxFile(f, func(x *excelize.File, sh string) {
		must(f, x.SetSheetRow(sh, "A1", &[]any{"姓名", "手机号", "报到时间"}))
		must(f, x.SetSheetRow(sh, "A2", &[]any{"张三", 13812345678, 46086}))
	}))
	f.Add("r.xlsx", wideRoster(f, 3, true))
	f.Add("r.xlsx", sheetXLSX(f, func(w io.Writer) {
		io.WriteString(w, `<row><c t="inlineStr"><is><r><t>姓</t></r><r><t>名</t></r><rPh><t>xing</t></rPh></is></c><c t="inlineStr"><is><t>手机号</t></is></c></row>`+
			`<row r="3"><c r="A3" t="str"><v>张三</v></c><c r="B3"><f>1</f><v>13812345678</v></c><c r="C3"><v>_x0041_</v></c></row>`)
	}))
	f.Add("r.csv", []byte("姓名,手机号\n\"张\"\"三\",13812345678,"+strings.Repeat(",", 2000)+"x\n\n\r\n"))
	tr := newRosterTree(f)
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		recs, err := parseRoster(ctx, name, data)
		if err != nil {
			if e, ok := ledger.AsError(err); !ok || e.Code != ledger.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		last := 1
		for _, r := range recs {
			if r.Row < 2 || r.Row <= last {
				t.Fatalf("row %d after row %d", r.Row, last)
			}
			last = r.Row
		}
		items := rosterItems(recs, tr.units, tr.teams)
		if len(items) != len(recs) {
			t.Fatalf("%d items for %d records", len(items), len(recs))
		}
		for i, it := range items {
			if it.Row != recs[i].Row {
				t.Fatalf("item %d has row %d, record %d", i, it.Row, recs[i].Row)
			}
			if it.Err != nil {
				if it.Field == "" || it.Err.Key == "" {
					t.Fatalf("row %d: problem without field or key: %+v", it.Row, it)
				}
				continue
			}
			// A member the importer accepts is one the store accepts.
			m := it.Member
			if err := m.Check(tr.community(m.UnitID)); err != nil {
				t.Fatalf("row %d: %+v fails Member.Check: %v", it.Row, it.Member, err)
			}
		}
	})
}
