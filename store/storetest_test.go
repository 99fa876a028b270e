package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"aixin/ledger"
	"aixin/store"
	"aixin/store/storetest"
)

// TestJournalConformance runs the engines' shared journal suite on bbolt.
func TestJournalConformance(t *testing.T) {
	storetest.RunJournal(t, func(t *testing.T, clock func() time.Time) ledger.Journal {
		s, err := store.Open(filepath.Join(t.TempDir(), "aixin.db"), store.Options{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestUsersConformance runs the engines' shared users suite on bbolt.
func TestUsersConformance(t *testing.T) {
	storetest.RunUsers(t, func(t *testing.T, clock func() time.Time) storetest.UsersStore {
		s, err := store.Open(filepath.Join(t.TempDir(), "aixin.db"), store.Options{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
