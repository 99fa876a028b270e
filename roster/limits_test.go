package roster

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"aixin/i18n"
	"aixin/ledger"
	"aixin/store/bolt"

	"github.com/xuri/excelize/v2"
)

// sheetXLSX returns a minimal workbook whose one sheet's rows are written
// by rows (the XML inside <sheetData>), as a crafted upload would be: inline
// strings, no shared strings, no styles.
func sheetXLSX(tb testing.TB, rows func(w io.Writer)) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	part := func(name, body string) io.Writer {
		w, err := zw.Create(name)
		must(tb, err)
		_, err = io.WriteString(w, body)
		must(tb, err)
		return w
	}
	part("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`)
	part("_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	part("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	part("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`)
	w := part("xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	rows(w)
	_, err := io.WriteString(w, `</sheetData></worksheet>`)
	must(tb, err)
	must(tb, zw.Close())
	return buf.Bytes()
}

// inlineCell is a cell with an inline string.
func inlineCell(ref, v string) string {
	return `<c r="` + ref + `" t="inlineStr"><is><t>` + v + `</t></is></c>`
}

// wideRoster returns a workbook with the header 姓名, 手机号 and n rows
// below it, each with a cell in column XFD, the last column a sheet has;
// with people, each row also names a person in A and B.
func wideRoster(tb testing.TB, n int, people bool) []byte {
	tb.Helper()
	return sheetXLSX(tb, func(w io.Writer) {
		fmt.Fprintf(w, `<row r="1">%s%s</row>`, inlineCell("A1", "姓名"), inlineCell("B1", "手机号"))
		for i := range n {
			r := i + 2
			fmt.Fprintf(w, `<row r="%d">`, r)
			if people {
				fmt.Fprintf(w, `%s<c r="B%d"><v>138%08d</v></c>`, inlineCell(fmt.Sprintf("A%d", r), fmt.Sprintf("成员%d", i)), r, i)
			}
			fmt.Fprintf(w, `<c r="XFD%d"><v>1</v></c></row>`, r)
		}
	})
}

// BenchmarkParseRosterWide parses 20,000 rows that each have a cell in
// column XFD besides a person (a roster that is accepted), and 20,000 rows
// with nothing but such a cell.
func BenchmarkParseRosterWide(b *testing.B) {
	for _, bb := range []struct {
		name   string
		people bool
	}{
		{"people-and-xfd", true},
		{"only-xfd", false},
	} {
		data := wideRoster(b, maxRosterRows, bb.people)
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := parseRoster(ctx, "roster.xlsx", data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(maxRosterRows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// countingRows counts the rows a source gives and, once the header set the
// width, the most cells any row had.
type countingRows struct {
	src    rowSource
	rows   int
	width  int // set by limit
	widest int
	after  func(rows int) // called after each row, if set
}

func (c *countingRows) next() (int, []string, error) {
	row, cells, err := c.src.next()
	if err == nil {
		c.rows++
		if c.width > 0 {
			c.widest = max(c.widest, len(cells))
		}
		if c.after != nil {
			c.after(c.rows)
		}
	}
	return row, cells, err
}

func (c *countingRows) limit(n int) {
	c.width = n
	c.src.limit(n)
}

// rosterSource opens data as parseRoster would, as a source of rows.
func rosterSource(tb testing.TB, name string, data []byte) rowSource {
	tb.Helper()
	if bytes.HasPrefix(data, zipMagic) {
		sheet, _, err := openXLSX(data)
		must(tb, err)
		tb.Cleanup(func() { sheet.close() })
		return sheet
	}
	text, err := decodeRosterText(data)
	must(tb, err)
	return newCSVRows(text, sniffDelimiter(name, text))
}

func TestRosterRowLimit(t *testing.T) {
	const many = 10 * maxRosterRows
	var (
		blankLines    = "姓名,手机号\n" + strings.Repeat("\n", many)
		crlfLines     = "姓名,手机号\r\n" + strings.Repeat("\r\n", many)
		otherColumn   = "姓名,手机号,备注\n" + strings.Repeat(",,说明\n", many)
		emptyCells    = "姓名,手机号,备注\n" + strings.Repeat(",,\n", many)
		blankAtTop    = strings.Repeat("\n", maxRosterRows+1) + "姓名,手机号\n张三,13812345678\n"
		wideLine      = ",1" + strings.Repeat(",", xlsxMaxColumns-3) + "1\n"
		wideCSV       strings.Builder
		people        strings.Builder
		peopleTooMany strings.Builder
	)
	wideCSV.WriteString("姓名,手机号\n")
	for i := range 900 { // 16,384 fields a line, about 15 MB
		fmt.Fprintf(&wideCSV, "成员%d,138%08d%s", i, i, wideLine)
	}
	people.WriteString("姓名,手机号\n")
	for i := range maxRosterRows {
		fmt.Fprintf(&people, "成员%d,138%08d\n", i, i)
	}
	peopleTooMany.WriteString(people.String() + "\n")

	tests := []struct {
		name    string
		file    string
		data    []byte
		key     string // the refusal, "" if accepted
		rows    int    // rows read
		records int    // if accepted
		widest  int    // cells in a row below the header, at most
	}{
		// A cell in column XFD on every row: the rows count, the cells are never read.
		{"XLSXOnlyFarCells", "r.xlsx", wideRoster(t, many, false), "import.too_many_rows", maxRosterRows + 2, 0, 0},
		{"XLSXPeopleAndFarCells", "r.xlsx", wideRoster(t, maxRosterRows, true), "", maxRosterRows + 1, maxRosterRows, 2},
		{"XLSXPeopleAndFarCellsOneTooMany", "r.xlsx", wideRoster(t, maxRosterRows+1, true), "import.too_many_rows", maxRosterRows + 2, 0, 2},
		{"CSVBlankLines", "r.csv", []byte(blankLines), "import.too_many_rows", maxRosterRows + 2, 0, 0},
		{"CSVBlankCRLFLines", "r.csv", []byte(crlfLines), "import.too_many_rows", maxRosterRows + 2, 0, 0},
		{"CSVOnlyUnknownColumn", "r.csv", []byte(otherColumn), "import.too_many_rows", maxRosterRows + 2, 0, 2},
		{"CSVEmptyCells", "r.csv", []byte(emptyCells), "import.too_many_rows", maxRosterRows + 2, 0, 2},
		{"CSVBlankLinesAboveHeader", "r.csv", []byte(blankAtTop), "import.too_many_rows", maxRosterRows + 1, 0, 0},
		{"CSVWideLines", "r.csv", []byte(wideCSV.String()), "", 901, 900, 2},
		{"CSVTheLimit", "r.csv", []byte(people.String()), "", maxRosterRows + 1, maxRosterRows, 2},
		// A blank line after the last person is a row too.
		{"CSVTheLimitAndABlankLine", "r.csv", []byte(peopleTooMany.String()), "import.too_many_rows", maxRosterRows + 2, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &countingRows{src: rosterSource(t, tt.file, tt.data)}
			recs, err := readTable(ctx, src, nil)
			switch {
			case tt.key == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.key != "":
				if err == nil {
					t.Fatalf("accepted %d records", len(recs))
				}
				if e := checkRosterError(t, err); e.Key != tt.key || !reflect.DeepEqual(e.Args, []any{maxRosterRows}) {
					t.Errorf("error %s %v, want %s", e.Key, e.Args, tt.key)
				}
			case len(recs) != tt.records:
				t.Errorf("%d records, want %d", len(recs), tt.records)
			}
			if src.rows != tt.rows {
				t.Errorf("%d rows read, want %d", src.rows, tt.rows)
			}
			if src.widest > tt.widest {
				t.Errorf("a row below the header came with %d cells; the header has %d columns", src.widest, tt.widest)
			}
			// parseRoster answers the same.
			recs2, err2 := parseRoster(ctx, tt.file, tt.data)
			if (err == nil) != (err2 == nil) || len(recs2) != len(recs) {
				t.Errorf("parseRoster: %d records, %v", len(recs2), err2)
			}
		})
	}
}

func TestRosterCellTooLong(t *testing.T) {
	long := strings.Repeat("张", maxRosterCell+1)
	tests := []struct {
		name string
		file string
		data []byte
		args []any // of import.cell_too_long, nil if accepted
	}{
		{"CSVName", "r.csv", []byte("姓名,手机号\n张三,13812345678\n" + long + ",13912345678\n"), []any{3, "姓名", maxRosterCell}},
		{"CSVQuotedUnit", "r.csv", []byte("姓名,手机号,所属社区\n张三,13812345678,\"" + long + "\"\n"), []any{2, "所属社区", maxRosterCell}},
		{"CSVTheLimit", "r.csv", []byte("姓名,手机号\n" + long[:len(long)-len("张")] + ",13812345678\n"), nil},
		// A huge cell in a column the import does not read is not read.
		{"CSVHugeIgnored", "r.csv", []byte("姓名,手机号,备注\n张三,13812345678,\"" + strings.Repeat("备注\n", 3<<20) + "\"\n"), nil},
		{"CSVHugeBeyondHeader", "r.csv", []byte("姓名,手机号\n张三,13812345678," + strings.Repeat("x", 15<<20) + "\n"), nil},
		{"XLSXName", "r.xlsx", sheetXLSX(t, func(w io.Writer) {
			fmt.Fprintf(w, `<row r="1">%s%s</row><row r="2">%s%s</row>`, inlineCell("A1", "姓名"), inlineCell("B1", "手机号"),
				inlineCell("A2", long), inlineCell("B2", "13812345678"))
		}), []any{2, "姓名", maxRosterCell}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := parseRoster(ctx, tt.file, tt.data)
			if tt.args == nil {
				if err != nil || len(recs) != 1 {
					t.Fatalf("%d records, %v", len(recs), err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %v", recs)
			}
			if e := checkRosterError(t, err); e.Key != "import.cell_too_long" || !reflect.DeepEqual(e.Args, tt.args) {
				t.Errorf("error %s %v, want import.cell_too_long %v", e.Key, e.Args, tt.args)
			}
		})
	}
}

func TestRosterCancelled(t *testing.T) {
	for _, kind := range []struct {
		name string
		file string
		data []byte
	}{
		{"CSV", "r.csv", []byte("姓名,手机号\n" + strings.Repeat(",,说明\n", maxRosterRows))},
		{"XLSX", "r.xlsx", wideRoster(t, maxRosterRows, false)},
	} {
		t.Run(kind.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			src := &countingRows{src: rosterSource(t, kind.file, kind.data), after: func(rows int) {
				if rows == 100 {
					cancel() // the client goes away while row 100 is read
				}
			}}
			_, err := readTable(ctx, src, nil)
			if e, ok := ledger.AsError(err); !ok || e.Code != ledger.EUNAVAILABLE || e.Key != "import.cancelled" {
				t.Fatalf("error %v, want EUNAVAILABLE import.cancelled", err)
			}
			if src.rows != 100 {
				t.Errorf("%d rows read after the cancel at row 100", src.rows)
			}
			if _, err := parseRoster(ctx, kind.file, kind.data); ledger.ErrorCode(err) != ledger.EUNAVAILABLE {
				t.Errorf("parseRoster on an ended context: %v", err)
			}
		})
	}
	t.Run("WithinOneWideRow", func(t *testing.T) {
		// A row of 16,384 cells, none of them kept, still stops for the context.
		data := sheetXLSX(t, func(w io.Writer) {
			fmt.Fprintf(w, `<row r="1">%s%s</row><row r="2">`, inlineCell("A1", "姓名"), inlineCell("B1", "手机号"))
			w.Write(bytes.Repeat([]byte(`<c><v>1</v></c>`), xlsxMaxColumns))
			io.WriteString(w, `</row>`)
		})
		sheet, _, err := openXLSX(data)
		must(t, err)
		defer sheet.close()
		stop := errors.New("stop")
		checks := 0
		sheet.check = func() error {
			checks++
			return stop
		}
		if _, _, err := sheet.next(); err != nil {
			t.Fatal(err)
		}
		sheet.limit(2)
		if _, _, err := sheet.next(); err != stop || checks != 1 {
			t.Errorf("error %v after %d checks, want the check's error after one", err, checks)
		}
	})
}

// TestImportRosterTooManyRows imports the files that once held a CPU for
// minutes into a real store and gets the refusal, with nothing written.
func TestImportRosterTooManyRows(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "aixin.db"), bolt.Options{})
	must(t, err)
	defer st.Close()
	xlsx := wideRoster(t, 10*maxRosterRows, false)
	t.Logf("the workbook of %d rows with a cell in XFD: %d bytes", 10*maxRosterRows, len(xlsx))
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"名册.xlsx", xlsx},
		{"名册.csv", []byte("姓名,手机号,备注\r\n" + strings.Repeat(",,说明\r\n", 10*maxRosterRows))},
		{"空行.csv", []byte("姓名,手机号\r\n" + strings.Repeat("\r\n", 5<<20))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Import(ctx, st, rosterCatalogue(t), i18n.ZH, ledger.Scope{All: true}, tt.name, tt.data, false)
			le, ok := ledger.AsError(err)
			if !ok || le.Code != ledger.EINVALID || rosterCatalogue(t).T(i18n.ZH, le.Key, le.Args...) != "花名册超过 20000 行，请分成几个文件分别导入" {
				t.Errorf("error = %v", err)
			}
		})
	}
	members, err := st.Members(ctx, ledger.MemberFilter{Scope: ledger.Scope{All: true}, Limit: 10})
	must(t, err)
	if len(members) != 0 {
		t.Errorf("%d members imported", len(members))
	}
}

// csvReference reads text with encoding/csv and numbers the records as
// Excel does (blank lines count), as the import did before csvRows.
func csvReference(text string, comma rune) (rows []int, recs [][]string, errLine int) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = comma
	r.FieldsPerRecord = -1
	row, endLine := 0, 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, recs, 0
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return rows, recs, pe.StartLine
			}
			return rows, recs, -1
		}
		start, _ := r.FieldPos(0)
		row += 1 + max(0, start-endLine-1)
		last, _ := r.FieldPos(len(rec) - 1)
		endLine = last + strings.Count(rec[len(rec)-1], "\n")
		rows, recs = append(rows, row), append(recs, rec)
	}
}

