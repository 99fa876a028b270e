package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// readDoc reads the document of one row by id into v; notFound is the
// refusal for an id the table does not hold. table is one of ours, never
// outside input.
func readDoc[T any](w *wtx, table string, id uuid.UUID, lock bool, notFound string) (T, error) {
	var v T
	q := `SELECT doc FROM ` + table + ` WHERE id = $1`
	if lock {
		q += ` FOR UPDATE`
	}
	var doc string
	found, err := w.QueryRow(q, []any{id}, &doc)
	if err != nil {
		return v, err
	}
	if !found {
		return v, ledger.Errorf(ledger.ENOTFOUND, notFound)
	}
	return v, json.Unmarshal([]byte(doc), &v)
}

// viewDoc is readDoc outside the commit queue.
func viewDoc[T any](ctx context.Context, s *Store, table string, id uuid.UUID, notFound string) (T, error) {
	var v T
	var doc string
	err := s.pool.QueryRow(ctx, `SELECT doc FROM `+table+` WHERE id = $1`, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ledger.Errorf(ledger.ENOTFOUND, notFound)
	}
	if err != nil {
		return v, unavailable(err)
	}
	return v, json.Unmarshal([]byte(doc), &v)
}

// listDocs reads every document of a table in id order.
func listDocs[T any](ctx context.Context, s *Store, table string) ([]T, error) {
	return queryDocs[T](ctx, s, `SELECT doc FROM `+table+` ORDER BY id`)
}

// queryDocs runs a query of one column of documents and decodes them.
func queryDocs[T any](ctx context.Context, s *Store, sql string, args ...any) ([]T, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, unavailable(err)
		}
		var v T
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, unavailable2(rows.Err())
}

