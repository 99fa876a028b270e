package handlers

import (
	"context"
	"strconv"

	"aixin/ledger"
)

// The behaviour awards on a community's public points notice (积分公示):
// those in their notice period, with the member's name masked, so that
// residents can object before the points post.

// awardNotice is the notice's part for awards.
type awardNotice struct {
	// Show says the part is shown: the community has a notice period for
	// awards, or awards are still in one.
	Show  bool
	Days  int
	Lines []awardNoticeLine
	// Messages are the catalogue entries the part's script formats.
	Messages map[string]string
}

// awardNoticeLine is one award on the notice.
type awardNoticeLine struct {
	ID, Name, Behaviour, Points, Until string
}

// noticeAwards reads the awards of community unit in their notice period.
func (s *server) noticeAwards(ctx context.Context, unit ledger.Unit, lang string) (awardNotice, error) {
	out := awardNotice{Days: unit.AwardNoticeDays, Messages: s.cat.WithPrefix(lang, "js.award.notice.")}
	if s.cfg.Awards == nil {
		return out, nil
	}
	list, err := s.cfg.Awards.Awards(ctx, ledger.AwardFilter{Scope: ledger.Scope{All: true}, Community: unit.ID,
		Status: []ledger.AwardStatus{ledger.AwardInNotice}, Limit: 200})
	if err != nil {
		return out, err
	}
	for _, a := range list {
		name := ""
		if a.Target == ledger.TargetHousehold {
			if s.cfg.Households != nil {
				if h, err := s.cfg.Households.Household(ctx, a.HouseholdID); err == nil {
					if head, err := s.cfg.Directory.Member(ctx, h.HeadID); err == nil {
						name = s.cat.T(lang, "page.award.notice.household", ledger.MaskName(head.Name))
					}
				}
			}
		} else if m, err := s.cfg.Directory.Member(ctx, a.MemberID); err == nil {
			name = ledger.MaskName(m.Name)
		}
		points := strconv.FormatInt(a.Points, 10)
		if a.Points > 0 {
			points = "+" + points
		} else {
			points = "−" + strconv.FormatInt(-a.Points, 10)
		}
		out.Lines = append(out.Lines, awardNoticeLine{ID: a.ID.String(), Name: name, Behaviour: a.Name, Points: points,
			Until: a.ObjectionsClose(s.cfg.Location).Format("2006-01-02")})
	}
	out.Show = out.Days > 0 || len(out.Lines) > 0
	return out, nil
}
