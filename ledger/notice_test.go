package ledger

import (
	"testing"
	"time"
)

func TestPatchNotice(t *testing.T) {
	on, off := true, false
	days := func(n int) *int { return &n }
	text := func(s string) *string { return &s }
	community := Unit{Name: "东河社区", Kind: UnitCommunity}
	for _, tc := range []struct {
		name        string
		unit        Unit
		patch       NoticePatch
		wantOn      bool
		wantDays    int
		wantContact string
		wantKey     string
	}{
		{"TurnedOnTakesTheDefaultPeriod", community, NoticePatch{On: &on}, true, 7, "", ""},
		{"OnWithItsOwnPeriod", community, NoticePatch{On: &on, Days: days(10), Contact: text(" 社区居委会 王老师 028-8888 8888 ")}, true, 10, "社区居委会 王老师 028-8888 8888", ""},
		{"OffKeepsThePeriod", Unit{Kind: UnitCommunity, PublicNotice: true, NoticeDays: 5}, NoticePatch{On: &off}, false, 5, "", ""},
		{"PeriodWhileOff", community, NoticePatch{Days: days(3)}, false, 3, "", ""},
		{"ContactMayStartWithPlus", community, NoticePatch{Contact: text("+86 138 0000 0000")}, false, 0, "+86 138 0000 0000", ""},
		{"ContactCleared", Unit{Kind: UnitCommunity, NoticeContact: "王老师"}, NoticePatch{Contact: text("")}, false, 0, "", ""},
		{"OneDay", community, NoticePatch{Days: days(1)}, false, 1, "", ""},
		{"ThirtyDays", community, NoticePatch{Days: days(30)}, false, 30, "", ""},
		{"ZeroDays", community, NoticePatch{On: &on, Days: days(0)}, false, 0, "", "unit.notice_days_invalid"},
		{"TooManyDays", community, NoticePatch{Days: days(31)}, false, 0, "", "unit.notice_days_invalid"},
		{"NegativeDays", community, NoticePatch{Days: days(-7)}, false, 0, "", "unit.notice_days_invalid"},
		{"ContactOfNULs", community, NoticePatch{Contact: text(string(make([]rune, 3)))}, false, 0, "", "text.control"},
		{"Contact60", community, NoticePatch{Contact: text(longText(60))}, false, 0, longText(60), ""},
		{"ContactTooLong", community, NoticePatch{Contact: text(longText(61))}, false, 0, "", "unit.notice_contact_invalid"},
		{"ContactWithLineBreak", community, NoticePatch{Contact: text("王老师\n电话")}, false, 0, "", "text.control"},
		{"ContactWithBidi", community, NoticePatch{Contact: text("王老师\u202e8888")}, false, 0, "", "text.bidi"},
		{"NotACommunity", Unit{Kind: UnitGrid}, NoticePatch{On: &on}, false, 0, "", "unit.notice_community"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.unit.PatchNotice(tc.patch)
			if tc.wantKey != "" {
				if e, ok := err.(*Error); !ok || e.Key != tc.wantKey {
					t.Fatalf("error %v, want %s", err, tc.wantKey)
				}
				if got.PublicNotice != tc.unit.PublicNotice || got.NoticeDays != tc.unit.NoticeDays || got.NoticeContact != tc.unit.NoticeContact {
					t.Fatalf("a refused patch changed the unit: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.PublicNotice != tc.wantOn || got.NoticeDays != tc.wantDays || got.NoticeContact != tc.wantContact {
				t.Fatalf("got on %v, %d days, contact %q", got.PublicNotice, got.NoticeDays, got.NoticeContact)
			}
		})
	}
}

func longText(n int) string {
	r := make([]rune, n)
	for i := range r {
		r[i] = '八'
	}
	return string(r)
}

func TestNoticePeriod(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		days     int
		month    Month
		from, to string
	}{
		{"Default", 0, 202611, "2026-12-01", "2026-12-07"},
		{"OneDay", 1, 202611, "2026-12-01", "2026-12-01"},
		{"AcrossTheYear", 10, 202612, "2027-01-01", "2027-01-10"},
		{"February", 30, 202601, "2026-02-01", "2026-03-02"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, to := Unit{NoticeDays: tc.days}.NoticePeriod(tc.month, sh)
			if f, e := from.Format("2006-01-02"), to.Format("2006-01-02"); f != tc.from || e != tc.to || from.Location() != sh {
				t.Fatalf("%s: %s – %s, want %s – %s", tc.month, f, e, tc.from, tc.to)
			}
		})
	}
}