// FuzzCSVRows checks that csvRows reads what encoding/csv reads: the same
// records, row numbers and errors; and that a width keeps a prefix of each.
func FuzzCSVRows(f *testing.F) {
	for _, s := range []string{
		"姓名,手机号\n张三,13812345678\n",
		"a,b\r\nc,d\r\n",
		"\n\na\n\n\nb",
		"\"x\ny\",z\n",
		"\"a\"\"b\",\"\"\n",
		"a,\"b\r\nc\"\r\n,\r\n",
		"a\r\r\nb\r",
		"\"a\"\r",
		"\"a\"\r\r\n",
		"a,\"b",
		"a\"b,c\n",
		"\"a\"b\n",
		"a,b,\n,,,\n",
		" \t,\t\n",
		"\r",
		"\r\n\r\n",
		",",
		"\"\"\"",
	} {
		f.Add(s, false, 2)
		f.Add(strings.ReplaceAll(s, ",", "\t"), true, 1)
	}
	f.Fuzz(func(t *testing.T, text string, tab bool, width int) {
		if !utf8.ValidString(text) {
			return // the import decodes text to UTF-8 first
		}
		comma := ','
		if tab {
			comma = '\t'
		}
		wantRows, wantRecs, wantErr := csvReference(text, comma)
		c := newCSVRows(text, comma)
		c.limit(1 << 30)
		var (
			rows    []int
			recs    [][]string
			errLine int
		)
		for {
			row, cells, err := c.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				e, ok := ledger.AsError(err)
				if !ok || e.Key != "import.csv_invalid" {
					t.Fatalf("error %v", err)
				}
				errLine = e.Args[0].(int)
				break
			}
			if cells != nil {
				rows, recs = append(rows, row), append(recs, cells)
			}
		}
		if !reflect.DeepEqual(recs, wantRecs) && !(len(recs) == 0 && len(wantRecs) == 0) {
			t.Fatalf("records\n got %q\nwant %q", recs, wantRecs)
		}
		if !slices.Equal(rows, wantRows) {
			t.Errorf("rows %v, want %v", rows, wantRows)
		}
		if errLine != wantErr {
			t.Errorf("error on line %d, want %d", errLine, wantErr)
		}
		// With a width, each record is cut to a prefix; rows stay.
		width = max(1, width%8)
		c = newCSVRows(text, comma)
		c.limit(width)
		i := 0
		for {
			_, cells, err := c.next()
			if err != nil {
				break
			}
			if cells == nil {
				continue
			}
			if i >= len(wantRecs) {
				t.Fatalf("record %d beyond encoding/csv's %d", i, len(wantRecs))
			}
			want := wantRecs[i]
			if !slices.Equal(cells, want[:min(width, len(want))]) {
				t.Fatalf("record %d with width %d: %q, want a prefix of %q", i, width, cells, want)
			}
			i++
		}
	})
}

