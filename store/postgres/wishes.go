package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"

	"aixin/ledger"
	"aixin/store"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Wishes (微心愿), as on bbolt: each step reads the wish and what its rule
// needs, lets the rule in ledger/wish.go decide, and writes the wish it
// returned in the same transaction. Confirming appends the award entries
// there too.

// wishRequestSum is the hash that identifies a step's request for idempotency.
func wishRequestSum(step string, req any) [sha256.Size]byte {
	b, _ := json.Marshal(req) // plain values: never fails
	return sha256.Sum256(append([]byte(step+"\x00"), b...))
}

func (w *wtx) readWish(id uuid.UUID) (ledger.Wish, error) {
	return readDoc[ledger.Wish](w, "wishes", id, true, "wish.not_found")
}

// putWish stores wish (new when isNew) with the list of every member it
// concerns and when its open claim lapses.
func (w *wtx) putWish(isNew bool, wish ledger.Wish) error {
	doc, err := jsonDoc(wish)
	if err != nil {
		return err
	}
	var due *int64
	if wish.Status == ledger.WishClaimed && wish.Claim != nil {
		d := wish.Claim.DueAt.UnixNano()
		due = &d
	}
	if isNew {
		w.Exec(`INSERT INTO wishes (id, community, claim_due, doc) VALUES ($1, $2, $3, $4)`, wish.ID, wish.CommunityID, due, doc)
	} else {
		w.Exec(`UPDATE wishes SET claim_due = $2, doc = $3 WHERE id = $1`, wish.ID, due, doc)
	}
	concerned := []uuid.UUID{}
	for _, m := range append([]uuid.UUID{wish.EnteredMember}, claimants(wish)...) {
		if m != uuid.Nil && !slices.Contains(concerned, m) {
			concerned = append(concerned, m)
		}
	}
	if len(concerned) > 0 {
		w.Exec(`INSERT INTO member_wishes (member, wish) SELECT unnest($1::uuid[]), $2 ON CONFLICT DO NOTHING`, concerned, wish.ID)
	}
	return nil
}

// claimants are the members who claimed a wish or took part in its fulfilment.
func claimants(wish ledger.Wish) []uuid.UUID {
	var out []uuid.UUID
	if wish.Claim != nil {
		out = append(out, wish.Claim.MemberID)
	}
	if wish.Fulfilment != nil {
		out = append(out, wish.Fulfilment.Participants...)
	}
	return out
}

// repeatedWish looks up a client's key: found is false for a new key; for
// a known one it returns the wish it was used on, or ECONFLICT
// "idempotency.mismatch" when it was used for another wish or request.
func (w *wtx) repeatedWish(key string, id uuid.UUID, sum [sha256.Size]byte) (ledger.Wish, bool, error) {
	if key == "" {
		return ledger.Wish{}, false, nil
	}
	var used uuid.UUID
	var req []byte
	// A key moved from bbolt, which keeps a key that is not a UUID only as
	// its hash, is kept as ledger.HashedKeyPrefix and the hash.
	h := sha256.Sum256([]byte(key))
	found, err := w.QueryRow(`SELECT wish, request FROM wish_keys WHERE key = $1 OR key = $2 LIMIT 1`,
		[]any{key, ledger.HashedKeyPrefix + hex.EncodeToString(h[:])}, &used, &req)
	if err != nil || !found {
		return ledger.Wish{}, false, err
	}
	if (id != uuid.Nil && used != id) || !bytes.Equal(req, sum[:]) {
		return ledger.Wish{}, false, ledger.Errorf(ledger.ECONFLICT, "idempotency.mismatch")
	}
	wish, err := w.readWish(used)
	return wish, true, err
}

func (w *wtx) keepWishKey(key string, id uuid.UUID, sum [sha256.Size]byte) {
	if key != "" {
		w.Exec(`INSERT INTO wish_keys (key, wish, request) VALUES ($1, $2, $3)`, key, id, sum[:])
	}
}

// CreateWish implements ledger.Wishes.
func (s *Store) CreateWish(ctx context.Context, req ledger.WishRequest, by ledger.WishActor, key string) (ledger.Wish, error) {
	sum := wishRequestSum("create", struct {
		R  ledger.WishRequest
		By ledger.WishActor
	}{req, by})
	var out ledger.Wish
	err := s.update(ctx, func(w *wtx) error {
		first, found, err := w.repeatedWish(key, uuid.Nil, sum)
		if found || err != nil {
			out = first
			return err
		}
		unit, err := w.readUnit(req.UnitID, false)
		if err != nil {
			return err
		}
		if out, err = ledger.NewWish(uuid.Must(uuid.NewV7()), req, unit, by, s.now()); err != nil {
			return err
		}
		if err := w.putWish(true, out); err != nil {
			return err
		}
		w.keepWishKey(key, out.ID, sum)
		return nil
	})
	return out, err
}

