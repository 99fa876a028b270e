package handlers

import (
	"strings"
	"testing"

	"aixin/ledger"
)

// TestDecodeJSONRefusesBrokenText: a body that is not UTF-8 is refused
// with its own message, never stored with U+FFFD in its place; a good one,
// unknown fields and trailing data as before.
func TestDecodeJSONRefusesBrokenText(t *testing.T) {
	type body struct {
		Title string `json:"title"`
	}
	for name, tt := range map[string]struct {
		in  string
		key string
	}{
		"Good":          {`{"title":"书包"}`, ""},
		"InvalidUTF8":   {"{\"title\":\"\xff\xfe书包\"}", "request.not_utf8"},
		"CutCharacter":  {"{\"title\":\"\xe4\xb9\"}", "request.not_utf8"},
		"UnknownField":  {`{"title":"x","points":9}`, "request.json_invalid"},
		"TrailingValue": {`{"title":"x"} {}`, "request.json_invalid"},
	} {
		t.Run(name, func(t *testing.T) {
			var b body
			err := decodeJSON(strings.NewReader(tt.in), &b)
			if tt.key == "" {
				if err != nil || b.Title != "书包" {
					t.Fatalf("%+v %v", b, err)
				}
				return
			}
			if le, ok := ledger.AsError(err); !ok || le.Key != tt.key {
				t.Fatalf("got %v, want %s", err, tt.key)
			}
		})
	}
}

// FuzzDecodeJSON: whatever the body, decoding answers without panicking,
// and what it accepts holds only valid text.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"title":"书包"}`, "{\"title\":\"\xff\"}", `{"title":"\ud800"}`, `[]`, `{"title":1}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var b struct {
			Title string `json:"title"`
		}
		if err := decodeJSON(strings.NewReader(string(in)), &b); err == nil && strings.ContainsRune(b.Title, '\ufffd') && !strings.Contains(string(in), "\\u") && !strings.ContainsRune(string(in), '\ufffd') {
			t.Fatalf("accepted %q as %q", in, b.Title)
		}
	})
}