// TestXLSXRowsMatchExcelize reads workbooks that excelize writes (shared
// and rich strings, numbers, dates, booleans, formulas, gaps, escapes) with
// excelize's own row iterator and with xlsxSheet, cell by cell.
func TestXLSXRowsMatchExcelize(t *testing.T) {
	fills := map[string]func(f *excelize.File, sh string){
		"Kinds": func(f *excelize.File, sh string) {
			must(t, f.SetSheetRow(sh, "A1", &[]any{"姓名", "手机号", 13812345678, 3.25, true, false, time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)}))
			must(t, f.SetCellStr(sh, "C3", "  两边有空格  "))
			must(t, f.SetCellStr(sh, "E3", "换行\r\n第二行"))
			must(t, f.SetCellStr(sh, "F3", "_x0041_ 与 _x005F_ 字面"))
			must(t, f.SetCellFormula(sh, "G3", "=1+1"))
			must(t, f.SetCellDefault(sh, "B4", "1.3712345678E+10"))
			must(t, f.SetCellRichText(sh, "A6", []excelize.RichTextRun{{Text: "幸福"}, {Text: "社区", Font: &excelize.Font{Bold: true}}}))
			must(t, f.SetCellStr(sh, "Z9", "远处"))
			must(t, f.SetCellStr(sh, "A9", "张三"))
			must(t, f.SetCellStr(sh, "A10", "张三")) // a shared string used twice
		},
		"Stream": func(f *excelize.File, sh string) {
			sw, err := f.NewStreamWriter(sh)
			must(t, err)
			must(t, sw.SetRow("A1", []any{"姓名", "手机号", "队伍"}))
			must(t, sw.SetRow("A2", []any{"李四", 13912345678, nil, "备注"}))
			must(t, sw.SetRow("B5", []any{"13712345678", excelize.Cell{Value: 46086}}))
			must(t, sw.Flush())
		},
		"Date1904": func(f *excelize.File, sh string) {
			on := true
			must(t, f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &on}))
			must(t, f.SetSheetRow(sh, "A1", &[]any{"报到时间", 46086}))
		},
	}
	for name, fill := range fills {
		t.Run(name, func(t *testing.T) {
			data := xlsxFile(t, fill)
			want := map[int][]string{}
			x, err := excelize.OpenReader(bytes.NewReader(data))
			must(t, err)
			rows, err := x.Rows(x.GetSheetList()[0])
			must(t, err)
			for n := 1; rows.Next(); n++ {
				cells, err := rows.Columns(excelize.Options{RawCellValue: true})
				must(t, err)
				// A formula without a cached value is an empty cell here, as
				// an empty cell is nothing to the import.
				for len(cells) > 0 && cells[len(cells)-1] == "" {
					cells = cells[:len(cells)-1]
				}
				if len(cells) > 0 {
					want[n] = cells
				}
			}
			x.Close()

			sheet, date1904, err := openXLSX(data)
			must(t, err)
			defer sheet.close()
			if date1904 != (name == "Date1904") {
				t.Errorf("date1904 = %v", date1904)
			}
			sheet.limit(xlsxMaxColumns)
			got := map[int][]string{}
			for {
				n, cells, err := sheet.next()
				if err == io.EOF {
					break
				}
				must(t, err)
				if len(cells) > 0 {
					got[n] = cells
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("rows\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestXLSXRowsRefuse(t *testing.T) {
	tests := []struct {
		name string
		rows string
	}{
		{"RowNumberGoesBack", `<row r="2"><c r="A2"><v>1</v></c></row><row r="1"><c r="A1"><v>1</v></c></row>`},
		{"RowNumberRepeated", `<row r="2"></row><row r="2"></row>`},
		{"RowBeyondTheSheet", `<row r="1048577"></row>`},
		{"RowNotANumber", `<row r="x"></row>`},
		{"ColumnBeyondXFD", `<row r="1"><c r="XFE1"><v>1</v></c></row>`},
		{"CellRefNotACell", `<row r="1"><c r="1A"><v>1</v></c></row>`},
		{"SharedStringMissing", `<row r="1"><c r="A1" t="s"><v>0</v></c></row>`},
		{"Unclosed", `<row r="1"><c r="A1"><v>1</v>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := sheetXLSX(t, func(w io.Writer) { io.WriteString(w, tt.rows) })
			_, err := parseRoster(ctx, "r.xlsx", data)
			if e := checkRosterError(t, err); e.Key != "import.xlsx_invalid" {
				t.Errorf("error %v, want import.xlsx_invalid", e)
			}
		})
	}
	t.Run("PartTooLarge", func(t *testing.T) {
		data := sheetXLSX(t, func(w io.Writer) {
			fmt.Fprintf(w, `<row r="1">%s%s</row>`, inlineCell("A1", "姓名"), inlineCell("B1", "手机号"))
			pad := bytes.Repeat([]byte(" "), 1<<20)
			for range xlsxSheetLimit >> 20 {
				w.Write(pad) // spaces between rows compress to nothing
			}
		})
		t.Logf("a worksheet of %d MB unzipped in %d bytes", xlsxSheetLimit>>20, len(data))
		_, err := parseRoster(ctx, "r.xlsx", data)
		if e := checkRosterError(t, err); e.Key != "import.xlsx_invalid" {
			t.Errorf("error %v, want import.xlsx_invalid", e)
		}
	})
}

// FuzzXLSXSheet feeds crafted worksheet XML to the workbook reader: it
// refuses with EINVALID or reads rows in order, never more cells than
// xlsxMaxColumns, and never panics.
func FuzzXLSXSheet(f *testing.F) {
	for _, s := range []string{
		`<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="inlineStr"><is><t>手机号</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>张三</t></is></c><c r="B2"><v>13812345678</v></c><c r="XFD2"><v>1</v></c></row>`,
		`<row><c t="inlineStr"><is><r><t>姓</t></r><r><t>名</t></r><rPh><t>x</t></rPh></is></c><c t="str"><v>手机号</v></c></row><row><c><v>_x0041_</v></c></row>`,
		`<row r="3"><c r="C3"><f>1+1</f></c></row><row r="2"></row>`,
		`<row r="1"><c r="A1" t="s"><v>7</v></c></row>`,
		`<row r="1"><c r="A1"><v>1</v><v>2</v></c><c><v>3</v></c><c r="ZZZ1"/></row>`,
		`<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>姓名</x:t></x:is></x:c></x:row>`,
		`<row r="1"><c r="A1" t="inlineStr"><is><t>&lt;&amp;&#x41;</t></is></c></row></sheetData><sheetData><row r="2"/>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rows string) {
		data := sheetXLSX(t, func(w io.Writer) { io.WriteString(w, rows) })
		sheet, _, err := openXLSX(data)
		if err != nil {
			t.Fatalf("the workbook around the sheet does not open: %v", err)
		}
		defer sheet.close()
		last := 0
		for {
			row, cells, err := sheet.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if !errors.Is(err, errXLSX) {
					t.Fatalf("error %v", err)
				}
				break
			}
			if row <= last || row > xlsxMaxRows || len(cells) > maxRosterColumns {
				t.Fatalf("row %d after %d with %d cells", row, last, len(cells))
			}
			last = row
		}
		if _, err := parseRoster(ctx, "r.xlsx", data); err != nil {
			if e, ok := ledger.AsError(err); !ok || e.Code != ledger.EINVALID {
				t.Fatalf("parseRoster: %v is not EINVALID", err)
			}
		}
	})
}
