package handlers

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

// sheetCell is one spreadsheet cell: text, or a number shown with the given
// decimals. Text is written as text everywhere (phone numbers and codes
// keep their leading digits), and text a spreadsheet would run as a formula
// is neutralised; numbers are numbers.
type sheetCell struct {
	Text     string  `json:"text,omitempty"`
	Num      float64 `json:"num,omitempty"`
	IsNum    bool    `json:"is_num,omitempty"`
	Decimals int     `json:"decimals,omitempty"`
}

func textCell(s string) sheetCell { return sheetCell{Text: s} }
func numCell(n int64) sheetCell   { return sheetCell{Num: float64(n), IsNum: true} }
func hoursCell(minutes int64) sheetCell {
	return sheetCell{Num: math.Round(float64(minutes)/6) / 10, IsNum: true, Decimals: 1}
}
func pointsCell(p ledger.Points) sheetCell { return numCell(p) }

// String is the cell as CSV writes it.
func (c sheetCell) String() string {
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

// sheet is one table of an export: a header row, rows, a totals row and
// notes under it (the reconciliation).
type sheet struct {
	Name   string        `json:"name"`
	Title  string        `json:"title"`
	Header []string      `json:"header"`
	Widths []float64     `json:"-"`
	Rows   [][]sheetCell `json:"rows"`
	Total  []sheetCell   `json:"total,omitempty"`
	Notes  []string      `json:"notes,omitempty"`
}

// writeCSV writes one sheet as CSV for Excel and WPS: UTF-8 with a byte
// order mark, CRLF line ends, RFC 4180 quoting; the notes follow the totals
// after an empty line.
func writeCSV(w io.Writer, sh sheet) error {
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

// writeXLSX writes the sheets as one workbook, each with a frozen header row,
// bold headers and column widths; sheet number active is the one that opens.
func writeXLSX(w io.Writer, active int, sheets ...sheet) error {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F3E5E5"}},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}})
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
	// Every sheet is made, and the active one chosen, before any is
	// streamed: choosing it afterwards would make excelize read every
	// streamed sheet back (most of the time a workbook took).
	for i, sh := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sh.Name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(sh.Name); err != nil {
			return err
		}
	}
	f.SetActiveSheet(active)
	for _, sh := range sheets {
		sw, err := f.NewStreamWriter(sh.Name)
		if err != nil {
			return err
		}
		for c, wd := range sh.Widths {
			if err := sw.SetColWidth(c+1, c+1, wd); err != nil {
				return err
			}
		}
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		header := make([]any, len(sh.Header))
		for c, h := range sh.Header {
			header[c] = excelize.Cell{StyleID: bold, Value: h}
		}
		if err := sw.SetRow("A1", header, excelize.RowOpts{Height: 30}); err != nil {
			return err
		}
		r := 2
		put := func(row []sheetCell, numStyle, decStyle, txtStyle int) error {
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
			return sw.SetRow(name, vals)
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
		if len(sh.Notes) > 0 {
			r++
			for _, n := range sh.Notes {
				if err := put([]sheetCell{textCell(n)}, 0, 0, 0); err != nil {
					return err
				}
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
