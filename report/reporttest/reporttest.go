// Package reporttest holds what the tests of exports share: golden files
// and a text dump of a workbook that a diff can read.
package reporttest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Golden compares got with the file at path, or, with update, writes got
// there (the tests' -update flag).
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", filepath.Base(path), got, want)
	}
}

// selectedTabs reads which sheets of a workbook we wrote open with their tab
// selected, by position (our sheets are xl/worksheets/sheet1.xml, … in order).
func selectedTabs(t testing.TB, data []byte) map[int]bool {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]bool{}
	for _, zf := range z.File {
		var n int
		if _, err := fmt.Sscanf(zf.Name, "xl/worksheets/sheet%d.xml", &n); err != nil {
			continue
		}
		r, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		x, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[n-1] = bytes.Contains(x, []byte(`tabSelected="true"`))
	}
	return out
}

// DumpXLSX writes a workbook out as text: each sheet's name, frozen panes,
// whether its tab is selected, column widths, then each cell with its type and number format.
func DumpXLSX(t testing.TB, data []byte) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b bytes.Buffer
	fmt.Fprintf(&b, "active sheet: %s\n", f.GetSheetName(f.GetActiveSheetIndex()))
	tabs := selectedTabs(t, data)
	for i, name := range f.GetSheetList() {
		panes, _ := f.GetPanes(name)
		selected := ""
		if tabs[i] {
			selected = ", tab selected"
		}
		fmt.Fprintf(&b, "== %s (frozen %v at %s%s)\n", name, panes.Freeze, panes.TopLeftCell, selected)
		fmt.Fprintf(&b, "print: %s\n", printSettings(t, f, name))
		rows, err := f.GetRows(name, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		// The header is the last frozen row; a title may stand above it.
		header := 0
		if _, top, err := excelize.CellNameToCoordinates(panes.TopLeftCell); err == nil && top > 1 {
			header = top - 2
		}
		for r, row := range rows {
			for c, v := range row {
				if v == "" {
					continue
				}
				ref, _ := excelize.CoordinatesToCellName(c+1, r+1)
				typ, _ := f.GetCellType(name, ref)
				style, _ := f.GetCellStyle(name, ref)
				st, _ := f.GetStyle(style)
				format := ""
				if st != nil && st.CustomNumFmt != nil {
					format = *st.CustomNumFmt
				} else if st != nil && st.NumFmt != 0 {
					format = fmt.Sprint(st.NumFmt)
				}
				if r < header {
					fmt.Fprintf(&b, "%s title: %q\n", ref, v)
					continue
				}
				if r == header {
					col, _ := excelize.ColumnNumberToName(c + 1)
					w, _ := f.GetColWidth(name, col)
					fmt.Fprintf(&b, "%s width %.0f: %q\n", ref, w, v)
					continue
				}
				if formula, _ := f.GetCellFormula(name, ref); formula != "" {
					fmt.Fprintf(&b, "%s FORMULA %q\n", ref, formula)
				}
				fmt.Fprintf(&b, "%s %s %s: %q\n", ref, cellType(typ), format, v)
			}
		}
	}
	return b.Bytes()
}

// printSettings says how a sheet prints: paper, orientation, fitting, the
// rows repeated on every page, the footer and the merged cells.
func printSettings(t testing.TB, f *excelize.File, name string) string {
	t.Helper()
	lay, err := f.GetPageLayout(name)
	if err != nil {
		t.Fatal(err)
	}
	props, err := f.GetSheetProps(name)
	if err != nil {
		t.Fatal(err)
	}
	deref := func(p *int) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	orient := "-"
	if lay.Orientation != nil {
		orient = *lay.Orientation
	}
	fit := props.FitToPage != nil && *props.FitToPage
	titles := "none"
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm.Print_Titles" && dn.Scope == name {
			titles = dn.RefersTo
		}
	}
	hf, err := f.GetHeaderFooter(name)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := f.GetMergeCells(name)
	if err != nil {
		t.Fatal(err)
	}
	var cells []string
	for _, m := range merged {
		cells = append(cells, m.GetStartAxis()+":"+m.GetEndAxis())
	}
	return fmt.Sprintf("paper %s %s, fit to page %v (%s wide, %s tall), titles %s, footer %q, merged %v",
		deref(lay.Size), orient, fit, deref(lay.FitToWidth), deref(lay.FitToHeight), titles, hf.OddFooter, cells)
}

// cellType names a cell's type as the dump shows it.
func cellType(t excelize.CellType) string {
	switch t {
	case excelize.CellTypeNumber, excelize.CellTypeUnset:
		return "number"
	case excelize.CellTypeSharedString, excelize.CellTypeInlineString:
		return "text"
	}
	return fmt.Sprint(t)
}
