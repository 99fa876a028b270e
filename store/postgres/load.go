package postgres

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// loadPage is how many records of a kind Load sends in one COPY.
const loadPage = 5_000

// A Source is what Load copies: a stopped deployment of another engine.
type Source struct {
	// Accounts are the open accounts.
	Accounts []ledger.Account
	// Entries reads the journal in pages: up to limit entries after seq.
	Entries func(after uint64, limit int) ([]ledger.Entry, error)
	// Records calls fn with every other record (see ledger.Record).
	Records func(fn func(ledger.Record) error) error
}

// Load copies a whole deployment into this empty database in one
// transaction: the journal as CopyJournal does, then every record. A
// database that holds anything of aixin's is refused with ErrNotEmpty; a
// load that fails leaves the database as it was. It returns the entries
// copied and the sums of the records stored, by kind.
func (s *Store) Load(ctx context.Context, src Source) (uint64, ledger.RecordSums, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, nil, unavailable(err)
	}
	defer tx.Rollback(context.Background())
	if err := checkEmpty(ctx, tx); err != nil {
		return 0, nil, err
	}
	n, err := s.copyJournal(ctx, tx, src.Accounts, src.Entries)
	if err != nil {
		return n, nil, err
	}
	sums := ledger.RecordSums{}
	pending := map[ledger.RecordKind][][]any{}
	flush := func(kind ledger.RecordKind) error {
		rows := pending[kind]
		if len(rows) == 0 {
			return nil
		}
		t := recordTables[kind]
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("%s: %w", t.table, err)
		}
		pending[kind] = rows[:0]
		return nil
	}
	err = src.Records(func(r ledger.Record) error {
		t, ok := recordTables[r.Kind]
		if !ok {
			return fmt.Errorf("a record of kind %q, which this version does not know", r.Kind)
		}
		row, err := t.row(r, s.loc)
		if err != nil {
			return fmt.Errorf("%s %s: %w", r.Kind, r.ID, err)
		}
		sums.Add(r)
		pending[r.Kind] = append(pending[r.Kind], row)
		if len(pending[r.Kind]) >= loadPage {
			return flush(r.Kind)
		}
		return nil
	})
	if err != nil {
		return n, nil, err
	}
	for _, k := range ledger.RecordKinds {
		if err := flush(k); err != nil {
			return n, nil, err
		}
	}
	// The events' counters, made from the attendances copied.
	if _, err := tx.Exec(ctx, `INSERT INTO event_counts (event, total, open)
		SELECT event, count(*), count(*) FILTER (WHERE open) FROM attendances GROUP BY event`); err != nil {
		return n, nil, err
	}
	return n, sums, tx.Commit(ctx)
}

// checkEmpty refuses a database that holds any of aixin's data: entries,
// accounts but escrow, or a row of any record's table.
func checkEmpty(ctx context.Context, tx pgx.Tx) error {
	if err := journalEmpty(ctx, tx); err != nil {
		return err
	}
	var parts []string
	seen := map[string]bool{}
	for _, k := range ledger.RecordKinds {
		if t := recordTables[k].table; !seen[t] {
			seen[t] = true
			parts = append(parts, "EXISTS (SELECT 1 FROM "+t+")")
		}
	}
	var any bool
	if err := tx.QueryRow(ctx, `SELECT `+strings.Join(parts, " OR ")).Scan(&any); err != nil {
		return err
	}
	if any {
		return ErrNotEmpty
	}
	return nil
}

// DumpSums reads every record of the database back as Load stored it and
// sums them by kind: equal to what Load returned, and to the source's
// sums, when the copy is whole.
func (s *Store) DumpSums(ctx context.Context) (ledger.RecordSums, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, unavailable(err)
	}
	defer tx.Rollback(context.Background())
	sums := ledger.RecordSums{}
	for _, k := range ledger.RecordKinds {
		s, err := sumTable(ctx, tx, k)
		if err != nil {
			return nil, err
		}
		sums[k] = &s
	}
	return sums, nil
}

