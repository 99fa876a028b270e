package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// AwardStatus is where an award is in its life:
//
//	pending_approval → (approved) → in_notice → posted
//	                                in_notice → held (an objection) → posted or rejected
//	pending_approval, in_notice, held → rejected
//	posted → reversed
//
// An award that needs no approval skips pending_approval; one of a
// community without a notice period skips in_notice.
type AwardStatus string

// The award statuses.
const (
	AwardPending  AwardStatus = "pending_approval"
	AwardInNotice AwardStatus = "in_notice"
	AwardHeld     AwardStatus = "held"
	AwardPosted   AwardStatus = "posted"
	AwardRejected AwardStatus = "rejected"
	AwardReversed AwardStatus = "reversed"
)

// Open reports whether an award in status s may still be decided: it is
// waiting for approval, in its notice period, or held by an objection.
func (s AwardStatus) Open() bool { return s == AwardPending || s == AwardInNotice || s == AwardHeld }

// Valid reports whether s is a known status.
func (s AwardStatus) Valid() bool {
	return s.Open() || s == AwardPosted || s == AwardRejected || s == AwardReversed
}

// The steps of an award's history.
const (
	StepRecorded = "recorded"
	StepApproved = "approved"
	StepNotice   = "notice"   // its notice period began
	StepObjected = "objected" // an objection held it
	StepPosted   = "posted"
	StepRejected = "rejected"
	StepReversed = "reversed"
)

