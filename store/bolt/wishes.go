package bolt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"aixin/ledger"
	"aixin/store"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Wishes (微心愿): each step reads the wish and what its rule needs, lets
// the rule in ledger/wish.go decide, and writes the wish it returned with
// its indexes (a community's wishes, a member's, the open claims by when
// they lapse) in the same transaction. Confirming appends the award
// entries there too.

// wishKeyRecord is what wishkeys holds for a client's key: the wish and a
// hash of the step and its request, so that a repeat is told from a reuse.
const wishKeyRecordSize = 16 + sha256.Size

// wishRequestSum is the hash that identifies a step's request for idempotency.
func wishRequestSum(step string, req any) [sha256.Size]byte {
	b, _ := json.Marshal(req) // plain values: never fails
	return sha256.Sum256(append([]byte(step+"\x00"), b...))
}

func getWish(tx *bolt.Tx, id uuid.UUID) (ledger.Wish, error) {
	return getJSON[ledger.Wish](tx.Bucket(bucketWishes), id, "wish.not_found")
}

// claimKey is a wish's row in the index of open claims: due time, then id.
func claimKey(c *ledger.WishClaim, id uuid.UUID) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(c.DueAt.UnixNano())), id[:]...)
}

// putWish stores w, which was old before this write (nil for a new wish),
// and keeps its indexes: its community's list, the list of every member it
// concerns, and the open claims.
func putWish(tx *bolt.Tx, old *ledger.Wish, w ledger.Wish) error {
	if err := putJSON(tx.Bucket(bucketWishes), w.ID, w); err != nil {
		return err
	}
	if old == nil {
		if err := tx.Bucket(bucketCommunityWishes).Put(pairKey(w.CommunityID, w.ID), nil); err != nil {
			return err
		}
	}
	members := tx.Bucket(bucketMemberWishes)
	concerned := []uuid.UUID{w.EnteredMember}
	if w.Claim != nil {
		concerned = append(concerned, w.Claim.MemberID)
	}
	if w.Fulfilment != nil {
		concerned = append(concerned, w.Fulfilment.Participants...)
	}
	for _, m := range concerned {
		if m != uuid.Nil {
			if err := members.Put(pairKey(m, w.ID), nil); err != nil {
				return err
			}
		}
	}
	claims := tx.Bucket(bucketWishClaims)
	if old != nil && old.Status == ledger.WishClaimed && old.Claim != nil {
		if err := claims.Delete(claimKey(old.Claim, old.ID)); err != nil {
			return err
		}
	}
	if w.Status == ledger.WishClaimed && w.Claim != nil {
		return claims.Put(claimKey(w.Claim, w.ID), nil)
	}
	return nil
}

// repeatedWish looks up a client's key: found is false for a new key; for
// a known one it returns the wish it was used on, or ECONFLICT
// "idempotency.mismatch" when it was used for another wish or request.
func repeatedWish(tx *bolt.Tx, key string, id uuid.UUID, sum [sha256.Size]byte) (ledger.Wish, bool, error) {
	if key == "" {
		return ledger.Wish{}, false, nil
	}
	v := tx.Bucket(bucketWishKeys).Get(idemKey(key))
	if v == nil {
		return ledger.Wish{}, false, nil
	}
	if len(v) != wishKeyRecordSize {
		return ledger.Wish{}, false, fmt.Errorf("a damaged wish key record %x", v)
	}
	used := uuid.UUID(v[:16])
	if (id != uuid.Nil && used != id) || !bytes.Equal(v[16:], sum[:]) {
		return ledger.Wish{}, false, ledger.Errorf(ledger.ECONFLICT, "idempotency.mismatch")
	}
	w, err := getWish(tx, used)
	return w, true, err
}

func keepWishKey(tx *bolt.Tx, key string, id uuid.UUID, sum [sha256.Size]byte) error {
	if key == "" {
		return nil
	}
	return tx.Bucket(bucketWishKeys).Put(idemKey(key), append(bytes.Clone(id[:]), sum[:]...))
}

// CreateWish implements ledger.Wishes.
func (s *Store) CreateWish(ctx context.Context, req ledger.WishRequest, by ledger.WishActor, key string) (ledger.Wish, error) {
	sum := wishRequestSum("create", struct {
		R  ledger.WishRequest
		By ledger.WishActor
	}{req, by})
	var out ledger.Wish
	err := s.update(ctx, func(w *writeTx) error {
		tx := w.tx
		first, found, err := repeatedWish(tx, key, uuid.Nil, sum)
		if found || err != nil {
			out = first
			return err
		}
		unit, err := getJSON[ledger.Unit](tx.Bucket(bucketUnits), req.UnitID, "unit.not_found")
		if err != nil {
			return err
		}
		if out, err = ledger.NewWish(newID(), req, unit, by, s.now()); err != nil {
			return err
		}
		if err := putWish(tx, nil, out); err != nil {
			return err
		}
		return keepWishKey(tx, key, out.ID, sum)
	})
	return out, err
}

