package bolt

import (
	"bytes"
	"slices"
	"sync"
	"sync/atomic"

	"aixin/ledger"

	"github.com/google/uuid"
)

// checkinReads are the decodings a check-in's reads keep: its session and
// user (SessionUser), the event and the member (readScan), the name of the
// event's unit (readScanAnswer), and the attendance a check-out ends
// (readScan, then putAttendance in the same transaction).
type checkinReads struct {
	sessions    decodings[ledger.Hash, ledger.Session]
	users       decodings[uuid.UUID, ledger.User]
	events      decodings[uuid.UUID, ledger.Event]
	members     decodings[uuid.UUID, ledger.Member]
	unitNames   decodings[uuid.UUID, string]
	attendances decodings[uuid.UUID, ledger.Attendance]
}

// decodings keeps values decoded from stored JSON with the bytes each came
// from, for the reads every check-in makes of things that seldom change
// (its session and user, the event, the member, the unit). A reader uses a
// kept value only if the bytes it read in its own transaction are the same:
// a write stores new bytes, which are decoded afresh, and a reader never
// sees a decoding of bytes its transaction does not hold, whatever other
// transactions do meanwhile. Values share their slices with the kept one:
// callers only read them. It keeps at most maxDecodings values, then starts
// again.
type decodings[K comparable, V any] struct {
	m sync.Map // K -> *decoding[V]
	n atomic.Int64
}

type decoding[V any] struct {
	raw []byte
	v   V
}

// maxDecodings bounds each decodings (a few MB).
const maxDecodings = 4096

// get returns the value kept for k if it was decoded from raw.
func (d *decodings[K, V]) get(k K, raw []byte) (V, bool) {
	if e, ok := d.m.Load(k); ok && raw != nil && bytes.Equal(e.(*decoding[V]).raw, raw) {
		return e.(*decoding[V]).v, true
	}
	var zero V
	return zero, false
}

// put keeps v, decoded from raw (copied: bbolt's bytes live as long as
// their transaction).
func (d *decodings[K, V]) put(k K, raw []byte, v V) {
	if d.n.Add(1) > maxDecodings {
		d.m.Clear()
		d.n.Store(1)
	}
	d.m.Store(k, &decoding[V]{slices.Clone(raw), v})
}
