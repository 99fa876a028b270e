package ledger

import (
	"context"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
)

// Journal is the append-only, hash-chained points journal with the state
// derived from it. The bbolt store implements it; a PostgreSQL store may later.
// Every write is durable (synced to disk) before it returns.
type Journal interface {
	// OpenAccount makes an account known to the ledger; transfers may only
	// touch open accounts. Opening an open account does nothing.
	// The escrow account is always open. Returns EINVALID for a malformed account.
	OpenAccount(ctx context.Context, a Account) error

	// Append checks t against the rules and the current balances and appends
	// it, updating balances, the per-account index and the monthly totals in
	// the same transaction. If t carries an idempotency key that was used
	// before, the first entry is returned and nothing is written when the
	// requests are equal; ECONFLICT ("idempotency.mismatch") when they differ.
	// Returns EINVALID for a malformed transfer, ENOTFOUND for an account that
	// is not open, ECONFLICT for an insufficient balance, EUNAVAILABLE when the
	// disk is full or the store is closing.
	Append(ctx context.Context, t Transfer) (Entry, error)

	// Reverse appends the reverse of entry seq. Returns ENOTFOUND for an
	// unknown seq, EINVALID for a reverse of a reverse, ECONFLICT if the entry
	// was reversed before (with the reversing seq in Fields["reversed_by"]) or
	// the reversal would take an account below zero.
	Reverse(ctx context.Context, seq uint64, actor, memo, key string) (Entry, error)

	// Balance returns an account's balance. Returns ENOTFOUND for an account that is not open.
	Balance(ctx context.Context, a Account) (Balance, error)

	// AccountEntries returns up to limit entries touching a, newest first,
	// starting below seq before (0: from the newest). Returns ENOTFOUND for an
	// account that is not open, EINVALID if before is not an entry of a.
	AccountEntries(ctx context.Context, a Account, before uint64, limit int) ([]Entry, error)

	// Entries returns up to limit entries with seq greater than after, in order.
	Entries(ctx context.Context, after uint64, limit int) ([]Entry, error)

	// Head returns the seq and hash of the newest entry (0 and the zero hash if none).
	Head(ctx context.Context) (uint64, Hash, error)

	// MonthTotals returns the totals of every account that moved in month m,
	// in account order, without reading the journal.
	MonthTotals(ctx context.Context, m Month) ([]MonthTotals, error)

	// Verify recomputes the hash chain and every derived value from the
	// journal and reports the first mismatch.
	Verify(ctx context.Context) (VerifyReport, error)

	// Backup writes a consistent copy of the whole store to w while it stays
	// open, and returns the number of bytes written.
	Backup(ctx context.Context, w io.Writer) (int64, error)
}

