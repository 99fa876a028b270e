package ledger

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// UnitKind is the level of a unit in the organisation tree.
type UnitKind string

// The levels, from the top: 街道 street, 社区 community, 网格 grid, 楼栋 building.
const (
	UnitStreet    UnitKind = "street"
	UnitCommunity UnitKind = "community"
	UnitGrid      UnitKind = "grid"
	UnitBuilding  UnitKind = "building"
)

// unitParent says under which kind each kind of unit sits ("" for the top).
var unitParent = map[UnitKind]UnitKind{
	UnitStreet:    "",
	UnitCommunity: UnitStreet,
	UnitGrid:      UnitCommunity,
	UnitBuilding:  UnitGrid,
}

// Unit is one node of the organisation tree. Every member, team, event and
// shop belongs to one unit; an organiser's rights cover a unit's subtree.
type Unit struct {
	ID       uuid.UUID `json:"id"`
	Name     string    `json:"name"`
	Kind     UnitKind  `json:"kind"`
	ParentID uuid.UUID `json:"parent_id,omitzero"`
	// Path lists the unit's ancestors from the top, then the unit itself.
	Path []uuid.UUID `json:"path"`
	// Posts are the service posts (服务岗位) a community offers for 在职党员 to claim.
	Posts []string `json:"posts,omitempty"`
	// PublicNotice says the community publishes its monthly points notice
	// (积分公示) on a public page, with names masked.
	PublicNotice bool `json:"public_notice,omitempty"`
	// NoticeDays is the notice's objection period (公示期) in days, from the
	// first day after the month; set when the notice is first turned on.
	NoticeDays int `json:"notice_days,omitempty"`
	// NoticeContact is who to call with an objection (社区居委会 王老师 028-…).
	NoticeContact string `json:"notice_contact,omitempty"`
	// AwardNoticeDays is how many days a community's behaviour awards stay
	// on its public notice before their points post, for objections (0:
	// they post at once).
	AwardNoticeDays int       `json:"award_notice_days,omitempty"`
	CreatedAt       time.Time `json:"created_at"`

	// ExpiryYears is a street's points expiry policy (see expiry.go): 0, the
	// default, for none; N (MinExpiryYears to MaxExpiryYears) for points that
	// expire N years after the end of the year they were earned in.
	ExpiryYears int `json:"expiry_years,omitempty"`
	// ExpirySetAt and ExpirySetBy say when and by whom the policy was last changed.
	ExpirySetAt time.Time `json:"expiry_set_at,omitzero"`
	ExpirySetBy uuid.UUID `json:"expiry_set_by,omitzero"`
}

// The objection period of a points notice: DefaultNoticeDays unless the
// community sets another, from MinNoticeDays to MaxNoticeDays.
const (
	DefaultNoticeDays = 7
	MinNoticeDays     = 1
	MaxNoticeDays     = 30
)

// NoticeContact is the rule for a notice's contact: up to 60 characters
// on one line. It may start with + (+86 …): it goes on a web page, never
// into a spreadsheet.
var NoticeContact = Text{Field: "field.notice_contact", Key: "unit.notice_contact_invalid", Max: 60, Formula: true}

// NoticePatch changes how a community publishes its points notice; a nil
// field stays as it is.
type NoticePatch struct {
	On      *bool   `json:"public_notice"`
	Days    *int    `json:"notice_days"`
	Contact *string `json:"notice_contact"`
	// AwardDays is the notice period of behaviour awards (0 to
	// MaxAwardNoticeDays; 0: none).
	AwardDays *int `json:"award_notice_days"`
}

// Empty reports whether the patch changes nothing.
func (p NoticePatch) Empty() bool {
	return p.On == nil && p.Days == nil && p.Contact == nil && p.AwardDays == nil
}

// PatchNotice decides a change to a unit's points notice: only a community
// has one; the objection period is MinNoticeDays to MaxNoticeDays (and
// DefaultNoticeDays when the notice is turned on without one); the contact
// follows NoticeContact. It returns EINVALID and the unit unchanged when
// any part is wrong.
func (u Unit) PatchNotice(p NoticePatch) (Unit, error) {
	if u.Kind != UnitCommunity {
		return u, Errorf(EINVALID, "unit.notice_community")
	}
	out := u
	if p.Days != nil {
		if *p.Days < MinNoticeDays || *p.Days > MaxNoticeDays {
			return u, Errorf(EINVALID, "unit.notice_days_invalid", MinNoticeDays, MaxNoticeDays)
		}
		out.NoticeDays = *p.Days
	}
	if p.AwardDays != nil {
		if *p.AwardDays < 0 || *p.AwardDays > MaxAwardNoticeDays {
			return u, Errorf(EINVALID, "unit.award_notice_days_invalid", 0, MaxAwardNoticeDays)
		}
		out.AwardNoticeDays = *p.AwardDays
	}
	if p.Contact != nil {
		c, err := NoticeContact.Clean(*p.Contact)
		if err != nil {
			return u, err
		}
		out.NoticeContact = c
	}
	if p.On != nil {
		out.PublicNotice = *p.On
	}
	if out.PublicNotice && out.NoticeDays == 0 {
		out.NoticeDays = DefaultNoticeDays
	}
	return out, nil
}