// sumTable sums the records of kind in its table.
func sumTable(ctx context.Context, tx pgx.Tx, kind ledger.RecordKind) (ledger.RecordSum, error) {
	var sum ledger.RecordSum
	t := recordTables[kind]
	rows, err := tx.Query(ctx, `SELECT `+strings.Join(t.read, ", ")+` FROM `+t.table)
	if err != nil {
		return sum, fmt.Errorf("%s: %w", t.table, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := t.scan(rows)
		if err != nil {
			return sum, fmt.Errorf("%s: %w", t.table, err)
		}
		r.Kind = kind
		sum.Add(r)
	}
	return sum, rows.Err()
}

// recordTable says where a kind of record is stored: the columns Load
// writes and how it makes them from a record, and the columns DumpSums
// reads back and how it makes the record again.
type recordTable struct {
	table string
	cols  []string
	row   func(r ledger.Record, loc *time.Location) ([]any, error)
	read  []string
	scan  func(rows pgx.Rows) (ledger.Record, error)
}

// docTable is the table of a document keyed by id whose other columns
// come from the decoded document T.
func docTable[T any](table string, cols []string, extra func(d T, loc *time.Location) []any) recordTable {
	return recordTable{
		table: table,
		cols:  append([]string{"id", "doc"}, cols...),
		row: func(r ledger.Record, loc *time.Location) ([]any, error) {
			var d T
			if err := json.Unmarshal(r.Doc, &d); err != nil {
				return nil, err
			}
			return append([]any{r.ID, string(r.Doc)}, extra(d, loc)...), nil
		},
		read: []string{"id", "doc"},
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			var doc string
			err := rows.Scan(&r.ID, &doc)
			r.Doc = []byte(doc)
			return r, err
		},
	}
}

func nilID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

func nanos(t time.Time, ok bool) *int64 {
	if !ok {
		return nil
	}
	n := t.UnixNano()
	return &n
}

// picturesTable is a table of numbered pictures (award, wish).
func picturesTable(table, owner string) recordTable {
	return recordTable{
		table: table, cols: []string{owner, "n", "content_type", "data"},
		row: func(r ledger.Record, _ *time.Location) ([]any, error) {
			return []any{r.ID, int16(r.Values[0]), r.Name, r.Doc}, nil
		},
		read: []string{owner, "n", "content_type", "data"},
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			var n int16
			err := rows.Scan(&r.ID, &n, &r.Name, &r.Doc)
			r.Values[0] = int64(n)
			return r, err
		},
	}
}

