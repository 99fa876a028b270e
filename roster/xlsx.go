package roster

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"strconv"
	"strings"

	"aixin/ledger"

	"golang.org/x/text/encoding/htmlindex"
)

// This file reads the first worksheet of an .xlsx workbook as a stream of
// rows, for a roster upload. excelize's row iterator materialises every
// column up to a row's last cell: one cell in column XFD makes each row
// 16,384 strings (about 0.5 ms), whatever the row holds. This reader skips
// the XML of cells beyond the columns the caller keeps, and never holds
// more than the shared strings and one row.

// Limits of a workbook's parts once unzipped: a 20,000-row roster of 30
// columns is about 25 MB of worksheet XML; more is a zip bomb, or not a
// roster. The worksheet limit bounds the work of one upload: 64 MB of cells
// that are all skipped take a few seconds of a core.
const (
	xlsxSheetLimit   = 64 << 20 // the worksheet, read as a stream
	xlsxStringsLimit = 32 << 20 // the shared strings, held in memory
	xlsxPartLimit    = 1 << 20  // the workbook and relationship parts
	// xlsxCheckEvery is how many cells are read between looks at the
	// request's context within one row.
	xlsxCheckEvery = 4096
)

// errXLSX is any reason a workbook cannot be read; the roster import
// reports it as import.xlsx_invalid.
var errXLSX = errors.New("not a readable workbook")

// xlsxBook is an opened workbook.
type xlsxBook struct {
	parts map[string]*zip.File // by lower-case name: OPC part names ignore case
	// check, when set, says whether to stop (the request was cancelled).
	check func() error
}

// maxSharedStrings bounds a workbook's table of texts: a roster of 20,000
// rows of a dozen columns has fewer; millions of empty ones in a few
// kilobytes would cost seconds of a core before the first row is read.
const maxSharedStrings = 300_000

// openXLSX opens a workbook's zip and finds the first worksheet. It returns
// the worksheet's rows and whether the workbook counts days from 1904.
func openXLSX(data []byte) (*xlsxSheet, bool, error) {
	return openXLSXChecked(data, nil)
}

// openXLSXChecked is openXLSX that stops, while it reads the table of
// texts, when check says so.
func openXLSXChecked(data []byte, check func() error) (*xlsxSheet, bool, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, false, errXLSX
	}
	b := &xlsxBook{parts: make(map[string]*zip.File, len(zr.File)), check: check}
	for _, f := range zr.File {
		name := strings.ToLower(strings.TrimPrefix(f.Name, "/"))
		if _, dup := b.parts[name]; !dup {
			b.parts[name] = f
		}
	}
	// The package's relationships name the workbook part.
	workbook := "xl/workbook.xml"
	if rels, err := b.rels("_rels/.rels", ""); err == nil {
		for _, r := range rels {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				workbook = r.Target
				break
			}
		}
	}
	var wb struct {
		Pr struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := b.decode(workbook, xlsxPartLimit, &wb); err != nil || len(wb.Sheets) == 0 {
		return nil, false, errXLSX
	}
	date1904 := wb.Pr.Date1904 == "1" || wb.Pr.Date1904 == "true"
	// The sheet's r:id, in whichever namespace (transitional or strict).
	var id string
	for _, a := range wb.Sheets[0].Attrs {
		if a.Name.Local == "id" && a.Name.Space != "" {
			id = a.Value
		}
	}
	dir := path.Dir(workbook)
	rels, err := b.rels(path.Join(dir, "_rels", path.Base(workbook)+".rels"), dir)
	if err != nil {
		return nil, false, errXLSX
	}
	var sheet, sst string
	for _, r := range rels {
		switch {
		case r.ID == id:
			sheet = r.Target
		case strings.HasSuffix(r.Type, "/sharedStrings") && sst == "":
			sst = r.Target
		}
	}
	if sheet == "" {
		return nil, false, errXLSX
	}
	s := &xlsxSheet{width: maxRosterColumns}
	if sst != "" {
		if s.sst, err = b.sharedStrings(sst); err != nil {
			return nil, false, err
		}
	}
	f, ok := b.parts[strings.ToLower(sheet)]
	if !ok {
		return nil, false, errXLSX
	}
	rc, err := f.Open()
	if err != nil {
		return nil, false, errXLSX
	}
	s.close = rc.Close
	s.dec = newXLSXDecoder(&limitedReader{r: rc, n: xlsxSheetLimit})
	return s, date1904, nil
}

// xlsxRel is one relationship of a part.
type xlsxRel struct {
	ID, Type, Target string
}

