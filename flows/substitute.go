package flows

import (
	"strings"

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