// VerifyReport is the outcome of Journal.Verify.
type VerifyReport struct {
	OK       bool   `json:"ok"`
	Entries  uint64 `json:"entries"`
	Accounts int    `json:"accounts"`
	HeadSeq  uint64 `json:"head_seq"`
	HeadHash Hash   `json:"head_hash"`
	// FirstBadSeq is the seq at which the first mismatch was found (0 if OK).
	FirstBadSeq uint64 `json:"first_bad_seq,omitempty"`
	// Problem says in English what did not match (empty if OK).
	Problem string        `json:"problem,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// SweepResult says what one run of a background sweep (vouchers that
// expire, attendances left open) did. A sweep handles its items one by one:
// an item that cannot be handled is skipped and reported, and never stops
// the rest.
type SweepResult struct {
	Done   int            // items handled
	Failed []SweepFailure // items skipped, in the order met
	// Skipped says the run did nothing because another app server (of
	// those that share a database) was running the same sweep.
	Skipped bool
}

// SweepFailure is one item a sweep could not handle.
type SweepFailure struct {
	ID  uuid.UUID
	Err error
}

// Role is what a user may do.
type Role string

// The roles.
const (
	RoleAdmin     Role = "admin"     // everything, everywhere
	RoleOrganizer Role = "organizer" // a unit's subtree
	RoleClerk     Role = "clerk"     // one shop's counter
	// RoleGridWorker is a 网格员: staff bound to one grid, who enters wishes
	// and behaviour awards for the residents of that grid.
	RoleGridWorker Role = "grid_worker"
	RoleVolunteer  Role = "volunteer" // themself
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleOrganizer, RoleClerk, RoleGridWorker, RoleVolunteer:
		return true
	}
	return false
}

// User is someone who can log in.
type User struct {
	ID    uuid.UUID `json:"id"`
	Login string    `json:"login"`
	Name  string    `json:"name"`
	Role  Role      `json:"role"`
	// PasswordHash is an argon2id PHC string; never sent to clients.
	PasswordHash string    `json:"-"`
	UnitID       uuid.UUID `json:"unit_id,omitzero"`
	ShopID       uuid.UUID `json:"shop_id,omitzero"`
	MemberID     uuid.UUID `json:"member_id,omitzero"`
	CreatedAt    time.Time `json:"created_at"`
	Disabled     bool      `json:"disabled,omitempty"`
	// DisabledAt is when the account was disabled (zero while it is not).
	DisabledAt time.Time `json:"disabled_at,omitzero"`
	// UpdatedAt and UpdatedBy say when and by whom the account was last
	// changed on the staff page (ChangeStaff); zero if never.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy uuid.UUID `json:"updated_by,omitzero"`
	// OwnPassword says the password was chosen by the user themself (with
	// the one before it), not set by staff: only then does typing it prove
	// that a member is there (CheckPresence).
	OwnPassword bool `json:"own_password,omitempty"`
}

// Check normalises and checks a user's login (1 to 64 characters, no
// spaces) and name (up to 64 characters), as every free text (Text.Clean).
func (u *User) Check() error {
	login, err := Text{Field: "field.login", Key: "user.login_invalid", Max: 64, Required: true}.Clean(u.Login)
	if err != nil {
		return err
	}
	if strings.ContainsFunc(login, unicode.IsSpace) {
		return Errorf(EINVALID, "user.login_invalid")
	}
	u.Login = login
	if u.Name, err = (Text{Field: "field.staff_name", Key: "user.name_invalid", Max: 64}).Clean(u.Name); err != nil {
		return err
	}
	if !u.Role.Valid() {
		return Errorf(EINVALID, "user.role_invalid", Clip(string(u.Role)))
	}
	return nil
}

// Session is a server-side login session. The client holds a random token;
// the store keeps only its SHA-256.
type Session struct {
	TokenHash Hash      `json:"-"`
	UserID    uuid.UUID `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Verified, when set, is the password hash the login checked: the
	// session is made only if it is still the user's, and the user is not
	// disabled, so that a password reset or a disable that lands while a
	// login is checked cannot be outlived. Never stored.
	Verified string `json:"-"`
}

// Users keeps user accounts and their sessions.
type Users interface {
	// CreateUser stores a new user. Returns ECONFLICT if the login is taken
	// (logins compare case-insensitively), EINVALID for a malformed user.
	CreateUser(ctx context.Context, u User) (User, error)
	// SetPassword replaces a user's password hash, as set by someone else
	// (staff, or the command line), and ends all their sessions. Returns ENOTFOUND.
	SetPassword(ctx context.Context, id uuid.UUID, hash string) error
	// SetOwnPassword is SetPassword for the password the user chose themself.
	SetOwnPassword(ctx context.Context, id uuid.UUID, hash string) error
	// ChangeStaff changes the staff account target as actor asks (see
	// ledger.ChangeStaff, which decides with both accounts and the target's
	// unit read in the same transaction) and ends the account's sessions
	// but current, the actor's own. Returns what ledger.ChangeStaff returns,
	// and ENOTFOUND for an unknown target.
	ChangeStaff(ctx context.Context, actor, target uuid.UUID, ch StaffChange, current Hash) (StaffUpdate, error)
	// UserByLogin returns ENOTFOUND for an unknown login.
	UserByLogin(ctx context.Context, login string) (User, error)
	// UserByID returns ENOTFOUND for an unknown id.
	UserByID(ctx context.Context, id uuid.UUID) (User, error)
	// Staff returns every user but volunteers, by id.
	Staff(ctx context.Context) ([]User, error)
	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int, error)

	// CreateSession stores a session.
	// CreateSession stores a session. Returns EUNAUTHORIZED when s.Verified
	// is set and no longer the user's password, or the user is disabled.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with the token hash if it has not expired at
	// now; EUNAUTHORIZED otherwise.
	Session(ctx context.Context, tokenHash Hash, now time.Time) (Session, error)
	// SessionUser returns the user of the session with the token hash, read
	// with the session in one transaction: EUNAUTHORIZED as Session does,
	// ENOTFOUND if the user is gone.
	SessionUser(ctx context.Context, tokenHash Hash, now time.Time) (User, error)
	// DeleteSession revokes a session; deleting an unknown one does nothing.
	DeleteSession(ctx context.Context, tokenHash Hash) error
	// DeleteExpiredSessions removes sessions that expired before now and says how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}