// rels reads a relationships part; targets are resolved against dir.
func (b *xlsxBook) rels(name, dir string) ([]xlsxRel, error) {
	var v struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
			Mode   string `xml:"TargetMode,attr"`
		} `xml:"Relationship"`
	}
	if err := b.decode(name, xlsxPartLimit, &v); err != nil {
		return nil, err
	}
	out := make([]xlsxRel, 0, len(v.Rels))
	for _, r := range v.Rels {
		if r.Mode == "External" {
			continue
		}
		target := r.Target
		if strings.HasPrefix(target, "/") {
			target = target[1:]
		} else {
			target = path.Join(dir, target)
		}
		out = append(out, xlsxRel{r.ID, r.Type, path.Clean(target)})
	}
	return out, nil
}

// decode unmarshals a small part.
func (b *xlsxBook) decode(name string, limit int64, v any) error {
	f, ok := b.parts[strings.ToLower(name)]
	if !ok {
		return errXLSX
	}
	rc, err := f.Open()
	if err != nil {
		return errXLSX
	}
	defer rc.Close()
	lr := &limitedReader{r: rc, n: limit}
	if err := newXLSXDecoder(lr).Decode(v); err != nil {
		return errXLSX
	}
	return nil
}

// sharedStrings reads the shared string table.
func (b *xlsxBook) sharedStrings(name string) ([]string, error) {
	f, ok := b.parts[strings.ToLower(name)]
	if !ok {
		return nil, nil // a dangling relationship: cells that use it are refused
	}
	rc, err := f.Open()
	if err != nil {
		return nil, errXLSX
	}
	defer rc.Close()
	dec := newXLSXDecoder(&limitedReader{r: rc, n: xlsxStringsLimit})
	var out []string
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, errXLSX
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "si" {
			if len(out) >= maxSharedStrings {
				return nil, ledger.Errorf(ledger.EINVALID, "import.too_many_strings", maxSharedStrings)
			}
			if b.check != nil && len(out)%4096 == 0 {
				if err := b.check(); err != nil {
					return nil, err
				}
			}
			s, err := richText(dec, se)
			if err != nil {
				return nil, errXLSX
			}
			out = append(out, s)
		}
	}
}

// newXLSXDecoder returns a decoder that also reads parts declared in
// another encoding than UTF-8 (some writers use UTF-16).
func newXLSXDecoder(r io.Reader) *xml.Decoder {
	dec := xml.NewDecoder(r)
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		enc, err := htmlindex.Get(label)
		if err != nil {
			return nil, err
		}
		return enc.NewDecoder().Reader(in), nil
	}
	return dec
}

// limitedReader fails, rather than ending quietly, past n bytes: a part cut
// short would read as a smaller sheet.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errXLSX
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// richText returns the text of a string item (<si> or <is>): its <t>, or
// the <t> of each run, without phonetic runs (<rPh>), with the _xHHHH_
// escapes of characters XML cannot hold decoded.
func richText(dec *xml.Decoder, start xml.StartElement) (string, error) {
	var b strings.Builder
	inT := false
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return "", err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "t":
				inT = true
			case "r":
			default: // rPh, rPr, phoneticPr: no text of the cell
				if err := skip(dec); err != nil {
					return "", err
				}
			}
		case xml.CharData:
			if inT {
				b.Write(el)
			}
		case xml.EndElement:
			switch {
			case el.Name == start.Name:
				return unescapeXString(b.String()), nil
			case el.Name.Local == "t":
				inT = false
			}
		}
	}
}

// unescapeXString decodes the _xHHHH_ escapes of an OOXML string: _x000D_
// is a carriage return, _x005F_ an underscore.
func unescapeXString(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "_x")
		if i < 0 || i+7 > len(s) {
			b.WriteString(s)
			return b.String()
		}
		if s[i+6] == '_' {
			if r, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteString(s[:i])
				b.WriteRune(rune(r))
				s = s[i+7:]
				continue
			}
		}
		b.WriteString(s[:i+2])
		s = s[i+2:]
	}
}

// xlsxSheet yields a worksheet's rows.
type xlsxSheet struct {
	dec   *xml.Decoder
	close func() error
	sst   []string
	width int // columns kept
	row   int // the number of the last row returned
	// check, if set, is called every xlsxCheckEvery cells of one row.
	check func() error
}

func (x *xlsxSheet) limit(n int) { x.width = n }

