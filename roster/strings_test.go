package roster

import (
	"archive/zip"
	"bytes"
	"context"
	"strings"
	"testing"

	"aixin/ledger"
)

// bookWithStrings is a workbook of one worksheet with the given shared
// strings part.
func bookWithStrings(t *testing.T, sst string, sheet string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	add("_rels/.rels", `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	add("xl/workbook.xml", `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	add("xl/_rels/workbook.xml.rels", `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)
	add("xl/sharedStrings.xml", sst)
	add("xl/worksheets/sheet1.xml", sheet)
	zw.Close()
	return buf.Bytes()
}

// TestSharedStringsAreBounded: a few kilobytes that unzip to millions of
// empty shared strings are refused at the cap, not read to the end; and a
// cancelled upload stops while they are read.
func TestSharedStringsAreBounded(t *testing.T) {
	n := (32<<20 - 200) / 5 // as many <si/> as the part's 32 MB allow
	data := bookWithStrings(t, `<sst>`+strings.Repeat("<si/>", n)+`</sst>`,
		`<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row></sheetData></worksheet>`)
	if len(data) > 100<<10 {
		t.Fatalf("the workbook is %d bytes", len(data))
	}
	_, err := parseRoster(context.Background(), "名册.xlsx", data)
	if e, ok := ledger.AsError(err); !ok || e.Key != "import.too_many_strings" {
		t.Fatalf("millions of shared strings: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = parseRoster(ctx, "名册.xlsx", data)
	if e, ok := ledger.AsError(err); !ok || e.Key != "import.cancelled" {
		t.Fatalf("cancelled: %v", err)
	}
}
