package handlers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"aixin/ledger"

	"github.com/labstack/echo/v4"
)

// Paging of the journal.
const (
	defaultEntriesLimit = 100
	maxEntriesLimit     = 1000
)

// entriesPage is one page of the journal; NextAfter is the after parameter
// of the next page (the last seq here, or the given after if the page is empty).
type entriesPage struct {
	Entries   []ledger.Entry `json:"entries"`
	NextAfter uint64         `json:"next_after"`
}

// ledgerEntries answers the journal entries after seq ?after=, in order.
func (s *server) ledgerEntries(c echo.Context) error {
	after, err := queryUint(c, "after", 0)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c, defaultEntriesLimit, maxEntriesLimit)
	if err != nil {
		return err
	}
	entries, err := s.cfg.Journal.Entries(c.Request().Context(), after, limit)
	if err != nil {
		return err
	}
	page := entriesPage{Entries: make([]ledger.Entry, len(entries)), NextAfter: after}
	for i, e := range entries {
		e.Time = e.Time.In(s.cfg.Location)
		page.Entries[i] = e
		page.NextAfter = e.Seq
	}
	return c.JSON(http.StatusOK, page)
}

// ledgerVerify recomputes the journal and answers the report; a ledger that
// does not verify is still a 200, with ok false.
func (s *server) ledgerVerify(c echo.Context) error {
	report, err := s.cfg.Journal.Verify(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, report)
}

// backup streams a consistent copy of the data file. Once the first bytes
// are out an error can only cut the download short; the error handler logs it.
func (s *server) backup(c echo.Context) error {
	name := fmt.Sprintf("aixin-backup-%s.db", s.cfg.Now().In(s.cfg.Location).Format("20060102-150405"))
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMEOctetStream)
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", name))
	h.Set("Cache-Control", "no-store")
	var w io.Writer = c.Response()
	if rate := s.cfg.BackupMBPerSecond; rate > 0 {
		w = newPacedWriter(c.Request().Context(), w, float64(rate)*1e6)
	}
	_, err := s.cfg.Journal.Backup(c.Request().Context(), w)
	return err
}

// pacedWriter writes no faster than perSecond bytes a second: each write
// waits (or stops, when ctx ends) until the bytes before it are due. A reader
// that stalled does not earn a burst: the pace never runs more than
// pacedSlack behind.
type pacedWriter struct {
	ctx       context.Context
	w         io.Writer
	perSecond float64
	start     time.Time
	written   int64
	now       func() time.Time
	wait      func(context.Context, time.Duration) error
}

const pacedSlack = 100 * time.Millisecond

func newPacedWriter(ctx context.Context, w io.Writer, perSecond float64) *pacedWriter {
	return &pacedWriter{ctx: ctx, w: w, perSecond: perSecond, start: time.Now(), now: time.Now, wait: sleepCtx}
}

func (p *pacedWriter) Write(b []byte) (int, error) {
	due := p.start.Add(time.Duration(float64(p.written) / p.perSecond * float64(time.Second)))
	now := p.now()
	if behind := now.Sub(due); behind > pacedSlack {
		p.start = p.start.Add(behind - pacedSlack)
	} else if ahead := -behind; ahead > 0 {
		if err := p.wait(p.ctx, ahead); err != nil {
			return 0, err
		}
	}
	n, err := p.w.Write(b)
	p.written += int64(n)
	return n, err
}

// sleepCtx waits for d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
