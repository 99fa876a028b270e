package ledger

import (
	"testing"

	"github.com/google/uuid"
)

func TestDecideNewEvents(t *testing.T) {
	team, other := uuid.New(), uuid.New()
	series := []Event{{ID: uuid.New(), TeamIDs: []uuid.UUID{team}}, {ID: uuid.New(), TeamIDs: []uuid.UUID{team}}}
	tests := []struct {
		name  string
		st    NewEventsState
		key   string
		wrote int
	}{
		{name: "Stored", st: NewEventsState{Events: series, UnitFound: true, TeamsFound: map[uuid.UUID]bool{team: true}}, wrote: 2},
		{name: "WithoutTeams", st: NewEventsState{Events: []Event{{ID: uuid.New()}}, UnitFound: true}, wrote: 1},
		{name: "NoSuchUnit", st: NewEventsState{Events: series, TeamsFound: map[uuid.UUID]bool{team: true}}, key: "unit.not_found"},
		{name: "NoSuchTeam", st: NewEventsState{Events: series, UnitFound: true, TeamsFound: map[uuid.UUID]bool{team: false, other: true}},
			key: "team.not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecideNewEvents(tt.st)
			if keyOf(err) != tt.key || len(got) != tt.wrote || (err != nil && ErrorCode(err) != ENOTFOUND) {
				t.Fatalf("%d events, %v; want %q", len(got), err, tt.key)
			}
		})
	}
}
