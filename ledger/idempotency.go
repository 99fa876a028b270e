package ledger

import (
	"strings"

	"github.com/google/uuid"
)

// Idempotency keys live in two namespaces that can never meet:
//
//	aixin:<what>          a key the server makes for an entry of its own
//	                      ("aixin:voucher:<id>:release", "aixin:attendance:<id>:2")
//	client:<user>:<key>   a key a client sent (the Idempotency-Key header),
//	                      in the namespace of the user who sent it
//
// So no client can take a key the server will need (which would make a
// voucher uncancellable or an event unfinalisable), and two users' keys
// never meet. Entries written before the namespaces kept clients' keys as
// they came and the server's as "voucher:<id>:release" and
// "attendance:<id>:<n>"; those old forms are never made again, so a key a
// client planted in them blocks nothing.
const (
	serverKeyPrefix = "aixin:"
	clientKeyPrefix = "client:"
)

// MaxClientKeyLen bounds an Idempotency-Key a client sends (a UUID is 36).
const MaxClientKeyLen = 100

// ServerKey returns the idempotency key of an entry the server makes for
// itself: the parts joined with ':' under the server's namespace.
func ServerKey(parts ...string) string { return serverKeyPrefix + strings.Join(parts, ":") }

// ClientKey returns the stored form of the Idempotency-Key a user sent: the
// key in the user's own namespace. An empty key stays empty (the request is
// not idempotent). It returns EINVALID for a key longer than MaxClientKeyLen
// or with anything but printable ASCII (no spaces).
func ClientKey(user uuid.UUID, key string) (string, error) {
	if key == "" {
		return "", nil
	}
	if len(key) > MaxClientKeyLen || strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "", Errorf(EINVALID, "idempotency.key_invalid", MaxClientKeyLen)
	}
	return clientKeyPrefix + user.String() + ":" + key, nil
}

// ParseClientKey splits a stored client key into its user and the key the
// client sent; ok is false for any other key.
func ParseClientKey(stored string) (user uuid.UUID, key string, ok bool) {
	rest, found := strings.CutPrefix(stored, clientKeyPrefix)
	if !found || len(rest) < 38 || rest[36] != ':' {
		return uuid.Nil, "", false
	}
	u, err := uuid.Parse(rest[:36])
	if err != nil || u.String() != rest[:36] {
		return uuid.Nil, "", false
	}
	return u, rest[37:], true
}
