package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Dump calls fn with every record of the file but the journal and its
// indexes, kind by kind in the order of ledger.RecordKinds, from one read
// transaction: what aixin migrate moves to another engine. Indexes the
// other engine keeps in columns of its own (an event's attendances, the
// open vouchers by expiry, a phone's member) are not records.
func (s *Store) Dump(ctx context.Context, fn func(ledger.Record) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		d := dumper{tx: tx, fn: fn, ctx: ctx}
		return d.run()
	})
}

type dumper struct {
	ctx context.Context
	tx  *bolt.Tx
	fn  func(ledger.Record) error
	n   int
}

// each calls f with every key and value of bucket b.
func (d *dumper) each(b []byte, f func(k, v []byte) (ledger.Record, error)) error {
	bk := d.tx.Bucket(b)
	if bk == nil {
		return nil
	}
	return bk.ForEach(func(k, v []byte) error {
		if d.n++; d.n%4096 == 0 {
			if err := d.ctx.Err(); err != nil {
				return err
			}
		}
		r, err := f(k, v)
		if err != nil {
			return fmt.Errorf("bucket %s, key %x: %w", b, k, err)
		}
		return d.fn(r)
	})
}

// doc is the record of a document keyed by its id.
func doc(kind ledger.RecordKind) func(k, v []byte) (ledger.Record, error) {
	return func(k, v []byte) (ledger.Record, error) {
		id, err := uuid.FromBytes(k)
		return ledger.Record{Kind: kind, ID: id, Doc: bytes.Clone(v)}, err
	}
}

// ids splits a key of 16-byte ids and a 4-byte number after them.
func ids(k []byte, n int, month bool) ([]uuid.UUID, int, error) {
	want := 16 * n
	if month {
		want += 4
	}
	if len(k) != want {
		return nil, 0, fmt.Errorf("key of %d bytes, want %d", len(k), want)
	}
	out := make([]uuid.UUID, n)
	for i := range out {
		copy(out[i][:], k[16*i:])
	}
	m := 0
	if month {
		m = int(binary.BigEndian.Uint32(k[16*n:]))
	}
	return out, m, nil
}

