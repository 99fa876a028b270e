package handlers

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestCheckinJSONIsEncodingJSON: the check-in answer's own encoder writes
// what echo's c.JSON writes (encoding/json, HTML escaped, a newline at the
// end), for answers with every field of every type in it filled at random
// — or left zero, to take the omitempty paths — so that a field added to a
// type the answer holds fails here until appendCheckinView writes it.
func TestCheckinJSONIsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		var v checkinView
		fillRandom(t, reflect.ValueOf(&v).Elem(), r)
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(v); err != nil {
			t.Fatal(err)
		}
		got, err := appendCheckinView(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if got = append(got, '\n'); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("answer %d:\n got %s\nwant %s", i, got, want.Bytes())
		}
	}
	// A time encoding/json refuses is refused too (and renderCheckin hands
	// it to c.JSON, which says so).
	var v checkinView
	v.Attendance.CheckedInAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := json.Marshal(v); err == nil {
		t.Fatal("encoding/json took the year 10000")
	}
	if _, err := appendCheckinView(nil, v); err == nil {
		t.Fatal("appendCheckinView took the year 10000")
	}
}

// Strings the answer may hold: escapes, HTML, line separators, invalid UTF-8.
var randomStrings = []string{"", "环境整治", "a\"b\\c", "<script>&</script>", "\u2028\u2029", "\x00\x01\b\f\n\r\t\x1f\x7f",
	"bad \xff\xfe utf-8", "志愿者A", "emoji 🙂", "\xe2\x80", "plain"}

// fillRandom fills v, field by field, with random values, each zero a third of the time.
func fillRandom(t *testing.T, v reflect.Value, r *rand.Rand) {
	t.Helper()
	if r.IntN(3) == 0 && v.Kind() != reflect.Struct {
		v.SetZero()
		return
	}
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		if r.IntN(3) == 0 {
			return // zero
		}
		locs := []*time.Location{time.UTC, time.FixedZone("CST", 8*3600), time.FixedZone("", -(3*3600 + 30*60))}
		tm := time.Unix(r.Int64N(4e9), r.Int64N(3)*r.Int64N(1e9)).In(locs[r.IntN(len(locs))])
		v.Set(reflect.ValueOf(tm))
		return
	case reflect.TypeFor[uuid.UUID]():
		var id uuid.UUID
		for i := range id {
			id[i] = byte(r.Uint32())
		}
		v.Set(reflect.ValueOf(id))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillRandom(t, v.Field(i), r)
			}
		}
	case reflect.String:
		v.SetString(randomStrings[r.IntN(len(randomStrings))])
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(r.Int64N(2e6) - 1e6)
	case reflect.Uint64, reflect.Uint32, reflect.Uint, reflect.Uint8:
		v.SetUint(r.Uint64N(1e12) & (^uint64(0) >> (64 - 8*v.Type().Size())))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillRandom(t, v.Elem(), r)
	case reflect.Slice:
		n := r.IntN(3)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			fillRandom(t, v.Index(i), r)
		}
	default:
		t.Fatalf("fillRandom: no random %s (%s): teach it, and appendCheckinView", v.Type(), v.Kind())
	}
}
