package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"aixin/ledger"

	"github.com/xuri/excelize/v2"
)

// Cell is one spreadsheet cell: text, or a number shown with the given
// decimals. Text is written as text everywhere (phone numbers and codes
// keep their leading digits), and text a spreadsheet would run as a formula
// is neutralised; numbers are numbers.
type Cell struct {
	Text     string  `json:"text,omitempty"`
	Num      float64 `json:"num,omitempty"`
	IsNum    bool    `json:"is_num,omitempty"`
	Decimals int     `json:"decimals,omitempty"`
}

// TextCell is a cell of text.
func TextCell(s string) Cell { return Cell{Text: s} }

// NumCell is a cell of a whole number.
func NumCell(n int64) Cell { return Cell{Num: float64(n), IsNum: true} }

// HoursCell is minutes of service shown as hours with one decimal.
func HoursCell(minutes int64) Cell {
	return Cell{Num: math.Round(float64(minutes)/6) / 10, IsNum: true, Decimals: 1}
}

// PointsCell is a cell of points.
func PointsCell(p ledger.Points) Cell { return NumCell(p) }

// String is the cell as CSV writes it.
func (c Cell) String() string {
	if c.IsNum {
		return strconv.FormatFloat(c.Num, 'f', c.Decimals, 64)
	}
	return neutralise(c.Text)
}

// neutralise keeps a spreadsheet from running text as a formula: text that
// starts with = + - @, also after spaces, a byte order mark or zero-width
// characters that a spreadsheet skips or does not show (ledger.LooksLikeFormula),
// or with a tab or carriage return, gets a leading apostrophe.
func neutralise(s string) string {
	if ledger.LooksLikeFormula(s) || strings.HasPrefix(s, "\t") || strings.HasPrefix(s, "\r") {
		return "'" + s
	}
	return s
}

// Sheet is one table of an export: a title, a header row, rows, a totals
// row, notes under it (the reconciliation) and lines to sign.
type Sheet struct {
	Name string `json:"name"`
	// Title is printed above the header in a workbook (蓉城街道 2026年11月积分汇总).
	Title  string    `json:"title"`
	Header []string  `json:"header"`
	Widths []float64 `json:"-"`
	Rows   [][]Cell  `json:"rows"`
	Total  []Cell    `json:"total,omitempty"`
	Notes  []string  `json:"notes,omitempty"`
	// Signatures are the labels of the lines a workbook prints at the end
	// for people to sign by hand (制表人, 审核人, 日期).
	Signatures []string `json:"-"`
}

