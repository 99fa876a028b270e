package ledger

import "github.com/google/uuid"

// PresenceMethod says how the member was there when a voucher was made for
// them. It is recorded on the voucher, so that points spent on someone's
// behalf can be audited.
type PresenceMethod string

// The presence methods.
const (
	// PresenceSelf is a voucher the member made themself.
	PresenceSelf PresenceMethod = "self"
	// PresenceCard is an organiser's voucher for a member whose card QR the
	// organiser scanned.
	PresenceCard PresenceMethod = "card"
	// PresencePassword is an organiser's voucher for a member who typed their
	// own password on the organiser's screen.
	PresencePassword PresenceMethod = "password"
	// PresenceProxy is 代兑: an organiser's voucher made on the member's
	// behalf without either, chosen explicitly. Its slip carries a signature
	// line, and every list shows it as 代兑 with the organiser's name.
	PresenceProxy PresenceMethod = "proxy"
)

// Valid reports whether p is a known method.
func (p PresenceMethod) Valid() bool {
	switch p {
	case PresenceSelf, PresenceCard, PresencePassword, PresenceProxy:
		return true
	}
	return false
}

// PresenceProof is what a request for a voucher showed of the member it is
// for. What needs a secret or a password hash is checked by the caller
// first: CardMember is the member a scanned card names once its signature
// holds (ParseCard; a forged card never gets here), PasswordOK whether the
// member's password was typed right.
type PresenceProof struct {
	Method     PresenceMethod
	CardMember uuid.UUID
	PasswordOK bool
	// OwnPassword says the member chose that password themself: one set by
	// staff is known to staff, and proves nothing.
	OwnPassword bool
}

// CheckPresence decides whether u may make a voucher for member with the
// proof shown, and returns the presence to record on it. A volunteer's own
// voucher needs none (PresenceSelf). An administrator's or organiser's
// voucher for a member needs the member's card, naming that member; or the
// member's password, one the member chose themself (a password staff set is
// known to staff, and is refused with "voucher.member_password_not_own"
// after it was typed right); or else the explicit choice of a proxy voucher
// (代兑).
//
// Returns ENOTFOUND for a volunteer asking for someone else, EINVALID for no
// method or one that does not fit the role ("voucher.presence_required",
// "voucher.presence_invalid"), EFORBIDDEN for a card of another member
// ("voucher.card_other_member") or a wrong password
// ("voucher.member_password_wrong", the same whether or not the member has
// a password), and EFORBIDDEN for a role that makes no vouchers.
func CheckPresence(u User, member uuid.UUID, p PresenceProof) (PresenceMethod, error) {
	switch u.Role {
	case RoleVolunteer:
		if u.MemberID == uuid.Nil || u.MemberID != member {
			return "", Errorf(ENOTFOUND, "member.not_found")
		}
		if p.Method != "" && p.Method != PresenceSelf {
			return "", Errorf(EINVALID, "voucher.presence_invalid", Clip(string(p.Method)))
		}
		return PresenceSelf, nil
	case RoleAdmin, RoleOrganizer:
	default:
		return "", Errorf(EFORBIDDEN, "auth.forbidden")
	}
	switch p.Method {
	case "":
		return "", Errorf(EINVALID, "voucher.presence_required")
	case PresenceCard:
		if p.CardMember == uuid.Nil {
			return "", Errorf(EINVALID, "card.invalid")
		}
		if p.CardMember != member {
			return "", Errorf(EFORBIDDEN, "voucher.card_other_member")
		}
	case PresencePassword:
		if !p.PasswordOK {
			return "", Errorf(EFORBIDDEN, "voucher.member_password_wrong")
		}
		if !p.OwnPassword {
			return "", Errorf(EFORBIDDEN, "voucher.member_password_not_own")
		}
	case PresenceProxy:
	default:
		return "", Errorf(EINVALID, "voucher.presence_invalid", Clip(string(p.Method)))
	}
	return p.Method, nil
}
