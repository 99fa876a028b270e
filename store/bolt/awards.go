package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"aixin/ledger"
	"aixin/store"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Behaviour lists and the awards made from them (文明行为银行). Every step of
// an award is one transaction: read what its rule in ledger needs (the
// award, its unit, its counts against the caps, the community's notice
// period, the balance of the account it moves), let the rule decide, then
// write what it decided — the entry first, so that a refusal leaves nothing.

// storedAward keeps what the API never shows: the client's idempotency key
// of the creation and its request's fingerprint.
type storedAward struct {
	ledger.Award
	Key         string `json:"client_key,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
}

func getAward(tx *bolt.Tx, id uuid.UUID) (storedAward, error) {
	return getJSON[storedAward](tx.Bucket(bucketAwards), id, "award.not_found")
}

// CreateBehaviour implements ledger.Awards.
func (s *Store) CreateBehaviour(ctx context.Context, b ledger.Behaviour) (ledger.Behaviour, error) {
	var out ledger.Behaviour
	err := s.update(ctx, func(w *writeTx) error {
		unit, err := getJSON[ledger.Unit](w.tx.Bucket(bucketUnits), b.UnitID, "unit.not_found")
		if err != nil {
			return err
		}
		if out, err = ledger.NewBehaviour(newID(), b, unit, s.now()); err != nil {
			return err
		}
		return putJSON(w.tx.Bucket(bucketBehaviours), out.ID, out)
	})
	return out, err
}

// UpdateBehaviour implements ledger.Awards.
func (s *Store) UpdateBehaviour(ctx context.Context, id uuid.UUID, p ledger.BehaviourPatch, by uuid.UUID) (ledger.Behaviour, error) {
	var out ledger.Behaviour
	err := s.update(ctx, func(w *writeTx) error {
		b, err := getJSON[ledger.Behaviour](w.tx.Bucket(bucketBehaviours), id, "behaviour.not_found")
		if err != nil {
			return err
		}
		if out, err = ledger.PatchBehaviour(b, p, by, s.now()); err != nil {
			return err
		}
		return putJSON(w.tx.Bucket(bucketBehaviours), out.ID, out)
	})
	return out, err
}

// Behaviour implements ledger.Awards.
func (s *Store) Behaviour(ctx context.Context, id uuid.UUID) (ledger.Behaviour, error) {
	return viewJSON[ledger.Behaviour](s, bucketBehaviours, id, "behaviour.not_found")
}

// Behaviours implements ledger.Awards: a district's lists are tens of lines
// a community, read whole.
func (s *Store) Behaviours(ctx context.Context) ([]ledger.Behaviour, error) {
	out, err := listJSON[ledger.Behaviour](s, bucketBehaviours)
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

// capKey is the key of a member's or household's count of awards of a
// behaviour in month m; m with month 00 is the year's count.
func capKey(behaviour, target uuid.UUID, m ledger.Month) []byte {
	k := make([]byte, 0, 36)
	k = append(append(k, behaviour[:]...), target[:]...)
	return binary.BigEndian.AppendUint32(k, uint32(m))
}

// yearOf is the key month of m's year count.
func yearOf(m ledger.Month) ledger.Month { return m / 100 * 100 }

// capCounts reads the awards of behaviour for target counting against the
// caps in month m and in its year.
func capCounts(tx *bolt.Tx, behaviour, target uuid.UUID, m ledger.Month) (month, year int) {
	b := tx.Bucket(bucketAwardCaps)
	return int(getCount(b, capKey(behaviour, target, m))), int(getCount(b, capKey(behaviour, target, yearOf(m))))
}

// addCaps counts an award in (delta 1) or out (delta −1) of its month's and year's counts.
func (s *Store) addCaps(tx *bolt.Tx, a ledger.Award, delta int64) error {
	b, m := tx.Bucket(bucketAwardCaps), a.Month(s.loc)
	for _, k := range [][]byte{capKey(a.BehaviourID, a.TargetID(), m), capKey(a.BehaviourID, a.TargetID(), yearOf(m))} {
		if err := addCount(b, k, delta); err != nil {
			return err
		}
	}
	return nil
}

func noticeKey(a ledger.Award) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(a.NoticeUntil.UnixNano())), a.ID[:]...)
}

// balanceOf reads an account's balance (0 for an account not open).
func balanceOf(tx *bolt.Tx, a ledger.Account) (ledger.Points, error) {
	k := a.Key()
	v := tx.Bucket(bucketAccounts).Get(k[:])
	if v == nil {
		return 0, nil
	}
	r, err := decodeAccountRow(v)
	return r.balance, err
}

// awardState reads what a step after recording needs to know of award a.
func (s *Store) awardState(tx *bolt.Tx, a ledger.Award) (ledger.AwardState, error) {
	st := ledger.AwardState{Award: a}
	var err error
	if st.Unit, err = getJSON[ledger.Unit](tx.Bucket(bucketUnits), a.UnitID, "unit.not_found"); err != nil {
		return st, err
	}
	st.MonthCount, st.YearCount = capCounts(tx, a.BehaviourID, a.TargetID(), a.Month(s.loc))
	if c, err := getJSON[ledger.Unit](tx.Bucket(bucketUnits), a.CommunityID, "unit.not_found"); err == nil {
		st.NoticeDays = c.AwardNoticeDays
	}
	st.Available, err = balanceOf(tx, a.Account())
	return st, err
}

// awardActor reads who takes a step: the user and, for a volunteer, the
// unit they live in.
func awardActor(tx *bolt.Tx, id uuid.UUID) (ledger.AwardActor, error) {
	u, err := getUser(tx, id[:])
	if ledger.ErrorCode(err) == ledger.ENOTFOUND {
		return ledger.AwardActor{}, ledger.Errorf(ledger.EUNAUTHORIZED, "auth.login_required")
	}
	if err != nil {
		return ledger.AwardActor{}, err
	}
	by := ledger.AwardActor{User: u}
	if u.Role == ledger.RoleVolunteer && u.MemberID != uuid.Nil {
		if m, err := getJSON[ledger.Member](tx.Bucket(bucketMembers), u.MemberID, "member.not_found"); err == nil {
			if unit, err := getJSON[ledger.Unit](tx.Bucket(bucketUnits), m.UnitID, "unit.not_found"); err == nil {
				by.MemberUnit = &unit
			}
		}
	}
	return by, nil
}

// applyAward writes what a decision about an award decided: its entry
// first (a refusal there leaves nothing written), then the award, its
// indexes and its counts. old is the award as stored before (nil for a new one).
func (s *Store) applyAward(w *writeTx, old *storedAward, d ledger.AwardDecision) (storedAward, error) {
	tx := w.tx
	sa := storedAward{Award: d.Award}
	if old != nil {
		sa.Key, sa.Fingerprint = old.Key, old.Fingerprint
	}
	if t := d.Transfer; t != nil {
		if t.Kind != ledger.KindReverse {
			// The community's issuer account, opened with its first award.
			ik := ledger.IssuerAccount(sa.CommunityID).Key()
			if tx.Bucket(bucketAccounts).Get(ik[:]) == nil {
				if err := tx.Bucket(bucketAccounts).Put(ik[:], make([]byte, accountRowSize)); err != nil {
					return sa, err
				}
			}
		}
		e, err := s.appendTx(w, *t)
		if err != nil {
			return sa, err
		}
		if t.Kind == ledger.KindReverse {
			sa.ReverseSeq = e.Seq
		} else {
			sa.EntrySeq = e.Seq
		}
	}
	a := sa.Award
	if old == nil {
		if err := tx.Bucket(bucketAwardTargets).Put(pairKey(a.TargetID(), a.ID), nil); err != nil {
			return sa, err
		}
		mk := binary.BigEndian.AppendUint32(nil, uint32(a.Month(s.loc)))
		if err := tx.Bucket(bucketAwardMonths).Put(append(mk, a.ID[:]...), nil); err != nil {
			return sa, err
		}
		if err := s.addCaps(tx, a, 1); err != nil {
			return sa, err
		}
	} else if old.Status == ledger.AwardInNotice && !old.NoticeUntil.IsZero() {
		if err := tx.Bucket(bucketAwardNotice).Delete(noticeKey(old.Award)); err != nil {
			return sa, err
		}
	}
	if a.Status == ledger.AwardInNotice {
		if err := tx.Bucket(bucketAwardNotice).Put(noticeKey(a), nil); err != nil {
			return sa, err
		}
	}
	open := tx.Bucket(bucketAwardOpen)
	if a.Status.Open() {
		if err := open.Put(a.ID[:], nil); err != nil {
			return sa, err
		}
	} else if err := open.Delete(a.ID[:]); err != nil {
		return sa, err
	}
	if d.Uncount {
		if err := s.addCaps(tx, a, -1); err != nil {
			return sa, err
		}
	}
	return sa, putJSON(tx.Bucket(bucketAwards), a.ID, sa)
}

// RecordAward implements ledger.Awards.
func (s *Store) RecordAward(ctx context.Context, req ledger.AwardRequest) (ledger.Award, error) {
	fingerprint := req.Fingerprint()
	var out ledger.Award
	err := s.update(ctx, func(w *writeTx) error {
		tx := w.tx
		if req.Key != "" {
			if v := tx.Bucket(bucketAwardKeys).Get(idemKey(req.Key)); len(v) == 16 {
				first, err := getAward(tx, uuid.UUID(v))
				if err != nil {
					return err
				}
				if first.Key != req.Key || first.Fingerprint != fingerprint {
					return ledger.Errorf(ledger.ECONFLICT, "idempotency.mismatch")
				}
				out = first.Award
				return nil
			}
		}
		recorder, err := awardActor(tx, req.By)
		if err != nil {
			return err
		}
		f := ledger.AwardFacts{Recorder: recorder.User}
		if b, err := getJSON[ledger.Behaviour](tx.Bucket(bucketBehaviours), req.BehaviourID, "behaviour.not_found"); err == nil {
			f.Behaviour = b
		} else if ledger.ErrorCode(err) != ledger.ENOTFOUND {
			return err
		}
		var target uuid.UUID
		switch {
		case req.MemberID != uuid.Nil && req.HouseholdID == uuid.Nil:
			m, err := getJSON[ledger.Member](tx.Bucket(bucketMembers), req.MemberID, "member.not_found")
			if err != nil {
				return err
			}
			f.Member, target = &m, m.ID
			if f.Unit, err = getJSON[ledger.Unit](tx.Bucket(bucketUnits), m.UnitID, "unit.not_found"); err != nil {
				return err
			}
		case req.HouseholdID != uuid.Nil && req.MemberID == uuid.Nil:
			h, err := getJSON[ledger.Household](tx.Bucket(bucketHouseholds), req.HouseholdID, "household.not_found")
			if err != nil {
				return err
			}
			f.Household, target = &h, h.ID
			if f.Unit, err = getJSON[ledger.Unit](tx.Bucket(bucketUnits), h.UnitID, "unit.not_found"); err != nil {
				return err
			}
		}
		now := s.now()
		if target != uuid.Nil {
			f.MonthCount, f.YearCount = capCounts(tx, req.BehaviourID, target, ledger.MonthOf(now, s.loc))
			account := ledger.MemberAccount(target)
			if f.Household != nil {
				account = ledger.HouseholdAccount(target)
			}
			if f.Available, err = balanceOf(tx, account); err != nil {
				return err
			}
		}
		if len(f.Unit.Path) > 1 {
			if c, err := getJSON[ledger.Unit](tx.Bucket(bucketUnits), f.Unit.Path[1], "unit.not_found"); err == nil {
				f.NoticeDays = c.AwardNoticeDays
			}
		}
		d, err := ledger.RecordAward(newID(), req, f, s.awardRules, now, s.loc)
		if err != nil {
			return err
		}
		sa, err := s.applyAward(w, nil, d)
		if err != nil {
			return abortIfWritten(d, err)
		}
		if req.Key != "" {
			sa.Key, sa.Fingerprint = req.Key, fingerprint
			if err := putJSON(tx.Bucket(bucketAwards), sa.ID, sa); err != nil {
				return err
			}
			if err := tx.Bucket(bucketAwardKeys).Put(idemKey(req.Key), sa.ID[:]); err != nil {
				return err
			}
		}
		for i, p := range req.Evidence {
			if err := putPicture(tx, sa.ID, i, p); err != nil {
				return err
			}
		}
		out = sa.Award
		return nil
	})
	return out, err
}

// abortIfWritten turns an error met after a decision's entry was appended
// into one that aborts the request; a refusal of the entry itself (the
// first write) stays a clean refusal.
func abortIfWritten(d ledger.AwardDecision, err error) error {
	if _, refused := ledger.AsError(err); refused {
		return err // appendTx refuses before it writes; the other writes never refuse
	}
	return abortError{fmt.Sprintf("award %s: %v", d.Award.ID, err), err}
}

func pictureKey(id uuid.UUID, n int) []byte { return append(append([]byte{}, id[:]...), byte(n)) }

func putPicture(tx *bolt.Tx, id uuid.UUID, n int, p ledger.Picture) error {
	return tx.Bucket(bucketAwardPictures).Put(pictureKey(id, n), append([]byte(p.ContentType+"\n"), p.Data...))
}

// awardStep runs one step of an award's life: read the award, its state and
// who takes the step, let decide decide, write what it decided.
func (s *Store) awardStep(ctx context.Context, id, by uuid.UUID, decide func(ledger.AwardState, ledger.AwardActor) (ledger.AwardDecision, error)) (ledger.Award, error) {
	var out ledger.Award
	err := s.update(ctx, func(w *writeTx) error {
		sa, err := getAward(w.tx, id)
		if err != nil {
			return err
		}
		actor, err := awardActor(w.tx, by)
		if err != nil {
			return err
		}
		st, err := s.awardState(w.tx, sa.Award)
		if err != nil {
			return err
		}
		d, err := decide(st, actor)
		if err != nil {
			return err
		}
		saved, err := s.applyAward(w, &sa, d)
		if err != nil {
			return abortIfWritten(d, err)
		}
		out = saved.Award
		return nil
	})
	return out, err
}

// ApproveAward implements ledger.Awards.
func (s *Store) ApproveAward(ctx context.Context, id, by uuid.UUID) (ledger.Award, error) {
	return s.awardStep(ctx, id, by, func(st ledger.AwardState, a ledger.AwardActor) (ledger.AwardDecision, error) {
		return ledger.ApproveAward(st, a, s.now(), s.loc)
	})
}

// RejectAward implements ledger.Awards.
func (s *Store) RejectAward(ctx context.Context, id, by uuid.UUID, reason string) (ledger.Award, error) {
	return s.awardStep(ctx, id, by, func(st ledger.AwardState, a ledger.AwardActor) (ledger.AwardDecision, error) {
		return ledger.RejectAward(st, a, reason, s.now())
	})
}

// ObjectAward implements ledger.Awards.
func (s *Store) ObjectAward(ctx context.Context, id, by uuid.UUID, reason string) (ledger.Award, error) {
	return s.awardStep(ctx, id, by, func(st ledger.AwardState, a ledger.AwardActor) (ledger.AwardDecision, error) {
		return ledger.ObjectAward(st, a, reason, s.now())
	})
}

// DecideAward implements ledger.Awards.
func (s *Store) DecideAward(ctx context.Context, id, by uuid.UUID, postIt bool, reason string) (ledger.Award, error) {
	return s.awardStep(ctx, id, by, func(st ledger.AwardState, a ledger.AwardActor) (ledger.AwardDecision, error) {
		return ledger.DecideAward(st, a, postIt, reason, s.now())
	})
}

// ReverseAward implements ledger.Awards: the reverse entry goes through the
// journal's reversal rules (once per entry, never below zero).
func (s *Store) ReverseAward(ctx context.Context, id, by uuid.UUID, reason string) (ledger.Award, error) {
	var out ledger.Award
	err := s.update(ctx, func(w *writeTx) error {
		sa, err := getAward(w.tx, id)
		if err != nil {
			return err
		}
		actor, err := awardActor(w.tx, by)
		if err != nil {
			return err
		}
		st, err := s.awardState(w.tx, sa.Award)
		if err != nil {
			return err
		}
		var entry ledger.Entry
		if sa.Status == ledger.AwardPosted && sa.EntrySeq != 0 {
			if entry, err = readEntry(w.tx, sa.EntrySeq); err != nil {
				return err
			}
		}
		d, err := ledger.ReverseAward(st, entry, actor, reason, s.now())
		if err != nil {
			return err
		}
		saved, err := s.applyAward(w, &sa, d)
		if err != nil {
			return abortIfWritten(d, err)
		}
		out = saved.Award
		return nil
	})
	return out, err
}

// AddAwardEvidence implements ledger.Awards.
func (s *Store) AddAwardEvidence(ctx context.Context, id, by uuid.UUID, p ledger.Picture) (ledger.Award, error) {
	var out ledger.Award
	err := s.update(ctx, func(w *writeTx) error {
		sa, err := getAward(w.tx, id)
		if err != nil {
			return err
		}
		actor, err := awardActor(w.tx, by)
		if err != nil {
			return err
		}
		st, err := s.awardState(w.tx, sa.Award)
		if err != nil {
			return err
		}
		a, err := ledger.AddEvidence(st, actor, p)
		if err != nil {
			return err
		}
		if err := putPicture(w.tx, id, len(sa.Evidence), p); err != nil {
			return err
		}
		sa.Award = a
		out = a
		return putJSON(w.tx.Bucket(bucketAwards), id, sa)
	})
	return out, err
}

// AwardEvidence implements ledger.Awards.
func (s *Store) AwardEvidence(ctx context.Context, id uuid.UUID, n int) (ledger.Picture, error) {
	var p ledger.Picture
	if n < 1 || n > ledger.MaxAwardEvidence {
		return p, ledger.Errorf(ledger.ENOTFOUND, "award.no_picture")
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAwardPictures).Get(pictureKey(id, n-1))
		i := bytes.IndexByte(v, '\n')
		if v == nil || i < 0 {
			return ledger.Errorf(ledger.ENOTFOUND, "award.no_picture")
		}
		p = ledger.Picture{ContentType: string(v[:i]), Data: bytes.Clone(v[i+1:])}
		return nil
	})
	return p, err
}

// Award implements ledger.Awards.
func (s *Store) Award(ctx context.Context, id uuid.UUID) (ledger.Award, error) {
	var a ledger.Award
	err := s.db.View(func(tx *bolt.Tx) error {
		sa, err := getAward(tx, id)
		a = sa.Award
		return err
	})
	return a, err
}

// Awards implements ledger.Awards. It walks the narrowest index the filter
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
	err := s.db.View(func(tx *bolt.Tx) error {
		units := map[uuid.UUID]ledger.Unit{}
		scan := func(b *bolt.Bucket, prefix []byte) error {
			c := b.Cursor()
			k, _ := c.Last()
			if prefix != nil {
				// The last key with the prefix: seek past it and step back.
				if k, _ = c.Seek(append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, 17)...)); k == nil {
					k, _ = c.Last()
				} else {
					k, _ = c.Prev()
				}
			}
			for n, i := 0, 0; k != nil && bytes.HasPrefix(k, prefix) && n < f.Limit; k, _ = c.Prev() {
				i++
				if err := unhurried(ctx, i); err != nil {
					return err
				}
				if len(k) < len(prefix)+16 {
					continue
				}
				sa, err := getAward(tx, uuid.UUID(k[len(prefix):len(prefix)+16]))
				if err != nil {
					return err
				}
				unit, ok := units[sa.UnitID]
				if !ok {
					unit, _ = getJSON[ledger.Unit](tx.Bucket(bucketUnits), sa.UnitID, "unit.not_found")
					units[sa.UnitID] = unit
				}
				if f.Keeps(sa.Award, unit, s.loc) {
					out = append(out, sa.Award)
					n++
				}
			}
			return nil
		}
		targets := tx.Bucket(bucketAwardTargets)
		switch {
		case f.MemberID != uuid.Nil:
			if err := scan(targets, f.MemberID[:]); err != nil {
				return err
			}
			if v := tx.Bucket(bucketMemberHousehold).Get(f.MemberID[:]); f.WithHousehold && len(v) == 16 {
				return scan(targets, v)
			}
			return nil
		case f.HouseholdID != uuid.Nil:
			return scan(targets, f.HouseholdID[:])
		case openOnly:
			return scan(tx.Bucket(bucketAwardOpen), nil)
		case f.Month != 0:
			return scan(tx.Bucket(bucketAwardMonths), binary.BigEndian.AppendUint32(nil, uint32(f.Month)))
		}
		return scan(tx.Bucket(bucketAwards), nil)
	})
	// Two walks (a member's and their household's) merge newest first.
	slices.SortStableFunc(out, func(a, b ledger.Award) int { return bytes.Compare(b.ID[:], a.ID[:]) })
	return out[:min(len(out), f.Limit)], err
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
	err = s.db.View(func(tx *bolt.Tx) error {
		index := tx.Bucket(bucketMemberHousehold)
		for _, m := range members {
			t := ledger.AwardTarget{Target: ledger.TargetPerson, ID: m.ID, Name: m.Name, Phone: ledger.MaskPhone(m.Phone), UnitID: m.UnitID}
			if v := index.Get(m.ID[:]); len(v) == 16 {
				t.Household = uuid.UUID(v)
			}
			out = append(out, t)
		}
		units := tx.Bucket(bucketUnits)
		c := tx.Bucket(bucketHouseholds).Cursor()
		i := 0
		for k, v := c.First(); k != nil && len(out) < 2*limit; k, v = c.Next() {
			i++
			if err := unhurried(ctx, i); err != nil {
				return err
			}
			var h ledger.Household
			if err := json.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("household %x: %w", k, err)
			}
			u, err := getJSON[ledger.Unit](units, h.UnitID, "unit.not_found")
			if err != nil || !scope.Covers(u) {
				continue
			}
			var head string
			match := strings.Contains(h.Address, query)
			for _, hm := range h.Members {
				m, err := getJSON[ledger.Member](tx.Bucket(bucketMembers), hm.MemberID, "member.not_found")
				if err != nil {
					continue
				}
				if hm.MemberID == h.HeadID {
					head = m.Name
				}
				match = match || strings.Contains(m.Name, query)
			}
			if match {
				name := u.Name + " " + h.Address
				if head != "" {
					name += "（" + head + "）"
				}
				out = append(out, ledger.AwardTarget{Target: ledger.TargetHousehold, ID: h.ID, Name: name, UnitID: h.UnitID})
			}
		}
		return nil
	})
	return out, err
}

// awardPage is how many awards whose notice ended one step of the sweep reads.
const awardPage = 500

// PostDueAwards implements ledger.Awards: like the voucher expiry sweep it
// reads the due awards a page at a time, by the end of their notice
// period, and posts each in a write of its own, so that a bad one is
// skipped and counted while the others post.
func (s *Store) PostDueAwards(ctx context.Context) (ledger.SweepResult, error) {
	var res ledger.SweepResult
	now := s.now().UTC()
	var after []byte
	for {
		var due []uuid.UUID
		full := false
		err := s.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketAwardNotice).Cursor()
			k, _ := c.First()
			if after != nil {
				if k, _ = c.Seek(after); bytes.Equal(k, after) {
					k, _ = c.Next()
				}
			}
			for n := 0; k != nil; k, _ = c.Next() {
				if n == awardPage {
					full = true
					break
				}
				if len(k) != 24 {
					s.stats.SweepFailed(store.SweepAwardNotice, 1)
					res.Failed = append(res.Failed, ledger.SweepFailure{Err: fmt.Errorf("damaged award notice key %x", k)})
				} else if int64(binary.BigEndian.Uint64(k)) > now.UnixNano() {
					break
				} else {
					due = append(due, uuid.UUID(k[8:]))
				}
				after = bytes.Clone(k)
				n++
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		nothing := make([]bool, len(due))
		errs := s.updateEach(ctx, len(due), func(i int, w *writeTx) error {
			sa, err := getAward(w.tx, due[i])
			if err != nil {
				return err
			}
			st, err := s.awardState(w.tx, sa.Award)
			if err != nil {
				return err
			}
			d, isDue, err := ledger.PostDueAward(st, s.now())
			if err != nil {
				return err
			}
			if !isDue {
				nothing[i] = true // held or decided since the page was read
				return nil
			}
			if _, err := s.applyAward(w, &sa, d); err != nil {
				return abortIfWritten(d, err)
			}
			return nil
		})
		for i, err := range errs {
			if err == nil {
				if !nothing[i] {
					res.Done++
				}
				continue
			}
			if ledger.ErrorCode(err) == ledger.EUNAVAILABLE {
				return res, err
			}
			s.stats.SweepFailed(store.SweepAwardNotice, 1)
			res.Failed = append(res.Failed, ledger.SweepFailure{ID: due[i], Err: err})
		}
		if !full {
			return res, nil
		}
	}
}
