package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// A wish (微心愿) is a resident's small need — a school bag for a grandson,
// medicine fetched, a dripping tap mended — that the community checks and
// puts on its wish wall, where a volunteer or a team claims it (认领),
// fulfils it and the organiser confirms it with the resident; then the
// wish's points go to whoever fulfilled it, once, as award entries.
//
//	submitted → verified → published → claimed → fulfilled → confirmed
//	                                       ↑______ lapse ___|
//	(any but confirmed) → withdrawn (by who entered it) | rejected (by the community)
//
// Each step is a pure decision below: it takes the wish, who acts, the
// facts the store read in the same transaction and now, and returns the
// wish as it is after the step, with its history one step longer, or a
// coded refusal. Confirming also returns the award transfers.

// WishStatus is where a wish is in its life.
type WishStatus string

// The wish statuses.
const (
	WishSubmitted WishStatus = "submitted" // 待核实: a volunteer entered it; the community checks it
	WishVerified  WishStatus = "verified"  // 已核实: checked (staff-entered wishes start here); not yet on the wall
	WishPublished WishStatus = "published" // 待认领: on the wish wall
	WishClaimed   WishStatus = "claimed"   // 已认领: a member (or a team) is on it
	WishFulfilled WishStatus = "fulfilled" // 待确认: the claimer says it is done
	WishConfirmed WishStatus = "confirmed" // 已实现: the organiser confirmed it with the resident; points awarded
	WishWithdrawn WishStatus = "withdrawn" // 已撤回 by who entered it
	WishRejected  WishStatus = "rejected"  // 未通过: the community turned it down
)

// WishStatuses lists the statuses in the order of a wish's life.
var WishStatuses = []WishStatus{WishSubmitted, WishVerified, WishPublished, WishClaimed, WishFulfilled, WishConfirmed, WishWithdrawn, WishRejected}

// Valid reports whether s is a known status.
func (s WishStatus) Valid() bool { return slices.Contains(WishStatuses, s) }

// Closed reports whether the wish's life is over: confirmed, withdrawn or rejected.
func (s WishStatus) Closed() bool {
	return s == WishConfirmed || s == WishWithdrawn || s == WishRejected
}

// The steps of a wish's history.
const (
	WishStepSubmit   = "submit"   // a volunteer entered it
	WishStepEnter    = "enter"    // staff entered it on a resident's behalf
	WishStepVerify   = "verify"   // the community checked it
	WishStepPublish  = "publish"  // onto the wall
	WishStepClaim    = "claim"    // a member claimed it, for themself or a team
	WishStepLapse    = "lapse"    // the claim was not fulfilled in time: back to the wall
	WishStepFulfil   = "fulfil"   // the claimer says it is done (a note, photos)
	WishStepConfirm  = "confirm"  // the organiser confirmed it with the resident
	WishStepWithdraw = "withdraw" // who entered it took it back
	WishStepReject   = "reject"   // the community turned it down
	WishStepPhoto    = "photo"    // a picture of the wish was added
)

// WishStep is one entry of a wish's history: what happened, who did it
// (the user; nil for the server's own sweep) and when, with its reason or
// note, the member and team of a claim, and the points set or awarded.
type WishStep struct {
	Step     string    `json:"step"`
	By       uuid.UUID `json:"by,omitzero"`
	At       time.Time `json:"at"`
	Note     string    `json:"note,omitempty"`
	MemberID uuid.UUID `json:"member_id,omitzero"`
	TeamID   uuid.UUID `json:"team_id,omitzero"`
	Points   Points    `json:"points,omitempty"`
}

// WishClaim is who is on a wish now and until when.
type WishClaim struct {
	MemberID uuid.UUID `json:"member_id"`
	// TeamID is the team the member claimed it for (多对一); nil for themself.
	TeamID uuid.UUID `json:"team_id,omitzero"`
	At     time.Time `json:"at"`
	// DueAt is when the claim lapses unless fulfilled: the wish goes back to the wall.
	DueAt time.Time `json:"due_at"`
}

// WishFulfilment is what the claimer reported.
type WishFulfilment struct {
	Note string    `json:"note"`
	At   time.Time `json:"at"`
	// Participants are the members who took part, in the order the points
	// are shared out (the claimer alone for a claim of their own).
	Participants []uuid.UUID `json:"participants"`
}

// How a resident confirmed that their wish came true.
const (
	WishConfirmInPerson = "in_person" // 当面确认
	WishConfirmPhone    = "phone"     // 电话回访
	WishConfirmSigned   = "signed"    // 签字确认 (a signed slip)
	WishConfirmOther    = "other"     // 其他, with a note saying how
)

// WishConfirmations lists the ways a resident may confirm.
var WishConfirmations = []string{WishConfirmInPerson, WishConfirmPhone, WishConfirmSigned, WishConfirmOther}

// WishConfirmation is the organiser's confirmation and how the resident confirmed.
type WishConfirmation struct {
	How  string    `json:"how"`
	Note string    `json:"note,omitempty"`
	At   time.Time `json:"at"`
	By   uuid.UUID `json:"by"`
}