// recordTables are the tables of each kind of record.
var recordTables = map[ledger.RecordKind]recordTable{
	ledger.RecSecret: {
		table: "secrets", cols: []string{"name", "value"},
		row:  func(r ledger.Record, _ *time.Location) ([]any, error) { return []any{r.Name, r.Doc}, nil },
		read: []string{"name", "value"},
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			return r, rows.Scan(&r.Name, &r.Doc)
		},
	},
	ledger.RecUnit: docTable("units", []string{"parent"}, func(u ledger.Unit, _ *time.Location) []any {
		return []any{nilID(u.ParentID)}
	}),
	ledger.RecTeam: docTable("teams", []string{"unit", "name"}, func(t ledger.Team, _ *time.Location) []any {
		return []any{t.UnitID, t.Name}
	}),
	ledger.RecUser: docTable("users", []string{"login", "role"}, func(u storedUser, _ *time.Location) []any {
		return []any{strings.ToLower(u.Login), string(u.Role)}
	}),
	ledger.RecSession: {
		table: "sessions", cols: []string{"token", "user_id", "expires_at", "doc"},
		row: func(r ledger.Record, _ *time.Location) ([]any, error) {
			token, err := hex.DecodeString(r.Name)
			if err != nil || len(token) != 32 {
				return nil, fmt.Errorf("session token hash %q", r.Name)
			}
			var sess ledger.Session
			if err := json.Unmarshal(r.Doc, &sess); err != nil {
				return nil, err
			}
			return []any{token, sess.UserID, sess.ExpiresAt.UnixNano(), string(r.Doc)}, nil
		},
		read: []string{"token", "doc"},
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			var token []byte
			var doc string
			err := rows.Scan(&token, &doc)
			r.Name, r.Doc = hex.EncodeToString(token), []byte(doc)
			return r, err
		},
	},
	ledger.RecMember: docTable("members", []string{"unit", "phone"}, func(m ledger.Member, _ *time.Location) []any {
		return []any{m.UnitID, m.Phone}
	}),
	ledger.RecHousehold: docTable("households", []string{"unit", "door"}, func(h ledger.Household, _ *time.Location) []any {
		return []any{h.UnitID, ledger.DoorKey(h.Address)}
	}),
	ledger.RecMemberHousehold: pairTable("member_households", "member", "household"),
	ledger.RecEvent: docTable("events", []string{"unit"}, func(e ledger.Event, _ *time.Location) []any {
		return []any{e.UnitID}
	}),
	ledger.RecEventChange: {
		table: "event_changes", cols: []string{"event", "id", "doc"},
		row: func(r ledger.Record, _ *time.Location) ([]any, error) {
			return []any{r.Of, r.ID, string(r.Doc)}, nil
		},
		read: []string{"event", "id", "doc"},
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			var doc string
			err := rows.Scan(&r.Of, &r.ID, &doc)
			r.Doc = []byte(doc)
			return r, err
		},
	},
	ledger.RecAttendance: docTable("attendances", []string{"event", "member", "open", "checked_out_at"},
		func(a ledger.Attendance, _ *time.Location) []any {
			return []any{a.EventID, a.MemberID, a.Status == ledger.AttendanceOpen, nanos(a.CheckedOutAt, !a.CheckedOutAt.IsZero())}
		}),
	ledger.RecMemberDay: counterTable("member_days", []string{"member", "day", "minutes"},
		func(r ledger.Record) []any { return []any{r.ID, int32(r.Month), r.Values[0]} },
		func(r *ledger.Record) []any { return []any{&r.ID, &r.Month, &r.Values[0]} }),
	ledger.RecMonthEvent: counterTable("month_events", []string{"month", "event", "minutes"},
		func(r ledger.Record) []any { return []any{int32(r.Month), r.Of, r.Values[0]} },
		func(r *ledger.Record) []any { return []any{&r.Month, &r.Of, &r.Values[0]} }),
	ledger.RecMonthLate: counterTable("month_late", []string{"month", "attendance", "minutes", "at"},
		func(r ledger.Record) []any { return []any{int32(r.Month), r.ID, r.Values[0], r.Values[1]} },
		func(r *ledger.Record) []any { return []any{&r.Month, &r.ID, &r.Values[0], &r.Values[1]} }),
	ledger.RecCertificate: {
		table: "certificates", cols: []string{"serial", "doc"},
		row: func(r ledger.Record, _ *time.Location) ([]any, error) {
			return []any{r.Name, string(r.Doc)}, nil
		},
		read: []string{"serial", "doc"},
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			var doc string
			err := rows.Scan(&r.Name, &doc)
			r.Doc = []byte(doc)
			return r, err
		},
	},
	ledger.RecShop: docTable("shops", []string{"unit"}, func(s ledger.Shop, _ *time.Location) []any {
		return []any{s.UnitID}
	}),
	ledger.RecItem: docTable("items", []string{"shop"}, func(it ledger.Item, _ *time.Location) []any {
		return []any{it.ShopID}
	}),
	ledger.RecItemPicture: {
		table: "item_pictures", cols: []string{"item", "content_type", "data"},
		row: func(r ledger.Record, _ *time.Location) ([]any, error) {
			return []any{r.ID, r.Name, r.Doc}, nil
		},
		read: []string{"item", "content_type", "data"},
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			return r, rows.Scan(&r.ID, &r.Name, &r.Doc)
		},
	},
	ledger.RecStockMove: {
		table: "stock_moves", cols: []string{"id", "item", "shop", "month", "kind", "doc"},
		row: func(r ledger.Record, loc *time.Location) ([]any, error) {
			var m ledger.StockMove
			if err := json.Unmarshal(r.Doc, &m); err != nil {
				return nil, err
			}
			return []any{r.ID, m.ItemID, r.Of, int32(ledger.MonthOf(m.At, loc)), m.Kind, string(r.Doc)}, nil
		},
		read: []string{"id", "shop", "doc"},
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			var doc string
			err := rows.Scan(&r.ID, &r.Of, &doc)
			r.Doc = []byte(doc)
			return r, err
		},
	},
	ledger.RecVoucher: docTable("vouchers", []string{"member", "household", "code", "expires_at"},
		func(v storedVoucher, _ *time.Location) []any {
			return []any{v.MemberID, nilID(v.HouseholdID), v.Code, nanos(v.ExpiresAt, v.Status == ledger.VoucherOpen)}
		}),
	ledger.RecMemberItemMonth: counterTable("member_item_months", []string{"member", "item", "month", "count"},
		func(r ledger.Record) []any { return []any{r.ID, r.Of, int32(r.Month), r.Values[0]} },
		func(r *ledger.Record) []any { return []any{&r.ID, &r.Of, &r.Month, &r.Values[0]} }),
	ledger.RecHeld: {
		table: "held", cols: []string{"account", "points"},
		row: func(r ledger.Record, _ *time.Location) ([]any, error) {
			k := r.Account.Key()
			return []any{k[:], r.Values[0]}, nil
		},
		read: []string{"account", "points"},
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			var k []byte
			if err := rows.Scan(&k, &r.Values[0]); err != nil {
				return r, err
			}
			a, err := ledger.AccountFromKey(k)
			r.Account = a
			return r, err
		},
	},
	ledger.RecRedeemedMonth: {
		table: "redeemed_months", cols: []string{"account", "month", "points", "vouchers"},
		row: func(r ledger.Record, _ *time.Location) ([]any, error) {
			k := r.Account.Key()
			return []any{k[:], int32(r.Month), r.Values[0], r.Values[1]}, nil
		},
		read: []string{"account", "month", "points", "vouchers"},
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			var k []byte
			if err := rows.Scan(&k, &r.Month, &r.Values[0], &r.Values[1]); err != nil {
				return r, err
			}
			a, err := ledger.AccountFromKey(k)
			r.Account = a
			return r, err
		},
	},
	ledger.RecShopMonth: counterTable("shop_months", []string{"shop", "month", "vouchers", "items", "reversals", "last_seq"},
		func(r ledger.Record) []any {
			return []any{r.Of, int32(r.Month), r.Values[0], r.Values[1], r.Values[2], r.Values[3]}
		},
		func(r *ledger.Record) []any {
			return []any{&r.Of, &r.Month, &r.Values[0], &r.Values[1], &r.Values[2], &r.Values[3]}
		}),
	ledger.RecShopItemMonth: counterTable("shop_item_months", []string{"shop", "month", "item", "qty"},
		func(r ledger.Record) []any { return []any{r.Of, int32(r.Month), r.ID, r.Values[0]} },
		func(r *ledger.Record) []any { return []any{&r.Of, &r.Month, &r.ID, &r.Values[0]} }),
	ledger.RecBehaviour: docTable("behaviours", []string{"unit"}, func(b ledger.Behaviour, _ *time.Location) []any {
		return []any{b.UnitID}
	}),
	ledger.RecAward: docTable("awards", []string{"target", "month", "open", "notice_until", "client_key"},
		func(a storedAward, loc *time.Location) []any {
			var key *string
			if a.Key != "" {
				key = &a.Key
			}
			return []any{a.TargetID(), int32(a.Month(loc)), a.Status.Open(),
				nanos(a.NoticeUntil, a.Status == ledger.AwardInNotice && !a.NoticeUntil.IsZero()), key}
		}),
	ledger.RecAwardCap: counterTable("award_caps", []string{"behaviour", "target", "month", "count"},
		func(r ledger.Record) []any { return []any{r.Of, r.ID, int32(r.Month), r.Values[0]} },
		func(r *ledger.Record) []any { return []any{&r.Of, &r.ID, &r.Month, &r.Values[0]} }),
	ledger.RecAwardPicture: picturesTable("award_pictures", "award"),
	ledger.RecWish: docTable("wishes", []string{"community", "claim_due"}, func(w ledger.Wish, _ *time.Location) []any {
		claimed := w.Status == ledger.WishClaimed && w.Claim != nil
		var due time.Time
		if claimed {
			due = w.Claim.DueAt
		}
		return []any{w.CommunityID, nanos(due, claimed)}
	}),
	ledger.RecMemberWish: pairTable("member_wishes", "member", "wish"),
	ledger.RecWishKey: {
		table: "wish_keys", cols: []string{"key", "wish", "request"},
		row: func(r ledger.Record, _ *time.Location) ([]any, error) {
			return []any{r.Name, r.ID, r.Doc}, nil
		},
		read: []string{"key", "wish", "request"},
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			return r, rows.Scan(&r.Name, &r.ID, &r.Doc)
		},
	},
	ledger.RecWishPhoto: picturesTable("wish_photos", "wish"),
	ledger.RecWishWall: {
		table: "wish_walls", cols: []string{"community", "doc"},
		row: func(r ledger.Record, _ *time.Location) ([]any, error) {
			return []any{r.ID, string(r.Doc)}, nil
		},
		read: []string{"community", "doc"},
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			var doc string
			err := rows.Scan(&r.ID, &doc)
			r.Doc = []byte(doc)
			return r, err
		},
	},
	ledger.RecExpiryPolicy: {
		table: "expiry_policies", cols: []string{"street", "years"},
		row: func(r ledger.Record, _ *time.Location) ([]any, error) {
			return []any{r.ID, int16(r.Values[0])}, nil
		},
		read: []string{"street", "years"},
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			var years int16
			err := rows.Scan(&r.ID, &years)
			r.Values[0] = int64(years)
			return r, err
		},
	},
	ledger.RecExpiryRun: {
		table: "expiry_runs", cols: []string{"street", "year", "doc"},
		row: func(r ledger.Record, _ *time.Location) ([]any, error) {
			return []any{r.ID, int32(r.Month), string(r.Doc)}, nil
		},
		read: []string{"street", "year", "doc"},
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			var doc string
			err := rows.Scan(&r.ID, &r.Month, &doc)
			r.Doc = []byte(doc)
			return r, err
		},
	},
}

// pairTable is a table of two ids: ID and Of.
func pairTable(table, id, of string) recordTable {
	return counterTable(table, []string{id, of},
		func(r ledger.Record) []any { return []any{r.ID, r.Of} },
		func(r *ledger.Record) []any { return []any{&r.ID, &r.Of} })
}

// counterTable is a table whose columns are fields of the record: values
// says them in column order, and dest where to scan them back.
func counterTable(table string, cols []string, values func(ledger.Record) []any, dest func(*ledger.Record) []any) recordTable {
	return recordTable{
		table: table, cols: cols,
		row:  func(r ledger.Record, _ *time.Location) ([]any, error) { return values(r), nil },
		read: cols,
		scan: func(rows pgx.Rows) (ledger.Record, error) {
			var r ledger.Record
			return r, rows.Scan(dest(&r)...)
		},
	}
}