// Wish implements ledger.Wishes.
func (s *Store) Wish(ctx context.Context, id uuid.UUID) (ledger.Wish, error) {
	return viewDoc[ledger.Wish](ctx, s, "wishes", id, "wish.not_found")
}

// ListWishes implements ledger.Wishes: a member's wishes and a community's
// by their indexes, anything else from all wishes, each checked against
// the scope by its unit; newest first.
func (s *Store) ListWishes(ctx context.Context, f ledger.WishFilter) ([]ledger.Wish, error) {
	q, args := `SELECT doc FROM wishes ORDER BY id DESC`, []any{}
	switch {
	case f.Member != uuid.Nil:
		q, args = `SELECT w.doc FROM member_wishes m JOIN wishes w ON w.id = m.wish WHERE m.member = $1 ORDER BY w.id DESC`, []any{f.Member}
	case f.Community != uuid.Nil:
		q, args = `SELECT doc FROM wishes WHERE community = $1 ORDER BY id DESC`, []any{f.Community}
	}
	units, err := s.unitsByID(ctx)
	if err != nil {
		return nil, err
	}
	all, err := queryDocs[ledger.Wish](ctx, s, q, args...)
	out := []ledger.Wish{}
	for _, wish := range all {
		switch {
		case f.Community != uuid.Nil && wish.CommunityID != f.Community,
			len(f.Statuses) > 0 && !slices.Contains(f.Statuses, wish.Status),
			!f.Scope.All && !f.Scope.Covers(units[wish.UnitID]):
			continue
		}
		out = append(out, wish)
	}
	return out, err
}

// stepWish takes one step of wish id: it repeats an earlier request with
// the same key (writing nothing), else lets decide decide on the wish as it
// is and stores the wish decide returns. decide reads what its rule needs
// and writes nothing before its rule has accepted.
func (s *Store) stepWish(ctx context.Context, id uuid.UUID, step string, req any, key string,
	decide func(w *wtx, old ledger.Wish) (ledger.Wish, error)) (ledger.Wish, error) {
	sum := wishRequestSum(step, req)
	var out ledger.Wish
	err := s.update(ctx, func(w *wtx) error {
		old, err := w.readWish(id)
		if err != nil {
			return err
		}
		if first, found, err := w.repeatedWish(key, id, sum); found || err != nil {
			out = first
			return err
		}
		if out, err = decide(w, old); err != nil {
			return err
		}
		if err := w.putWish(false, out); err != nil {
			return err
		}
		w.keepWishKey(key, id, sum)
		return nil
	})
	return out, err
}

// VerifyWish implements ledger.Wishes.
func (s *Store) VerifyWish(ctx context.Context, id uuid.UUID, by ledger.WishActor, points *ledger.Points, key string) (ledger.Wish, error) {
	return s.stepWish(ctx, id, ledger.WishStepVerify, []any{by, points}, key, func(_ *wtx, w ledger.Wish) (ledger.Wish, error) {
		return ledger.VerifyWish(w, by, points, s.now())
	})
}

// PublishWish implements ledger.Wishes.
func (s *Store) PublishWish(ctx context.Context, id uuid.UUID, by ledger.WishActor, points *ledger.Points, key string) (ledger.Wish, error) {
	return s.stepWish(ctx, id, ledger.WishStepPublish, []any{by, points}, key, func(_ *wtx, w ledger.Wish) (ledger.Wish, error) {
		return ledger.PublishWish(w, by, points, s.now())
	})
}

// ClaimWish implements ledger.Wishes: exactly one of any number of claims
// at once wins, as the claims are decided one after another on the wish
// as the one before left it (its row is locked).
func (s *Store) ClaimWish(ctx context.Context, id uuid.UUID, by ledger.WishActor, team uuid.UUID, key string) (ledger.Wish, error) {
	return s.stepWish(ctx, id, ledger.WishStepClaim, []any{by, team}, key, func(w *wtx, wish ledger.Wish) (ledger.Wish, error) {
		var f ledger.WishClaimFacts
		var err error
		if f.Member, err = readDoc[ledger.Member](w, "members", by.Member, false, "member.not_found"); err != nil {
			return wish, err
		}
		u, err := w.readUnit(f.Member.UnitID, false)
		if err != nil {
			return wish, err
		}
		if len(u.Path) >= 2 {
			f.Community = u.Path[1]
		}
		if team != uuid.Nil {
			t, err := readDoc[ledger.Team](w, "teams", team, false, "team.not_found")
			if err != nil {
				return wish, err
			}
			f.Team = &t
		}
		out, _, err := ledger.ClaimWish(wish, by, f, s.wishClaimLife, s.now())
		return out, err
	})
}

