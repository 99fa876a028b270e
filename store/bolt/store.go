// Package bolt keeps aixin's ledger in one bbolt file: the journal, the state
// derived from it, users and sessions. It implements ledger.Journal and
// ledger.Users.
//
// Every write goes through one commit queue: a single writer goroutine takes
// whatever requests are waiting, runs them in one bbolt write transaction and
// commits once, so concurrent writers share the two fsyncs of a commit without
// any timer delay. A lone writer commits alone at once.
package bolt

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	_ "time/tzdata" // months are counted in Asia/Shanghai even where the system has no tz data

	"aixin/ledger"
	"aixin/store"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// The schema. Every bucket and key layout of the file is listed here; integers
// in keys and values are big-endian and fixed-width, so byte order is logical
// order.
//
//	meta      "schema"  -> uint32 schema version
//	          "created" -> int64 Unix ns when the file was made
//	          "tz"      -> IANA time zone name that months are counted in
//	          "head"    -> seq(8) | hash(32) | time(8, Unix ns) of the newest entry
//	          "probe"   -> int64 Unix ns of the last readiness probe
//	journal   seq(8) -> canonical entry bytes (see ledger.Entry.Canonical) | hash(32)
//	                    | prev seq of the debit account(8) | prev seq of the credit account(8)
//	          Append-only, FillPercent 1.0. The two "prev seq" links make the
//	          per-account index: each account's entries form a chain from its
//	          newest entry back, so listing an account costs O(page), and appending
//	          writes no randomly placed index keys.
//	accounts  account(17) -> balance(8) | newest seq(8) | entry count(8) | service minutes(8)
//	          one row per open account; the head of its index chain
//	          account(17) | yyyymm(4) -> n, in[n kinds], out[n kinds], minutes, wish points, entries
//	          (varints; see decodeMonthRow)
//	          the account's monthly totals, right after its balance row, so an
//	          append touches one page per account for both; a month's totals are
//	          one seek per account, never a journal scan
//	idem      0x03 | UUID(16) | user(16), for a client's key "client:<user>:<uuid>"
//	          (see ledger.ClientKey) whose key is a canonical lower-case UUID,
//	          0x01 | UUID(16), for a bare canonical UUID (clients' keys before
//	          they had namespaces), or
//	          0x02 | SHA-256(key)(32), for any other key
//	            -> seq(8) of the entry the key first produced; a repeated key is
//	            compared with that entry's request fingerprint
//	          Time-ordered keys (UUIDv7, as aixin's pages send) are appended at
//	          the end of the bucket instead of at random places (FillPercent 1.0).
//	reversed  seq(8) -> seq(8) of the entry that reversed it
//	users     user id(16) -> JSON ledger.User
//	logins    lower-case login -> user id(16)
//	sessions  SHA-256(token)(32) -> JSON ledger.Session
//	usersessions user id(16) | SHA-256(token)(32) -> nothing: each user's
//	          sessions, so that ending them costs O(their sessions)
//	units     unit id(16) -> JSON ledger.Unit (ids are UUIDv7: parents sort before children)
//	teams     team id(16) -> JSON ledger.Team
//	members   member id(16) -> JSON ledger.Member
//	phones    11-digit phone -> member id(16)
//	meta      "secret:<name>" -> 32 random bytes (e.g. the key that signs member cards)
//	events       event id(16) -> JSON ledger.Event with its secret
//	attendances  attendance id(16) -> JSON ledger.Attendance
//	eventatt     event id(16) | attendance id(16) -> nothing: an event's attendances
//	memberatt    member id(16) | attendance id(16) -> nothing: a member's footprint, in time order
//	openatt      member id(16) -> attendance id(16) the member is checked in to now
//	memberday    member id(16) | yyyymmdd(4) -> minutes posted that day (the daily cap)
//	eventstats   event id(16) -> attendances in all(8) | open now(8)
//	memberend    member id(16) -> Unix ns of the latest check-out of any of the member's attendances
//	shops        shop id(16) -> JSON ledger.Shop
//	items        item id(16) -> JSON ledger.Item (stock on hand and reserved)
//	shopitems    shop id(16) | item id(16) -> nothing: a shop's catalogue
//	stockmoves   move id(16) -> JSON ledger.StockMove
//	itemmoves    item id(16) | move id(16) -> nothing: an item's movements in order
//	vouchers     voucher id(16) -> JSON ledger.Voucher with its redemption key
//	vouchercodes short code -> voucher id(16)
//	membervouchers member id(16) | voucher id(16) -> nothing
//	voucherexpiry  expiry Unix ns(8) | voucher id(16) -> nothing: open vouchers by expiry
//	memberitemmonth member(16) | item(16) | yyyymm(4) -> quantity on vouchers that month (limits)
//	memberheld   member id(16) -> points in the member's open vouchers
//	pictures     item id(16) -> content type "\n" image bytes (at most 512 KiB)
//	memberredeemed member(16) | yyyymm(4) -> points | vouchers redeemed that month, less reversals (see report.go)
//	shopmonth      shop(16) | yyyymm(4) -> vouchers | items redeemed that month, less reversals |
//	               reversals | the month's last redemption or reversal seq (the way into the shop's chain)
//	shopitemmonth  shop(16) | yyyymm(4) | item(16) -> quantity given out that month, less reversals
//	shopmoves      shop(16) | yyyymm(4) | move id(16) -> nothing: a shop's stock moves by month but
//	               those of redemptions (intake with donors, corrections, reversed redemptions)
//	certificates   serial "YYYY-XXXXXXXX" -> JSON ledger.Certificate
//	eventminutes   (schema 7 and 8 only) event id(16) -> minutes of its posted attendances (8); replaced by monthevent
//	eventchanges   event id(16) | change id(16) -> JSON ledger.EventChange: who changed what, in order
//	monthevent     yyyymm(4) | event id(16) -> service minutes the month's entries credited for it (see served.go)
//	monthlate      yyyymm(4) | attendance id(16) -> minutes | time, for service of an earlier month (see served.go)
//	households     household id(16) -> JSON ledger.Household (its members and head)
//	memberhousehold member id(16) -> household id(16): the one household a member belongs to
//	behaviours     behaviour id(16) -> JSON ledger.Behaviour (a street's or community's list)
//	awards         award id(16) -> JSON ledger.Award with its client key and request fingerprint (see awards.go)
//	awardcaps      behaviour(16) | member or household(16) | yyyymm(4) -> count(8) of its awards that count
//	               against the caps (all but rejected and reversed) in that month; mm = 00: in that year
//	awardtargets   member or household(16) | award id(16) -> nothing: the awards of one member or household
//	awardmonths    yyyymm(4) | award id(16) -> nothing: the awards recorded in a month
//	awardopen      award id(16) -> nothing: awards waiting for approval, in their notice period or held
//	awardnotice    end of the notice period Unix ns(8) | award id(16) -> nothing: awards in notice, by end
//	awardkeys      idempotency key as in idem (see idemKey) -> award id(16): a client's key of a creation
//	awardpictures  award id(16) | n(1) -> content type "\n" image bytes (at most 512 KiB): its photos
//	expirypolicy   street id(16) -> years(1): the streets whose points expire (see expiry.go)
//	expiryruns     street id(16) | year(4) -> JSON ledger.ExpiryRun: a street's expiry of a year's points
//	householdheld     household id(16) -> points in the open vouchers paid from the household's account
//	householdvouchers household id(16) | voucher id(16) -> nothing: the vouchers paid from a household's account
//	householddoors    unit id(16) | ledger.DoorKey(address) -> household id(16): one household a door
//	householdredeemed household(16) | yyyymm(4) -> points | vouchers of the household redeemed that month,
//	                  less reversals (as memberredeemed; a household voucher counts here, not for its member)
//	wishes          wish id(16) -> JSON ledger.Wish (微心愿) with its history
//	communitywishes community(16) | wish id(16) -> nothing: a community's wishes, in the order entered
//	memberwishes    member(16) | wish id(16) -> nothing: the wishes a member entered, claimed or took part in
//	wishclaims      due Unix ns(8) | wish id(16) -> nothing: the open claims, by when they lapse (the sweep)
//	wishkeys        idemKey(client key) -> wish id(16) | SHA-256 of the step and its request(32)
//	wishphotos      wish id(16) | n(1) -> content type "\n" image bytes (at most 512 KiB)
//	wishwalls       community(16) -> JSON ledger.WishWall: the public wish wall's switch
var (
	bucketMeta     = []byte("meta")
	bucketJournal  = []byte("journal")
	bucketAccounts = []byte("accounts")
	bucketIdem     = []byte("idem")
	bucketReversed = []byte("reversed")
	bucketUsers    = []byte("users")
	bucketLogins   = []byte("logins")
	bucketSessions = []byte("sessions")
	bucketUnits    = []byte("units")
	bucketTeams    = []byte("teams")
	bucketMembers  = []byte("members")
	bucketPhones   = []byte("phones")

	bucketEvents      = []byte("events")
	bucketAttendances = []byte("attendances")
	bucketEventAtt    = []byte("eventatt")
	bucketMemberAtt   = []byte("memberatt")
	bucketOpenAtt     = []byte("openatt")
	bucketMemberDay   = []byte("memberday")
	bucketEventStats  = []byte("eventstats")
	bucketMemberEnd   = []byte("memberend")

	bucketShops           = []byte("shops")
	bucketItems           = []byte("items")
	bucketShopItems       = []byte("shopitems")
	bucketStockMoves      = []byte("stockmoves")
	bucketItemMoves       = []byte("itemmoves")
	bucketVouchers        = []byte("vouchers")
	bucketVoucherCodes    = []byte("vouchercodes")
	bucketMemberVouchers  = []byte("membervouchers")
	bucketVoucherExpiry   = []byte("voucherexpiry")
	bucketMemberItemMonth = []byte("memberitemmonth")
	bucketMemberHeld      = []byte("memberheld")
	bucketPictures        = []byte("pictures")
	bucketMemberRedeemed  = []byte("memberredeemed")
	bucketShopMonth       = []byte("shopmonth")
	bucketShopItemMonth   = []byte("shopitemmonth")
	bucketCertificates    = []byte("certificates")
	bucketEventMinutes    = []byte("eventminutes")
	bucketEventChanges    = []byte("eventchanges")
	bucketMonthEvent      = []byte("monthevent")
	bucketMonthLate       = []byte("monthlate")
	bucketShopMoves       = []byte("shopmoves")

	bucketUserSessions = []byte("usersessions")

	bucketHouseholds      = []byte("households")
	bucketMemberHousehold = []byte("memberhousehold")

	bucketBehaviours        = []byte("behaviours")
	bucketAwards            = []byte("awards")
	bucketAwardCaps         = []byte("awardcaps")
	bucketAwardTargets      = []byte("awardtargets")
	bucketAwardMonths       = []byte("awardmonths")
	bucketAwardOpen         = []byte("awardopen")
	bucketAwardNotice       = []byte("awardnotice")
	bucketAwardKeys         = []byte("awardkeys")
	bucketAwardPictures     = []byte("awardpictures")
	bucketExpiryPolicy      = []byte("expirypolicy")
	bucketExpiryRuns        = []byte("expiryruns")
	bucketHouseholdHeld     = []byte("householdheld")
	bucketHouseholdVouchers = []byte("householdvouchers")
	bucketHouseholdRedeemed = []byte("householdredeemed")
	bucketHouseholdDoors    = []byte("householddoors")
	bucketWishes            = []byte("wishes")
	bucketCommunityWishes   = []byte("communitywishes")
	bucketMemberWishes      = []byte("memberwishes")
	bucketWishClaims        = []byte("wishclaims")
	bucketWishKeys          = []byte("wishkeys")
	bucketWishPhotos        = []byte("wishphotos")
	bucketWishWalls         = []byte("wishwalls")

	keySchema  = []byte("schema")
	keyCreated = []byte("created")
	keyTZ      = []byte("tz")
	keyHead    = []byte("head")
	keyProbe   = []byte("probe")
)