// AwardStep is one step of an award's history: who did what, when, and why.
type AwardStep struct {
	Step   string    `json:"step"`
	By     uuid.UUID `json:"by,omitzero"` // nil for the notice sweep
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

// Award is one behaviour applied to one member or household (文明行为 加分 or
// 扣分). It keeps the behaviour as it was when recorded (name, points,
// caps), so that a later change of the list changes no award made.
type Award struct {
	ID          uuid.UUID `json:"id"`
	BehaviourID uuid.UUID `json:"behaviour_id"`
	Name        string    `json:"name"`
	Category    string    `json:"category"`
	// Points are the behaviour's points when recorded: positive for an
	// award, negative for a deduction.
	Points   Points          `json:"points"`
	MonthCap int             `json:"month_cap"`
	YearCap  int             `json:"year_cap"`
	Target   BehaviourTarget `json:"target"`
	// MemberID is the person awarded, HouseholdID the household: one of them.
	MemberID    uuid.UUID `json:"member_id,omitzero"`
	HouseholdID uuid.UUID `json:"household_id,omitzero"`
	// UnitID is the unit of the member or household when recorded (a
	// grid, a building or a community); CommunityID its community, whose
	// issuer account gives or takes the points.
	UnitID      uuid.UUID `json:"unit_id"`
	CommunityID uuid.UUID `json:"community_id"`
	Note        string    `json:"note,omitempty"`
	// Evidence names the photos, in the order added (a hash of each).
	Evidence   []string    `json:"evidence"`
	RecordedBy uuid.UUID   `json:"recorded_by"`
	RecordedAt time.Time   `json:"recorded_at"`
	Status     AwardStatus `json:"status"`
	// NeedsApproval says it waited, or waits, for a second staff member (四眼).
	NeedsApproval bool `json:"needs_approval,omitempty"`
	// NoticeUntil is when its notice period ends (objections close just
	// before); zero when it had none.
	NoticeUntil time.Time `json:"notice_until,omitzero"`
	PostedAt    time.Time `json:"posted_at,omitzero"`
	// EntrySeq is the entry that posted it (0 when nothing moved: a
	// deduction from an empty account); ReverseSeq the one that reversed it.
	EntrySeq   uint64 `json:"entry_seq,omitempty"`
	ReverseSeq uint64 `json:"reverse_seq,omitempty"`
	// Taken is what the posting moved; NotTaken what a deduction could not
	// take because the account had less.
	Taken    Points      `json:"taken"`
	NotTaken Points      `json:"not_taken"`
	History  []AwardStep `json:"history"`
}

// Account is the account the award gives points to or takes them from.
func (a Award) Account() Account {
	if a.Target == TargetHousehold {
		return HouseholdAccount(a.HouseholdID)
	}
	return MemberAccount(a.MemberID)
}

// TargetID is the member or household the award is for.
func (a Award) TargetID() uuid.UUID {
	if a.Target == TargetHousehold {
		return a.HouseholdID
	}
	return a.MemberID
}

// Deduction reports whether the award takes points (扣分).
func (a Award) Deduction() bool { return a.Points < 0 }

// Reference is what the award's entries name: "award:<id>".
func (a Award) Reference() string { return AwardReferencePrefix + a.ID.String() }

// AwardReferencePrefix starts the reference of every entry of an award.
const AwardReferencePrefix = "award:"

// Month is the calendar month of the act in loc: the day it was recorded.
func (a Award) Month(loc *time.Location) Month { return MonthOf(a.RecordedAt, loc) }

// Last returns the newest step of the award's history (zero if none).
func (a Award) Last() AwardStep {
	if len(a.History) == 0 {
		return AwardStep{}
	}
	return a.History[len(a.History)-1]
}

// AwardRules are the deployment's settings of behaviour awards.
type AwardRules struct {
	// ApprovalPoints: an award of at least this many points, either way,
	// waits for a second staff member's approval (四眼); 0: none does.
	ApprovalPoints Points
}

// DefaultAwardRules: awards of 20 points or more need a second staff member.
var DefaultAwardRules = AwardRules{ApprovalPoints: 20}

// NeedsApproval reports whether an award of points must wait for approval.
func (r AwardRules) NeedsApproval(points Points) bool {
	return r.ApprovalPoints > 0 && max(points, -points) >= r.ApprovalPoints
}

// The bounds of an award.
const (
	// MaxAwardEvidence is the most photos one award keeps.
	MaxAwardEvidence = 3
	// MaxEvidenceBytes bounds one photo.
	MaxEvidenceBytes = 512 << 10
	// MaxAwardNoticeDays bounds a community's award notice period.
	MaxAwardNoticeDays = 30
)

// The free-text fields of an award.
var (
	// AwardNote is what was done, or why points are taken: up to 200
	// characters, required for a deduction.
	AwardNote = Text{Field: "field.award_note", Key: "award.note_invalid", Max: 200}
)

// Picture is a photo on its way into the store.
type Picture struct {
	ContentType string
	Data        []byte
}

// checkPicture checks one photo: a PNG, JPEG or WebP (the type the
// content says it is) of at most MaxEvidenceBytes.
func checkPicture(p Picture) error {
	switch {
	case len(p.Data) == 0:
		return Errorf(EINVALID, "award.picture_empty")
	case len(p.Data) > MaxEvidenceBytes:
		// The upload is read only up to one byte past the limit: say the limit, not a size.
		return Errorf(EINVALID, "award.picture_size", MaxEvidenceBytes>>10)
	case p.ContentType != "image/png" && p.ContentType != "image/jpeg" && p.ContentType != "image/webp":
		return Errorf(EINVALID, "award.picture_type")
	}
	return nil
}

// PictureName names a photo by its content: the first 12 hex digits of its SHA-256.
func PictureName(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:6])
}

// AwardRequest is a staff member's request to record an award.
type AwardRequest struct {
	BehaviourID uuid.UUID `json:"behaviour_id"`
	MemberID    uuid.UUID `json:"member_id,omitzero"`
	HouseholdID uuid.UUID `json:"household_id,omitzero"`
	Note        string    `json:"note"`
	// Evidence are the photos sent with it.
	Evidence []Picture `json:"-"`
	// By is who records it.
	By uuid.UUID `json:"-"`
	// Key is the client's idempotency key in its namespace (ClientKey), or empty.
	Key string `json:"-"`
}

