package store

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"aixin/ledger"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// ImportMembers implements ledger.Directory. It checks every row first and
// writes only when the import may go ahead, all in one transaction.
func (s *Store) ImportMembers(ctx context.Context, scope ledger.Scope, items []ledger.ImportItem, skipInvalid bool) (ledger.ImportResult, error) {
	var res ledger.ImportResult
	err := s.update(ctx, func(w *writeTx) error {
		res = ledger.ImportResult{Rows: make([]ledger.ImportRow, 0, len(items))}
		now := s.now().UTC()
		type change struct {
			m   ledger.Member
			old *ledger.Member
		}
		var changes []change
		firstRow := map[string]int{} // phone -> the row that has it first
		for _, it := range items {
			row := ledger.ImportRow{Row: it.Row, Name: it.Member.Name, Field: it.Field, Err: it.Err}
			if it.Err == nil {
				m, old, field, err := s.importOne(w.tx, scope, it, firstRow, now)
				row.Field, row.Err = field, err
				switch {
				case err != nil:
				case old == nil:
					row.Status = "created"
					changes = append(changes, change{m, nil})
				case memberEqual(m, *old):
					row.Status = "unchanged"
				default:
					row.Status = "updated"
					changes = append(changes, change{m, old})
				}
				row.Name, row.Phone = m.Name, ledger.MaskPhone(m.Phone)
			}
			if row.Err != nil {
				row.Status = "invalid"
				res.Invalid++
			}
			res.Rows = append(res.Rows, row)
		}
		if res.Invalid > 0 && !skipInvalid {
			return nil // report only: nothing is written
		}
		for _, c := range changes {
			if c.old == nil {
				res.Created++
			} else {
				res.Updated++
				c.m.UpdatedAt = now
			}
			if err := putMember(w.tx, c.m, c.old, "", now); err != nil {
				return err
			}
		}
		res.Unchanged = len(items) - res.Invalid - res.Created - res.Updated
		res.Written = len(changes) > 0
		return nil
	})
	return res, err
}

// importOne checks one row and returns the member to write and, for an
// existing phone, the member as it is now. An error names the field.
func (s *Store) importOne(tx *bolt.Tx, scope ledger.Scope, it ledger.ImportItem, firstRow map[string]int, now time.Time) (ledger.Member, *ledger.Member, string, *ledger.Error) {
	m := it.Member
	phone, err := ledger.NormalizePhone(m.Phone)
	if err != nil {
		return m, nil, "phone", asLedgerError(err)
	}
	if r, dup := firstRow[phone]; dup {
		return m, nil, "phone", ledger.Errorf(ledger.EINVALID, "roster.duplicate_phone", r)
	}
	firstRow[phone] = it.Row
	var old *ledger.Member
	if id := tx.Bucket(bucketPhones).Get([]byte(phone)); id != nil {
		o, err := getJSON[ledger.Member](tx.Bucket(bucketMembers), uuid.UUID(id), "member.not_found")
		if err != nil {
			return m, nil, "phone", asLedgerError(err)
		}
		ou, _ := getJSON[ledger.Unit](tx.Bucket(bucketUnits), o.UnitID, "unit.not_found")
		if !scope.Covers(ou) {
			return m, nil, "phone", ledger.Errorf(ledger.ECONFLICT, "roster.phone_elsewhere")
		}
		old = &o
		m = mergeImported(tx, scope, o, m, it.Present)
	} else {
		m.ID, m.CreatedAt, m.UpdatedAt = newID(), now, now
		if err := phoneFree(tx, phone, uuid.Nil); err != nil {
			return m, nil, "phone", asLedgerError(err)
		}
	}
	unit, err := checkMember(tx, &m)
	if err != nil {
		return m, old, fieldOf(err), asLedgerError(err)
	}
	if !scope.Covers(unit) {
		return m, old, "unit", ledger.Errorf(ledger.ENOTFOUND, "unit.not_found")
	}
	return m, old, "", nil
}

// mergeImported returns the existing member with the fields the file
// gives (a present, non-empty cell). Teams the importer cannot see stay.
func mergeImported(tx *bolt.Tx, scope ledger.Scope, old, in ledger.Member, present []string) ledger.Member {
	m := old
	m.TeamIDs, m.Skills, m.Posts = slices.Clone(old.TeamIDs), slices.Clone(old.Skills), slices.Clone(old.Posts)
	if old.OnDuty != nil {
		d := *old.OnDuty
		m.OnDuty = &d
	}
	duty := func() *ledger.OnDuty {
		if m.OnDuty == nil {
			m.OnDuty = &ledger.OnDuty{}
		}
		return m.OnDuty
	}
	for _, f := range present {
		switch f {
		case "name":
			m.Name = in.Name
		case "unit":
			m.UnitID = in.UnitID
		case "teams":
			m.TeamIDs = slices.Clone(in.TeamIDs)
			for _, id := range old.TeamIDs {
				t, err := getJSON[ledger.Team](tx.Bucket(bucketTeams), id, "team.not_found")
				if err != nil {
					continue
				}
				if u, err := getJSON[ledger.Unit](tx.Bucket(bucketUnits), t.UnitID, "unit.not_found"); err == nil && !scope.Covers(u) {
					m.TeamIDs = append(m.TeamIDs, id)
				}
			}
		case "party_member":
			m.PartyMember = in.PartyMember
		case "skills":
			m.Skills = in.Skills
		case "posts":
			m.Posts = in.Posts
		case "status":
			m.Status = in.Status
		case "work_unit":
			if in.OnDuty != nil {
				duty().WorkUnit = in.OnDuty.WorkUnit
			}
		case "reported_at":
			if in.OnDuty != nil {
				duty().ReportedAt = in.OnDuty.ReportedAt
			}
		case "annual_target_hours":
			if in.OnDuty != nil {
				duty().AnnualTargetHours = in.OnDuty.AnnualTargetHours
			}
		}
	}
	if m.OnDuty != nil && m.OnDuty.WorkUnit == "" {
		m.OnDuty = old.OnDuty // details without an employer change nothing
	}
	return m
}

// memberEqual compares what an import can change.
func memberEqual(a, b ledger.Member) bool {
	a.ID, a.CreatedAt, a.UpdatedAt = b.ID, b.CreatedAt, b.UpdatedAt
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// fieldOf names the roster column an error of checkMember is about.
func fieldOf(err error) string {
	le, _ := ledger.AsError(err)
	if le == nil {
		return ""
	}
	switch le.Key {
	case "member.name_invalid", "text.formula":
		return "name"
	case "member.phone_invalid", "member.phone_taken":
		return "phone"
	case "unit.not_found", "member.unit_required":
		return "unit"
	case "team.not_found", "member.team_elsewhere":
		return "teams"
	case "member.skill_invalid":
		return "skills"
	case "member.post_unknown":
		return "posts"
	case "member.status_invalid":
		return "status"
	case "member.work_unit_invalid", "member.reported_at_invalid", "member.target_invalid":
		return "work_unit"
	}
	return ""
}

func asLedgerError(err error) *ledger.Error {
	if le, ok := ledger.AsError(err); ok {
		return le
	}
	return ledger.Errorf(ledger.EINTERNAL, "internal")
}
