package ledger

import (
	"testing"

	"github.com/google/uuid"
)

func TestCheckPresence(t *testing.T) {
	member, other := uuid.New(), uuid.New()
	volunteer := User{Role: RoleVolunteer, MemberID: member}
	organiser := User{Role: RoleOrganizer, UnitID: uuid.New()}
	admin := User{Role: RoleAdmin}
	clerk := User{Role: RoleClerk, ShopID: uuid.New()}
	for _, tc := range []struct {
		name   string
		u      User
		member uuid.UUID
		proof  PresenceProof
		want   PresenceMethod
		code   string
		key    string
	}{
		{"VolunteerOwn", volunteer, member, PresenceProof{}, PresenceSelf, "", ""},
		{"VolunteerOwnSaysSelf", volunteer, member, PresenceProof{Method: PresenceSelf}, PresenceSelf, "", ""},
		{"VolunteerCannotProxy", volunteer, member, PresenceProof{Method: PresenceProxy}, "", EINVALID, "voucher.presence_invalid"},
		{"VolunteerForAnother", volunteer, other, PresenceProof{Method: PresenceProxy}, "", ENOTFOUND, "member.not_found"},
		{"VolunteerWithoutMember", User{Role: RoleVolunteer}, uuid.Nil, PresenceProof{}, "", ENOTFOUND, "member.not_found"},
		{"OrganiserNeedsAMethod", organiser, member, PresenceProof{}, "", EINVALID, "voucher.presence_required"},
		{"OrganiserIsNotTheMember", organiser, member, PresenceProof{Method: PresenceSelf}, "", EINVALID, "voucher.presence_invalid"},
		{"OrganiserUnknownMethod", organiser, member, PresenceProof{Method: "phone call"}, "", EINVALID, "voucher.presence_invalid"},
		{"Card", organiser, member, PresenceProof{Method: PresenceCard, CardMember: member}, PresenceCard, "", ""},
		{"CardOfAnother", organiser, member, PresenceProof{Method: PresenceCard, CardMember: other}, "", EFORBIDDEN, "voucher.card_other_member"},
		{"CardNotRead", organiser, member, PresenceProof{Method: PresenceCard}, "", EINVALID, "card.invalid"},
		{"CardWithAPasswordToo", organiser, member, PresenceProof{Method: PresenceCard, CardMember: other, PasswordOK: true}, "", EFORBIDDEN, "voucher.card_other_member"},
		{"Password", admin, member, PresenceProof{Method: PresencePassword, PasswordOK: true, OwnPassword: true}, PresencePassword, "", ""},
		// A password staff set is known to staff: typing it proves nothing.
		{"PasswordStaffSet", organiser, member, PresenceProof{Method: PresencePassword, PasswordOK: true}, "", EFORBIDDEN, "voucher.member_password_not_own"},
		{"WrongPassword", organiser, member, PresenceProof{Method: PresencePassword}, "", EFORBIDDEN, "voucher.member_password_wrong"},
		{"PasswordWithTheRightCard", organiser, member, PresenceProof{Method: PresencePassword, CardMember: member}, "", EFORBIDDEN, "voucher.member_password_wrong"},
		{"Proxy", organiser, member, PresenceProof{Method: PresenceProxy}, PresenceProxy, "", ""},
		{"ClerkMakesNone", clerk, member, PresenceProof{Method: PresenceProxy}, "", EFORBIDDEN, "auth.forbidden"},
		{"NoRole", User{}, member, PresenceProof{Method: PresenceProxy}, "", EFORBIDDEN, "auth.forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckPresence(tc.u, tc.member, tc.proof)
			if tc.code != "" {
				le, ok := AsError(err)
				if !ok || le.Code != tc.code || le.Key != tc.key || got != "" {
					t.Fatalf("got %q %v, want %s %s", got, err, tc.code, tc.key)
				}
				return
			}
			if err != nil || got != tc.want || !got.Valid() {
				t.Fatalf("got %q %v, want %q", got, err, tc.want)
			}
		})
	}
	if PresenceMethod("").Valid() || PresenceMethod("Proxy").Valid() {
		t.Fatal("an unknown method is valid")
	}
}
