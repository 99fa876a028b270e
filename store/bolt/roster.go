package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// ImportMembers implements ledger.Directory. In one transaction it reads
// the members who have the rows' phones, the phones that are logins and
// the directory's units and teams, lets ledger.PlanImport decide, and
// writes the members it returned.
func (s *Store) ImportMembers(ctx context.Context, scope ledger.Scope, items []ledger.ImportItem, skipInvalid bool) (ledger.ImportResult, error) {
	var res ledger.ImportResult
	ids := make([]uuid.UUID, len(items))
	for i := range ids {
		ids[i] = newID()
	}
	err := s.update(ctx, func(w *writeTx) error {
		now := s.now().UTC()
		st, err := readImport(w.tx, scope, items, skipInvalid)
		if err != nil {
			return err
		}
		st.IDs = ids
		plan := ledger.PlanImport(st, now)
		res = plan.Result
		for _, c := range plan.Writes {
			if err := putMember(w.tx, c.Member, c.Old, "", now); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// readImport reads what ledger.PlanImport needs inside tx.
func readImport(tx *bolt.Tx, scope ledger.Scope, items []ledger.ImportItem, skipInvalid bool) (ledger.ImportState, error) {
	st := ledger.ImportState{Scope: scope, Items: items, SkipInvalid: skipInvalid,
		Members: map[string]ledger.Member{}, Logins: map[string]bool{}}
	phones, logins := tx.Bucket(bucketPhones), tx.Bucket(bucketLogins)
	for _, it := range items {
		phone, err := ledger.NormalizePhone(it.Member.Phone)
		if it.Err != nil || err != nil {
			continue
		}
		if id := phones.Get([]byte(phone)); id != nil {
			m, err := getJSON[ledger.Member](tx.Bucket(bucketMembers), uuid.UUID(id), "member.not_found")
			if err != nil {
				return st, fmt.Errorf("the member of phone %s: %v", ledger.MaskPhone(phone), err) // damage, not a refusal
			}
			st.Members[phone] = m
		}
		if logins.Get([]byte(phone)) != nil {
			st.Logins[phone] = true
		}
	}
	var err error
	if st.Units, err = readAll[ledger.Unit](tx, bucketUnits, func(u ledger.Unit) uuid.UUID { return u.ID }); err != nil {
		return st, err
	}
	st.Teams, err = readAll[ledger.Team](tx, bucketTeams, func(t ledger.Team) uuid.UUID { return t.ID })
	return st, err
}

// readAll reads a bucket of JSON values into a map by id.
func readAll[T any](tx *bolt.Tx, bucket []byte, id func(T) uuid.UUID) (map[uuid.UUID]T, error) {
	out := map[uuid.UUID]T{}
	err := tx.Bucket(bucket).ForEach(func(_, v []byte) error {
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return err
		}
		out[id(x)] = x
		return nil
	})
	return out, err
}
