package ledger

import (
	"time"

	"github.com/google/uuid"
)

// BehaviourTarget says whom a behaviour is awarded to: a person or a
// household (户).
type BehaviourTarget string

// The behaviour targets.
const (
	TargetPerson    BehaviourTarget = "person"
	TargetHousehold BehaviourTarget = "household"
)

// Valid reports whether t is a known target.
func (t BehaviourTarget) Valid() bool { return t == TargetPerson || t == TargetHousehold }

// Behaviour is one line of a street's or a community's list of behaviours
// (文明行为银行): a good deed that earns points (垃圾分类 +2, 孝老爱亲 +10)
// or a bad one that costs them (高空抛物 −20). The list is data: each
// community keeps its own, and the members of a community may be given the
// behaviours of their community and of its street.
type Behaviour struct {
	ID uuid.UUID `json:"id"`
	// UnitID is the street or community whose list it belongs to.
	UnitID   uuid.UUID `json:"unit_id"`
	Name     string    `json:"name"`
	Category string    `json:"category"`
	// Points are given (positive, 加分) or taken (negative, 扣分) by one award.
	Points Points `json:"points"`
	// MonthCap and YearCap bound how many awards of the behaviour one person
	// (or one household, for a household behaviour) may have in a calendar
	// month and year of the deployment's time zone; 0: no cap.
	MonthCap int `json:"month_cap"`
	YearCap  int `json:"year_cap"`
	// EvidenceRequired says an award needs a photo.
	EvidenceRequired bool            `json:"evidence_required"`
	Target           BehaviourTarget `json:"target"`
	// Active behaviours can be awarded; an inactive one stays for history.
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy uuid.UUID `json:"updated_by,omitzero"`
}

// The bounds of a behaviour.
const (
	// MaxBehaviourPoints bounds the points of one behaviour, either way.
	MaxBehaviourPoints Points = 1000
	// MaxBehaviourCap bounds its caps.
	MaxBehaviourCap = 1000
)

// The free-text fields of a behaviour.
var (
	BehaviourName     = Text{Field: "field.behaviour_name", Key: "behaviour.name_invalid", Max: 40, Required: true}
	BehaviourCategory = Text{Field: "field.behaviour_category", Key: "behaviour.category_invalid", Max: 20, Required: true}
)

// BehaviourPatch changes a behaviour; a nil field stays as it is. Its
// target and list (unit) never change: awards already made count against
// them. A new number of points applies to new awards only, as each award
// keeps the points it was made with.
type BehaviourPatch struct {
	Name             *string `json:"name"`
	Category         *string `json:"category"`
	Points           *Points `json:"points"`
	MonthCap         *int    `json:"month_cap"`
	YearCap          *int    `json:"year_cap"`
	EvidenceRequired *bool   `json:"evidence_required"`
	Active           *bool   `json:"active"`
}

// NewBehaviour checks a behaviour to be added to unit's list (a street or a
// community) at now, and returns it active. It returns EINVALID naming the
// first problem.
func NewBehaviour(id uuid.UUID, b Behaviour, unit Unit, now time.Time) (Behaviour, error) {
	if unit.Kind != UnitStreet && unit.Kind != UnitCommunity {
		return Behaviour{}, Errorf(EINVALID, "behaviour.unit_kind")
	}
	if b.Target == "" {
		b.Target = TargetPerson
	}
	if !b.Target.Valid() {
		return Behaviour{}, Errorf(EINVALID, "behaviour.target_invalid", Clip(string(b.Target)))
	}
	b.ID, b.UnitID, b.Active, b.CreatedAt = id, unit.ID, true, now.UTC()
	b.UpdatedAt, b.UpdatedBy = time.Time{}, uuid.Nil
	if err := b.check(); err != nil {
		return Behaviour{}, err
	}
	return b, nil
}

// PatchBehaviour decides a change of b by user by at now.
func PatchBehaviour(b Behaviour, p BehaviourPatch, by uuid.UUID, now time.Time) (Behaviour, error) {
	out := b
	if p.Name != nil {
		out.Name = *p.Name
	}
	if p.Category != nil {
		out.Category = *p.Category
	}
	if p.Points != nil {
		out.Points = *p.Points
	}
	if p.MonthCap != nil {
		out.MonthCap = *p.MonthCap
	}
	if p.YearCap != nil {
		out.YearCap = *p.YearCap
	}
	if p.EvidenceRequired != nil {
		out.EvidenceRequired = *p.EvidenceRequired
	}
	if p.Active != nil {
		out.Active = *p.Active
	}
	if err := out.check(); err != nil {
		return b, err
	}
	out.UpdatedAt, out.UpdatedBy = now.UTC(), by
	return out, nil
}

// check cleans the free text and checks the numbers.
func (b *Behaviour) check() error {
	var err error
	if b.Name, err = BehaviourName.Clean(b.Name); err != nil {
		return err
	}
	if b.Category, err = BehaviourCategory.Clean(b.Category); err != nil {
		return err
	}
	switch {
	case b.Points == 0 || b.Points > MaxBehaviourPoints || b.Points < -MaxBehaviourPoints:
		return Errorf(EINVALID, "behaviour.points_invalid", MaxBehaviourPoints, MaxBehaviourPoints)
	case b.MonthCap < 0 || b.MonthCap > MaxBehaviourCap || b.YearCap < 0 || b.YearCap > MaxBehaviourCap:
		return Errorf(EINVALID, "behaviour.cap_invalid", MaxBehaviourCap)
	case b.MonthCap > 0 && b.YearCap > 0 && b.MonthCap > b.YearCap:
		return Errorf(EINVALID, "behaviour.caps_order")
	}
	return nil
}

// For reports whether the behaviour may be awarded to someone who lives in
// unit: it is on the list of the unit's community or of its street.
func (b Behaviour) For(unit Unit) bool { return unit.Within(b.UnitID) }