// WishAward is one member's share of a wish's points; Seq is its award
// entry (filled in by the store).
type WishAward struct {
	MemberID uuid.UUID `json:"member_id"`
	Points   Points    `json:"points"`
	Seq      uint64    `json:"seq,omitempty"`
}

// The stages a wish's photos belong to.
const (
	WishPhotoWish   = "wish"   // of the need, added by who entered it or by staff
	WishPhotoFulfil = "fulfil" // of the fulfilment, sent by the claimer
)

// WishPhoto is one picture of a wish. N numbers the wish's pictures from
// 1 in the order they came; Hash (of its bytes) makes a new picture a new address.
type WishPhoto struct {
	N     int    `json:"n"`
	Stage string `json:"stage"`
	Type  string `json:"type"`
	Hash  string `json:"hash"`
}

// WishResident is the person the wish is for. The phone is optional and
// never public.
type WishResident struct {
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
}

// Wish is a resident's 微心愿 and its whole history.
type Wish struct {
	ID    uuid.UUID `json:"id"`
	Title string    `json:"title"`
	// Need says what is needed, in the resident's words (public on the wall).
	Need     string       `json:"need"`
	Resident WishResident `json:"resident"`
	// UnitID is the resident's grid or building; CommunityID the community it lies in.
	UnitID      uuid.UUID `json:"unit_id"`
	CommunityID uuid.UUID `json:"community_id"`
	// EnteredBy is the user who entered it, as EnteredAs (organizer, admin,
	// grid_worker on the resident's behalf; volunteer from their phone).
	EnteredBy uuid.UUID `json:"entered_by"`
	EnteredAs Role      `json:"entered_as"`
	// EnteredMember is the volunteer's member id when a volunteer entered it.
	EnteredMember uuid.UUID `json:"entered_member,omitzero"`
	// Points are what fulfilling it is worth, set by the organiser (0 to MaxWishPoints).
	Points       Points            `json:"points"`
	Status       WishStatus        `json:"status"`
	Claim        *WishClaim        `json:"claim,omitempty"`
	Fulfilment   *WishFulfilment   `json:"fulfilment,omitempty"`
	Confirmation *WishConfirmation `json:"confirmation,omitempty"`
	Awards       []WishAward       `json:"awards,omitempty"`
	// Reason says why it was withdrawn or rejected.
	Reason    string      `json:"reason,omitempty"`
	Photos    []WishPhoto `json:"photos,omitempty"`
	History   []WishStep  `json:"history"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// Reference is the ledger reference of the wish's award entries.
func (w Wish) Reference() string { return WishReferencePrefix + w.ID.String() }

// AwardKey is the idempotency key of the award entry of member's share:
// one per wish and member, so a wish's points reach each member once.
func (w Wish) AwardKey(member uuid.UUID) string {
	return ServerKey("wish", w.ID.String(), "award", member.String())
}

// Step returns the last time step happened to the wish (nil when never).
func (w Wish) Step(step string) *WishStep {
	for i := len(w.History) - 1; i >= 0; i-- {
		if w.History[i].Step == step {
			return &w.History[i]
		}
	}
	return nil
}

// PublishedAt is when the wish first went on the wall (zero if never).
func (w Wish) PublishedAt() time.Time {
	for _, h := range w.History {
		if h.Step == WishStepPublish {
			return h.At
		}
	}
	return time.Time{}
}

// TookPart reports whether member claimed the wish now or took part in its fulfilment.
func (w Wish) TookPart(member uuid.UUID) bool {
	if member == uuid.Nil {
		return false
	}
	if w.Claim != nil && w.Claim.MemberID == member {
		return true
	}
	return w.Fulfilment != nil && slices.Contains(w.Fulfilment.Participants, member)
}

// Limits of a wish.
const (
	MaxWishPoints       = 100 // the most points an organiser may set on one wish
	MaxWishParticipants = 20  // members who share one wish's points
	MaxWishPhotos       = 3   // pictures per stage (of the need; of the fulfilment)
	MaxWishPhotoBytes   = 512 << 10
	// DefaultWishClaimDays is how long a claim stays before it lapses,
	// unless a deployment says otherwise.
	DefaultWishClaimDays = 7
)

// The free-text rules of a wish.
var (
	WishTitle        = Text{Field: "field.wish_title", Key: "wish.title_invalid", Max: 40, Required: true}
	WishNeed         = Text{Field: "field.wish_need", Key: "wish.need_invalid", Max: 500, Required: true, Multiline: true}
	WishResidentName = Text{Field: "field.resident_name", Key: "wish.resident_invalid", Max: 32, Required: true}
	WishNote         = Text{Field: "field.wish_note", Key: "wish.note_invalid", Max: 500, Required: true, Multiline: true}
	WishConfirmNote  = Text{Field: "field.wish_confirm_note", Key: "wish.confirm_note_invalid", Max: 200}
)

var landline = regexp.MustCompile(`^0[1-9][0-9]{1,2}-?[1-9][0-9]{6,7}$`)

// NormalizeWishPhone reads a resident's phone: empty, a mainland mobile
// (as NormalizePhone reads it) or a landline with its area code
// (028-85551234; many older residents have no mobile). EINVALID otherwise.
func NormalizeWishPhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if p, err := NormalizePhone(s); err == nil {
		return p, nil
	}
	p := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u00a0' {
			return -1
		}
		return r
	}, s)
	if !landline.MatchString(p) {
		return "", Errorf(EINVALID, "wish.phone_invalid", Clip(s))
	}
	return p, nil
}

// CheckWishPhoto checks an uploaded picture's sniffed type and size: PNG,
// JPEG or WebP of at most MaxWishPhotoBytes.
func CheckWishPhoto(contentType string, size int) error {
	switch {
	case size == 0:
		return Errorf(EINVALID, "wish.photo_empty")
	case size > MaxWishPhotoBytes:
		// The upload is read only up to one byte past the limit: say the limit, not a size.
		return Errorf(EINVALID, "wish.photo_size", MaxWishPhotoBytes>>10)
	case contentType != "image/png" && contentType != "image/jpeg" && contentType != "image/webp":
		return Errorf(EINVALID, "wish.photo_type")
	}
	return nil
}

// WishActor is who takes a step: the user and their role, and for a
// volunteer their member id.
type WishActor struct {
	User   uuid.UUID
	Role   Role
	Member uuid.UUID
	// Unit is the unit a staff account is bound to (an organiser's or a
	// grid worker's), for the second pair of eyes on large wishes.
	Unit uuid.UUID
}

// Staff reports whether the actor is an organiser or an administrator:
// who verifies, publishes, confirms and rejects.
func (a WishActor) Staff() bool { return a.Role == RoleOrganizer || a.Role == RoleAdmin }

// WishRequest is a wish as someone enters it.
type WishRequest struct {
	Title         string    `json:"title"`
	Need          string    `json:"need"`
	ResidentName  string    `json:"resident_name"`
	ResidentPhone string    `json:"resident_phone"`
	UnitID        uuid.UUID `json:"unit_id"`
	Points        Points    `json:"points"`
}

// checkPoints checks points an actor sets on a wish: only organisers and
// administrators set points (EFORBIDDEN "wish.points_staff"), from 0 to
// MaxWishPoints (EINVALID "wish.points_invalid").
func checkPoints(p Points, by WishActor) error {
	if p < 0 || p > MaxWishPoints {
		return Errorf(EINVALID, "wish.points_invalid", MaxWishPoints)
	}
	if p != 0 && !by.Staff() {
		return Errorf(EFORBIDDEN, "wish.points_staff")
	}
	return nil
}

// NewWish decides a new wish entered by by for a resident of unit (read by
// the store: a grid or a building, else EINVALID "wish.unit_kind"). Staff
// (organisers, administrators and grid workers) enter wishes on a
// resident's behalf, so the wish starts verified; a volunteer's starts
// submitted, for the community to check. Only organisers and
// administrators set points. Which units an actor may name is the caller's
// check (their scope).
func NewWish(id uuid.UUID, req WishRequest, unit Unit, by WishActor, now time.Time) (Wish, error) {
	var err error
	w := Wish{ID: id, UnitID: unit.ID, EnteredBy: by.User, EnteredAs: by.Role, Points: req.Points, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
	if w.Title, err = WishTitle.Clean(req.Title); err != nil {
		return Wish{}, err
	}
	if w.Need, err = WishNeed.Clean(req.Need); err != nil {
		return Wish{}, err
	}
	// The title and the need go on the public wish wall as they are.
	if err := CheckPublic(WishTitle.Field, w.Title); err != nil {
		return Wish{}, err
	}
	if err := CheckPublic(WishNeed.Field, w.Need); err != nil {
		return Wish{}, err
	}
	if w.Resident.Name, err = WishResidentName.Clean(req.ResidentName); err != nil {
		return Wish{}, err
	}
	if w.Resident.Phone, err = NormalizeWishPhone(req.ResidentPhone); err != nil {
		return Wish{}, err
	}
	if err := checkPoints(req.Points, by); err != nil {
		return Wish{}, err
	}
	if (unit.Kind != UnitGrid && unit.Kind != UnitBuilding) || len(unit.Path) < 3 {
		return Wish{}, Errorf(EINVALID, "wish.unit_kind")
	}
	w.CommunityID = unit.Path[1] // street, community, grid, building
	step := WishStep{Step: WishStepEnter, By: by.User, At: w.CreatedAt, Points: req.Points}
	switch by.Role {
	case RoleAdmin, RoleOrganizer, RoleGridWorker:
		w.Status = WishVerified
	case RoleVolunteer:
		if by.Member == uuid.Nil {
			return Wish{}, Errorf(EFORBIDDEN, "wish.no_member")
		}
		w.Status, w.EnteredMember, step.Step, step.MemberID = WishSubmitted, by.Member, WishStepSubmit, by.Member
	default:
		return Wish{}, Errorf(EFORBIDDEN, "auth.forbidden")
	}
	w.History = []WishStep{step}
	return w, nil
}

// next returns w after a step at now.
func (w Wish) next(step WishStep, now time.Time) Wish {
	out := w
	step.At = now.UTC()
	out.History = append(slices.Clip(w.History), step)
	out.UpdatedAt = step.At
	return out
}

// refuseClosed is the refusal of any step on a wish whose life is over.
func refuseClosed(w Wish) error {
	return Errorf(ECONFLICT, "wish.closed", Term("wish.status."+string(w.Status))).With("status", string(w.Status))
}

// wrongStatus is the refusal of a step the wish's status does not allow.
func wrongStatus(w Wish, step string) error {
	if w.Status.Closed() {
		return refuseClosed(w)
	}
	return Errorf(ECONFLICT, "wish.wrong_status", Term("wish.step."+step), Term("wish.status."+string(w.Status))).
		With("status", string(w.Status))
}

// VerifyWish decides that the community checked a submitted wish
// (organisers and administrators: EFORBIDDEN "wish.staff_only"), setting
// its points when points is not nil.
func VerifyWish(w Wish, by WishActor, points *Points, now time.Time) (Wish, error) {
	if !by.Staff() {
		return w, Errorf(EFORBIDDEN, "wish.staff_only")
	}
	if w.Status != WishSubmitted {
		return w, wrongStatus(w, WishStepVerify)
	}
	out := w
	step := WishStep{Step: WishStepVerify, By: by.User}
	if points != nil {
		if err := checkPoints(*points, by); err != nil {
			return w, err
		}
		out.Points, step.Points = *points, *points
	}
	out = out.next(step, now)
	out.Status = WishVerified
	return out, nil
}

// PublishWish decides that a verified wish goes on the wall (organisers
// and administrators), setting its points when points is not nil.
func PublishWish(w Wish, by WishActor, points *Points, now time.Time) (Wish, error) {
	if !by.Staff() {
		return w, Errorf(EFORBIDDEN, "wish.staff_only")
	}
	if w.Status != WishVerified {
		return w, wrongStatus(w, WishStepPublish)
	}
	out := w
	step := WishStep{Step: WishStepPublish, By: by.User}
	if points != nil {
		if err := checkPoints(*points, by); err != nil {
			return w, err
		}
		out.Points = *points
	}
	step.Points = out.Points
	out = out.next(step, now)
	out.Status = WishPublished
	return out, nil
}

// WishClaimFacts are what ClaimWish needs, read in the same transaction:
// the claiming member, the community their unit lies in, and the team they
// claim for (nil for themself).
type WishClaimFacts struct {
	Member    Member
	Community uuid.UUID
	Team      *Team
}

// ClaimWish decides that by (a volunteer) claims a published wish of their
// community, for themself or for a team they belong to, until now + life.
// Exactly one claim wins: the wish must be published (ECONFLICT
// "wish.taken" once claimed by someone else). The same member claiming it
// again for the same team is a repeat and changes nothing (repeat true).
// Refused: someone not a volunteer, or not active (EFORBIDDEN); a wish of
// another community (ENOTFOUND, as if it were not there); a team the
// member is not in (EINVALID "wish.team_not_yours"); the volunteer who
// entered the wish (EFORBIDDEN "wish.claim_own": a wish is not a way to
// award oneself points).
func ClaimWish(w Wish, by WishActor, f WishClaimFacts, life time.Duration, now time.Time) (out Wish, repeat bool, err error) {
	if by.Role != RoleVolunteer || by.Member == uuid.Nil || f.Member.ID != by.Member {
		return w, false, Errorf(EFORBIDDEN, "wish.volunteers_claim")
	}
	if f.Community != w.CommunityID {
		return w, false, Errorf(ENOTFOUND, "wish.not_found")
	}
	var team uuid.UUID
	if f.Team != nil {
		team = f.Team.ID
	}
	if w.Status == WishClaimed && w.Claim != nil && w.Claim.MemberID == by.Member && w.Claim.TeamID == team {
		return w, true, nil
	}
	switch {
	case w.Status == WishClaimed || w.Status == WishFulfilled:
		return w, false, Errorf(ECONFLICT, "wish.taken").With("status", string(w.Status))
	case w.Status != WishPublished:
		return w, false, wrongStatus(w, WishStepClaim)
	case f.Member.Status != MemberActive && f.Member.Status != "":
		return w, false, Errorf(EFORBIDDEN, "wish.member_inactive")
	case w.EnteredMember == by.Member:
		return w, false, Errorf(EFORBIDDEN, "wish.claim_own")
	case f.Team != nil && !slices.Contains(f.Member.TeamIDs, team):
		return w, false, Errorf(EINVALID, "wish.team_not_yours")
	case life <= 0:
		return w, false, Errorf(EINVALID, "wish.claim_life")
	}
	out = w.next(WishStep{Step: WishStepClaim, By: by.User, MemberID: by.Member, TeamID: team}, now)
	out.Status = WishClaimed
	out.Claim = &WishClaim{MemberID: by.Member, TeamID: team, At: now.UTC(), DueAt: now.UTC().Add(life)}
	out.Fulfilment = nil
	return out, false, nil
}

// LapseClaim decides whether a claim not fulfilled by its due time goes
// back to the wall at now: the wish published again without the claim,
// the lapse in its history. ok is false when there is nothing to do (the
// wish is no longer claimed, or not yet due).
func LapseClaim(w Wish, now time.Time) (out Wish, ok bool) {
	if w.Status != WishClaimed || w.Claim == nil || now.Before(w.Claim.DueAt) {
		return w, false
	}
	out = w.next(WishStep{Step: WishStepLapse, MemberID: w.Claim.MemberID, TeamID: w.Claim.TeamID}, now)
	out.Status, out.Claim = WishPublished, nil
	return out, true
}

// WishTeamFacts say, for the members named as participants, which teams
// each is in and whether they are active, read in the same transaction; a
// member missing here is unknown.
type WishTeamFacts struct {
	Members map[uuid.UUID]Member
	// For confirming: the path of the wish's community (street, community)
	// and the points from which a wish needs a second pair of eyes (四眼,
	// as behaviour awards do; 0: none does).
	CommunityPath []uuid.UUID
	FourEyes      Points
}

// participants checks the members who took part in a claim: for a claim
// of one's own only the claimer (the default); for a team's, 1 to
// MaxWishParticipants members of the team (the claimer alone by default),
// each named once, all known and active.
func participants(c WishClaim, named []uuid.UUID, f WishTeamFacts) ([]uuid.UUID, error) {
	if len(named) == 0 {
		return []uuid.UUID{c.MemberID}, nil
	}
	if len(named) > MaxWishParticipants {
		return nil, Errorf(EINVALID, "wish.participants_too_many", MaxWishParticipants)
	}
	if c.TeamID == uuid.Nil && (len(named) != 1 || named[0] != c.MemberID) {
		return nil, Errorf(EINVALID, "wish.participants_own")
	}
	seen := map[uuid.UUID]bool{}
	for i, id := range named {
		if seen[id] {
			return nil, Errorf(EINVALID, "wish.participant_twice")
		}
		seen[id] = true
		m, ok := f.Members[id]
		switch {
		case !ok:
			return nil, Errorf(EINVALID, "wish.participant_unknown")
		case c.TeamID != uuid.Nil && !slices.Contains(m.TeamIDs, c.TeamID):
			// By place, not name: who is not in the team may be of another community.
			return nil, Errorf(EINVALID, "wish.participant_not_in_team", i+1)
		case m.Status != MemberActive && m.Status != "":
			return nil, Errorf(EINVALID, "wish.participant_inactive", m.Name)
		}
	}
	return slices.Clone(named), nil
}

// WishFulfilRequest is the claimer's report: a note, the members who took
// part (for a team's claim; in the order its points are shared out) and
// the photos (their types sniffed from their bytes by the caller).
type WishFulfilRequest struct {
	Note         string
	Participants []uuid.UUID
	Photos       []WishUpload
}

// newPhotos checks pictures of a stage and describes them as the wish
// keeps them: numbered on from the wish's last picture, each with a hash
// of its bytes. At most MaxWishPhotos of a stage in all.
func newPhotos(w Wish, stage string, ups []WishUpload) ([]WishPhoto, error) {
	n, last := 0, 0
	for _, p := range w.Photos {
		if p.Stage == stage {
			n++
		}
		last = max(last, p.N)
	}
	if n+len(ups) > MaxWishPhotos {
		return nil, Errorf(EINVALID, "wish.photos_too_many", MaxWishPhotos)
	}
	var out []WishPhoto
	for i, u := range ups {
		if err := CheckWishPhoto(u.Type, len(u.Data)); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(u.Data)
		out = append(out, WishPhoto{N: last + 1 + i, Stage: stage, Type: u.Type, Hash: hex.EncodeToString(sum[:6])})
	}
	return out, nil
}

// FulfilWish decides the claimer's report that the wish is done: only the
// member who claimed it (EFORBIDDEN "wish.not_claimer"), before the claim
// lapses (EGONE "wish.claim_lapsed"), with a note, up to MaxWishPhotos
// photos and the participants (see participants).
func FulfilWish(w Wish, by WishActor, req WishFulfilRequest, f WishTeamFacts, now time.Time) (Wish, error) {
	if w.Status != WishClaimed || w.Claim == nil {
		return w, wrongStatus(w, WishStepFulfil)
	}
	if by.Member == uuid.Nil || by.Member != w.Claim.MemberID {
		return w, Errorf(EFORBIDDEN, "wish.not_claimer")
	}
	if !now.Before(w.Claim.DueAt) {
		return w, Errorf(EGONE, "wish.claim_lapsed")
	}
	note, err := WishNote.Clean(req.Note)
	if err != nil {
		return w, err
	}
	photos, err := newPhotos(w, WishPhotoFulfil, req.Photos)
	if err != nil {
		return w, err
	}
	who, err := participants(*w.Claim, req.Participants, f)
	if err != nil {
		return w, err
	}
	out := w.next(WishStep{Step: WishStepFulfil, By: by.User, MemberID: by.Member, TeamID: w.Claim.TeamID, Note: note}, now)
	out.Status = WishFulfilled
	out.Fulfilment = &WishFulfilment{Note: note, At: now.UTC(), Participants: who}
	out.Photos = append(slices.Clip(out.Photos), photos...)
	return out, nil
}

// AddWishPhoto decides that a picture of the need joins the wish: by who
// entered it or by staff (the caller checked their scope), before anyone
// claimed it, at most MaxWishPhotos of them.
// The new picture is the wish's last one.
func AddWishPhoto(w Wish, by WishActor, up WishUpload, now time.Time) (Wish, error) {
	if by.User != w.EnteredBy && !by.Staff() && by.Role != RoleGridWorker {
		return w, Errorf(EFORBIDDEN, "wish.photo_who")
	}
	switch w.Status {
	case WishSubmitted, WishVerified, WishPublished:
	default:
		return w, wrongStatus(w, WishStepPhoto)
	}
	photos, err := newPhotos(w, WishPhotoWish, []WishUpload{up})
	if err != nil {
		return w, err
	}
	out := w.next(WishStep{Step: WishStepPhoto, By: by.User}, now)
	out.Photos = append(slices.Clip(w.Photos), photos...)
	return out, nil
}

// SplitWishPoints shares total points among the participants in whole
// points, in their order: each gets total / n, and the first total % n one
// more. A share of 0 (more people than points) gets no award. The shares
// sum to total.
func SplitWishPoints(total Points, who []uuid.UUID) []WishAward {
	if total <= 0 || len(who) == 0 {
		return nil
	}
	n := Points(len(who))
	base, rest := total/n, total%n
	var out []WishAward
	for i, id := range who {
		p := base
		if Points(i) < rest {
			p++
		}
		if p > 0 {
			out = append(out, WishAward{MemberID: id, Points: p})
		}
	}
	return out
}

// WishConfirmRequest is the organiser's confirmation: how the resident
// confirmed (one of WishConfirmations) with a note (required for other),
// and optionally the participants, replacing the claimer's list.
type WishConfirmRequest struct {
	How          string      `json:"how"`
	Note         string      `json:"note"`
	Participants []uuid.UUID `json:"participant_ids"`
}

// WishConfirmDecision is what confirming writes: the wish, confirmed with
// its awards, and one award transfer per award (issuer of the wish's
// community -> member), in the same order. A wish of 0 points has none.
type WishConfirmDecision struct {
	Wish      Wish
	Transfers []Transfer
}

// ConfirmWish decides the organiser's confirmation of a fulfilled wish
// (organisers and administrators), with the resident's confirmation
// recorded, and the points shared out among the participants as award
// entries with keys of their own (Wish.AwardKey), so that a wish's points
// are posted once whatever happens. A wish confirmed before is ECONFLICT
// "wish.already_confirmed" (with when); any other status ECONFLICT.
func ConfirmWish(w Wish, by WishActor, req WishConfirmRequest, f WishTeamFacts, loc *time.Location, now time.Time) (WishConfirmDecision, error) {
	if !by.Staff() {
		return WishConfirmDecision{}, Errorf(EFORBIDDEN, "wish.staff_only")
	}
	if w.Status == WishConfirmed && w.Confirmation != nil {
		at := w.Confirmation.At.In(loc)
		return WishConfirmDecision{}, Errorf(ECONFLICT, "wish.already_confirmed", at.Format("2006-01-02 15:04")).With("confirmed_at", at)
	}
	if w.Status != WishFulfilled || w.Claim == nil || w.Fulfilment == nil {
		return WishConfirmDecision{}, wrongStatus(w, WishStepConfirm)
	}
	if !slices.Contains(WishConfirmations, req.How) {
		return WishConfirmDecision{}, Errorf(EINVALID, "wish.confirm_how", Clip(req.How))
	}
	note, err := WishConfirmNote.Clean(req.Note)
	if err != nil {
		return WishConfirmDecision{}, err
	}
	if req.How == WishConfirmOther && note == "" {
		return WishConfirmDecision{}, Errorf(EINVALID, "wish.confirm_note_needed")
	}
	who := w.Fulfilment.Participants
	if len(req.Participants) > 0 {
		if who, err = participants(*w.Claim, req.Participants, f); err != nil {
			return WishConfirmDecision{}, err
		}
	}
	// Points go only to members still on the roll (as behaviour awards do).
	for _, id := range who {
		if m, ok := f.Members[id]; ok && m.Status != MemberActive && m.Status != "" {
			return WishConfirmDecision{}, Errorf(ECONFLICT, "wish.participant_inactive", m.Name)
		}
	}
	// A large wish's points are confirmed by someone other than who set
	// them, of the community or above (SecondEyes): else one organiser
	// could enter, price and confirm points for a volunteer they set the
	// password of.
	if f.FourEyes > 0 && w.Points >= f.FourEyes {
		me := User{ID: by.User, Role: by.Role, UnitID: by.Unit}
		for _, st := range w.History {
			if (st.Step == WishStepEnter || st.Step == WishStepVerify || st.Step == WishStepPublish) && st.Points > 0 &&
				!SecondEyes(me, st.By, f.CommunityPath) {
				return WishConfirmDecision{}, Errorf(EFORBIDDEN, "wish.four_eyes", f.FourEyes)
			}
		}
	}
	out := w.next(WishStep{Step: WishStepConfirm, By: by.User, Note: note, Points: w.Points, MemberID: w.Claim.MemberID, TeamID: w.Claim.TeamID}, now)
	out.Status = WishConfirmed
	f2 := *w.Fulfilment
	f2.Participants = slices.Clone(who)
	out.Fulfilment = &f2
	out.Confirmation = &WishConfirmation{How: req.How, Note: note, At: now.UTC(), By: by.User}
	out.Awards = SplitWishPoints(w.Points, who)
	d := WishConfirmDecision{Wish: out}
	for _, a := range out.Awards {
		d.Transfers = append(d.Transfers, Transfer{Debit: IssuerAccount(w.CommunityID), Credit: MemberAccount(a.MemberID), Amount: a.Points,
			Kind: KindAward, Reference: w.Reference(), Actor: "user:" + by.User.String(), Memo: w.Title,
			IdempotencyKey: w.AwardKey(a.MemberID)})
	}
	return d, nil
}

// WithdrawWish decides that who entered the wish takes it back, with a
// reason, at any point before it is confirmed (EFORBIDDEN "wish.withdraw_who"
// for anyone else: the community rejects instead).
func WithdrawWish(w Wish, by WishActor, reason string, now time.Time) (Wish, error) {
	if w.Status.Closed() {
		return w, refuseClosed(w)
	}
	if by.User != w.EnteredBy {
		return w, Errorf(EFORBIDDEN, "wish.withdraw_who")
	}
	return endWish(w, by, WishStepWithdraw, WishWithdrawn, reason, now)
}

// RejectWish decides that the community turns the wish down, with a
// reason, at any point before it is confirmed (organisers and administrators).
func RejectWish(w Wish, by WishActor, reason string, now time.Time) (Wish, error) {
	if w.Status.Closed() {
		return w, refuseClosed(w)
	}
	if !by.Staff() {
		return w, Errorf(EFORBIDDEN, "wish.staff_only")
	}
	return endWish(w, by, WishStepReject, WishRejected, reason, now)
}

func endWish(w Wish, by WishActor, step string, status WishStatus, reason string, now time.Time) (Wish, error) {
	r, err := Reason.Clean(reason)
	if err != nil {
		return w, err
	}
	out := w.next(WishStep{Step: step, By: by.User, Note: r}, now)
	out.Status, out.Reason = status, r
	return out, nil
}

// WishFigures are a set of wishes counted for a month: how many are open
// on the wall and claimed now, how many were received, verified,
// published, claimed, fulfilled and confirmed in the month, the points
// their confirmations awarded, and the month's fulfilment rate (实现率):
// of the wishes first published in the month, the share confirmed by now.
type WishFigures struct {
	Month     string `json:"month"`
	Open      int    `json:"open"`       // on the wall now
	InHand    int    `json:"in_hand"`    // claimed now, or fulfilled and waiting for confirmation
	Waiting   int    `json:"waiting"`    // of InHand, fulfilled and waiting for confirmation
	Received  int    `json:"received"`   // entered in the month
	Verified  int    `json:"verified"`   // verified in the month (staff-entered ones when entered)
	Published int    `json:"published"`  // first published in the month
	Claimed   int    `json:"claimed"`    // claimed in the month (a wish claimed twice counts once)
	Fulfilled int    `json:"fulfilled"`  // reported fulfilled in the month
	Confirmed int    `json:"confirmed"`  // confirmed in the month (实现)
	Points    Points `json:"points"`     // awarded by the month's confirmations
	Done      int    `json:"rate_done"`  // of Published, confirmed by now
	Rate      int    `json:"rate_pct"`   // Done / Published in whole per cent, rounded down; 0 when none were published
	RateKnown bool   `json:"rate_known"` // some were published, so Rate means something
}

// CountWishes counts wishes for month m (in loc), as WishFigures says.
func CountWishes(wishes []Wish, m Month, loc *time.Location) WishFigures {
	f := WishFigures{Month: m.String()}
	in := func(t time.Time) bool { return !t.IsZero() && MonthOf(t, loc) == m }
	for _, w := range wishes {
		switch w.Status {
		case WishPublished:
			f.Open++
		case WishClaimed:
			f.InHand++
		case WishFulfilled:
			f.InHand++
			f.Waiting++
		}
		if in(w.CreatedAt) {
			f.Received++
		}
		verified := false
		claimed := false
		for _, h := range w.History {
			if !in(h.At) {
				continue
			}
			switch h.Step {
			case WishStepEnter, WishStepVerify: // staff-entered wishes are verified as they are entered
				verified = true
			case WishStepClaim:
				claimed = true
			case WishStepFulfil:
				f.Fulfilled++
			case WishStepConfirm:
				f.Confirmed++
				for _, a := range w.Awards {
					f.Points += a.Points
				}
			}
		}
		if verified {
			f.Verified++
		}
		if claimed {
			f.Claimed++
		}
		if in(w.PublishedAt()) {
			f.Published++
			if w.Status == WishConfirmed {
				f.Done++
			}
		}
	}
	if f.Published > 0 {
		f.RateKnown = true
		f.Rate = f.Done * 100 / f.Published
	}
	return f
}

// WishFilter selects wishes in a list.
type WishFilter struct {
	// Scope is what a staff user may see (the wishes of residents in its
	// units); Community, when set, narrows to one community's wishes.
	Scope     Scope
	Community uuid.UUID
	// Member, when set, narrows to the wishes that concern a member: they
	// entered it, claim it now, claimed it before or took part.
	Member uuid.UUID
	// Statuses, when not empty, keeps the wishes in one of them.
	Statuses []WishStatus
}

// WishWall is a community's switch of its public wish wall (心愿墙), off by default.
type WishWall struct {
	CommunityID uuid.UUID `json:"community_id"`
	On          bool      `json:"on"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
	UpdatedBy   uuid.UUID `json:"updated_by,omitzero"`
}

