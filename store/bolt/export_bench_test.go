package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/report"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// BenchmarkExportMonth1M exports one month of the 1,000,000-entry file by
// member, as CSV and as the .xlsx workbook, for 10,000 members in a street of
// ten communities with 100 teams: the whole of GET /api/v1/exports/monthly
// but the HTTP.
//
//	go test ./store -run '^$' -bench ExportMonth1M -benchtime 5x
func BenchmarkExportMonth1M(b *testing.B) {
	path := copyTo(b, millionFile(b))
	s, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	addBenchDirectory(b, s)
	for _, month := range []ledger.Month{202606, 202611} {
		for _, format := range []string{"csv", "xlsx"} {
			b.Run(fmt.Sprintf("month=%v/format=%s", month, format), func(b *testing.B) {
				var size int
				for b.Loop() {
					var buf bytes.Buffer
					_, err := report.ExportMonthly(ctx, s, s, s, report.Options{Month: month, Scope: ledger.Scope{All: true},
						Lang: "zh-CN", By: "member", Who: "bench", Now: time.Now(), Location: s.Location()}, format, &buf)
					if err != nil {
						b.Fatal(err)
					}
					size = buf.Len()
					if format == "csv" && (!strings.Contains(buf.String(), "逐人核对：10000 人的本月账目") || strings.Contains(buf.String(), "✗")) {
						b.Fatalf("the export does not reconcile:\n%s", buf.String()[max(0, buf.Len()-2000):])
					}
				}
				b.ReportMetric(float64(size)/1e6, "MB/file")
			})
		}
	}
}

// addBenchDirectory gives the 1M file's accounts their people: the ten
// issuers become communities of one street, the 10,000 member accounts
// members with phones, party membership and teams, and what the file's holds
// took becomes what the members hold in vouchers.
func addBenchDirectory(b *testing.B, s *Store) {
	w := benchAccounts()
	now := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	street := ledger.Unit{ID: uuid.MustParse("01900000-0000-7000-8000-000000000001"), Name: "幸福街道", Kind: ledger.UnitStreet, CreatedAt: now}
	street.Path = []uuid.UUID{street.ID}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx.Bucket(bucketUnits), street.ID, street); err != nil {
			return err
		}
		var teams []uuid.UUID
		for i, iss := range w.issuers {
			u := ledger.Unit{ID: iss.ID, Name: fmt.Sprintf("第%d社区", i+1), Kind: ledger.UnitCommunity, ParentID: street.ID,
				Path: []uuid.UUID{street.ID, iss.ID}, CreatedAt: now}
			if err := putJSON(tx.Bucket(bucketUnits), u.ID, u); err != nil {
				return err
			}
			for j := range 10 {
				tm := ledger.Team{ID: uuid.New(), Name: fmt.Sprintf("%s志愿服务%d队", u.Name, j+1), Kind: ledger.TeamVolunteer, UnitID: u.ID, CreatedAt: now}
				if err := putJSON(tx.Bucket(bucketTeams), tm.ID, tm); err != nil {
					return err
				}
				teams = append(teams, tm.ID)
			}
		}
		accounts := tx.Bucket(bucketAccounts)
		for i, a := range w.members {
			m := ledger.Member{ID: a.ID, Name: fmt.Sprintf("志愿者%05d", i), Phone: fmt.Sprintf("139%08d", i), UnitID: w.issuers[i%10].ID,
				TeamIDs: []uuid.UUID{teams[(i%10)*10+i%7]}, PartyMember: i%3 == 0, Status: ledger.MemberActive, CreatedAt: now, UpdatedAt: now}
			if err := putJSON(tx.Bucket(bucketMembers), m.ID, m); err != nil {
				return err
			}
			if err := tx.Bucket(bucketPhones).Put([]byte(m.Phone), m.ID[:]); err != nil {
				return err
			}
			var held int64
			k := a.Key()
			c := accounts.Cursor()
			for mk, mv := c.Seek(k[:]); mk != nil && bytes.HasPrefix(mk, k[:]); mk, mv = c.Next() {
				if len(mk) == len(k)+4 {
					mt, err := decodeMonthRow(ledger.Month(binary.BigEndian.Uint32(mk[len(k):])), a, mv)
					if err != nil {
						return err
					}
					held += mt.Out[ledger.KindHold]
				}
			}
			if err := addCount(tx.Bucket(bucketMemberHeld), a.ID[:], held); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