// teamFacts reads the members named as participants (those that exist).
func (w *wtx) teamFacts(ids []uuid.UUID) (ledger.WishTeamFacts, error) {
	f := ledger.WishTeamFacts{Members: map[uuid.UUID]ledger.Member{}}
	for _, id := range ids {
		m, err := readDoc[ledger.Member](w, "members", id, false, "member.not_found")
		if ledger.ErrorCode(err) == ledger.ENOTFOUND {
			continue // the rule says so
		}
		if err != nil {
			return f, err
		}
		f.Members[id] = m
	}
	return f, nil
}

// putPhotos stores the bytes of the wish's last len(ups) photos, which the
// rule has just numbered.
func (w *wtx) putPhotos(wish ledger.Wish, ups []ledger.WishUpload) {
	for i, p := range wish.Photos[len(wish.Photos)-len(ups):] {
		w.Exec(`INSERT INTO wish_photos (wish, n, content_type, data) VALUES ($1, $2, $3, $4)`, wish.ID, p.N, p.Type, ups[i].Data)
	}
}

// FulfilWish implements ledger.Wishes.
func (s *Store) FulfilWish(ctx context.Context, id uuid.UUID, by ledger.WishActor, note string, who []uuid.UUID, photos []ledger.WishUpload, key string) (ledger.Wish, error) {
	if len(who) > ledger.MaxWishParticipants {
		return ledger.Wish{}, ledger.Errorf(ledger.EINVALID, "wish.participants_too_many", ledger.MaxWishParticipants)
	}
	hashes := make([][sha256.Size]byte, len(photos))
	for i, p := range photos {
		hashes[i] = sha256.Sum256(p.Data)
	}
	return s.stepWish(ctx, id, ledger.WishStepFulfil, []any{by, note, who, hashes}, key, func(w *wtx, wish ledger.Wish) (ledger.Wish, error) {
		f, err := w.teamFacts(who)
		if err != nil {
			return wish, err
		}
		out, err := ledger.FulfilWish(wish, by, ledger.WishFulfilRequest{Note: note, Participants: who, Photos: photos}, f, s.now())
		if err != nil {
			return wish, err
		}
		w.putPhotos(out, photos)
		return out, nil
	})
}

// ConfirmWish implements ledger.Wishes: the wish confirmed and its award
// entries, issuer of the wish's community -> each participant, in one
// transaction; each entry has its own server key, so a wish's points can
// reach a member once whatever is tried.
func (s *Store) ConfirmWish(ctx context.Context, id uuid.UUID, by ledger.WishActor, req ledger.WishConfirmRequest, key string) (ledger.Wish, error) {
	if len(req.Participants) > ledger.MaxWishParticipants {
		return ledger.Wish{}, ledger.Errorf(ledger.EINVALID, "wish.participants_too_many", ledger.MaxWishParticipants)
	}
	return s.stepWish(ctx, id, ledger.WishStepConfirm, []any{by, req}, key, func(w *wtx, wish ledger.Wish) (ledger.Wish, error) {
		who := req.Participants
		if len(who) == 0 && wish.Fulfilment != nil {
			who = wish.Fulfilment.Participants
		}
		f, err := w.teamFacts(who)
		if err != nil {
			return wish, err
		}
		if c, err := w.readUnit(wish.CommunityID, false); err == nil {
			f.CommunityPath = c.Path
		}
		f.FourEyes = s.awardRules.ApprovalPoints
		d, err := ledger.ConfirmWish(wish, by, req, f, s.loc, s.now())
		if err != nil {
			return wish, err
		}
		// Decided: from here on a failure aborts the whole request.
		if len(d.Transfers) > 0 {
			if err := w.OpenAccount(ledger.IssuerAccount(wish.CommunityID)); err != nil {
				return wish, err
			}
		}
		out := d.Wish
		for i, t := range d.Transfers {
			e, err := w.Append(t)
			if err != nil {
				return wish, err
			}
			out.Awards[i].Seq = e.Seq
		}
		return out, nil
	})
}

// WithdrawWish implements ledger.Wishes.
func (s *Store) WithdrawWish(ctx context.Context, id uuid.UUID, by ledger.WishActor, reason, key string) (ledger.Wish, error) {
	return s.stepWish(ctx, id, ledger.WishStepWithdraw, []any{by, reason}, key, func(_ *wtx, w ledger.Wish) (ledger.Wish, error) {
		return ledger.WithdrawWish(w, by, reason, s.now())
	})
}