// Wishes keeps wishes (微心愿), their photos and the wish walls' switches.
// Each step reads the wish and what its decision needs, decides and writes
// what the decision returned in one transaction. A non-empty key (a
// client's Idempotency-Key, in its namespace) makes a step idempotent: the
// same key and request again returns the wish as it is and writes nothing;
// the same key with another request is ECONFLICT "idempotency.mismatch".
type Wishes interface {
	// CreateWish stores a new wish (NewWish decides) for a resident of
	// req.UnitID. Returns ENOTFOUND for an unknown unit.
	CreateWish(ctx context.Context, req WishRequest, by WishActor, key string) (Wish, error)
	// Wish returns ENOTFOUND ("wish.not_found") for an unknown id.
	Wish(ctx context.Context, id uuid.UUID) (Wish, error)
	// ListWishes returns the wishes f selects, newest first.
	ListWishes(ctx context.Context, f WishFilter) ([]Wish, error)
	// VerifyWish, PublishWish, ClaimWish, FulfilWish, ConfirmWish,
	// WithdrawWish and RejectWish take one step as the rule of the same
	// name decides. ConfirmWish appends the award entries (opening the
	// community's issuer account if needed) in the same transaction.
	VerifyWish(ctx context.Context, id uuid.UUID, by WishActor, points *Points, key string) (Wish, error)
	PublishWish(ctx context.Context, id uuid.UUID, by WishActor, points *Points, key string) (Wish, error)
	ClaimWish(ctx context.Context, id uuid.UUID, by WishActor, team uuid.UUID, key string) (Wish, error)
	// FulfilWish stores the photos (their bytes in data, in order) with the report.
	FulfilWish(ctx context.Context, id uuid.UUID, by WishActor, note string, participants []uuid.UUID, photos []WishUpload, key string) (Wish, error)
	ConfirmWish(ctx context.Context, id uuid.UUID, by WishActor, req WishConfirmRequest, key string) (Wish, error)
	WithdrawWish(ctx context.Context, id uuid.UUID, by WishActor, reason, key string) (Wish, error)
	RejectWish(ctx context.Context, id uuid.UUID, by WishActor, reason, key string) (Wish, error)
	// AddWishPhoto stores a picture of the need (AddWishPhoto decides).
	AddWishPhoto(ctx context.Context, id uuid.UUID, by WishActor, photo WishUpload) (Wish, error)
	// WishPhoto returns picture n of a wish; ENOTFOUND when it has none.
	WishPhoto(ctx context.Context, id uuid.UUID, n int) (contentType string, data []byte, err error)
	// LapseWishClaims returns the wishes whose claims are overdue to the
	// wall, each in a write of its own: one that cannot be handled is
	// reported and the rest go on.
	LapseWishClaims(ctx context.Context) (SweepResult, error)
	// SetWishWall switches a community's public wish wall on or off.
	// Returns ENOTFOUND for an unknown unit, EINVALID ("wish.wall_community")
	// for a unit that is not a community.
	SetWishWall(ctx context.Context, community uuid.UUID, on bool, by uuid.UUID) (WishWall, error)
	// WishWalls returns the switches of the communities that have one set.
	WishWalls(ctx context.Context) (map[uuid.UUID]WishWall, error)
}

// WishUpload is a picture sent with a wish: its sniffed content type and bytes.
type WishUpload struct {
	Type string
	Data []byte
}
