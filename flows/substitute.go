package flows

import (
	"net/url"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// CheckSubstitute checks a substitute the way the chat does and writes
// their name and position properly (domain.ProperName); problems come back
// by field ("name", "position", "phone") in lang. The console uses it for
// answers staff record, so both accept and refuse the same things.
func CheckSubstitute(lang domain.Lang, name, position, phone string) (domain.Substitute, map[string]string) {
	sub := domain.Substitute{
		Name:     domain.ProperName(name),
		Position: domain.ProperPosition(position),
		Phone:    domain.NormalizePhone(phone),
	}
	errs := map[string]string{}
	if !validName(sub.Name) {
		errs["name"] = t(lang, "sub_bad_name")
	}
	if !validPosition(sub.Position) {
		errs["position"] = t(lang, "sub_bad_pos")
	}
	if sub.Phone == "" {
		errs["phone"] = t(lang, "sub_bad_phone", clip(strings.TrimSpace(phone), 30))
		sub.Phone = strings.TrimSpace(phone)
	}
	return sub, errs
}

// SubstituteInvite is a substitute's own invitation: whom they replace, when
// and where, and their own invite code and check-in link (publicURL ""
// leaves the link out). The chat shows it when the substitute opens their
// link or writes in; the bot sends it to a person already linked whose
// phone number the substitute was given with.
func SubstituteInvite(lang domain.Lang, ev *domain.Event, dir *domain.Directory, sub domain.Person, publicURL string) string {
	loc := ev.Location
	if loc == nil {
		loc = time.UTC
	}
	delegate, _ := dir.Person(sub.SubstituteFor)
	agency := sub.AgencyCode
	if a, ok := dir.Agency(sub.AgencyCode); ok {
		agency = a.Name(lang)
	}
	text := t(lang, "sub_invite", sub.FullName, delegate.FullName, agency, ev.Name(lang),
		FormatClock(ev.Start.In(loc)), FormatDate(lang, ev.Start.In(loc)), FormatClock(ev.DoorsOpen.In(loc)),
		ev.Venue(lang), ev.Address, sub.InviteCode)
	if publicURL != "" && sub.InviteToken != "" {
		text += "\n" + t(lang, "sub_invite_link", publicURL+"/checkin/"+url.PathEscape(sub.InviteToken))
	}
	return text
}
