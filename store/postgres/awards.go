package postgres

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"

	"aixin/ledger"
	"aixin/store"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Behaviour lists and the awards made from them (文明行为银行), as on bbolt:
// every step of an award is one request of the commit queue that reads
// what its rule in ledger needs, lets the rule decide, then writes what it
// decided, the entry first, so that a refusal leaves nothing.

// storedAward keeps what the API never shows: the client's idempotency key
// of the creation and its request's fingerprint.
type storedAward struct {
	ledger.Award
	Key         string `json:"client_key,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
}

// CreateBehaviour implements ledger.Awards.
func (s *Store) CreateBehaviour(ctx context.Context, b ledger.Behaviour) (ledger.Behaviour, error) {
	var out ledger.Behaviour
	err := s.update(ctx, func(w *wtx) error {
		unit, err := w.readUnit(b.UnitID, false)
		if err != nil {
			return err
		}
		if out, err = ledger.NewBehaviour(uuid.Must(uuid.NewV7()), b, unit, s.now()); err != nil {
			return err
		}
		doc, err := jsonDoc(out)
		w.Exec(`INSERT INTO behaviours (id, unit, doc) VALUES ($1, $2, $3)`, out.ID, out.UnitID, doc)
		return err
	})
	return out, err
}

// UpdateBehaviour implements ledger.Awards.
func (s *Store) UpdateBehaviour(ctx context.Context, id uuid.UUID, p ledger.BehaviourPatch, by uuid.UUID) (ledger.Behaviour, error) {
	var out ledger.Behaviour
	err := s.update(ctx, func(w *wtx) error {
		b, err := readDoc[ledger.Behaviour](w, "behaviours", id, true, "behaviour.not_found")
		if err != nil {
			return err
		}
		if out, err = ledger.PatchBehaviour(b, p, by, s.now()); err != nil {
			return err
		}
		doc, err := jsonDoc(out)
		w.Exec(`UPDATE behaviours SET doc = $2 WHERE id = $1`, out.ID, doc)
		return err
	})
	return out, err
}

// Behaviour implements ledger.Awards.
func (s *Store) Behaviour(ctx context.Context, id uuid.UUID) (ledger.Behaviour, error) {
	return viewDoc[ledger.Behaviour](ctx, s, "behaviours", id, "behaviour.not_found")
}

// Behaviours implements ledger.Awards, by unit then name.
func (s *Store) Behaviours(ctx context.Context) ([]ledger.Behaviour, error) {
	out, err := listDocs[ledger.Behaviour](ctx, s, "behaviours")
	if out == nil {
		out = []ledger.Behaviour{}
	}
	slices.SortStableFunc(out, func(a, b ledger.Behaviour) int {
		if c := bytes.Compare(a.UnitID[:], b.UnitID[:]); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, err
}

// yearOf is the key month of m's year count.
func yearOf(m ledger.Month) ledger.Month { return m / 100 * 100 }

// capCounts reads the awards of behaviour for target counting against the
// caps in month m and in its year.
func (w *wtx) capCounts(behaviour, target uuid.UUID, m ledger.Month) (month, year int, err error) {
	err = w.Query(func(rows pgx.Rows) error {
		var at int32
		var n int64
		if err := rows.Scan(&at, &n); err != nil {
			return err
		}
		if ledger.Month(at) == m {
			month = int(n)
		} else {
			year = int(n)
		}
		return nil
	}, `SELECT month, count FROM award_caps WHERE behaviour = $1 AND target = $2 AND month = ANY($3)`,
		behaviour, target, []int32{int32(m), int32(yearOf(m))})
	return month, year, err
}

// addCaps counts an award in (delta 1) or out (delta −1) of its month's and year's counts.
func (w *wtx) addCaps(a ledger.Award, delta int64) {
	m := a.Month(w.s.loc)
	w.Exec(`INSERT INTO award_caps (behaviour, target, month, count) SELECT $1, $2, unnest($3::integer[]), $4
		ON CONFLICT (behaviour, target, month) DO UPDATE SET count = award_caps.count + EXCLUDED.count`,
		a.BehaviourID, a.TargetID(), []int32{int32(m), int32(yearOf(m))}, delta)
}

func (w *wtx) readAward(id uuid.UUID) (storedAward, error) {
	return readDoc[storedAward](w, "awards", id, true, "award.not_found")
}

// awardState reads what a step after recording needs to know of award a.
func (w *wtx) awardState(a ledger.Award) (ledger.AwardState, error) {
	st := ledger.AwardState{Award: a}
	var err error
	if st.Unit, err = w.readUnit(a.UnitID, false); err != nil {
		return st, err
	}
	if st.MonthCount, st.YearCount, err = w.capCounts(a.BehaviourID, a.TargetID(), a.Month(w.s.loc)); err != nil {
		return st, err
	}
	if c, err := w.readUnit(a.CommunityID, false); err == nil {
		st.NoticeDays = c.AwardNoticeDays
	}
	st.Available, err = w.Balance(a.Account())
	return st, err
}

// awardActor reads who takes a step: the user and, for a volunteer, the
// unit they live in.
func (w *wtx) awardActor(id uuid.UUID) (ledger.AwardActor, error) {
	u, err := w.readUser(id)
	if ledger.ErrorCode(err) == ledger.ENOTFOUND {
		return ledger.AwardActor{}, ledger.Errorf(ledger.EUNAUTHORIZED, "auth.login_required")
	}
	if err != nil {
		return ledger.AwardActor{}, err
	}
	by := ledger.AwardActor{User: u}
	if u.Role == ledger.RoleVolunteer && u.MemberID != uuid.Nil {
		if m, err := readDoc[ledger.Member](w, "members", u.MemberID, false, "member.not_found"); err == nil {
			if unit, err := w.readUnit(m.UnitID, false); err == nil {
				by.MemberUnit = &unit
			}
		}
	}
	return by, nil
}

// applyAward writes what a decision about an award decided: its entry
// first (a refusal there leaves nothing written), then the award and its
// counts. key and fingerprint are those of the award's creation; isNew
// says the decision made the award.
func (w *wtx) applyAward(key, fingerprint string, isNew bool, d ledger.AwardDecision) (storedAward, error) {
	sa := storedAward{Award: d.Award, Key: key, Fingerprint: fingerprint}
	if t := d.Transfer; t != nil {
		if t.Kind != ledger.KindReverse {
			// The community's issuer account, opened with its first award.
			if err := w.OpenAccount(ledger.IssuerAccount(sa.CommunityID)); err != nil {
				return sa, err
			}
		}
		e, err := w.Append(*t)
		if err != nil {
			return sa, err
		}
		if t.Kind == ledger.KindReverse {
			sa.ReverseSeq = e.Seq
		} else {
			sa.EntrySeq = e.Seq
		}
	}
	if isNew {
		w.addCaps(sa.Award, 1)
	}
	if d.Uncount {
		w.addCaps(sa.Award, -1)
	}
	return sa, w.putAward(sa)
}

func (w *wtx) putAward(sa storedAward) error {
	doc, err := jsonDoc(sa)
	if err != nil {
		return err
	}
	var until *int64
	if sa.Status == ledger.AwardInNotice && !sa.NoticeUntil.IsZero() {
		u := sa.NoticeUntil.UnixNano()
		until = &u
	}
	var key *string
	if sa.Key != "" {
		key = &sa.Key
	}
	w.Exec(`INSERT INTO awards (id, target, month, open, notice_until, client_key, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET open = EXCLUDED.open, notice_until = EXCLUDED.notice_until,
			client_key = EXCLUDED.client_key, doc = EXCLUDED.doc`,
		sa.ID, sa.TargetID(), int32(sa.Month(w.s.loc)), sa.Status.Open(), until, key, doc)
	return nil
}

// RecordAward implements ledger.Awards.
func (s *Store) RecordAward(ctx context.Context, req ledger.AwardRequest) (ledger.Award, error) {
	fingerprint := req.Fingerprint()
	var out ledger.Award
	err := s.update(ctx, func(w *wtx) error {
		if req.Key != "" {
			var doc string
			found, err := w.QueryRow(`SELECT doc FROM awards WHERE client_key = $1`, []any{req.Key}, &doc)
			if err != nil {
				return err
			}
			if found {
				var first storedAward
				if err := jsonUnmarshal(doc, &first); err != nil {
					return err
				}
				if first.Key != req.Key || first.Fingerprint != fingerprint {
					return ledger.Errorf(ledger.ECONFLICT, "idempotency.mismatch")
				}
				out = first.Award
				return nil
			}
		}
		recorder, err := w.awardActor(req.By)
		if err != nil {
			return err
		}
		f := ledger.AwardFacts{Recorder: recorder.User}
		if b, err := readDoc[ledger.Behaviour](w, "behaviours", req.BehaviourID, false, "behaviour.not_found"); err == nil {
			f.Behaviour = b
		} else if ledger.ErrorCode(err) != ledger.ENOTFOUND {
			return err
		}
		var target uuid.UUID
		switch {
		case req.MemberID != uuid.Nil && req.HouseholdID == uuid.Nil:
			m, err := readDoc[ledger.Member](w, "members", req.MemberID, false, "member.not_found")
			if err != nil {
				return err
			}
			f.Member, target = &m, m.ID
			if f.Unit, err = w.readUnit(m.UnitID, false); err != nil {
				return err
			}
		case req.HouseholdID != uuid.Nil && req.MemberID == uuid.Nil:
			h, err := readDoc[ledger.Household](w, "households", req.HouseholdID, false, "household.not_found")
			if err != nil {
				return err
			}
			f.Household, target = &h, h.ID
			if f.Unit, err = w.readUnit(h.UnitID, false); err != nil {
				return err
			}
		}
		now := s.now()
		if target != uuid.Nil {
			if f.MonthCount, f.YearCount, err = w.capCounts(req.BehaviourID, target, ledger.MonthOf(now, s.loc)); err != nil {
				return err
			}
			account := ledger.MemberAccount(target)
			if f.Household != nil {
				account = ledger.HouseholdAccount(target)
			}
			if f.Available, err = w.Balance(account); err != nil {
				return err
			}
		}
		if len(f.Unit.Path) > 1 {
			if c, err := w.readUnit(f.Unit.Path[1], false); err == nil {
				f.NoticeDays = c.AwardNoticeDays
			}
		}
		d, err := ledger.RecordAward(uuid.Must(uuid.NewV7()), req, f, s.awardRules, now, s.loc)
		if err != nil {
			return err
		}
		if req.Key == "" {
			fingerprint = ""
		}
		saved, err := w.applyAward(req.Key, fingerprint, true, d)
		if err != nil {
			return err
		}
		for i, p := range req.Evidence {
			w.Exec(`INSERT INTO award_pictures (award, n, content_type, data) VALUES ($1, $2, $3, $4)`, saved.ID, i, p.ContentType, p.Data)
		}
		out = saved.Award
		return nil
	})
	return out, err
}

// awardStep runs one step of an award's life: read the award, its state and
// who takes the step, let decide decide, write what it decided.
func (s *Store) awardStep(ctx context.Context, id, by uuid.UUID, decide func(ledger.AwardState, ledger.AwardActor, *wtx, storedAward) (ledger.AwardDecision, error)) (ledger.Award, error) {
	var out ledger.Award
	err := s.update(ctx, func(w *wtx) error {
		sa, err := w.readAward(id)
		if err != nil {
			return err
		}
		actor, err := w.awardActor(by)
		if err != nil {
			return err
		}
		st, err := w.awardState(sa.Award)
		if err != nil {
			return err
		}
		d, err := decide(st, actor, w, sa)
		if err != nil {
			return err
		}
		saved, err := w.applyAward(sa.Key, sa.Fingerprint, false, d)
		out = saved.Award
		return err
	})
	return out, err
}

// ApproveAward implements ledger.Awards.
func (s *Store) ApproveAward(ctx context.Context, id, by uuid.UUID) (ledger.Award, error) {
	return s.awardStep(ctx, id, by, func(st ledger.AwardState, a ledger.AwardActor, _ *wtx, _ storedAward) (ledger.AwardDecision, error) {
		return ledger.ApproveAward(st, a, s.now(), s.loc)
	})
}

// RejectAward implements ledger.Awards.
func (s *Store) RejectAward(ctx context.Context, id, by uuid.UUID, reason string) (ledger.Award, error) {
	return s.awardStep(ctx, id, by, func(st ledger.AwardState, a ledger.AwardActor, _ *wtx, _ storedAward) (ledger.AwardDecision, error) {
		return ledger.RejectAward(st, a, reason, s.now())
	})
}

// ObjectAward implements ledger.Awards.
func (s *Store) ObjectAward(ctx context.Context, id, by uuid.UUID, reason string) (ledger.Award, error) {
	return s.awardStep(ctx, id, by, func(st ledger.AwardState, a ledger.AwardActor, _ *wtx, _ storedAward) (ledger.AwardDecision, error) {
		return ledger.ObjectAward(st, a, reason, s.now())
	})
}

// DecideAward implements ledger.Awards.
func (s *Store) DecideAward(ctx context.Context, id, by uuid.UUID, postIt bool, reason string) (ledger.Award, error) {
	return s.awardStep(ctx, id, by, func(st ledger.AwardState, a ledger.AwardActor, _ *wtx, _ storedAward) (ledger.AwardDecision, error) {
		return ledger.DecideAward(st, a, postIt, reason, s.now())
	})
}

// ReverseAward implements ledger.Awards: the reverse entry goes through the
// journal's reversal rules (once per entry, never below zero).
func (s *Store) ReverseAward(ctx context.Context, id, by uuid.UUID, reason string) (ledger.Award, error) {
	return s.awardStep(ctx, id, by, func(st ledger.AwardState, a ledger.AwardActor, w *wtx, sa storedAward) (ledger.AwardDecision, error) {
		var entry ledger.Entry
		if sa.Status == ledger.AwardPosted && sa.EntrySeq != 0 {
			var err error
			if entry, err = w.Entry(sa.EntrySeq); err != nil {
				return ledger.AwardDecision{}, err
			}
		}
		return ledger.ReverseAward(st, entry, a, reason, s.now())
	})
}

// AddAwardEvidence implements ledger.Awards.
func (s *Store) AddAwardEvidence(ctx context.Context, id, by uuid.UUID, p ledger.Picture) (ledger.Award, error) {
	var out ledger.Award
	err := s.update(ctx, func(w *wtx) error {
		sa, err := w.readAward(id)
		if err != nil {
			return err
		}
		actor, err := w.awardActor(by)
		if err != nil {
			return err
		}
		st, err := w.awardState(sa.Award)
		if err != nil {
			return err
		}
		a, err := ledger.AddEvidence(st, actor, p)
		if err != nil {
			return err
		}
		w.Exec(`INSERT INTO award_pictures (award, n, content_type, data) VALUES ($1, $2, $3, $4)`, id, len(sa.Evidence), p.ContentType, p.Data)
		sa.Award, out = a, a
		return w.putAward(sa)
	})
	return out, err
}

// AwardEvidence implements ledger.Awards.
func (s *Store) AwardEvidence(ctx context.Context, id uuid.UUID, n int) (ledger.Picture, error) {
	var p ledger.Picture
	if n < 1 || n > ledger.MaxAwardEvidence {
		return p, ledger.Errorf(ledger.ENOTFOUND, "award.no_picture")
	}
	err := s.pool.QueryRow(ctx, `SELECT content_type, data FROM award_pictures WHERE award = $1 AND n = $2`, id, n-1).
		Scan(&p.ContentType, &p.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ledger.Errorf(ledger.ENOTFOUND, "award.no_picture")
	}
	if err != nil {
		return p, unavailable(err)
	}
	return p, nil
}

// Award implements ledger.Awards.
func (s *Store) Award(ctx context.Context, id uuid.UUID) (ledger.Award, error) {
	sa, err := viewDoc[storedAward](ctx, s, "awards", id, "award.not_found")
	return sa.Award, err
}

// awardsPage is how many awards Awards reads at a time while it filters.
const awardsPage = 500

// Awards implements ledger.Awards. It reads the narrowest index the filter
// allows, newest first (award ids are UUIDv7): one member's (and their
// household's) or one household's awards, the open ones, one month's, or all.
func (s *Store) Awards(ctx context.Context, f ledger.AwardFilter) ([]ledger.Award, error) {
	out := []ledger.Award{}
	if f.Limit <= 0 {
		f.Limit = 200
	}
	openOnly := len(f.Status) > 0
	for _, st := range f.Status {
		openOnly = openOnly && st.Open()
	}
	units, err := s.unitsByID(ctx)
	if err != nil {
		return nil, err
	}
	where, arg := "true", any(nil)
	switch {
	case f.MemberID != uuid.Nil:
		targets := []uuid.UUID{f.MemberID}
		if f.WithHousehold {
			var h uuid.UUID
			err := s.pool.QueryRow(ctx, `SELECT household FROM member_households WHERE member = $1`, f.MemberID).Scan(&h)
			if err == nil {
				targets = append(targets, h)
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return nil, unavailable(err)
			}
		}
		where, arg = "target = ANY($2)", targets
	case f.HouseholdID != uuid.Nil:
		where, arg = "target = ANY($2)", []uuid.UUID{f.HouseholdID}
	case openOnly:
		where = "open"
	case f.Month != 0:
		where, arg = "month = $2", int32(f.Month)
	}
	before := uuid.Max
	for len(out) < f.Limit {
		args := []any{before}
		q := `SELECT id, doc FROM awards WHERE id < $1 AND ` + where + ` ORDER BY id DESC LIMIT ` + itoa(awardsPage)
		if arg != nil {
			args = append(args, arg)
		}
		rows, err := s.pool.Query(ctx, q, args...)
		if err != nil {
			return nil, unavailable(err)
		}
		n := 0
		for rows.Next() {
			var doc string
			if err := rows.Scan(&before, &doc); err != nil {
				rows.Close()
				return nil, unavailable(err)
			}
			n++
			var sa storedAward
			if err := jsonUnmarshal(doc, &sa); err != nil {
				rows.Close()
				return nil, err
			}
			if len(out) < f.Limit && f.Keeps(sa.Award, units[sa.UnitID], s.loc) {
				out = append(out, sa.Award)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, unavailable(err)
		}
		if n < awardsPage {
			break
		}
	}
	return out, nil
}

// AwardTargets implements ledger.Awards: the members the member list finds
// for query, then the households in scope whose address or members' names
// hold it.
func (s *Store) AwardTargets(ctx context.Context, scope ledger.Scope, query string, limit int) ([]ledger.AwardTarget, error) {
	query = strings.TrimSpace(query)
	out := []ledger.AwardTarget{}
	if query == "" || limit <= 0 {
		return out, nil
	}
	members, err := s.Members(ctx, ledger.MemberFilter{Scope: scope, Query: query, Status: ledger.MemberActive, Limit: limit})
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		t := ledger.AwardTarget{Target: ledger.TargetPerson, ID: m.ID, Name: m.Name, Phone: ledger.MaskPhone(m.Phone), UnitID: m.UnitID}
		if h, err := s.MemberHousehold(ctx, m.ID); err == nil {
			t.Household = h.ID
		}
		out = append(out, t)
	}
	households, err := s.Households(ctx, scope)
	if err != nil {
		return nil, err
	}
	units, err := s.unitsByID(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range households {
		if len(out) >= 2*limit {
			break
		}
		var head string
		match := strings.Contains(h.Address, query)
		for _, hm := range h.Members {
			m, err := s.Member(ctx, hm.MemberID)
			if err != nil {
				continue
			}
			if hm.MemberID == h.HeadID {
				head = m.Name
			}
			match = match || strings.Contains(m.Name, query)
		}
		if match {
			name := units[h.UnitID].Name + " " + h.Address
			if head != "" {
				name += "（" + head + "）"
			}
			out = append(out, ledger.AwardTarget{Target: ledger.TargetHousehold, ID: h.ID, Name: name, UnitID: h.UnitID})
		}
	}
	return out, nil
}

// PostDueAwards implements ledger.Awards: it reads the awards whose notice
// period has ended a page at a time and posts each in a request of its own
// (they share commits), so that a bad one is skipped and counted while
// the others post. Each request decides again whether its award is due, so
// two app servers sweeping at once post each award once.
func (s *Store) PostDueAwards(ctx context.Context) (ledger.SweepResult, error) {
	res, err := s.alone(ctx, lockAwardNotice, s.postDueAwards)
	s.stats.Swept(store.SweepAwardNotice, res)
	return res, err
}

func (s *Store) postDueAwards(ctx context.Context) (ledger.SweepResult, error) {
	var res ledger.SweepResult
	now := s.now().UTC()
	var afterUntil int64 = -1 << 63
	after := uuid.Nil
	for {
		rows, err := s.pool.Query(ctx, `SELECT id, notice_until FROM awards
			WHERE notice_until IS NOT NULL AND notice_until <= $1 AND (notice_until, id) > ($2, $3)
			ORDER BY notice_until, id LIMIT `+itoa(awardsPage), now.UnixNano(), afterUntil, after)
		if err != nil {
			return res, unavailable(err)
		}
		var due []uuid.UUID
		for rows.Next() {
			var id uuid.UUID
			if err := rows.Scan(&id, &afterUntil); err != nil {
				rows.Close()
				return res, unavailable(err)
			}
			due, after = append(due, id), id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, unavailable(err)
		}
		if err := s.sweep(ctx, due, &res, func(w *wtx, i int) (bool, error) {
			sa, err := w.readAward(due[i])
			if err != nil {
				return false, err
			}
			st, err := w.awardState(sa.Award)
			if err != nil {
				return false, err
			}
			d, isDue, err := ledger.PostDueAward(st, s.now())
			if err != nil || !isDue {
				return false, err // held or decided since the page was read
			}
			_, err = w.applyAward(sa.Key, sa.Fingerprint, false, d)
			return true, err
		}); err != nil {
			return res, err
		}
		if len(due) < awardsPage {
			return res, nil
		}
	}
}
