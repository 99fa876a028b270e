package roster

import (
	"io"
	"strings"

	"aixin/ledger"
)

// csvRows reads the records of a CSV or TSV text as encoding/csv does (a
// record per line; a field in double quotes may hold the delimiter, doubled
// quotes and line breaks; a quote anywhere else is an error; "\r\n" is "\n"),
// with what a roster upload needs besides:
//
//   - rows are numbered as Excel numbers them when it opens the file: a
//     quoted cell with line breaks stays in its row, and a blank line (which
//     encoding/csv skips inside one Read) is a row of its own, returned so
//     that it counts against the row limit;
//   - fields beyond the width set by limit are scanned over, never copied:
//     a line of a million commas costs one scan, not a million strings;
//   - a field is a substring of the text unless it holds a doubled quote or
//     a "\r\n", so a huge field costs no copy either.
//
// Every byte of the text is looked at a bounded number of times.
// FuzzCSVRows checks that it reads what encoding/csv reads.
type csvRows struct {
	text  string
	comma byte // ',' or '\t'
	width int  // fields kept per record
	pos   int  // offset of the next row
	line  int  // physical lines begun so far, for the error's line number
	row   int  // rows returned so far
}

func newCSVRows(text string, comma rune) *csvRows {
	return &csvRows{text: text, comma: byte(comma), width: maxRosterColumns}
}

func (c *csvRows) limit(n int) { c.width = n }

// lineEnd returns the offset of the line break at or after p, or the text's length.
func (c *csvRows) lineEnd(p int) int {
	if i := strings.IndexByte(c.text[p:], '\n'); i >= 0 {
		return p + i
	}
	return len(c.text)
}

// next returns the next row: a record, or nil cells for a blank line.
func (c *csvRows) next() (int, []string, error) {
	t := c.text
	p := c.pos
	// A "\r" that ends the text is dropped, as encoding/csv does.
	if p >= len(t) || p == len(t)-1 && t[p] == '\r' {
		return 0, nil, io.EOF
	}
	c.row++
	c.line++
	recLine := c.line
	switch {
	case t[p] == '\n':
		c.pos = p + 1
		return c.row, nil, nil
	case strings.HasPrefix(t[p:], "\r\n"):
		c.pos = p + 2
		return c.row, nil, nil
	}
	bad := func() (int, []string, error) {
		c.pos = len(t) // nothing after an error
		return 0, nil, ledger.Errorf(ledger.EINVALID, "import.csv_invalid", recLine)
	}
	var (
		fields []string
		n      int // fields seen, kept or not
		e      = c.lineEnd(p)
	)
	keep := func(f string) {
		if n < c.width {
			fields = append(fields, f)
		}
		n++
	}
	for {
		if p >= len(t) || t[p] != '"' {
			// An unquoted field runs to the delimiter or to the line's end.
			end, last := e, true
			if i := strings.IndexByte(t[p:e], c.comma); i >= 0 {
				end, last = p+i, false
			}
			field := t[p:end]
			if last && strings.HasSuffix(field, "\r") {
				field = field[:len(field)-1] // "\r\n", or a "\r" that ends the text
			}
			if strings.IndexByte(field, '"') >= 0 {
				return bad() // a bare quote
			}
			keep(field)
			if last {
				c.pos = min(e+1, len(t))
				return c.row, fields, nil
			}
			p = end + 1
			continue
		}
		// A quoted field runs to its closing quote, over line breaks.
		start := p + 1
		q := start
		for {
			i := strings.IndexByte(t[q:], '"')
			if i < 0 {
				return bad() // the text ends inside quotes
			}
			q += i
			if q+1 < len(t) && t[q+1] == '"' {
				q += 2 // a doubled quote
				continue
			}
			break
		}
		raw := t[start:q]
		if lines := strings.Count(raw, "\n"); lines > 0 {
			c.line += lines
			e = c.lineEnd(q)
		}
		if n < c.width {
			if strings.Contains(raw, `""`) {
				raw = strings.ReplaceAll(raw, `""`, `"`)
			}
			if strings.Contains(raw, "\r\n") {
				raw = strings.ReplaceAll(raw, "\r\n", "\n")
			}
		}
		keep(raw)
		after := t[q+1:]
		switch {
		case len(after) > 0 && after[0] == c.comma:
			p = q + 2
		case after == "", after == "\r", after[0] == '\n':
			c.pos = min(q+2, len(t))
			return c.row, fields, nil
		case strings.HasPrefix(after, "\r\n"):
			c.pos = q + 3
			return c.row, fields, nil
		default:
			return bad() // a quote inside a quoted field
		}
	}
}