// migration is one numbered step of the schema. Migration n brings a file from
// schema version n-1 to n; they run in order at open, in one transaction each.
type migration struct {
	version int
	name    string
	apply   func(tx *bolt.Tx, s *Store) error
}

var migrations = []migration{
	{1, "create buckets, open the escrow account", func(tx *bolt.Tx, s *Store) error {
		for _, name := range [][]byte{bucketMeta, bucketJournal, bucketAccounts, bucketIdem,
			bucketReversed, bucketUsers, bucketLogins, bucketSessions} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyCreated, u64(uint64(s.now().UnixNano()))); err != nil {
			return err
		}
		if err := meta.Put(keyTZ, []byte(s.loc.String())); err != nil {
			return err
		}
		k := ledger.Escrow.Key()
		return tx.Bucket(bucketAccounts).Put(k[:], make([]byte, accountRowSize))
	}},
	{2, "units, teams, members and their phones", func(tx *bolt.Tx, s *Store) error {
		return createBuckets(tx, bucketUnits, bucketTeams, bucketMembers, bucketPhones)
	}},
	{3, "events and attendances", func(tx *bolt.Tx, s *Store) error {
		return createBuckets(tx, bucketEvents, bucketAttendances, bucketEventAtt, bucketMemberAtt, bucketOpenAtt, bucketMemberDay, bucketEventStats, bucketMemberEnd)
	}},
	{4, "shops, catalogue, stock and vouchers", func(tx *bolt.Tx, s *Store) error {
		return createBuckets(tx, bucketShops, bucketItems, bucketShopItems, bucketStockMoves, bucketItemMoves, bucketVouchers,
			bucketVoucherCodes, bucketMemberVouchers, bucketVoucherExpiry, bucketMemberItemMonth, bucketMemberHeld, bucketPictures)
	}},
	{5, "monthly redemptions by member, shop and item", func(tx *bolt.Tx, s *Store) error {
		if err := createBuckets(tx, bucketMemberRedeemed, bucketShopMonth, bucketShopItemMonth); err != nil {
			return err
		}
		r, err := s.rebuildRedeemed(tx)
		if err != nil {
			return err
		}
		return r.store(tx)
	}},
	{6, "certificates", func(tx *bolt.Tx, s *Store) error {
		return createBuckets(tx, bucketCertificates)
	}},
	{7, "posted minutes per event", func(tx *bolt.Tx, s *Store) error {
		if tx.Bucket(bucketEventMinutes) != nil { // rebuilt from the attendances, whatever was there
			if err := tx.DeleteBucket(bucketEventMinutes); err != nil {
				return err
			}
		}
		if err := createBuckets(tx, bucketEventMinutes); err != nil {
			return err
		}
		return rebuildEventMinutes(tx)
	}},
	{8, "the record of events' changes", func(tx *bolt.Tx, s *Store) error {
		return createBuckets(tx, bucketEventChanges)
	}},
	{9, "service minutes by posting month, by event and for earlier months", func(tx *bolt.Tx, s *Store) error {
		if err := createBuckets(tx, bucketMonthEvent, bucketMonthLate); err != nil {
			return err
		}
		// Posted minutes per event over all time, by the month of the service: superseded.
		if tx.Bucket(bucketEventMinutes) != nil {
			if err := tx.DeleteBucket(bucketEventMinutes); err != nil {
				return err
			}
		}
		r, err := s.rebuildServed(tx)
		if err != nil {
			return err
		}
		return r.store(tx)
	}},
	{10, "sessions by user", func(tx *bolt.Tx, s *Store) error {
		return rebuildUserSessions(tx)
	}},
	{11, "monthly redemption rows count reversals (signed, with the month's last seq)", func(tx *bolt.Tx, s *Store) error {
		for _, name := range [][]byte{bucketMemberRedeemed, bucketShopMonth, bucketShopItemMonth} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		if err := createBuckets(tx, bucketMemberRedeemed, bucketShopMonth, bucketShopItemMonth); err != nil {
			return err
		}
		r, err := s.rebuildRedeemed(tx)
		if err != nil {
			return err
		}
		return r.store(tx)
	}},
	{12, "a shop's stock moves by month", func(tx *bolt.Tx, s *Store) error {
		if tx.Bucket(bucketShopMoves) != nil { // rebuilt from the moves, whatever was there
			if err := tx.DeleteBucket(bucketShopMoves); err != nil {
				return err
			}
		}
		if err := createBuckets(tx, bucketShopMoves); err != nil {
			return err
		}
		return s.rebuildShopMoves(tx)
	}},
	{13, "monthly totals rows count their kinds and wish points", rewriteMonthRows},
	{14, "households", func(tx *bolt.Tx, s *Store) error {
		return createBuckets(tx, bucketHouseholds, bucketMemberHousehold)
	}},
	{15, "behaviour lists and awards", func(tx *bolt.Tx, s *Store) error {
		return createBuckets(tx, bucketBehaviours, bucketAwards, bucketAwardCaps, bucketAwardTargets, bucketAwardMonths,
			bucketAwardOpen, bucketAwardNotice, bucketAwardKeys, bucketAwardPictures)
	}},
	{16, "streets' expiry policies and runs", rebuildExpiryPolicy},
	{17, "household vouchers: their held points, index and monthly redemptions", func(tx *bolt.Tx, s *Store) error {
		return createBuckets(tx, bucketHouseholdHeld, bucketHouseholdVouchers, bucketHouseholdRedeemed)
	}},
	{18, "wishes (微心愿), their indexes, photos and walls", func(tx *bolt.Tx, s *Store) error {
		return createBuckets(tx, bucketWishes, bucketCommunityWishes, bucketMemberWishes, bucketWishClaims, bucketWishKeys,
			bucketWishPhotos, bucketWishWalls)
	}},
	{19, "households by door: one household an address of a unit", rebuildHouseholdDoors},
}