// Wish implements ledger.Wishes.
func (s *Store) Wish(ctx context.Context, id uuid.UUID) (ledger.Wish, error) {
	var out ledger.Wish
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = getWish(tx, id)
		return err
	})
	return out, err
}

// ListWishes implements ledger.Wishes: a member's wishes and a community's
// from their indexes, anything else from all wishes (a district has
// thousands, not millions), each checked against the scope by its unit.
func (s *Store) ListWishes(ctx context.Context, f ledger.WishFilter) ([]ledger.Wish, error) {
	out := []ledger.Wish{}
	err := s.db.View(func(tx *bolt.Tx) error {
		units := map[uuid.UUID]ledger.Unit{}
		keep := func(w ledger.Wish) (bool, error) {
			if f.Community != uuid.Nil && w.CommunityID != f.Community {
				return false, nil
			}
			if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, w.Status) {
				return false, nil
			}
			if f.Scope.All {
				return true, nil
			}
			u, ok := units[w.UnitID]
			if !ok {
				var err error
				if u, err = getJSON[ledger.Unit](tx.Bucket(bucketUnits), w.UnitID, "unit.not_found"); err != nil {
					return false, err
				}
				units[w.UnitID] = u
			}
			return f.Scope.Covers(u), nil
		}
		add := func(id uuid.UUID) error {
			w, err := getWish(tx, id)
			if err != nil {
				return fmt.Errorf("wish %s: %w", id, err)
			}
			if ok, err := keep(w); err != nil || !ok {
				return err
			}
			out = append(out, w)
			return nil
		}
		var index *bolt.Bucket
		var prefix []byte
		switch {
		case f.Member != uuid.Nil:
			index, prefix = tx.Bucket(bucketMemberWishes), f.Member[:]
		case f.Community != uuid.Nil:
			index, prefix = tx.Bucket(bucketCommunityWishes), f.Community[:]
		}
		i := 0
		if index != nil {
			c := index.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				if i++; unhurried(ctx, i) != nil {
					return ctx.Err()
				}
				if err := add(uuid.UUID(k[16:])); err != nil {
					return err
				}
			}
		} else {
			err := tx.Bucket(bucketWishes).ForEach(func(k, _ []byte) error {
				if i++; unhurried(ctx, i) != nil {
					return ctx.Err()
				}
				return add(uuid.UUID(k))
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b ledger.Wish) int { return bytes.Compare(b.ID[:], a.ID[:]) }) // newest first: UUIDv7
	return out, err
}

// stepWish takes one step of wish id: it repeats an earlier request with
// the same key (writing nothing), else lets decide decide on the wish as it
// is and stores the wish decide returns. decide reads what its rule needs
// and must write nothing before its rule has accepted; after that it may
// write more (photos, entries), returning an abortError on failure.
func (s *Store) stepWish(ctx context.Context, id uuid.UUID, step string, req any, key string,
	decide func(w *writeTx, old ledger.Wish) (ledger.Wish, error)) (ledger.Wish, error) {
	sum := wishRequestSum(step, req)
	var out ledger.Wish
	err := s.update(ctx, func(w *writeTx) error {
		old, err := getWish(w.tx, id)
		if err != nil {
			return err
		}
		if first, found, err := repeatedWish(w.tx, key, id, sum); found || err != nil {
			out = first
			return err
		}
		if out, err = decide(w, old); err != nil {
			return err
		}
		if err := putWish(w.tx, &old, out); err != nil {
			return err
		}
		return keepWishKey(w.tx, key, id, sum)
	})
	return out, err
}

// VerifyWish implements ledger.Wishes.
func (s *Store) VerifyWish(ctx context.Context, id uuid.UUID, by ledger.WishActor, points *ledger.Points, key string) (ledger.Wish, error) {
	return s.stepWish(ctx, id, ledger.WishStepVerify, []any{by, points}, key, func(_ *writeTx, w ledger.Wish) (ledger.Wish, error) {
		return ledger.VerifyWish(w, by, points, s.now())
	})
}

// PublishWish implements ledger.Wishes.
func (s *Store) PublishWish(ctx context.Context, id uuid.UUID, by ledger.WishActor, points *ledger.Points, key string) (ledger.Wish, error) {
	return s.stepWish(ctx, id, ledger.WishStepPublish, []any{by, points}, key, func(_ *writeTx, w ledger.Wish) (ledger.Wish, error) {
		return ledger.PublishWish(w, by, points, s.now())
	})
}

// memberCommunity is the community a member's unit lies in (nil when the
// member sits above community level).
func memberCommunity(tx *bolt.Tx, m ledger.Member) (uuid.UUID, error) {
	u, err := getJSON[ledger.Unit](tx.Bucket(bucketUnits), m.UnitID, "unit.not_found")
	if err != nil || len(u.Path) < 2 {
		return uuid.Nil, err
	}
	return u.Path[1], nil
}

// ClaimWish implements ledger.Wishes: exactly one of any number of claims
// at once wins, as the claims are decided one after another on the wish
// as the one before left it.
func (s *Store) ClaimWish(ctx context.Context, id uuid.UUID, by ledger.WishActor, team uuid.UUID, key string) (ledger.Wish, error) {
	return s.stepWish(ctx, id, ledger.WishStepClaim, []any{by, team}, key, func(w *writeTx, wish ledger.Wish) (ledger.Wish, error) {
		var f ledger.WishClaimFacts
		var err error
		if f.Member, err = getJSON[ledger.Member](w.tx.Bucket(bucketMembers), by.Member, "member.not_found"); err != nil {
			return wish, err
		}
		if f.Community, err = memberCommunity(w.tx, f.Member); err != nil {
			return wish, err
		}
		if team != uuid.Nil {
			t, err := getJSON[ledger.Team](w.tx.Bucket(bucketTeams), team, "team.not_found")
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
func teamFacts(tx *bolt.Tx, ids []uuid.UUID) (ledger.WishTeamFacts, error) {
	f := ledger.WishTeamFacts{Members: map[uuid.UUID]ledger.Member{}}
	for _, id := range ids {
		m, err := getJSON[ledger.Member](tx.Bucket(bucketMembers), id, "member.not_found")
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
func putPhotos(tx *bolt.Tx, w ledger.Wish, ups []ledger.WishUpload) error {
	b := tx.Bucket(bucketWishPhotos)
	for i, p := range w.Photos[len(w.Photos)-len(ups):] {
		if err := b.Put(append(bytes.Clone(w.ID[:]), byte(p.N)), append([]byte(p.Type+"\n"), ups[i].Data...)); err != nil {
			return err
		}
	}
	return nil
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
	return s.stepWish(ctx, id, ledger.WishStepFulfil, []any{by, note, who, hashes}, key, func(w *writeTx, wish ledger.Wish) (ledger.Wish, error) {
		f, err := teamFacts(w.tx, who)
		if err != nil {
			return wish, err
		}
		out, err := ledger.FulfilWish(wish, by, ledger.WishFulfilRequest{Note: note, Participants: who, Photos: photos}, f, s.now())
		if err != nil {
			return wish, err
		}
		return out, putPhotos(w.tx, out, photos)
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
	return s.stepWish(ctx, id, ledger.WishStepConfirm, []any{by, req}, key, func(w *writeTx, wish ledger.Wish) (ledger.Wish, error) {
		who := req.Participants
		if len(who) == 0 && wish.Fulfilment != nil {
			who = wish.Fulfilment.Participants
		}
		f, err := teamFacts(w.tx, who)
		if err != nil {
			return wish, err
		}
		if c, err := getJSON[ledger.Unit](w.tx.Bucket(bucketUnits), wish.CommunityID, "unit.not_found"); err == nil {
			f.CommunityPath = c.Path
		}
		f.FourEyes = s.awardRules.ApprovalPoints
		d, err := ledger.ConfirmWish(wish, by, req, f, s.loc, s.now())
		if err != nil {
			return wish, err
		}
		// Decided: from here on a failure aborts the whole request.
		if len(d.Transfers) > 0 {
			ik := ledger.IssuerAccount(wish.CommunityID).Key()
			if accounts := w.tx.Bucket(bucketAccounts); accounts.Get(ik[:]) == nil {
				if err := accounts.Put(ik[:], make([]byte, accountRowSize)); err != nil {
					return wish, err
				}
			}
		}
		out := d.Wish
		for i, t := range d.Transfers {
			e, err := s.appendTx(w, t)
			if err != nil {
				return wish, abortError{fmt.Sprintf("confirm wish %s: award to %s: %v", wish.ID, t.Credit, err), err}
			}
			out.Awards[i].Seq = e.Seq
		}
		return out, nil
	})
}

// WithdrawWish implements ledger.Wishes.
func (s *Store) WithdrawWish(ctx context.Context, id uuid.UUID, by ledger.WishActor, reason, key string) (ledger.Wish, error) {
	return s.stepWish(ctx, id, ledger.WishStepWithdraw, []any{by, reason}, key, func(_ *writeTx, w ledger.Wish) (ledger.Wish, error) {
		return ledger.WithdrawWish(w, by, reason, s.now())
	})
}

// RejectWish implements ledger.Wishes.
func (s *Store) RejectWish(ctx context.Context, id uuid.UUID, by ledger.WishActor, reason, key string) (ledger.Wish, error) {
	return s.stepWish(ctx, id, ledger.WishStepReject, []any{by, reason}, key, func(_ *writeTx, w ledger.Wish) (ledger.Wish, error) {
		return ledger.RejectWish(w, by, reason, s.now())
	})
}

// AddWishPhoto implements ledger.Wishes.
func (s *Store) AddWishPhoto(ctx context.Context, id uuid.UUID, by ledger.WishActor, photo ledger.WishUpload) (ledger.Wish, error) {
	return s.stepWish(ctx, id, ledger.WishStepPhoto, nil, "", func(w *writeTx, wish ledger.Wish) (ledger.Wish, error) {
		out, err := ledger.AddWishPhoto(wish, by, photo, s.now())
		if err != nil {
			return wish, err
		}
		return out, putPhotos(w.tx, out, []ledger.WishUpload{photo})
	})
}

// WishPhoto implements ledger.Wishes.
func (s *Store) WishPhoto(ctx context.Context, id uuid.UUID, n int) (string, []byte, error) {
	var ctype string
	var data []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if n < 1 || n > 255 {
			return ledger.Errorf(ledger.ENOTFOUND, "wish.no_photo")
		}
		v := tx.Bucket(bucketWishPhotos).Get(append(bytes.Clone(id[:]), byte(n)))
		i := bytes.IndexByte(v, '\n')
		if v == nil || i < 0 {
			return ledger.Errorf(ledger.ENOTFOUND, "wish.no_photo")
		}
		ctype, data = string(v[:i]), bytes.Clone(v[i+1:])
		return nil
	})
	return ctype, data, err
}

// LapseWishClaims implements ledger.Wishes. It reads the claims that are
// due from their index, in due order, and returns each to the wall in a
// write of its own: a damaged index row or wish is skipped, logged by the
// caller, counted in Stats and tried again on the next run, and never
// stops the others.
func (s *Store) LapseWishClaims(ctx context.Context) (ledger.SweepResult, error) {
	var res ledger.SweepResult
	now := s.now().UTC()
	var due []uuid.UUID
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketWishClaims).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) != 24 {
				s.stats.SweepFailed(store.SweepWishClaims, 1)
				res.Failed = append(res.Failed, ledger.SweepFailure{Err: fmt.Errorf("a damaged row %x in the index of claims", k)})
				continue
			}
			if int64(binary.BigEndian.Uint64(k)) > now.UnixNano() {
				break
			}
			due = append(due, uuid.UUID(k[8:]))
			if len(due)%1000 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
		}
		return nil
	})
	if err != nil || len(due) == 0 {
		return res, err
	}
	nothing := make([]bool, len(due)) // fulfilled, withdrawn or rejected since it was read
	errs := s.updateEach(ctx, len(due), func(i int, w *writeTx) error {
		wish, err := getWish(w.tx, due[i])
		if err != nil {
			return err
		}
		out, ok := ledger.LapseClaim(wish, s.now())
		if !ok {
			nothing[i] = true
			return nil
		}
		return putWish(w.tx, &wish, out)
	})
	for i, err := range errs {
		switch {
		case err == nil:
			if !nothing[i] {
				res.Done++
			}
		case ledger.ErrorCode(err) == ledger.EUNAVAILABLE:
			return res, err
		default:
			s.stats.SweepFailed(store.SweepWishClaims, 1)
			res.Failed = append(res.Failed, ledger.SweepFailure{ID: due[i], Err: err})
		}
	}
	return res, nil
}

// SetWishWall implements ledger.Wishes.
func (s *Store) SetWishWall(ctx context.Context, community uuid.UUID, on bool, by uuid.UUID) (ledger.WishWall, error) {
	ww := ledger.WishWall{CommunityID: community, On: on, UpdatedAt: s.now().UTC(), UpdatedBy: by}
	err := s.update(ctx, func(w *writeTx) error {
		u, err := getJSON[ledger.Unit](w.tx.Bucket(bucketUnits), community, "unit.not_found")
		if err != nil {
			return err
		}
		if u.Kind != ledger.UnitCommunity {
			return ledger.Errorf(ledger.EINVALID, "wish.wall_community")
		}
		return putJSON(w.tx.Bucket(bucketWishWalls), community, ww)
	})
	return ww, err
}

// WishWalls implements ledger.Wishes.
func (s *Store) WishWalls(ctx context.Context) (map[uuid.UUID]ledger.WishWall, error) {
	out := map[uuid.UUID]ledger.WishWall{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketWishWalls).ForEach(func(k, v []byte) error {
			var ww ledger.WishWall
			if err := json.Unmarshal(v, &ww); err != nil {
				return fmt.Errorf("wish wall %x: %w", k, err)
			}
			out[ww.CommunityID] = ww
			return nil
		})
	})
	return out, err
}
