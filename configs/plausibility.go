package configs

import (
	"strings"

	"github.com/dieuphoi/dieuphoi/domain"
)

// loadPlausibility reads the optional columns of the soft checks
// (flows/flags.go): change_limit, a percentage ("50" or "50%": warn when
// the value moves more than that from last year's; blank is the default
// ±50 %), soft_min and soft_max (the usual range: outside it warns, never
// refuses) and numerator/denominator (codes of the indicators this one is
// the ratio of).
func loadPlausibility(file string, row int, ind *domain.Indicator, get func(string) string, probs *problems) {
	if c := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(get("change_limit")), "%")); c != "" {
		if f := boundCell(file, row, "change_limit", c, probs); f != nil {
			if *f <= 0 {
				probs.addf(file, row, "change_limit", "%s must be a positive percentage, e.g. 50", quote(get("change_limit")))
			} else {
				ind.ChangeLimit = *f / 100
			}
		}
	}
	ind.SoftMin = boundCell(file, row, "soft_min", get("soft_min"), probs)
	ind.SoftMax = boundCell(file, row, "soft_max", get("soft_max"), probs)
	if ind.SoftMin != nil && ind.SoftMax != nil && *ind.SoftMin > *ind.SoftMax {
		probs.addf(file, row, "soft_max", "%s is less than soft_min %s", get("soft_max"), get("soft_min"))
	}
	if (ind.SoftMin != nil || ind.SoftMax != nil || ind.ChangeLimit != 0) && ind.Type != "" && !ind.Type.Numeric() {
		probs.addf(file, row, "soft_min", "only numeric indicators have soft checks; leave them blank for %s", ind.Type)
		ind.SoftMin, ind.SoftMax, ind.ChangeLimit = nil, nil, 0
	}
	ind.Numerator, ind.Denominator = get("numerator"), get("denominator")
	if (ind.Numerator == "") != (ind.Denominator == "") {
		probs.addf(file, row, "denominator", "numerator and denominator go together")
	}
}

// checkRatios makes sure numerator and denominator name indicators of the
// catalog (seen holds the upper-cased codes with their rows).
func checkRatios(file string, inds []domain.Indicator, seen map[string]int, probs *problems) {
	canon := map[string]string{}
	for _, i := range inds {
		canon[strings.ToUpper(i.Code)] = i.Code
	}
	for k, i := range inds {
		row := seen[strings.ToUpper(i.Code)]
		for _, f := range []struct {
			field string
			code  *string
		}{{"numerator", &inds[k].Numerator}, {"denominator", &inds[k].Denominator}} {
			if *f.code == "" {
				continue
			}
			c, ok := canon[strings.ToUpper(*f.code)]
			switch {
			case !ok:
				probs.addf(file, row, f.field, "%s is not an indicator of this catalog", quote(*f.code))
			case strings.EqualFold(c, i.Code):
				probs.addf(file, row, f.field, "an indicator cannot be its own %s", f.field)
			default:
				*f.code = c
			}
		}
	}
}