func createBuckets(tx *bolt.Tx, names ...[]byte) error {
	for _, name := range names {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion is the schema version this code writes.
var SchemaVersion = migrations[len(migrations)-1].version

// Options configure Open.
type Options struct {
	// Location is the time zone months are counted in. A new file records it;
	// an existing file must be opened with the same one. Default: the file's
	// own, or Asia/Shanghai for a new file.
	Location *time.Location
	// LockTimeout is how long to wait for another process's lock. Default 1s.
	LockTimeout time.Duration
	// ReadOnly opens the file without writing (for verify and backup of a stopped server).
	ReadOnly bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// MaxBatch caps how many requests one commit takes. Default 1024.
	MaxBatch int
	// Rules are the rules of hours into points. Default ledger.DefaultEventRules.
	Rules *ledger.EventRules
	// VoucherLife is how long a voucher stays valid. Default ledger.VoucherLife (30 days).
	VoucherLife time.Duration
	// AwardRules are the settings of behaviour awards. Default ledger.DefaultAwardRules.
	AwardRules *ledger.AwardRules
	// WishClaimLife is how long a claim of a wish stays before it goes back
	// to the wall unfulfilled. Default ledger.DefaultWishClaimDays days.
	WishClaimLife time.Duration
}

// initialMmapSize is address space, not memory: pages are only read in when used.
const initialMmapSize = 4 << 30

// ErrLocked is returned by Open when another process holds the file.
var ErrLocked = errors.New("the data file is in use by another aixin process")

// Store is the bbolt implementation of the ledger contracts.
type Store struct {
	db          *bolt.DB
	loc         *time.Location
	now         func() time.Time
	rules       ledger.EventRules
	voucherLife time.Duration
	maxBatch    int
	expiryPage  int // due vouchers one step of the expiry sweep reads
	awardRules  ledger.AwardRules

	mu     sync.RWMutex // guards closed against sends on ops
	closed bool
	ops    chan *op
	done   chan struct{}

	stats store.Counters
	// failed holds the error that stopped writes (see commitFailed).
	failed atomic.Pointer[error]

	// wishClaimLife is how long a claim of a wish lasts (Options.WishClaimLife).
	wishClaimLife time.Duration

	// decoded keeps what every check-in reads, decoded.
	decoded checkinReads
}

// Open opens or creates the store file at path, migrating it to the current
// schema. A second process opening the same file fails after LockTimeout with
// an error wrapping ErrLocked.
func Open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:  opts.LockTimeout,
		ReadOnly: opts.ReadOnly,
		// Reserve address space up front so that growing the file does not
		// remap it (a remap stalls every writer and reader at once).
		InitialMmapSize: initialMmapSize,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%s: %w (its lock is held; stop the other process first)", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, loc: opts.Location, now: opts.Now, maxBatch: opts.MaxBatch, rules: ledger.DefaultEventRules, expiryPage: expiryPage}
	if opts.Rules != nil {
		s.rules = *opts.Rules
	}
	s.voucherLife = cmp.Or(opts.VoucherLife, ledger.VoucherLife)
	s.awardRules = ledger.DefaultAwardRules
	if opts.AwardRules != nil {
		s.awardRules = *opts.AwardRules
	}
	s.wishClaimLife = cmp.Or(opts.WishClaimLife, ledger.DefaultWishClaimDays*24*time.Hour)
	if err := s.migrate(opts.ReadOnly); err != nil {
		db.Close()
		return nil, err
	}
	if !opts.ReadOnly {
		s.ops = make(chan *op, 4096)
		s.done = make(chan struct{})
		go s.writeLoop()
	}
	return s, nil
}

func (s *Store) migrate(readOnly bool) error {
	var have int
	var tz string
	err := s.db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bucketMeta); meta != nil {
			if v := meta.Get(keySchema); len(v) == 4 {
				have = int(binary.BigEndian.Uint32(v))
			}
			tz = string(meta.Get(keyTZ))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if have > SchemaVersion {
		return fmt.Errorf("the data file has schema version %d, newer than this aixin understands (%d): upgrade aixin", have, SchemaVersion)
	}
	switch {
	case tz == "" && s.loc == nil:
		tz = ledger.DefaultTimeZone
		fallthrough
	case s.loc == nil:
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return fmt.Errorf("time zone of the data file: %w", err)
		}
		s.loc = loc
	case tz != "" && tz != s.loc.String():
		return fmt.Errorf("the data file counts months in time zone %s, not %s: start with --tz %s", tz, s.loc, tz)
	}
	if have == SchemaVersion {
		return nil
	}
	if readOnly {
		return fmt.Errorf("the data file has schema version %d, not %d; open it once read-write to migrate", have, SchemaVersion)
	}
	for _, m := range migrations[have:] {
		err := s.db.Update(func(tx *bolt.Tx) error {
			if err := m.apply(tx, s); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, uint32(m.version)))
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// Close waits for queued writes to commit and closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.ops != nil {
		close(s.ops)
	}
	s.mu.Unlock()
	if s.done != nil {
		<-s.done
	}
	return s.db.Close()
}