// WriteCSV writes one sheet as CSV for Excel and WPS: UTF-8 with a byte
// order mark, CRLF line ends, RFC 4180 quoting; the notes follow the totals
// after an empty line.
func WriteCSV(w io.Writer, sh Sheet) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := make([]string, len(sh.Header))
	for i, h := range sh.Header {
		header[i] = neutralise(h)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	record := make([]string, len(sh.Header))
	for _, row := range append(sh.Rows, sh.Total) {
		if row == nil {
			continue
		}
		for i := range record {
			record[i] = ""
			if i < len(row) {
				record[i] = row[i].String()
			}
		}
		if err := cw.Write(record); err != nil {
			return err
		}
	}
	if len(sh.Notes) > 0 {
		if err := cw.Write([]string{""}); err != nil {
			return err
		}
		for _, n := range sh.Notes {
			if err := cw.Write([]string{neutralise(n)}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// How a workbook prints: on A4, every sheet one page wide and as many pages
// long as it takes, the title and header rows on every page, the page
// number in the footer; a sheet wider than a portrait page's width (in
// spreadsheet column units) prints landscape, so it shrinks less.
const (
	paperA4        = 9
	portraitWidth  = 100
	titleRowHeight = 30
	noteLineHeight = 16
	signRowHeight  = 30
)

// WriteXLSX writes the sheets as one workbook, each with a title row (when it
// has a title) and a bold header row, both frozen and repeated on every
// printed page, column widths, and the page set up to print one page wide;
// sheet number active is the one that opens.
func WriteXLSX(w io.Writer, active int, sheets ...Sheet) error {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F3E5E5"}},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}})
	if err != nil {
		return err
	}
	titleStyle, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
	if err != nil {
		return err
	}
	noteStyle, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	if err != nil {
		return err
	}
	signLabel, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Vertical: "bottom"}})
	if err != nil {
		return err
	}
	signLine, err := f.NewStyle(&excelize.Style{Border: []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}}})
	if err != nil {
		return err
	}
	oneDecimal := "0.0"
	dec1, err := f.NewStyle(&excelize.Style{CustomNumFmt: &oneDecimal})
	if err != nil {
		return err
	}
	totalStyle, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Border: []excelize.Border{{Type: "top", Color: "999999", Style: 1}}})
	if err != nil {
		return err
	}
	totalDec, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, CustomNumFmt: &oneDecimal, Border: []excelize.Border{{Type: "top", Color: "999999", Style: 1}}})
	if err != nil {
		return err
	}
	textStyle, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	if err != nil {
		return err
	}
	// Every sheet is made, set up for printing, and the active one chosen,
	// before any is streamed: doing so afterwards would make excelize read
	// every streamed sheet back (most of the time a workbook took).
	for i, sh := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sh.Name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(sh.Name); err != nil {
			return err
		}
		if err := printSetup(f, sh); err != nil {
			return err
		}
	}
	f.SetActiveSheet(active)
	for _, sh := range sheets {
		sw, err := f.NewStreamWriter(sh.Name)
		if err != nil {
			return err
		}
		cols := max(1, len(sh.Header))
		for c, wd := range sh.Widths {
			if err := sw.SetColWidth(c+1, c+1, wd); err != nil {
				return err
			}
		}
		r := 1
		lastCol, _ := excelize.ColumnNumberToName(cols)
		// across merges row's cells A:last, for text that spans the sheet.
		across := func(row int) error {
			if cols == 1 {
				return nil
			}
			return sw.MergeCell(fmt.Sprintf("A%d", row), fmt.Sprintf("%s%d", lastCol, row))
		}
		headerRow := 1
		if sh.Title != "" {
			headerRow = 2
		}
		// The panes come first: excelize takes them only before any row.
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: headerRow, TopLeftCell: fmt.Sprintf("A%d", headerRow+1), ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		if sh.Title != "" {
			if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: titleStyle, Value: sh.Title}}, excelize.RowOpts{Height: titleRowHeight}); err != nil {
				return err
			}
			if err := across(r); err != nil {
				return err
			}
			r++
		}
		header := make([]any, len(sh.Header))
		for c, h := range sh.Header {
			header[c] = excelize.Cell{StyleID: bold, Value: h}
		}
		if err := sw.SetRow(fmt.Sprintf("A%d", r), header, excelize.RowOpts{Height: 30}); err != nil {
			return err
		}
		r++
		put := func(row []Cell, numStyle, decStyle, txtStyle int, opts ...excelize.RowOpts) error {
			vals := make([]any, len(row))
			for c, v := range row {
				switch {
				case v.IsNum && v.Decimals > 0:
					vals[c] = excelize.Cell{StyleID: decStyle, Value: v.Num}
				case v.IsNum:
					vals[c] = excelize.Cell{StyleID: numStyle, Value: int64(v.Num)}
				default:
					// A text cell of a workbook is never run as a formula: it needs no apostrophe.
					vals[c] = excelize.Cell{StyleID: txtStyle, Value: v.Text}
				}
			}
			name, _ := excelize.CoordinatesToCellName(1, r)
			r++
			return sw.SetRow(name, vals, opts...)
		}
		for _, row := range sh.Rows {
			if err := put(row, 0, dec1, textStyle); err != nil {
				return err
			}
		}
		if sh.Total != nil {
			if err := put(sh.Total, totalStyle, totalDec, totalStyle); err != nil {
				return err
			}
		}
		// Notes span the sheet's width and wrap, so that they print inside
		// the page instead of running off its edge; their rows are as high
		// as their lines (a spreadsheet does not size merged rows itself).
		width := 0.0
		for c := range cols {
			width += colWidth(sh, c)
		}
		if len(sh.Notes) > 0 {
			r++
			for _, n := range sh.Notes {
				lines := math.Ceil(textWidth(n) / math.Max(width, 1))
				if err := across(r); err != nil {
					return err
				}
				if err := put([]Cell{TextCell(n)}, 0, 0, noteStyle, excelize.RowOpts{Height: noteLineHeight * math.Max(lines, 1)}); err != nil {
					return err
				}
			}
		}
		// Lines to sign: the label, and a line under the next column.
		if len(sh.Signatures) > 0 {
			r++
			for _, label := range sh.Signatures {
				row := []any{excelize.Cell{StyleID: signLabel, Value: label}}
				if cols > 1 {
					row = append(row, excelize.Cell{StyleID: signLine, Value: ""})
				}
				name, _ := excelize.CoordinatesToCellName(1, r)
				if err := sw.SetRow(name, row, excelize.RowOpts{Height: signRowHeight}); err != nil {
					return err
				}
				r++
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}

// printSetup sets how sheet sh prints: A4, one page wide, landscape when it
// is wide, its title and header rows repeated on every page, page numbers
// in the footer.
func printSetup(f *excelize.File, sh Sheet) error {
	width := 0.0
	for c := range max(1, len(sh.Header)) {
		width += colWidth(sh, c)
	}
	orientation := "portrait"
	if width > portraitWidth {
		orientation = "landscape"
	}
	size, one, tall := paperA4, 1, 0
	if err := f.SetPageLayout(sh.Name, &excelize.PageLayoutOptions{Size: &size, Orientation: &orientation, FitToWidth: &one, FitToHeight: &tall}); err != nil {
		return err
	}
	fit := true
	if err := f.SetSheetProps(sh.Name, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	side, edge, band := 0.4, 0.6, 0.3
	if err := f.SetPageMargins(sh.Name, &excelize.PageLayoutMarginsOptions{Left: &side, Right: &side, Top: &edge, Bottom: &edge, Header: &band, Footer: &band}); err != nil {
		return err
	}
	if err := f.SetHeaderFooter(sh.Name, &excelize.HeaderFooterOptions{OddFooter: "&C&P / &N"}); err != nil {
		return err
	}
	repeat := 1
	if sh.Title != "" {
		repeat = 2
	}
	return f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", Scope: sh.Name,
		RefersTo: fmt.Sprintf("'%s'!$1:$%d", strings.ReplaceAll(sh.Name, "'", "''"), repeat)})
}

// colWidth is column c's width in spreadsheet units (the default when unset).
func colWidth(sh Sheet, c int) float64 {
	if c < len(sh.Widths) {
		return sh.Widths[c]
	}
	return 9
}

// textWidth estimates how many column units text takes: two for a wide
// (Chinese) character, one for the others.
func textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if r >= 0x2E80 {
			w += 2
		} else {
			w++
		}
	}
	return w
}

// Hours shows minutes as hours to a tenth, halves away from zero (a
// correction may take time back).
func Hours(minutes int64) float64 {
	if minutes < 0 {
		return -Hours(-minutes)
	}
	return float64((minutes+3)/6) / 10
}