// NoticePeriod is the objection period of the notice of month m in loc:
// from the first day after the month for NoticeDays days (DefaultNoticeDays
// when unset), as dates; the last day is inclusive.
func (u Unit) NoticePeriod(m Month, loc *time.Location) (from, to time.Time) {
	days := u.NoticeDays
	if days == 0 {
		days = DefaultNoticeDays
	}
	from = time.Date(int(m)/100, time.Month(int(m)%100), 1, 0, 0, 0, 0, loc).AddDate(0, 1, 0)
	return from, from.AddDate(0, 0, days-1)
}

// Within reports whether the unit lies in the subtree of unit root.
func (u Unit) Within(root uuid.UUID) bool { return slices.Contains(u.Path, root) }

// NewUnit checks a unit to be created under parent (nil for a street) and
// returns it with its path. It returns EINVALID for a bad name or kind, or a
// kind that does not belong under the parent's kind.
func NewUnit(id uuid.UUID, name string, kind UnitKind, parent *Unit, now time.Time) (Unit, error) {
	name, err := cleanName(name, "field.unit_name", "unit.name_invalid")
	if err != nil {
		return Unit{}, err
	}
	want, ok := unitParent[kind]
	if !ok {
		return Unit{}, Errorf(EINVALID, "unit.kind_invalid", Clip(string(kind)))
	}
	u := Unit{ID: id, Name: name, Kind: kind, CreatedAt: now.UTC()}
	switch {
	case parent == nil && want != "":
		return Unit{}, Errorf(EINVALID, "unit.parent_required", string(kind), string(want))
	case parent != nil && parent.Kind != want:
		return Unit{}, Errorf(EINVALID, "unit.parent_kind", string(kind), string(want))
	case parent != nil:
		u.ParentID = parent.ID
		u.Path = append(slices.Clone(parent.Path), id)
	default:
		u.Path = []uuid.UUID{id}
	}
	return u, nil
}

// CleanPosts trims, de-duplicates and checks a community's service posts.
func CleanPosts(posts []string) ([]string, error) {
	var out []string
	for _, p := range posts {
		p, err := cleanName(p, "field.post", "unit.post_invalid")
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) > 100 {
		return nil, Errorf(EINVALID, "unit.too_many_posts", 100)
	}
	return out, nil
}

// cleanName trims a name and checks it is 1 to 64 characters of text (see
// Text.Clean) that cannot be taken for a spreadsheet formula; key is the
// field's message for an empty or too long name.
func cleanName(s string, field Term, key string) (string, error) {
	return Text{Field: field, Key: key, Max: 64, Required: true}.Clean(s)
}

// Clip shortens text from a request to at most 40 characters, for echoing it
// back in a message.
func Clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// TeamKind is what a team is.
type TeamKind string

// The team kinds.
const (
	TeamPartyVolunteer TeamKind = "party_volunteer_team" // 党员志愿服务队
	TeamOnDuty         TeamKind = "on_duty_members"      // 在职党员 of one employer (报到单位)
	TeamVolunteer      TeamKind = "volunteer_team"       // 居民志愿服务队
)

// Team is a group of members in a unit; a member can be in several.
type Team struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	Kind      TeamKind  `json:"kind"`
	UnitID    uuid.UUID `json:"unit_id"`
	CreatedAt time.Time `json:"created_at"`
}

// Check checks a team's name and kind.
func (t *Team) Check() error {
	name, err := cleanName(t.Name, "field.team_name", "team.name_invalid")
	if err != nil {
		return err
	}
	t.Name = name
	switch t.Kind {
	case TeamPartyVolunteer, TeamOnDuty, TeamVolunteer:
		return nil
	}
	return Errorf(EINVALID, "team.kind_invalid", Clip(string(t.Kind)))
}

// MemberStatus says whether a member takes part.
type MemberStatus string