// next returns the next row that the sheet has; rows it leaves out are
// not returned (their numbers are skipped). A row's number must be above
// the one before.
func (x *xlsxSheet) next() (int, []string, error) {
	for {
		tok, err := x.dec.RawToken()
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		if err != nil {
			return 0, nil, errXLSX
		}
		if ee, ok := tok.(xml.EndElement); ok && ee.Name.Local == "sheetData" {
			return 0, nil, io.EOF // what follows the cells is not read
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "row" {
			continue
		}
		n := x.row + 1
		if v := attr(se, "r"); v != "" {
			if n, err = strconv.Atoi(v); err != nil || n <= x.row || n > xlsxMaxRows {
				return 0, nil, errXLSX
			}
		}
		x.row = n
		cells, err := x.cells(se)
		if err != nil {
			return 0, nil, err
		}
		return n, cells, nil
	}
}

// xlsxMaxRows and xlsxMaxColumns are the size of a worksheet.
const (
	xlsxMaxRows    = 1 << 20
	xlsxMaxColumns = 1 << 14
)

// cells reads a row's cells up to the width; the others are skipped unread.
func (x *xlsxSheet) cells(row xml.StartElement) ([]string, error) {
	var (
		cells []string
		col   int // of the previous cell
		seen  int
	)
	for {
		tok, err := x.dec.RawToken()
		if err != nil {
			return nil, errXLSX
		}
		switch el := tok.(type) {
		case xml.EndElement:
			if el.Name == row.Name {
				return cells, nil
			}
		case xml.StartElement:
			if el.Name.Local != "c" {
				if err := skip(x.dec); err != nil {
					return nil, errXLSX
				}
				continue
			}
			if seen++; seen%xlsxCheckEvery == 0 && x.check != nil {
				if err := x.check(); err != nil {
					return nil, err
				}
			}
			col++
			if ref := attr(el, "r"); ref != "" {
				col = refColumn(ref)
			}
			if col == 0 || col > xlsxMaxColumns {
				return nil, errXLSX
			}
			if col > x.width {
				if err := skip(x.dec); err != nil {
					return nil, errXLSX
				}
				continue
			}
			v, err := x.value(el)
			if err != nil {
				return nil, err
			}
			if v == "" {
				continue
			}
			for len(cells) < col {
				cells = append(cells, "")
			}
			cells[col-1] = v
		}
	}
}

// value reads a cell as stored (the raw value, no number format): a shared
// or inline string, or the text of <v> for numbers, booleans (1/0), dates,
// errors and formula results.
func (x *xlsxSheet) value(c xml.StartElement) (string, error) {
	typ := attr(c, "t")
	var v, inline string
	for {
		tok, err := x.dec.RawToken()
		if err != nil {
			return "", errXLSX
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "v":
				if v, err = charData(x.dec, el); err != nil {
					return "", errXLSX
				}
			case "is":
				if inline, err = richText(x.dec, el); err != nil {
					return "", errXLSX
				}
			default: // <f>, <extLst>
				if err := skip(x.dec); err != nil {
					return "", errXLSX
				}
			}
		case xml.EndElement:
			if el.Name != c.Name {
				continue
			}
			switch typ {
			case "s":
				if strings.TrimSpace(v) == "" {
					return "", nil
				}
				i, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || i < 0 || i >= len(x.sst) {
					return "", errXLSX
				}
				return x.sst[i], nil
			case "inlineStr":
				return inline, nil
			}
			return v, nil
		}
	}
}

// The worksheet and the shared strings are read with RawToken, which leaves
// out the namespace bookkeeping of Token (names keep their prefix, which no
// comparison here looks at) and so reads a sheet about twice as fast; the
// decoder still refuses what is not XML.

// skip reads up to the end of the element whose start was just read.
func skip(dec *xml.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := dec.RawToken()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// charData returns the text of an element without children, such as <v>.
func charData(dec *xml.Decoder, start xml.StartElement) (string, error) {
	var b []byte
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return "", err
		}
		switch el := tok.(type) {
		case xml.CharData:
			b = append(b, el...)
		case xml.StartElement:
			if err := skip(dec); err != nil {
				return "", err
			}
		case xml.EndElement:
			if el.Name == start.Name {
				return string(b), nil
			}
		}
	}
}

// attr returns the value of a start element's attribute in no namespace.
func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// refColumn returns the column of a cell reference ("C7" is 3), or 0 if it
// is not one.
func refColumn(ref string) int {
	col, i := 0, 0
	for ; i < len(ref) && i < 3; i++ {
		ch := ref[i] | 0x20 // lower case
		if ch < 'a' || ch > 'z' {
			break
		}
		col = col*26 + int(ch-'a') + 1
	}
	if i == 0 || col > xlsxMaxColumns || i == len(ref) || ref[i] < '0' || ref[i] > '9' {
		return 0
	}
	if _, err := strconv.Atoi(ref[i:]); err != nil {
		return 0
	}
	return col
}

// readXLSXError turns a reading error into the roster's refusal.
func readXLSXError(err error) error {
	if _, ok := ledger.AsError(err); ok {
		return err
	}
	return ledger.Errorf(ledger.EINVALID, "import.xlsx_invalid")
}