func count(v []byte) (int64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("count of %d bytes", len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// picture splits "content type \n bytes".
func picture(v []byte) (string, []byte, error) {
	i := bytes.IndexByte(v, '\n')
	if i < 0 {
		return "", nil, fmt.Errorf("picture without a content type")
	}
	return string(v[:i]), bytes.Clone(v[i+1:]), nil
}

func (d *dumper) run() error {
	meta := d.tx.Bucket(bucketMeta)
	c := meta.Cursor()
	prefix := []byte("secret:")
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := d.fn(ledger.Record{Kind: ledger.RecSecret, Name: string(k[len(prefix):]), Doc: bytes.Clone(v)}); err != nil {
			return err
		}
	}
	shopOf := map[uuid.UUID]uuid.UUID{} // item -> shop, for stock moves
	steps := []struct {
		bucket []byte
		f      func(k, v []byte) (ledger.Record, error)
	}{
		{bucketUnits, doc(ledger.RecUnit)},
		{bucketTeams, doc(ledger.RecTeam)},
		{bucketUsers, doc(ledger.RecUser)},
		{bucketSessions, func(k, v []byte) (ledger.Record, error) {
			return ledger.Record{Kind: ledger.RecSession, Name: hex.EncodeToString(k), Doc: bytes.Clone(v)}, nil
		}},
		{bucketMembers, doc(ledger.RecMember)},
		{bucketHouseholds, doc(ledger.RecHousehold)},
		{bucketMemberHousehold, func(k, v []byte) (ledger.Record, error) {
			m, _, err := ids(k, 1, false)
			if err != nil {
				return ledger.Record{}, err
			}
			h, err := uuid.FromBytes(v)
			return ledger.Record{Kind: ledger.RecMemberHousehold, ID: m[0], Of: h}, err
		}},
		{bucketEvents, doc(ledger.RecEvent)},
		{bucketEventChanges, func(k, v []byte) (ledger.Record, error) {
			p, _, err := ids(k, 2, false)
			if err != nil {
				return ledger.Record{}, err
			}
			return ledger.Record{Kind: ledger.RecEventChange, ID: p[1], Of: p[0], Doc: bytes.Clone(v)}, nil
		}},
		{bucketAttendances, doc(ledger.RecAttendance)},
		{bucketMemberDay, func(k, v []byte) (ledger.Record, error) {
			p, day, err := ids(k, 1, true)
			if err != nil {
				return ledger.Record{}, err
			}
			n, err := count(v)
			return ledger.Record{Kind: ledger.RecMemberDay, ID: p[0], Month: day, Values: [4]int64{n}}, err
		}},
		{bucketMonthEvent, func(k, v []byte) (ledger.Record, error) {
			if len(k) != 20 {
				return ledger.Record{}, fmt.Errorf("key of %d bytes", len(k))
			}
			ev, _ := uuid.FromBytes(k[4:])
			n, w := binary.Varint(v)
			if w <= 0 || w != len(v) {
				return ledger.Record{}, fmt.Errorf("bad minutes")
			}
			return ledger.Record{Kind: ledger.RecMonthEvent, Of: ev, Month: int(binary.BigEndian.Uint32(k)), Values: [4]int64{n}}, nil
		}},
		{bucketMonthLate, func(k, v []byte) (ledger.Record, error) {
			if len(k) != 20 {
				return ledger.Record{}, fmt.Errorf("key of %d bytes", len(k))
			}
			att, _ := uuid.FromBytes(k[4:])
			minutes, at, err := decodeLate(v)
			return ledger.Record{Kind: ledger.RecMonthLate, ID: att, Month: int(binary.BigEndian.Uint32(k)), Values: [4]int64{minutes, at}}, err
		}},
		{bucketCertificates, func(k, v []byte) (ledger.Record, error) {
			return ledger.Record{Kind: ledger.RecCertificate, Name: string(k), Doc: bytes.Clone(v)}, nil
		}},
		{bucketShops, doc(ledger.RecShop)},
		{bucketItems, func(k, v []byte) (ledger.Record, error) {
			r, err := doc(ledger.RecItem)(k, v)
			if err != nil {
				return r, err
			}
			var it ledger.Item
			if err := json.Unmarshal(v, &it); err != nil {
				return r, err
			}
			shopOf[it.ID] = it.ShopID
			return r, nil
		}},
		{bucketPictures, func(k, v []byte) (ledger.Record, error) {
			id, err := uuid.FromBytes(k)
			if err != nil {
				return ledger.Record{}, err
			}
			ct, data, err := picture(v)
			return ledger.Record{Kind: ledger.RecItemPicture, ID: id, Name: ct, Doc: data}, err
		}},
		{bucketStockMoves, func(k, v []byte) (ledger.Record, error) {
			r, err := doc(ledger.RecStockMove)(k, v)
			if err != nil {
				return r, err
			}
			var m ledger.StockMove
			if err := json.Unmarshal(v, &m); err != nil {
				return r, err
			}
			shop, ok := shopOf[m.ItemID]
			if !ok {
				return r, fmt.Errorf("stock move of item %s, which is not in the file", m.ItemID)
			}
			r.Of = shop
			return r, nil
		}},
		{bucketVouchers, doc(ledger.RecVoucher)},
		{bucketMemberItemMonth, func(k, v []byte) (ledger.Record, error) {
			p, m, err := ids(k, 2, true)
			if err != nil {
				return ledger.Record{}, err
			}
			n, err := count(v)
			return ledger.Record{Kind: ledger.RecMemberItemMonth, ID: p[0], Of: p[1], Month: m, Values: [4]int64{n}}, err
		}},
		{bucketMemberHeld, held(ledger.MemberAccount)},
		{bucketHouseholdHeld, held(ledger.HouseholdAccount)},
		{bucketMemberRedeemed, redeemed(ledger.MemberAccount)},
		{bucketHouseholdRedeemed, redeemed(ledger.HouseholdAccount)},
		{bucketShopMonth, func(k, v []byte) (ledger.Record, error) {
			p, m, err := ids(k, 1, true)
			if err != nil {
				return ledger.Record{}, err
			}
			r, err := decodeShopRow(v)
			return ledger.Record{Kind: ledger.RecShopMonth, Of: p[0], Month: m,
				Values: [4]int64{r.vouchers, r.items, r.reversals, int64(r.last)}}, err
		}},
		{bucketShopItemMonth, func(k, v []byte) (ledger.Record, error) {
			if len(k) != 36 {
				return ledger.Record{}, fmt.Errorf("key of %d bytes", len(k))
			}
			shop, _ := uuid.FromBytes(k[:16])
			item, _ := uuid.FromBytes(k[20:])
			q, err := decodeItemRow(v)
			return ledger.Record{Kind: ledger.RecShopItemMonth, Of: shop, ID: item, Month: int(binary.BigEndian.Uint32(k[16:])),
				Values: [4]int64{q}}, err
		}},
		{bucketBehaviours, doc(ledger.RecBehaviour)},
		{bucketAwards, doc(ledger.RecAward)},
		{bucketAwardCaps, func(k, v []byte) (ledger.Record, error) {
			p, m, err := ids(k, 2, true)
			if err != nil {
				return ledger.Record{}, err
			}
			n, err := count(v)
			return ledger.Record{Kind: ledger.RecAwardCap, Of: p[0], ID: p[1], Month: m, Values: [4]int64{n}}, err
		}},
		{bucketAwardPictures, numbered(ledger.RecAwardPicture)},
		{bucketWishes, doc(ledger.RecWish)},
		{bucketMemberWishes, func(k, v []byte) (ledger.Record, error) {
			p, _, err := ids(k, 2, false)
			if err != nil {
				return ledger.Record{}, err
			}
			return ledger.Record{Kind: ledger.RecMemberWish, ID: p[0], Of: p[1]}, nil
		}},
		{bucketWishKeys, func(k, v []byte) (ledger.Record, error) {
			key, err := clientKeyOf(k)
			if err != nil {
				return ledger.Record{}, err
			}
			if len(v) != 16+32 {
				return ledger.Record{}, fmt.Errorf("value of %d bytes", len(v))
			}
			wish, _ := uuid.FromBytes(v[:16])
			return ledger.Record{Kind: ledger.RecWishKey, Name: key, ID: wish, Doc: bytes.Clone(v[16:])}, nil
		}},
		{bucketWishPhotos, numbered(ledger.RecWishPhoto)},
		{bucketWishWalls, doc(ledger.RecWishWall)},
		{bucketExpiryPolicy, func(k, v []byte) (ledger.Record, error) {
			id, err := uuid.FromBytes(k)
			if err != nil || len(v) != 1 {
				return ledger.Record{}, fmt.Errorf("bad expiry policy")
			}
			return ledger.Record{Kind: ledger.RecExpiryPolicy, ID: id, Values: [4]int64{int64(v[0])}}, nil
		}},
		{bucketExpiryRuns, func(k, v []byte) (ledger.Record, error) {
			p, year, err := ids(k, 1, true)
			if err != nil {
				return ledger.Record{}, err
			}
			return ledger.Record{Kind: ledger.RecExpiryRun, ID: p[0], Month: year, Doc: bytes.Clone(v)}, nil
		}},
	}
	for _, st := range steps {
		if err := d.each(st.bucket, st.f); err != nil {
			return err
		}
	}
	return nil
}

func held(account func(uuid.UUID) ledger.Account) func(k, v []byte) (ledger.Record, error) {
	return func(k, v []byte) (ledger.Record, error) {
		id, err := uuid.FromBytes(k)
		if err != nil {
			return ledger.Record{}, err
		}
		n, err := count(v)
		return ledger.Record{Kind: ledger.RecHeld, Account: account(id), Values: [4]int64{n}}, err
	}
}

func redeemed(account func(uuid.UUID) ledger.Account) func(k, v []byte) (ledger.Record, error) {
	return func(k, v []byte) (ledger.Record, error) {
		p, m, err := ids(k, 1, true)
		if err != nil {
			return ledger.Record{}, err
		}
		points, vouchers, err := decodeMemberRow(v)
		return ledger.Record{Kind: ledger.RecRedeemedMonth, Account: account(p[0]), Month: m, Values: [4]int64{points, vouchers}}, err
	}
}

// numbered is the record of a picture keyed id(16) | n(1).
func numbered(kind ledger.RecordKind) func(k, v []byte) (ledger.Record, error) {
	return func(k, v []byte) (ledger.Record, error) {
		if len(k) != 17 {
			return ledger.Record{}, fmt.Errorf("key of %d bytes", len(k))
		}
		id, _ := uuid.FromBytes(k[:16])
		ct, data, err := picture(v)
		return ledger.Record{Kind: kind, ID: id, Name: ct, Doc: data, Values: [4]int64{int64(k[16])}}, err
	}
}

// clientKeyOf turns an idemKey back into the client's key; a key kept
// only as its hash comes back as ledger.HashedKeyPrefix and the hash.
func clientKeyOf(k []byte) (string, error) {
	switch {
	case len(k) == 33 && k[0] == 3:
		key, _ := uuid.FromBytes(k[1:17])
		user, _ := uuid.FromBytes(k[17:])
		return ledger.ClientKey(user, key.String())
	case len(k) == 17 && k[0] == 1:
		key, _ := uuid.FromBytes(k[1:])
		return key.String(), nil
	case len(k) == 33 && k[0] == 2:
		return ledger.HashedKeyPrefix + hex.EncodeToString(k[1:]), nil
	}
	return "", fmt.Errorf("not an idempotency key")
}
