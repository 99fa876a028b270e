package ledger

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ServiceLine is one confirmed service of a member in a period: what a
// service record card (服务记录卡) and a certificate (志愿服务证明) list.
// Like every report, a period counts service by the time it was posted.
type ServiceLine struct {
	AttendanceID uuid.UUID `json:"attendance_id"`
	Date         time.Time `json:"date"` // the check-in: when it was served
	// PostedAt is when the period's last entry for it was posted.
	PostedAt   time.Time `json:"posted_at"`
	EventTitle string    `json:"event_title"`
	Category   string    `json:"category"`
	UnitID     uuid.UUID `json:"unit_id"` // the event's unit
	// Minutes is the service time the period's entries credited to the
	// member's account for it (after the daily cap and any review); a
	// correction of an earlier period's service may take time back.
	Minutes int64 `json:"minutes"`
	// Late says it was served in an earlier month than it was posted (补录).
	Late bool `json:"late,omitempty"`
}

// Certificate is a volunteer-service certificate (志愿服务证明) as issued:
// what it says is kept, so that its verification page shows what was printed.
type Certificate struct {
	Serial   string    `json:"serial"`
	MemberID uuid.UUID `json:"member_id"`
	Name     string    `json:"name"` // in full, as printed
	// From and To are the period, as dates (YYYY-MM-DD) in the deployment's time zone.
	From     string    `json:"from"`
	To       string    `json:"to"`
	Minutes  int64     `json:"minutes"`
	Services int       `json:"services"`
	UnitID   uuid.UUID `json:"unit_id"` // the issuing unit: the member's community
	UnitName string    `json:"unit_name"`
	IssuedBy uuid.UUID `json:"issued_by"`
	IssuedAt time.Time `json:"issued_at"`
	// Lines are the services it lists, as they were when it was issued.
	Lines []ServiceLine `json:"lines,omitempty"`
}

// MaskedName is the name as the public verification page shows it: 李**.
func (c Certificate) MaskedName() string { return MaskName(c.Name) }

// NormalizeSerial reads a certificate serial as typed: any case, spaces
// left out. EINVALID if it is not YYYY-XXXXXXXX in Crockford's alphabet.
func NormalizeSerial(s string) (string, error) {
	s = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	if len(s) != 13 || s[4] != '-' || strings.Trim(s[:4], "0123456789") != "" ||
		strings.Trim(s[5:], "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != "" {
		return "", Errorf(EINVALID, "certificate.serial_invalid")
	}
	return s, nil
}

// Records reads members' confirmed service and keeps issued certificates.
type Records interface {
	// ServiceLines returns the service the member's entries posted in
	// [from, to) credited, one line per attendance, by service date, with
	// the net minutes those entries credited (lines that net nothing are
	// left out).
	ServiceLines(ctx context.Context, memberID uuid.UUID, from, to time.Time) ([]ServiceLine, error)
	// IssueCertificate stores c with a new serial (YYYY-XXXXXXXX, random)
	// and returns it.
	IssueCertificate(ctx context.Context, c Certificate) (Certificate, error)
	// Certificate returns an issued certificate; ENOTFOUND for an unknown serial.
	Certificate(ctx context.Context, serial string) (Certificate, error)
}
