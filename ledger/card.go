package ledger

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"github.com/google/uuid"
)

// Crockford is upper-case Crockford base32 without padding: digits and
// letters but I, L, O and U, all in QR alphanumeric mode.
var Crockford = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// cardPrefix starts every member card code: "AX", card, version 1.
const cardPrefix = "AXM1"

// cardMACLen is how many bytes of HMAC-SHA256 a card code keeps (80 bits).
const cardMACLen = 10

// SignCard returns the code on a member's card: a prefix, the member id and
// a truncated HMAC of it under key, in Crockford base32. It holds no phone
// number, and cannot be made without the key.
func SignCard(key []byte, member uuid.UUID) string {
	return cardPrefix + Crockford.EncodeToString(member[:]) + Crockford.EncodeToString(cardMAC(key, member))
}

func cardMAC(key []byte, member uuid.UUID) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(cardPrefix))
	m.Write(member[:])
	return m.Sum(nil)[:cardMACLen]
}

// decodeCanonical decodes Crockford base32 text (any case, surrounding space
// ignored) of exactly n bytes, and only its one canonical spelling: base32
// has spare bits in its last character, and a code that differs there is
// another code.
func decodeCanonical(s string, n int) ([]byte, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	b, err := Crockford.DecodeString(s)
	if err != nil || len(b) != n || Crockford.EncodeToString(b) != s {
		return nil, Errorf(EINVALID, "encoding.invalid")
	}
	return b, nil
}

// ParseCard checks a card code (any case, surrounding space ignored) and
// returns the member id. A malformed, altered or forged code is EINVALID.
func ParseCard(key []byte, code string) (uuid.UUID, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	bad := Errorf(EINVALID, "card.invalid")
	body, ok := strings.CutPrefix(code, cardPrefix)
	if !ok || len(body) != 26+16 {
		return uuid.Nil, bad
	}
	id, err := decodeCanonical(body[:26], 16)
	if err != nil {
		return uuid.Nil, bad
	}
	mac, err := decodeCanonical(body[26:], cardMACLen)
	if err != nil {
		return uuid.Nil, bad
	}
	member := uuid.UUID(id)
	if !hmac.Equal(mac, cardMAC(key, member)) {
		return uuid.Nil, bad
	}
	return member, nil
}