// RejectWish implements ledger.Wishes.
func (s *Store) RejectWish(ctx context.Context, id uuid.UUID, by ledger.WishActor, reason, key string) (ledger.Wish, error) {
	return s.stepWish(ctx, id, ledger.WishStepReject, []any{by, reason}, key, func(_ *wtx, w ledger.Wish) (ledger.Wish, error) {
		return ledger.RejectWish(w, by, reason, s.now())
	})
}

// AddWishPhoto implements ledger.Wishes.
func (s *Store) AddWishPhoto(ctx context.Context, id uuid.UUID, by ledger.WishActor, photo ledger.WishUpload) (ledger.Wish, error) {
	return s.stepWish(ctx, id, ledger.WishStepPhoto, nil, "", func(w *wtx, wish ledger.Wish) (ledger.Wish, error) {
		out, err := ledger.AddWishPhoto(wish, by, photo, s.now())
		if err != nil {
			return wish, err
		}
		w.putPhotos(out, []ledger.WishUpload{photo})
		return out, nil
	})
}

// WishPhoto implements ledger.Wishes.
func (s *Store) WishPhoto(ctx context.Context, id uuid.UUID, n int) (string, []byte, error) {
	if n < 1 || n > 255 {
		return "", nil, ledger.Errorf(ledger.ENOTFOUND, "wish.no_photo")
	}
	var ctype string
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT content_type, data FROM wish_photos WHERE wish = $1 AND n = $2`, id, n).Scan(&ctype, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, ledger.Errorf(ledger.ENOTFOUND, "wish.no_photo")
	}
	if err != nil {
		return "", nil, unavailable(err)
	}
	return ctype, data, nil
}

// LapseWishClaims implements ledger.Wishes. It reads the claims that are
// due, in due order, and returns each to the wall in a request of its own
// (they share commits): a damaged wish is skipped and reported and never
// stops the others; each request decides again, so two app servers
// sweeping at once lapse each claim once.
func (s *Store) LapseWishClaims(ctx context.Context) (ledger.SweepResult, error) {
	res, err := s.alone(ctx, lockWishClaims, s.lapseWishClaims)
	s.stats.Swept(store.SweepWishClaims, res)
	return res, err
}

func (s *Store) lapseWishClaims(ctx context.Context) (ledger.SweepResult, error) {
	var res ledger.SweepResult
	rows, err := s.pool.Query(ctx, `SELECT id FROM wishes WHERE claim_due IS NOT NULL AND claim_due <= $1 ORDER BY claim_due, id`,
		s.now().UnixNano())
	if err != nil {
		return res, unavailable(err)
	}
	var due []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return res, unavailable(err)
		}
		due = append(due, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, unavailable(err)
	}
	err = s.sweep(ctx, due, &res, func(w *wtx, i int) (bool, error) {
		wish, err := w.readWish(due[i])
		if err != nil {
			return false, err
		}
		out, ok := ledger.LapseClaim(wish, s.now())
		if !ok {
			return false, nil // fulfilled, withdrawn or rejected since it was read
		}
		return true, w.putWish(false, out)
	})
	return res, err
}

// SetWishWall implements ledger.Wishes.
func (s *Store) SetWishWall(ctx context.Context, community uuid.UUID, on bool, by uuid.UUID) (ledger.WishWall, error) {
	ww := ledger.WishWall{CommunityID: community, On: on, UpdatedAt: s.now().UTC(), UpdatedBy: by}
	err := s.update(ctx, func(w *wtx) error {
		u, err := w.readUnit(community, false)
		if err != nil {
			return err
		}
		if u.Kind != ledger.UnitCommunity {
			return ledger.Errorf(ledger.EINVALID, "wish.wall_community")
		}
		doc, err := jsonDoc(ww)
		w.Exec(`INSERT INTO wish_walls (community, doc) VALUES ($1, $2) ON CONFLICT (community) DO UPDATE SET doc = EXCLUDED.doc`, community, doc)
		return err
	})
	return ww, err
}

// WishWalls implements ledger.Wishes.
func (s *Store) WishWalls(ctx context.Context) (map[uuid.UUID]ledger.WishWall, error) {
	out := map[uuid.UUID]ledger.WishWall{}
	walls, err := queryDocs[ledger.WishWall](ctx, s, `SELECT doc FROM wish_walls ORDER BY community`)
	for _, ww := range walls {
		out[ww.CommunityID] = ww
	}
	return out, err
}