func jsonDoc(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// CreateTeam implements ledger.Directory.
func (s *Store) CreateTeam(ctx context.Context, t ledger.Team) (ledger.Team, error) {
	if err := t.Check(); err != nil {
		return ledger.Team{}, err
	}
	t.ID, t.CreatedAt = uuid.Must(uuid.NewV7()), s.now().UTC()
	doc, err := jsonDoc(t)
	if err != nil {
		return ledger.Team{}, err
	}
	err = s.update(ctx, func(w *wtx) error {
		if _, err := w.readUnit(t.UnitID, false); err != nil {
			return err
		}
		var one int
		if found, err := w.QueryRow(`SELECT 1 FROM teams WHERE unit = $1 AND name = $2`, []any{t.UnitID, t.Name}, &one); err != nil || found {
			if err == nil {
				err = ledger.Errorf(ledger.ECONFLICT, "team.name_taken", t.Name)
			}
			return err
		}
		w.Exec(`INSERT INTO teams (id, unit, name, doc) VALUES ($1, $2, $3, $4)`, t.ID, t.UnitID, t.Name, doc)
		return nil
	})
	return t, err
}

// Team implements ledger.Directory.
func (s *Store) Team(ctx context.Context, id uuid.UUID) (ledger.Team, error) {
	return viewDoc[ledger.Team](ctx, s, "teams", id, "team.not_found")
}

// Teams implements ledger.Directory.
func (s *Store) Teams(ctx context.Context) ([]ledger.Team, error) {
	return listDocs[ledger.Team](ctx, s, "teams")
}

// checkMember reads m's unit with its ancestors and m's teams, and lets
// ledger.CheckMemberPlace check m against them (it normalises m).
func (w *wtx) checkMember(m *ledger.Member) error {
	units, teams := map[uuid.UUID]ledger.Unit{}, map[uuid.UUID]ledger.Team{}
	if unit, err := w.readUnit(m.UnitID, false); err == nil {
		units[unit.ID] = unit
		for _, id := range unit.Path {
			if u, err := w.readUnit(id, false); err == nil {
				units[id] = u
			}
		}
	} else if ledger.ErrorCode(err) != ledger.ENOTFOUND {
		return err
	}
	for _, id := range m.TeamIDs {
		t, err := readDoc[ledger.Team](w, "teams", id, false, "team.not_found")
		switch {
		case err == nil:
			teams[id] = t
		case ledger.ErrorCode(err) != ledger.ENOTFOUND:
			return err
		}
	}
	_, err := ledger.CheckMemberPlace(m, units, teams)
	return err
}

// phoneFree checks that no member but self has the phone and no staff
// account uses it as its login.
func (w *wtx) phoneFree(phone string, self uuid.UUID) error {
	var other uuid.UUID
	found, err := w.QueryRow(`SELECT id FROM members WHERE phone = $1`, []any{phone}, &other)
	if err != nil {
		return err
	}
	if found && other != self {
		return ledger.Errorf(ledger.ECONFLICT, "member.phone_taken", ledger.MaskPhone(phone))
	}
	var doc string
	found, err = w.QueryRow(`SELECT doc FROM users WHERE login = $1`, []any{phone}, &doc)
	if err != nil || !found {
		return err
	}
	u, err := decodeUser(doc)
	if err != nil || u.MemberID != self || self == uuid.Nil {
		return ledger.Errorf(ledger.ECONFLICT, "member.phone_taken", ledger.MaskPhone(phone))
	}
	return nil
}

// loginOf reads (and locks) the volunteer login of a member's phone; nil
// when the phone is no login.
func (w *wtx) loginOf(phone string) (*ledger.User, error) {
	var doc string
	found, err := w.QueryRow(`SELECT doc FROM users WHERE login = $1 FOR UPDATE`, []any{phone}, &doc)
	if err != nil || !found {
		return nil, err
	}
	u, err := decodeUser(doc)
	return &u, err
}

// putMember writes a new or changed member with its volunteer login; for a
// new member (old nil) it also opens the points account. Everything has
// been checked before; the login of a changed member is read first.
func (w *wtx) putMember(m ledger.Member, old *ledger.Member, passwordHash string, now time.Time) error {
	var login *ledger.User
	if old != nil {
		var err error
		if login, err = w.loginOf(old.Phone); err != nil {
			return err
		}
	}
	return w.writeMember(m, old, login, passwordHash, now)
}

// writeMember queues the writes of putMember, with the changed member's
// login read before (nil: none).
func (w *wtx) writeMember(m ledger.Member, old *ledger.Member, login *ledger.User, passwordHash string, now time.Time) error {
	doc, err := jsonDoc(m)
	if err != nil {
		return err
	}
	if old == nil {
		w.openNewAccount(ledger.MemberAccount(m.ID))
		w.Exec(`INSERT INTO members (id, unit, phone, doc) VALUES ($1, $2, $3, $4)`, m.ID, m.UnitID, m.Phone, doc)
		u := ledger.User{ID: uuid.Must(uuid.NewV7()), Login: m.Phone, Name: m.Name, Role: ledger.RoleVolunteer, MemberID: m.ID,
			UnitID: m.UnitID, CreatedAt: now, PasswordHash: passwordHash}
		udoc, err := userDoc(u)
		if err != nil {
			return err
		}
		w.Exec(`INSERT INTO users (id, login, role, doc) VALUES ($1, $2, $3, $4)`, u.ID, u.Login, string(u.Role), udoc)
		return nil
	}
	w.Exec(`UPDATE members SET unit = $2, phone = $3, doc = $4 WHERE id = $1`, m.ID, m.UnitID, m.Phone, doc)
	if login == nil {
		return nil
	}
	u := *login
	u.Name, u.UnitID = m.Name, m.UnitID
	u.Disabled = m.Status != ledger.MemberActive
	u.Login = m.Phone
	udoc, err := userDoc(u)
	if err != nil {
		return err
	}
	w.Exec(`UPDATE users SET login = $2, doc = $3 WHERE id = $1`, u.ID, u.Login, udoc)
	return nil
}

// ImportMembers implements ledger.Directory. In one request it reads the
// members who have the rows' phones, the phones that are logins and the
// directory's units and teams, lets ledger.PlanImport decide, and writes
// the members it returned: a roster of 10,000 rows costs a handful of
// round trips, not one a row.
func (s *Store) ImportMembers(ctx context.Context, scope ledger.Scope, items []ledger.ImportItem, skipInvalid bool) (ledger.ImportResult, error) {
	var res ledger.ImportResult
	ids := make([]uuid.UUID, len(items))
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
	}
	err := s.update(ctx, func(w *wtx) error {
		now := s.now().UTC()
		st := ledger.ImportState{Scope: scope, Items: items, SkipInvalid: skipInvalid, IDs: ids,
			Members: map[string]ledger.Member{}, Logins: map[string]bool{}, Units: map[uuid.UUID]ledger.Unit{}, Teams: map[uuid.UUID]ledger.Team{}}
		var phones []string
		for _, it := range items {
			if phone, err := ledger.NormalizePhone(it.Member.Phone); it.Err == nil && err == nil {
				phones = append(phones, phone)
			}
		}
		err := w.Query(func(rows pgx.Rows) error {
			var phone, doc string
			if err := rows.Scan(&phone, &doc); err != nil {
				return err
			}
			var m ledger.Member
			if err := jsonUnmarshal(doc, &m); err != nil {
				return err
			}
			st.Members[phone] = m
			return nil
		}, `SELECT phone, doc FROM members WHERE phone = ANY($1) FOR UPDATE`, phones)
		if err != nil {
			return err
		}
		logins := map[string]*ledger.User{}
		err = w.Query(func(rows pgx.Rows) error {
			var doc string
			if err := rows.Scan(&doc); err != nil {
				return err
			}
			u, err := decodeUser(doc)
			st.Logins[u.Login], logins[u.Login] = true, &u
			return err
		}, `SELECT doc FROM users WHERE login = ANY($1) FOR UPDATE`, phones)
		if err != nil {
			return err
		}
		if err := readAllDocs(w, "units", func(u ledger.Unit) { st.Units[u.ID] = u }); err != nil {
			return err
		}
		if err := readAllDocs(w, "teams", func(t ledger.Team) { st.Teams[t.ID] = t }); err != nil {
			return err
		}
		plan := ledger.PlanImport(st, now)
		res = plan.Result
		for _, c := range plan.Writes {
			var login *ledger.User
			if c.Old != nil {
				login = logins[c.Old.Phone]
			}
			if err := w.writeMember(c.Member, c.Old, login, "", now); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// readAllDocs reads every document of a table in the batch.
func readAllDocs[T any](w *wtx, table string, each func(T)) error {
	return w.Query(func(rows pgx.Rows) error {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return err
		}
		var v T
		if err := jsonUnmarshal(doc, &v); err != nil {
			return err
		}
		each(v)
		return nil
	}, `SELECT doc FROM `+table+` ORDER BY id`)
}

// CreateMember implements ledger.Directory.
func (s *Store) CreateMember(ctx context.Context, m ledger.Member, passwordHash string) (ledger.Member, error) {
	now := s.now().UTC()
	m.ID, m.CreatedAt, m.UpdatedAt = uuid.Must(uuid.NewV7()), now, now
	err := s.update(ctx, func(w *wtx) error {
		if err := w.checkMember(&m); err != nil {
			return err
		}
		if err := w.phoneFree(m.Phone, uuid.Nil); err != nil {
			return err
		}
		return w.putMember(m, nil, passwordHash, now)
	})
	return m, err
}

// UpdateMember implements ledger.Directory.
func (s *Store) UpdateMember(ctx context.Context, m ledger.Member) (ledger.Member, error) {
	err := s.update(ctx, func(w *wtx) error {
		old, err := readDoc[ledger.Member](w, "members", m.ID, true, "member.not_found")
		if err != nil {
			return err
		}
		m.CreatedAt, m.UpdatedAt = old.CreatedAt, s.now().UTC()
		if err := w.checkMember(&m); err != nil {
			return err
		}
		if err := w.phoneFree(m.Phone, m.ID); err != nil {
			return err
		}
		return w.putMember(m, &old, "", m.UpdatedAt)
	})
	return m, err
}

// Member implements ledger.Directory.
func (s *Store) Member(ctx context.Context, id uuid.UUID) (ledger.Member, error) {
	return viewDoc[ledger.Member](ctx, s, "members", id, "member.not_found")
}

// membersPage is how many members Members reads at a time while it filters.
const membersPage = 500

// Members implements ledger.Directory. It reads the members in id order
// from f.After and keeps those the filter selects.
func (s *Store) Members(ctx context.Context, f ledger.MemberFilter) ([]ledger.Member, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	units, err := s.unitsByID(ctx)
	if err != nil {
		return nil, err
	}
	q := strings.TrimSpace(f.Query)
	var out []ledger.Member
	after := f.After
	for len(out) < f.Limit {
		page, err := s.membersAfter(ctx, after)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			after = m.ID
			u := units[m.UnitID]
			switch {
			case !f.Scope.Covers(u),
				f.UnitID != uuid.Nil && !u.Within(f.UnitID),
				f.TeamID != uuid.Nil && !slices.Contains(m.TeamIDs, f.TeamID),
				f.PartyMember != nil && m.PartyMember != *f.PartyMember,
				f.OnDuty != nil && (m.OnDuty != nil) != *f.OnDuty,
				f.Status != "" && m.Status != f.Status,
				q != "" && !strings.Contains(m.Name, q) && !(isDigits(q) && strings.HasSuffix(m.Phone, q)):
				continue
			}
			if out = append(out, m); len(out) == f.Limit {
				break
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) membersAfter(ctx context.Context, after uuid.UUID) ([]ledger.Member, error) {
	return queryDocs[ledger.Member](ctx, s, `SELECT doc FROM members WHERE id > $1 ORDER BY id LIMIT $2`, after, membersPage)
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func jsonUnmarshal(doc string, v any) error { return json.Unmarshal([]byte(doc), v) }

func itoa(n int) string { return strconv.Itoa(n) }