// Path returns the file's path.
func (s *Store) Path() string { return s.db.Path() }

// Location returns the time zone months are counted in.
func (s *Store) Location() *time.Location { return s.loc }

// op is one write request waiting in the commit queue. fn must check
// everything before it writes anything: when it returns a *ledger.Error it
// must have written nothing, so the other requests of the batch can commit.
// Any other error aborts the batch, and each of its requests is retried in a
// transaction of its own.
type op struct {
	fn   func(w *writeTx) error
	done chan error
}

// writeTx is the state one batch's requests share: the transaction and the
// chain head, which each appended entry moves on.
type writeTx struct {
	tx       *bolt.Tx
	journal  *bolt.Bucket
	idem     *bolt.Bucket
	headSeq  uint64
	headHash ledger.Hash
	headTime time.Time
	appended int
}

// errAborted marks a batch aborted by an unexpected error of one of its requests.
var errAborted = errors.New("batch aborted")

func (s *Store) writeLoop() {
	defer close(s.done)
	batch := make([]*op, 0, s.maxBatch)
	for first := range s.ops {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < s.maxBatch {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

// commit runs a batch in one transaction; see op for how failures are
// isolated. When one request fails in an unexpected way (or panics), the
// transaction is rolled back, that request alone gets the error, and the
// rest of the batch is committed again without it.
func (s *Store) commit(batch []*op) {
	if len(batch) == 0 {
		return
	}
	if s.failed.Load() != nil {
		for _, o := range batch {
			o.done <- ledger.Errorf(ledger.EUNAVAILABLE, "store.failed")
		}
		return
	}
	errs := make([]error, len(batch))
	bad := -1
	var appended int
	err := s.db.Update(func(tx *bolt.Tx) error {
		w, err := s.beginWrite(tx)
		if err != nil {
			return err
		}
		for i, o := range batch {
			err := runOp(o, w)
			var abort abortError
			if _, refused := ledger.AsError(err); err != nil && (!refused || errors.As(err, &abort)) {
				errs[i], bad = err, i
				return errAborted
			}
			errs[i] = err
		}
		appended = w.appended
		return w.finish()
	})
	s.stats.ObserveBatch(len(batch))
	if err == nil {
		s.stats.Commits.Add(1)
		s.stats.Appends.Add(uint64(appended))
		for i, o := range batch {
			o.done <- errs[i]
		}
		return
	}
	s.stats.CommitErrors.Add(1)
	if errors.Is(err, errAborted) {
		batch[bad].done <- fmt.Errorf("store write: %w", errs[bad])
		s.commit(append(batch[:bad:bad], batch[bad+1:]...))
		return
	}
	err = s.commitFailed(err)
	for _, o := range batch {
		o.done <- err
	}
}

// runOp runs one request of a batch, turning a panic into an error that
// aborts the batch instead of ending the process.
func runOp(o *op, w *writeTx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in a write: %v", r)
		}
	}()
	return o.fn(w)
}

// commitFailed decides what a failed commit means. A full disk fails the
// batch and nothing else: bbolt wrote no meta page. Any other failure (a
// sync error, say) may have left the new meta page in the page cache, so
// the store stops taking writes until it is reopened and verified.
func (s *Store) commitFailed(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		strings.Contains(err.Error(), "no space left on device") || strings.Contains(err.Error(), "disk quota exceeded") {
		return ledger.Errorf(ledger.EUNAVAILABLE, "store.disk_full")
	}
	s.failed.CompareAndSwap(nil, &err)
	return fmt.Errorf("store write failed; writes are stopped until aixin is restarted and the data verified: %w", err)
}

// Failed returns the error that stopped writes, if any.
func (s *Store) Failed() error {
	if p := s.failed.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Store) beginWrite(tx *bolt.Tx) (*writeTx, error) {
	w := &writeTx{tx: tx, journal: tx.Bucket(bucketJournal), idem: tx.Bucket(bucketIdem)}
	w.journal.FillPercent = 1.0 // append-only: fill pages completely
	w.idem.FillPercent = 1.0    // mostly appended (time-ordered keys)
	v := tx.Bucket(bucketMeta).Get(keyHead)
	switch {
	case len(v) == 48:
		w.headSeq = binary.BigEndian.Uint64(v)
		copy(w.headHash[:], v[8:40])
		w.headTime = time.Unix(0, int64(binary.BigEndian.Uint64(v[40:])))
	case v != nil:
		return nil, errors.New("the chain head record is damaged: run aixin verify")
	}
	// The head must name the journal's last entry, or an append would
	// overwrite history.
	if k, _ := w.journal.Cursor().Last(); (k == nil) != (w.headSeq == 0) || (k != nil && binary.BigEndian.Uint64(k) != w.headSeq) {
		return nil, errors.New("the chain head record does not match the journal: run aixin verify")
	}
	return w, nil
}

func (w *writeTx) finish() error {
	if w.appended == 0 {
		return nil
	}
	v := make([]byte, 0, 48)
	v = binary.BigEndian.AppendUint64(v, w.headSeq)
	v = append(v, w.headHash[:]...)
	v = binary.BigEndian.AppendUint64(v, uint64(w.headTime.UnixNano()))
	return w.tx.Bucket(bucketMeta).Put(keyHead, v)
}

// updateEach queues n writes, fn(0) to fn(n-1), at once and waits for all of
// them: they share commits like concurrent requests do, and each succeeds or
// fails on its own (a background sweep's items).
func (s *Store) updateEach(ctx context.Context, n int, fn func(i int, w *writeTx) error) []error {
	ops := make([]*op, n)
	errs := make([]error, n)
	s.mu.RLock()
	for i := range ops {
		if s.closed || s.ops == nil {
			errs[i] = ledger.Errorf(ledger.EUNAVAILABLE, "store.closed")
			continue
		}
		ops[i] = &op{fn: func(w *writeTx) error { return fn(i, w) }, done: make(chan error, 1)}
		select {
		case s.ops <- ops[i]:
		case <-ctx.Done():
			ops[i], errs[i] = nil, ledger.Errorf(ledger.EUNAVAILABLE, "store.busy")
		}
	}
	s.mu.RUnlock()
	for i, o := range ops {
		if o != nil {
			errs[i] = <-o.done
		}
	}
	return errs
}

// update queues fn and waits until its batch has committed (or failed). Once
// queued, a request is carried out even if ctx ends, so the caller always
// learns the true outcome.
func (s *Store) update(ctx context.Context, fn func(w *writeTx) error) error {
	o := &op{fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed || s.ops == nil {
		s.mu.RUnlock()
		return ledger.Errorf(ledger.EUNAVAILABLE, "store.closed")
	}
	select {
	case s.ops <- o:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ledger.Errorf(ledger.EUNAVAILABLE, "store.busy")
	}
	s.mu.RUnlock()
	return <-o.done
}

// CheckWritable commits a small write, proving the file and disk take writes.
func (s *Store) CheckWritable(ctx context.Context) error {
	return s.update(ctx, func(w *writeTx) error {
		return w.tx.Bucket(bucketMeta).Put(keyProbe, u64(uint64(s.now().UnixNano())))
	})
}

// Stats returns a snapshot of the store's counters.
func (s *Store) Stats() store.Stats { return s.stats.Snapshot(len(s.ops)) }

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
