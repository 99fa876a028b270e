package ledger

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// StaffChange is a change of a staff account that an administrator or an
// organiser asks for (PATCH /api/v1/users/{id}): a nil field is left as it
// is.
type StaffChange struct {
	Name     *string
	Disabled *bool
	// PasswordHash is the hash of a new password, "" to keep the password.
	PasswordHash string
}

// StaffFacts are what ChangeStaff needs to know besides the two accounts,
// read in the same transaction.
type StaffFacts struct {
	// TargetUnit is the unit an organiser is bound to, or the unit of a
	// clerk's shop; nil for an administrator, or when it cannot be found.
	TargetUnit *Unit
	// ActiveAdmins counts the administrators who are not disabled, the
	// target among them. Only a change that disables an administrator
	// needs it.
	ActiveAdmins int
}

// What a StaffUpdate changed, for the record.
const (
	StaffChangedName     = "name"
	StaffChangedPassword = "password"
	StaffDisabled        = "disabled"
	StaffEnabled         = "enabled"
)

// StaffUpdate is what ChangeStaff decided.
type StaffUpdate struct {
	// User is the account as it is to be stored.
	User User
	// Changed lists what changed (StaffChangedName, ...), in that order;
	// empty when the change asks for what already is, and nothing is to be
	// written.
	Changed []string
	// EndSessions says to end the account's sessions, all of them but the
	// one the actor makes the change with.
	EndSessions bool
}

// ChangeStaff decides a change of target's account by actor at now.
//
// An administrator may change any staff account; an organiser the
// organisers of units below their own and the clerks of shops in their
// subtree, and no administrator: any other account is ENOTFOUND, as the
// staff list does not show it, but another organiser of the same unit, whom
// the list shows, is EFORBIDDEN (a colleague must not be able to take over
// an account: an organiser above, or an administrator, changes it). Volunteers are members and are changed there (EINVALID). Nobody
// disables their own account or sets their own password here (EINVALID:
// their own password is changed with the current one), and the last active
// administrator stays (ECONFLICT). A disabled actor is EUNAUTHORIZED, a
// clerk or a volunteer EFORBIDDEN; a change that changes nothing EINVALID.
//
// Every change ends the account's sessions but the actor's own: a password
// set by someone else, a disabled account, a name given to the account of
// someone new all mean that who was logged in must log in again.
func ChangeStaff(actor, target User, f StaffFacts, ch StaffChange, now time.Time) (StaffUpdate, error) {
	switch {
	case actor.Disabled:
		return StaffUpdate{}, Errorf(EUNAUTHORIZED, "auth.login_required")
	case actor.Role != RoleAdmin && actor.Role != RoleOrganizer:
		return StaffUpdate{}, Errorf(EFORBIDDEN, "auth.forbidden")
	case !actor.reaches(target, f):
		// Before telling a volunteer's account from a staff one: who may not see it learns nothing.
		return StaffUpdate{}, Errorf(ENOTFOUND, "user.not_found")
	case target.Role == RoleVolunteer:
		return StaffUpdate{}, Errorf(EINVALID, "user.volunteer_is_member")
	case ch.Name == nil && ch.Disabled == nil && ch.PasswordHash == "":
		return StaffUpdate{}, Errorf(EINVALID, "user.nothing_to_change")
	}
	self := actor.ID == target.ID
	switch {
	case !self && actor.Role == RoleOrganizer && target.Role == RoleOrganizer && target.UnitID == actor.UnitID:
		// A colleague of the same unit could take over the account: an organiser above, or an administrator, decides.
		return StaffUpdate{}, Errorf(EFORBIDDEN, "user.peer_organizer")
	case self && ch.Disabled != nil && *ch.Disabled:
		return StaffUpdate{}, Errorf(EINVALID, "user.disable_self")
	case self && ch.PasswordHash != "":
		return StaffUpdate{}, Errorf(EINVALID, "user.own_password")
	case ch.Disabled != nil && *ch.Disabled && !target.Disabled && target.Role == RoleAdmin && f.ActiveAdmins <= 1:
		return StaffUpdate{}, Errorf(ECONFLICT, "user.last_admin")
	}

	up := StaffUpdate{User: target}
	u := &up.User
	if ch.Name != nil {
		name, err := (Text{Field: "field.staff_name", Key: "user.name_invalid", Max: 64}).Clean(*ch.Name)
		if err != nil {
			return StaffUpdate{}, err
		}
		if name != u.Name {
			u.Name = name
			up.Changed = append(up.Changed, StaffChangedName)
		}
	}
	if ch.PasswordHash != "" {
		u.PasswordHash, u.OwnPassword = ch.PasswordHash, false
		up.Changed = append(up.Changed, StaffChangedPassword)
	}
	if ch.Disabled != nil && *ch.Disabled != u.Disabled {
		u.Disabled = *ch.Disabled
		if u.Disabled {
			u.DisabledAt = now.UTC()
			up.Changed = append(up.Changed, StaffDisabled)
		} else {
			u.DisabledAt = time.Time{}
			up.Changed = append(up.Changed, StaffEnabled)
		}
	}
	if len(up.Changed) == 0 {
		return StaffUpdate{User: target}, nil
	}
	u.UpdatedAt, u.UpdatedBy = now.UTC(), actor.ID
	up.EndSessions = true
	return up, nil
}

// reaches reports whether staff user u may act on target's account.
func (u User) reaches(target User, f StaffFacts) bool {
	switch u.Role {
	case RoleAdmin:
		return true
	case RoleOrganizer:
		return target.Role != RoleAdmin && u.UnitID != uuid.Nil && f.TargetUnit != nil && f.TargetUnit.Within(u.UnitID)
	}
	return false
}

// SecondEyes reports whether staff user u may be the second pair of eyes
// (四眼) on points put forward by recorder in the community whose path
// (street, community, ...) is path: an administrator, or an organiser of
// the community or of its street, who is not the recorder. An organiser of
// a grid or building below the community is not: the community's
// organisers make those accounts, and so could make their own second pair
// of eyes (organisers make accounts only below their own unit, so an
// organiser of the community itself was made by someone above it).
func SecondEyes(u User, recorder uuid.UUID, path []uuid.UUID) bool {
	switch {
	case u.ID == recorder || u.Disabled:
		return false
	case u.Role == RoleAdmin:
		return true
	case u.Role != RoleOrganizer || u.UnitID == uuid.Nil:
		return false
	}
	return slices.Contains(path[:min(len(path), 2)], u.UnitID)
}

// MayMakeStaff decides whether actor may make a staff account of role
// bound to unit (nil for a role without one): an administrator any; an
// organiser only organisers and grid workers of units strictly below their
// own (a colleague of their own unit is made by someone above, as only
// someone above changes one: see ChangeStaff), and clerks of the shops in
// their subtree; nobody else any (EFORBIDDEN).
func MayMakeStaff(actor User, role Role, unit *Unit) error {
	switch {
	case actor.Disabled:
		return Errorf(EUNAUTHORIZED, "auth.login_required")
	case actor.Role == RoleAdmin:
		return nil
	case actor.Role != RoleOrganizer:
		return Errorf(EFORBIDDEN, "auth.forbidden")
	case role == RoleAdmin:
		return Errorf(EFORBIDDEN, "user.role_not_allowed", string(role))
	case (role == RoleOrganizer || role == RoleGridWorker) && unit != nil && unit.ID == actor.UnitID:
		return Errorf(EFORBIDDEN, "user.same_unit_staff")
	}
	return nil
}
