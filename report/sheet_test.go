package report

import (
	"bytes"
	"flag"
	"path/filepath"
	"testing"

	"aixin/report/reporttest"
)

var update = flag.Bool("update", false, "rewrite the golden files of the sheet tests")

// golden compares got with testdata/<name>, or rewrites it with -update
// (go test ./report -run Sheet -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	reporttest.Golden(t, filepath.Join("testdata", name), got, *update)
}

// TestSheetNeutralisesFormulas writes text a spreadsheet would run, in
// both formats, next to numbers that must stay numbers.
func TestSheetNeutralisesFormulas(t *testing.T) {
	sh := Sheet{Name: "测试", Header: []string{"名称", "=表头", "数"}, Rows: [][]Cell{
		{TextCell("=cmd|' /C calc'!A0"), TextCell("+8613800000000"), NumCell(-5)},
		{TextCell("-2+3"), TextCell("@SUM(A1)"), HoursCell(125)},
		{TextCell("\t=1"), TextCell("含,逗号\"引号\"\n换行"), NumCell(0)},
		{TextCell("0012"), TextCell("普通"), PointsCell(1 << 40)},
		// Behind a byte order mark or a zero-width character a spreadsheet still sees the formula.
		{TextCell("\ufeff=HYPERLINK(\"http://x\")"), TextCell("\u200b@SUM(A1)"), NumCell(1)},
		{TextCell("\u200d\u2060-1+1"), TextCell(" =1"), NumCell(2)},
	}}
	var csvOut bytes.Buffer
	if err := WriteCSV(&csvOut, sh); err != nil {
		t.Fatal(err)
	}
	golden(t, "neutralise.csv", csvOut.Bytes())
	var x bytes.Buffer
	if err := WriteXLSX(&x, 0, sh); err != nil {
		t.Fatal(err)
	}
	golden(t, "neutralise.xlsx.txt", reporttest.DumpXLSX(t, x.Bytes()))
}
