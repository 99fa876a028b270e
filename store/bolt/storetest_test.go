package bolt_test

import (
	"path/filepath"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store/bolt"
	"aixin/store/storetest"
)

// The engines' shared conformance suites, run on bbolt.

func openBolt(t *testing.T, clock func() time.Time) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "aixin.db"), bolt.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestJournalConformance(t *testing.T) {
	storetest.RunJournal(t, func(t *testing.T, clock func() time.Time) ledger.Journal { return openBolt(t, clock) })
}

func TestUsersConformance(t *testing.T) {
	storetest.RunUsers(t, func(t *testing.T, clock func() time.Time) storetest.UsersStore { return openBolt(t, clock) })
}

func TestDirectoryConformance(t *testing.T) {
	storetest.RunDirectory(t, func(t *testing.T, clock func() time.Time) storetest.DirectoryStore { return openBolt(t, clock) })
}
