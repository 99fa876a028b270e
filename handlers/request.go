package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"

	"aixin/ledger"

	"github.com/labstack/echo/v4"
)

// decodeJSON reads exactly one JSON value from r into v, refusing unknown
// fields and trailing data. A body over the size limit stays the body
// limit's 413; anything else malformed is EINVALID.
func decodeJSON(r io.Reader, v any) error {
	// Read whole (the body limit bounds it) to refuse what is not UTF-8:
	// the decoder would put U+FFFD in its place without a word.
	body, err := io.ReadAll(r)
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he
	}
	if err != nil {
		return err
	}
	if !utf8.Valid(body) {
		return ledger.Errorf(ledger.EINVALID, "request.not_utf8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if _, err = dec.Token(); err == io.EOF {
			return nil
		}
	}
	if errors.As(err, &he) {
		return he
	}
	return ledger.Errorf(ledger.EINVALID, "request.json_invalid")
}

// queryUint returns the query parameter name as a non-negative integer, or
// def if it is absent.
func queryUint(c echo.Context, name string, def uint64) (uint64, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, ledger.Errorf(ledger.EINVALID, "query.uint_invalid", name, truncate(s, 40))
	}
	return n, nil
}

// queryLimit returns the query parameter limit, def if it is absent; it must
// lie in [1, maxLimit].
func queryLimit(c echo.Context, def, maxLimit int) (int, error) {
	n, err := queryUint(c, "limit", uint64(def))
	if err != nil {
		return 0, err
	}
	if n < 1 || n > uint64(maxLimit) {
		return 0, ledger.Errorf(ledger.EINVALID, "query.limit_range", 1, maxLimit)
	}
	return int(n), nil
}

// truncate shortens s to at most n bytes on a rune boundary, for echoing
// user input back in a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// clientKey reads the request's Idempotency-Key into the namespace of the
// user who sent it (ledger.ClientKey), so that it can never equal a key the
// server makes for itself or another user's key.
func clientKey(c echo.Context, u ledger.User) (string, error) {
	return ledger.ClientKey(u.ID, c.Request().Header.Get("Idempotency-Key"))
}
