package ledger

import "github.com/google/uuid"

// NewEventsState is what storing new events needs from the store: the
// events (an event and its weekly copies, each checked already: Event.Check,
// WeeklySeries) and whether the unit and each team they name exist.
type NewEventsState struct {
	Events     []Event
	UnitFound  bool
	TeamsFound map[uuid.UUID]bool
}

// DecideNewEvents decides storing new events: ENOTFOUND "unit.not_found"
// for a unit that does not exist, "team.not_found" for a team; else the
// events to write.
func DecideNewEvents(st NewEventsState) ([]Event, error) {
	if !st.UnitFound {
		return nil, Errorf(ENOTFOUND, "unit.not_found")
	}
	for _, e := range st.Events {
		for _, tid := range e.TeamIDs {
			if !st.TeamsFound[tid] {
				return nil, Errorf(ENOTFOUND, "team.not_found")
			}
		}
	}
	return st.Events, nil
}