// The member statuses.
const (
	MemberActive    MemberStatus = "active"
	MemberSuspended MemberStatus = "suspended"
	MemberLeft      MemberStatus = "left"
)

// OnDuty is what aixin knows of a working party member registered with their
// residential community (在职党员“双报到”).
type OnDuty struct {
	WorkUnit string `json:"work_unit"` // 报到单位, the employer
	// ReportedAt is the date they registered, YYYY-MM-DD.
	ReportedAt        string `json:"reported_at,omitempty"`
	AnnualTargetHours int    `json:"annual_target_hours,omitempty"`
}

// Categories are the service categories (服务类别), from the source practice.
// They are data: the list can grow without code that depends on its members.
var Categories = []string{"政策宣讲", "业务咨询", "医疗义诊", "环境整治", "文明劝导", "邻里互助", "应急抢险", "治安巡逻", "助老助残", "其他"}

// Member is a volunteer. Their phone is their login.
type Member struct {
	ID          uuid.UUID    `json:"id"`
	Name        string       `json:"name"`
	Phone       string       `json:"phone"`
	UnitID      uuid.UUID    `json:"unit_id"`
	TeamIDs     []uuid.UUID  `json:"team_ids"`
	PartyMember bool         `json:"party_member"`
	Skills      []string     `json:"skills"`
	Status      MemberStatus `json:"status"`
	OnDuty      *OnDuty      `json:"on_duty,omitempty"`
	// Posts are the service posts of the member's community they claimed.
	Posts     []string  `json:"posts"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

var mobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// NormalizePhone returns a mainland mobile number as 11 digits, accepting
// spaces, dashes and a +86 or 86 prefix; EINVALID otherwise.
func NormalizePhone(s string) (string, error) {
	p := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	p = strings.TrimPrefix(p, "+")
	if len(p) == 13 && strings.HasPrefix(p, "86") {
		p = p[2:]
	}
	if !mobile.MatchString(p) {
		return "", Errorf(EINVALID, "member.phone_invalid", Clip(s))
	}
	return p, nil
}

// MaskPhone shows a phone as lists do: 138****5678.
func MaskPhone(p string) string {
	if len(p) != 11 {
		return "***"
	}
	return p[:3] + "****" + p[7:]
}

// Check normalises and checks a member on its own: name, phone, status,
// skills, on-duty details. community is the member's community (for posts);
// nil when the member's unit is above community level.
func (m *Member) Check(community *Unit) error {
	name, err := cleanName(m.Name, "field.name", "member.name_invalid")
	if err != nil {
		return err
	}
	m.Name = name
	if m.Phone, err = NormalizePhone(m.Phone); err != nil {
		return err
	}
	if m.UnitID == uuid.Nil {
		return Errorf(EINVALID, "member.unit_required")
	}
	switch m.Status {
	case "":
		m.Status = MemberActive
	case MemberActive, MemberSuspended, MemberLeft:
	default:
		return Errorf(EINVALID, "member.status_invalid", Clip(string(m.Status)))
	}
	skills := []string{}
	for _, s := range m.Skills {
		s = strings.TrimSpace(s)
		if !slices.Contains(Categories, s) {
			return Errorf(EINVALID, "member.skill_invalid", Clip(s))
		}
		if !slices.Contains(skills, s) {
			skills = append(skills, s)
		}
	}
	m.Skills = skills
	if m.TeamIDs == nil {
		m.TeamIDs = []uuid.UUID{}
	}
	slices.SortFunc(m.TeamIDs, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	m.TeamIDs = slices.Compact(m.TeamIDs)
	if d := m.OnDuty; d != nil {
		if d.WorkUnit, err = cleanName(d.WorkUnit, "field.work_unit", "member.work_unit_invalid"); err != nil {
			return err
		}
		if d.ReportedAt != "" {
			if _, err := time.Parse(time.DateOnly, d.ReportedAt); err != nil {
				return Errorf(EINVALID, "member.reported_at_invalid", Clip(d.ReportedAt))
			}
		}
		if d.AnnualTargetHours < 0 || d.AnnualTargetHours > 2000 {
			return Errorf(EINVALID, "member.target_invalid")
		}
	}
	posts := []string{}
	for _, p := range m.Posts {
		p = strings.TrimSpace(p)
		if community == nil || !slices.Contains(community.Posts, p) {
			return Errorf(EINVALID, "member.post_unknown", Clip(p))
		}
		if !slices.Contains(posts, p) {
			posts = append(posts, p)
		}
	}
	m.Posts = posts
	return nil
}

// Scope is what a staff user may see: everything (admin) or one unit's subtree.
type Scope struct {
	All  bool
	Unit uuid.UUID
}

// Covers reports whether the scope includes unit u.
func (s Scope) Covers(u Unit) bool { return s.All || (s.Unit != uuid.Nil && u.Within(s.Unit)) }

// MemberFilter selects members in a list.
type MemberFilter struct {
	Scope Scope
	// Query matches a part of the name, or the last digits of the phone.
	Query       string
	UnitID      uuid.UUID // the unit's subtree
	TeamID      uuid.UUID
	PartyMember *bool
	OnDuty      *bool
	Status      MemberStatus
	// After is the id of the last member of the previous page.
	After uuid.UUID
	Limit int
}

// ImportResult says what a roster import did, row by row.
type ImportResult struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Invalid   int `json:"invalid"`
	// Written is false when nothing was written (a bad row in an all-or-nothing import).
	Written bool        `json:"written"`
	Rows    []ImportRow `json:"rows"`
}

// ImportItem is one roster row on its way into the store: the member it
// describes, or the problem found while reading it.
type ImportItem struct {
	Row    int
	Member Member
	// Present lists the fields the file has columns for ("name", "phone",
	// "unit", "teams", "party_member", "work_unit", "reported_at",
	// "annual_target_hours", "skills", "posts", "status"); an update of an
	// existing member changes only these.
	Present []string
	Field   string // the column of the problem
	Err     *Error
}

// ImportRow is the outcome of one roster row.
type ImportRow struct {
	Row     int    `json:"row"`    // as the spreadsheet numbers it, header = 1
	Status  string `json:"status"` // created, updated, unchanged, invalid
	Field   string `json:"field,omitempty"`
	Problem string `json:"problem,omitempty"` // translated message
	Phone   string `json:"phone,omitempty"`   // masked
	Name    string `json:"name,omitempty"`
	// Err is the problem as an error, translated by the caller into Problem.
	Err *Error `json:"-"`
}

// Directory keeps the organisation tree, teams and members.
type Directory interface {
	// CreateUnit adds a unit. Returns ENOTFOUND for an unknown parent, EINVALID per NewUnit.
	CreateUnit(ctx context.Context, name string, kind UnitKind, parentID uuid.UUID, posts []string) (Unit, error)
	// UpdateUnit renames a unit and/or replaces its posts (nil leaves them). Returns ENOTFOUND.
	UpdateUnit(ctx context.Context, id uuid.UUID, name string, posts []string) (Unit, error)
	// SetPublicNotice changes a community's public points notice (on or
	// off, its objection period, its contact) as Unit.PatchNotice decides.
	// Returns ENOTFOUND, and EINVALID as PatchNotice does.
	SetPublicNotice(ctx context.Context, id uuid.UUID, p NoticePatch) (Unit, error)
	// Unit returns ENOTFOUND for an unknown id.
	Unit(ctx context.Context, id uuid.UUID) (Unit, error)
	// Units returns every unit, parents before children.
	Units(ctx context.Context) ([]Unit, error)

	// CreateTeam adds a team. Returns ENOTFOUND for an unknown unit, ECONFLICT for a name taken in the unit.
	CreateTeam(ctx context.Context, t Team) (Team, error)
	// Team returns ENOTFOUND for an unknown id.
	Team(ctx context.Context, id uuid.UUID) (Team, error)
	// Teams returns every team, by unit then name.
	Teams(ctx context.Context) ([]Team, error)

	// CreateMember adds a member, their volunteer login (the phone; passwordHash
	// may be empty: no login until a password is set) and their points
	// account, in one transaction. Returns ECONFLICT if the phone is taken,
	// ENOTFOUND for an unknown unit or team, EINVALID per Member.Check.
	CreateMember(ctx context.Context, m Member, passwordHash string) (Member, error)
	// UpdateMember replaces a member's details (not the id or creation time).
	UpdateMember(ctx context.Context, m Member) (Member, error)
	// Member returns ENOTFOUND for an unknown id.
	Member(ctx context.Context, id uuid.UUID) (Member, error)
	// Members returns a page of members matching f, by id.
	Members(ctx context.Context, f MemberFilter) ([]Member, error)
	// ImportMembers creates or updates members by phone in one transaction.
	// Items that arrive with an error are reported as they are; the store
	// adds what it finds (a phone twice in the file, a phone of a member
	// outside scope, an unknown unit or team). With skipInvalid false, one
	// invalid row means nothing is written. Importing the same rows again
	// changes nothing.
	ImportMembers(ctx context.Context, scope Scope, items []ImportItem, skipInvalid bool) (ImportResult, error)
}