// Fingerprint identifies the request for idempotency: the same key with
// another fingerprint is another request.
func (r AwardRequest) Fingerprint() string {
	h := sha256.New()
	h.Write(r.BehaviourID[:])
	h.Write(r.MemberID[:])
	h.Write(r.HouseholdID[:])
	h.Write(r.By[:])
	h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(r.Note))))
	h.Write([]byte(r.Note))
	for _, p := range r.Evidence {
		h.Write([]byte(PictureName(p.Data)))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// AwardFacts are what RecordAward needs to know, read in the same
// transaction as the award is written.
type AwardFacts struct {
	Behaviour Behaviour
	// Recorder is the staff member who records it.
	Recorder User
	// Unit is the unit of the member or household (with its path);
	// Household the household of a household award; Member the member of a
	// person's award.
	Unit      Unit
	Member    *Member
	Household *Household
	// MonthCount and YearCount are the awards of the behaviour for the
	// member or household that count against its caps (all but rejected
	// and reversed ones) in the month and the year of now.
	MonthCount, YearCount int
	// NoticeDays is the community's award notice period (0: none).
	NoticeDays int
	// Available is the balance of the account awarded (what a deduction
	// posted at once may take).
	Available Points
}

// AwardDecision is what a decision about an award writes: the award as it
// is to be stored and, when points move, the transfer to append first
// (whose seq the store puts in EntrySeq or ReverseSeq).
type AwardDecision struct {
	Award    Award
	Transfer *Transfer
	// Uncount says the award no longer counts against its caps (rejected
	// or reversed): the store takes it off its month's and year's counts.
	Uncount bool
	// Repeat says a creation was repeated with the same key: nothing is
	// written and Award is the first answer.
	Repeat bool
}

// mayReach reports whether staff user u reaches someone living in unit:
// an administrator anywhere, an organiser in their subtree, a grid worker
// in their grid.
func mayReach(u User, unit Unit) bool {
	switch u.Role {
	case RoleAdmin:
		return true
	case RoleOrganizer, RoleGridWorker:
		return u.UnitID != uuid.Nil && unit.Within(u.UnitID)
	}
	return false
}

// RecordAward decides an award of f.Behaviour to a member or household at
// now (months and years counted in loc): it waits for approval when rules
// say so, or starts its notice period when the community has one, or is
// posted at once.
//
// A clerk or volunteer is EFORBIDDEN; staff who do not reach the member or
// household get ENOTFOUND (as if it did not exist); an inactive behaviour,
// one not on the list of the member's community or street, or one for the
// other kind of target is EINVALID, as are a missing note for a deduction,
// a missing photo where one is required, and more than MaxAwardEvidence or
// a bad photo; a behaviour whose cap the member or household has reached
// in the month or the year is ECONFLICT ("award.month_cap",
// "award.year_cap").
func RecordAward(id uuid.UUID, req AwardRequest, f AwardFacts, rules AwardRules, now time.Time, loc *time.Location) (AwardDecision, error) {
	b, u := f.Behaviour, f.Recorder
	switch {
	case u.Disabled:
		return AwardDecision{}, Errorf(EUNAUTHORIZED, "auth.login_required")
	case u.Role != RoleAdmin && u.Role != RoleOrganizer && u.Role != RoleGridWorker:
		return AwardDecision{}, Errorf(EFORBIDDEN, "auth.forbidden")
	}
	a := Award{ID: id, BehaviourID: b.ID, Name: b.Name, Category: b.Category, Points: b.Points, MonthCap: b.MonthCap,
		YearCap: b.YearCap, Target: b.Target, UnitID: f.Unit.ID, RecordedBy: u.ID, RecordedAt: now.UTC(), Evidence: []string{}}
	switch {
	case req.MemberID != uuid.Nil && req.HouseholdID != uuid.Nil:
		return AwardDecision{}, Errorf(EINVALID, "award.one_target")
	case req.MemberID != uuid.Nil:
		if f.Member == nil || f.Member.ID != req.MemberID || !mayReach(u, f.Unit) {
			return AwardDecision{}, Errorf(ENOTFOUND, "member.not_found")
		}
		a.MemberID = req.MemberID
	case req.HouseholdID != uuid.Nil:
		if f.Household == nil || f.Household.ID != req.HouseholdID || !mayReach(u, f.Unit) {
			return AwardDecision{}, Errorf(ENOTFOUND, "household.not_found")
		}
		a.HouseholdID = req.HouseholdID
	default:
		return AwardDecision{}, Errorf(EINVALID, "award.target_required")
	}
	switch {
	case b.ID == uuid.Nil || b.ID != req.BehaviourID || !b.For(f.Unit):
		return AwardDecision{}, Errorf(EINVALID, "award.behaviour_unknown")
	case !b.Active:
		return AwardDecision{}, Errorf(EINVALID, "award.behaviour_inactive", b.Name)
	case b.Target == TargetHousehold && a.HouseholdID == uuid.Nil:
		return AwardDecision{}, Errorf(EINVALID, "award.behaviour_household", b.Name)
	case b.Target == TargetPerson && a.MemberID == uuid.Nil:
		return AwardDecision{}, Errorf(EINVALID, "award.behaviour_person", b.Name)
	case len(f.Unit.Path) < 2:
		return AwardDecision{}, Errorf(EINVALID, "award.no_community")
	case f.Member != nil && f.Member.Status != MemberActive && f.Member.Status != "":
		return AwardDecision{}, Errorf(ECONFLICT, "award.member_inactive", f.Member.Name)
	}
	a.CommunityID = f.Unit.Path[1] // street, community, grid, building
	note, err := AwardNote.Clean(req.Note)
	if err != nil {
		return AwardDecision{}, err
	}
	if note == "" && a.Deduction() {
		return AwardDecision{}, Errorf(EINVALID, "award.note_required")
	}
	a.Note = note
	if len(req.Evidence) > MaxAwardEvidence {
		return AwardDecision{}, Errorf(EINVALID, "award.evidence_too_many", MaxAwardEvidence)
	}
	for _, p := range req.Evidence {
		if err := checkPicture(p); err != nil {
			return AwardDecision{}, err
		}
		a.Evidence = append(a.Evidence, PictureName(p.Data))
	}
	if b.EvidenceRequired && len(a.Evidence) == 0 {
		return AwardDecision{}, Errorf(EINVALID, "award.evidence_required", b.Name)
	}
	if err := checkCaps(a, f.MonthCount, f.YearCount, 0); err != nil {
		return AwardDecision{}, err
	}
	a.History = []AwardStep{{Step: StepRecorded, By: u.ID, At: a.RecordedAt}}
	if rules.NeedsApproval(a.Points) {
		a.NeedsApproval, a.Status = true, AwardPending
		return AwardDecision{Award: a}, nil
	}
	return afterApproval(a, AwardState{Award: a, Unit: f.Unit, MonthCount: f.MonthCount + 1, YearCount: f.YearCount + 1,
		NoticeDays: f.NoticeDays, Available: f.Available}, "user:"+u.ID.String(), now, loc)
}

// checkCaps refuses an award when the awards that count against its caps
// in its month and year, itself included when it is counted already
// (self = 1), would pass them.
func checkCaps(a Award, month, year, self int) error {
	if a.MonthCap > 0 && month-self >= a.MonthCap {
		return Errorf(ECONFLICT, "award.month_cap", a.Name, a.MonthCap)
	}
	if a.YearCap > 0 && year-self >= a.YearCap {
		return Errorf(ECONFLICT, "award.year_cap", a.Name, a.YearCap)
	}
	return nil
}

// AwardState is what a step after recording needs to know of an award,
// read in the step's transaction.
type AwardState struct {
	Award Award
	// Unit is the award's unit (Award.UnitID) with its path.
	Unit Unit
	// MonthCount and YearCount are the awards counting against its caps in
	// its month and year, itself included while it counts.
	MonthCount, YearCount int
	// NoticeDays is the community's award notice period now (0: none).
	NoticeDays int
	// Available is the balance of the award's account now.
	Available Points
}

// AwardActor is who takes a step: a user and, for a volunteer, the unit of
// their member record (where they live).
type AwardActor struct {
	User       User
	MemberUnit *Unit
}

// afterApproval starts the notice period of an award that needs no more
// approval, or posts it at once when its community has none.
func afterApproval(a Award, st AwardState, actor string, now time.Time, loc *time.Location) (AwardDecision, error) {
	if st.NoticeDays > 0 {
		d := now.In(loc)
		a.NoticeUntil = time.Date(d.Year(), d.Month(), d.Day()+st.NoticeDays+1, 0, 0, 0, 0, loc).UTC()
		a.Status = AwardInNotice
		a.History = append(a.History, AwardStep{Step: StepNotice, At: now.UTC()})
		return AwardDecision{Award: a}, nil
	}
	return post(a, st, actor, uuid.Nil, now)
}

// ObjectionsClose is the last day objections to an award in its notice
// period are taken, in loc.
func (a Award) ObjectionsClose(loc *time.Location) time.Time {
	return a.NoticeUntil.In(loc).Add(-time.Nanosecond)
}

// post decides the posting of award a: its points move from the
// community's issuer account, or a deduction takes at most what the
// account has (the rest is NotTaken, and nothing moves when it has none).
// The caps are checked again.
func post(a Award, st AwardState, actor string, by uuid.UUID, now time.Time) (AwardDecision, error) {
	if err := checkCaps(a, st.MonthCount, st.YearCount, 1); err != nil {
		return AwardDecision{}, err
	}
	memo := a.Name
	if a.Note != "" {
		memo += "：" + a.Note
	}
	t := Transfer{Amount: a.Points, Kind: KindAward, Debit: IssuerAccount(a.CommunityID), Credit: a.Account(),
		Reference: a.Reference(), Actor: actor, Memo: memo, IdempotencyKey: ServerKey("award", a.ID.String(), "post")}
	a.Taken, a.NotTaken = a.Points, 0
	if a.Deduction() {
		want := -a.Points
		a.Taken = min(want, max(st.Available, 0))
		a.NotTaken = want - a.Taken
		t.Amount, t.Kind, t.Debit, t.Credit = a.Taken, KindDeduct, a.Account(), IssuerAccount(a.CommunityID)
	}
	a.Status, a.PostedAt = AwardPosted, now.UTC()
	a.History = append(a.History, AwardStep{Step: StepPosted, By: by, At: now.UTC()})
	if t.Amount == 0 {
		return AwardDecision{Award: a}, nil
	}
	return AwardDecision{Award: a, Transfer: &t}, nil
}

// staffOver checks that actor is staff who may decide award a: an
// administrator, or an organiser over its unit (a grid worker records
// awards but decides none: EFORBIDDEN). Anyone else who does not reach it
// learns nothing of it (ENOTFOUND).
func staffOver(by AwardActor, st AwardState) error {
	u := by.User
	switch {
	case u.Disabled:
		return Errorf(EUNAUTHORIZED, "auth.login_required")
	case u.Role != RoleAdmin && u.Role != RoleOrganizer && u.Role != RoleGridWorker:
		return Errorf(EFORBIDDEN, "auth.forbidden")
	case !mayReach(u, st.Unit):
		return Errorf(ENOTFOUND, "award.not_found")
	case u.Role == RoleGridWorker:
		return Errorf(EFORBIDDEN, "award.grid_worker_decides")
	}
	return nil
}

// ApproveAward decides the approval of an award waiting for it (四眼): by
// an administrator or an organiser over it who did not record it
// (EFORBIDDEN "award.own_approval"). It then starts its notice period or
// posts it. An award that waits no more (approved already, perhaps by
// someone else a moment ago) is ECONFLICT "award.not_pending", so that two
// approvals post it once.
func ApproveAward(st AwardState, by AwardActor, now time.Time, loc *time.Location) (AwardDecision, error) {
	if err := staffOver(by, st); err != nil {
		return AwardDecision{}, err
	}
	a := st.Award
	switch {
	case a.Status != AwardPending:
		return AwardDecision{}, Errorf(ECONFLICT, "award.not_pending", Term("award.status."+string(a.Status)))
	case a.RecordedBy == by.User.ID:
		return AwardDecision{}, Errorf(EFORBIDDEN, "award.own_approval")
	case !SecondEyes(by.User, a.RecordedBy, st.Unit.Path):
		return AwardDecision{}, Errorf(EFORBIDDEN, "award.approver_level")
	}
	a.History = append(slices.Clone(a.History), AwardStep{Step: StepApproved, By: by.User.ID, At: now.UTC()})
	return afterApproval(a, st, "user:"+by.User.ID.String(), now, loc)
}

// RejectAward decides the rejection of an award not yet posted, with a
// reason: by an administrator or an organiser over it, or by whoever
// recorded it (a grid worker withdrawing their own). A posted award is
// corrected by ReverseAward instead (ECONFLICT "award.not_open").
func RejectAward(st AwardState, by AwardActor, reason string, now time.Time) (AwardDecision, error) {
	a := st.Award
	own := by.User.ID == a.RecordedBy && by.User.Role != RoleVolunteer && by.User.Role != RoleClerk && !by.User.Disabled && mayReach(by.User, st.Unit)
	if !own {
		if err := staffOver(by, st); err != nil {
			return AwardDecision{}, err
		}
	}
	if !a.Status.Open() {
		return AwardDecision{}, Errorf(ECONFLICT, "award.not_open", Term("award.status."+string(a.Status)))
	}
	why, err := Reason.Clean(reason)
	if err != nil {
		return AwardDecision{}, err
	}
	a.Status = AwardRejected
	a.History = append(slices.Clone(a.History), AwardStep{Step: StepRejected, By: by.User.ID, At: now.UTC(), Reason: why})
	return AwardDecision{Award: a, Uncount: true}, nil
}

// ObjectAward decides an objection to an award in its notice period: by a
// volunteer who lives in its community (from the public notice), or by
// staff over it who took the objection by phone; with a reason. It holds the
// award for an organiser to decide. After the period (the award posted, or
// about to be) it is ECONFLICT "award.notice_over".
func ObjectAward(st AwardState, by AwardActor, reason string, now time.Time) (AwardDecision, error) {
	a, u := st.Award, by.User
	switch {
	case u.Disabled:
		return AwardDecision{}, Errorf(EUNAUTHORIZED, "auth.login_required")
	case u.Role == RoleVolunteer:
		if by.MemberUnit == nil || !by.MemberUnit.Within(a.CommunityID) {
			return AwardDecision{}, Errorf(EFORBIDDEN, "award.object_community")
		}
	case u.Role == RoleAdmin || u.Role == RoleOrganizer || u.Role == RoleGridWorker:
		if !mayReach(u, st.Unit) {
			return AwardDecision{}, Errorf(ENOTFOUND, "award.not_found")
		}
	default:
		return AwardDecision{}, Errorf(EFORBIDDEN, "auth.forbidden")
	}
	if a.Status != AwardInNotice || !now.Before(a.NoticeUntil) {
		return AwardDecision{}, Errorf(ECONFLICT, "award.notice_over", Term("award.status."+string(a.Status)))
	}
	why, err := Reason.Clean(reason)
	if err != nil {
		return AwardDecision{}, err
	}
	a.Status = AwardHeld
	a.History = append(slices.Clone(a.History), AwardStep{Step: StepObjected, By: u.ID, At: now.UTC(), Reason: why})
	return AwardDecision{Award: a}, nil
}

// DecideAward decides an award held by an objection: post it after all
// (the objection was unfounded) or reject it, with a reason, by an
// administrator or an organiser over it. Any other status is ECONFLICT
// "award.not_held".
func DecideAward(st AwardState, by AwardActor, postIt bool, reason string, now time.Time) (AwardDecision, error) {
	if err := staffOver(by, st); err != nil {
		return AwardDecision{}, err
	}
	a := st.Award
	if a.Status != AwardHeld {
		return AwardDecision{}, Errorf(ECONFLICT, "award.not_held", Term("award.status."+string(a.Status)))
	}
	why, err := Reason.Clean(reason)
	if err != nil {
		return AwardDecision{}, err
	}
	if !postIt {
		a.Status = AwardRejected
		a.History = append(slices.Clone(a.History), AwardStep{Step: StepRejected, By: by.User.ID, At: now.UTC(), Reason: why})
		return AwardDecision{Award: a, Uncount: true}, nil
	}
	d, err := post(a, st, "user:"+by.User.ID.String(), by.User.ID, now)
	if err != nil {
		return d, err
	}
	d.Award.History[len(d.Award.History)-1].Reason = why
	return d, nil
}

// PostDueAward decides the posting of an award whose notice period has
// ended without an objection (the sweep). due is false, and nothing is to
// be written, for an award that is not in its notice period or whose
// period has not ended.
func PostDueAward(st AwardState, now time.Time) (d AwardDecision, due bool, err error) {
	a := st.Award
	if a.Status != AwardInNotice || now.Before(a.NoticeUntil) {
		return AwardDecision{}, false, nil
	}
	a.History = slices.Clone(a.History)
	d, err = post(a, st, "aixin:award-notice", uuid.Nil, now)
	return d, true, err
}

// ReverseAward decides the correction of a posted award: a reverse entry
// of the entry that posted it (entry; none for a deduction that took
// nothing), with a reason, by an administrator or an organiser over it. A
// reversed deduction gives back what it took, and no more. Any other
// status is ECONFLICT "award.not_posted" (a reversed one
// "award.already_reversed"). An entry that does not match the award is
// damage, not a refusal: a plain error.
func ReverseAward(st AwardState, entry Entry, by AwardActor, reason string, now time.Time) (AwardDecision, error) {
	if err := staffOver(by, st); err != nil {
		return AwardDecision{}, err
	}
	a := st.Award
	switch a.Status {
	case AwardPosted:
	case AwardReversed:
		return AwardDecision{}, Errorf(ECONFLICT, "award.already_reversed")
	default:
		return AwardDecision{}, Errorf(ECONFLICT, "award.not_posted", Term("award.status."+string(a.Status)))
	}
	why, err := Reason.Clean(reason)
	if err != nil {
		return AwardDecision{}, err
	}
	d := AwardDecision{Uncount: true}
	if a.EntrySeq != 0 {
		if entry.Seq != a.EntrySeq || entry.Reference != a.Reference() || entry.Amount != a.Taken ||
			(entry.Kind != KindAward && entry.Kind != KindDeduct) {
			return AwardDecision{}, fmt.Errorf("award %s: entry %d is not its posting", a.ID, entry.Seq)
		}
		t, err := Reverse(entry, "user:"+by.User.ID.String(), why, ServerKey("award", a.ID.String(), "reverse"))
		if err != nil {
			return AwardDecision{}, err
		}
		d.Transfer = &t
	}
	a.Status = AwardReversed
	a.History = append(slices.Clone(a.History), AwardStep{Step: StepReversed, By: by.User.ID, At: now.UTC(), Reason: why})
	d.Award = a
	return d, nil
}

// AddEvidence decides a photo added to an award not yet decided for good
// (waiting, in notice or held), by staff who reach it.
func AddEvidence(st AwardState, by AwardActor, p Picture) (Award, error) {
	u := by.User
	if u.Disabled || (u.Role != RoleAdmin && u.Role != RoleOrganizer && u.Role != RoleGridWorker) {
		return Award{}, Errorf(EFORBIDDEN, "auth.forbidden")
	}
	if !mayReach(u, st.Unit) {
		return Award{}, Errorf(ENOTFOUND, "award.not_found")
	}
	a := st.Award
	if !a.Status.Open() {
		return Award{}, Errorf(ECONFLICT, "award.not_open", Term("award.status."+string(a.Status)))
	}
	if len(a.Evidence) >= MaxAwardEvidence {
		return Award{}, Errorf(EINVALID, "award.evidence_too_many", MaxAwardEvidence)
	}
	if err := checkPicture(p); err != nil {
		return Award{}, err
	}
	a.Evidence = append(slices.Clone(a.Evidence), PictureName(p.Data))
	return a, nil
}

// AwardFilter selects awards in a list.
type AwardFilter struct {
	Scope Scope
	// Status, when set, keeps awards of these statuses only.
	Status []AwardStatus
	// Month, when set, keeps awards recorded in that month.
	Month Month
	// MemberID or HouseholdID keep the awards of one member or household.
	MemberID, HouseholdID uuid.UUID
	// WithHousehold, with MemberID, keeps the awards of the member's
	// household too (a volunteer's footprint).
	WithHousehold bool
	// Community keeps the awards of one community.
	Community uuid.UUID
	Limit     int
}

// Keeps reports whether the filter keeps award a of unit (the award's unit).
func (f AwardFilter) Keeps(a Award, unit Unit, loc *time.Location) bool {
	switch {
	case !f.Scope.Covers(unit):
		return false
	case len(f.Status) > 0 && !slices.Contains(f.Status, a.Status):
		return false
	case f.Month != 0 && a.Month(loc) != f.Month:
		return false
	case f.MemberID != uuid.Nil && a.MemberID != f.MemberID && !(f.WithHousehold && a.Target == TargetHousehold):
		return false
	case f.HouseholdID != uuid.Nil && a.HouseholdID != f.HouseholdID:
		return false
	case f.Community != uuid.Nil && a.CommunityID != f.Community:
		return false
	}
	return true
}

// AwardTarget is a member or household an award may be recorded for, as
// the recording page lists them.
type AwardTarget struct {
	Target BehaviourTarget `json:"target"`
	ID     uuid.UUID       `json:"id"`
	// Name is the member's name, or the household's address with its
	// head's name.
	Name   string    `json:"name"`
	Phone  string    `json:"phone,omitempty"` // masked
	UnitID uuid.UUID `json:"unit_id"`
	// Household is, for a member, the household they belong to.
	Household uuid.UUID `json:"household_id,omitzero"`
}

// Awards keeps the behaviour lists and the awards made from them.
type Awards interface {
	// CreateBehaviour adds a behaviour to a street's or community's list
	// (see NewBehaviour). Returns ENOTFOUND for an unknown unit.
	CreateBehaviour(ctx context.Context, b Behaviour) (Behaviour, error)
	// UpdateBehaviour changes a behaviour as PatchBehaviour decides.
	// Returns ENOTFOUND ("behaviour.not_found").
	UpdateBehaviour(ctx context.Context, id uuid.UUID, p BehaviourPatch, by uuid.UUID) (Behaviour, error)
	// Behaviour returns ENOTFOUND ("behaviour.not_found") for an unknown id.
	Behaviour(ctx context.Context, id uuid.UUID) (Behaviour, error)
	// Behaviours returns every behaviour, by unit then name.
	Behaviours(ctx context.Context) ([]Behaviour, error)

	// RecordAward records an award as RecordAward (the rule) decides, in
	// one transaction with its photos, its counts against the caps and,
	// when it posts at once, its entry. The same key again returns the
	// first award (ECONFLICT "idempotency.mismatch" for another request).
	RecordAward(ctx context.Context, req AwardRequest) (Award, error)
	// ApproveAward, RejectAward, ObjectAward, DecideAward and ReverseAward
	// take the step the rule of the same name decides, by user by, in one
	// transaction with the entry it appends. Each returns ENOTFOUND
	// ("award.not_found") for an unknown award, and what its rule returns.
	ApproveAward(ctx context.Context, id, by uuid.UUID) (Award, error)
	RejectAward(ctx context.Context, id, by uuid.UUID, reason string) (Award, error)
	ObjectAward(ctx context.Context, id, by uuid.UUID, reason string) (Award, error)
	DecideAward(ctx context.Context, id, by uuid.UUID, postIt bool, reason string) (Award, error)
	ReverseAward(ctx context.Context, id, by uuid.UUID, reason string) (Award, error)
	// AddAwardEvidence adds a photo to an award (AddEvidence).
	AddAwardEvidence(ctx context.Context, id, by uuid.UUID, p Picture) (Award, error)
	// AwardEvidence returns the n-th photo (from 1) of an award; ENOTFOUND
	// ("award.no_picture") when it has none such.
	AwardEvidence(ctx context.Context, id uuid.UUID, n int) (Picture, error)
	// Award returns ENOTFOUND ("award.not_found") for an unknown id.
	Award(ctx context.Context, id uuid.UUID) (Award, error)
	// Awards returns the awards f keeps, newest first, up to f.Limit.
	Awards(ctx context.Context, f AwardFilter) ([]Award, error)
	// AwardTargets returns up to limit members and households in scope
	// whose name, phone's last digits or address match query.
	AwardTargets(ctx context.Context, scope Scope, query string, limit int) ([]AwardTarget, error)
	// PostDueAwards posts every award whose notice period has ended
	// without an objection, each in a write of its own: one that cannot be
	// posted is reported in the result and the rest go on.
	PostDueAwards(ctx context.Context) (SweepResult, error)
}
