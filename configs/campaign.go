package configs

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// The data campaign: the PII indicator catalog, who supplies what by when.
// event.yaml may have a campaign section:
//
//	campaign:
//	  deadline: "2024-08-30 17:00"          # the default deadline, local time
//	  agency_deadlines: {SCT: "2024-08-23 17:00"}  # optional, per agency
//	  indicators: indicators.csv
//	  assignments: assignments.csv
//	  staff_contact: {name: ..., phone: ..., email: ...}  # optional
//
// Without it the event loads alone, with no indicators.

// campaignSpec is the campaign section of event.yaml.
type campaignSpec struct {
	deadline    time.Time
	byAgency    map[string]time.Time // as written in event.yaml
	agencyLines map[string]int
	indicators  string
	assignments string
	staff       domain.Contact
	// Where the campaign stands among others (all optional): its id and
	// name (the event's when absent), the campaign before it, the catalog
	// version, and indicator codes renamed since the previous campaign
	// (new code: old code).
	id, nameVI, nameEN, previous, version string
	renamed                               map[string]string
}

// deadlines decides an assignment's deadline when its row gives none.
type deadlines struct {
	def      time.Time
	byAgency map[string]time.Time // upper-case agency code -> deadline
}

func (d deadlines) forAgency(code string) time.Time {
	if t, ok := d.byAgency[strings.ToUpper(code)]; ok {
		return t
	}
	return d.def
}

func parseCampaign(f *yamlFile, top obj, loc *time.Location) *campaignSpec {
	n, ok := top.keys["campaign"]
	if !ok {
		return nil
	}
	o := f.mapping(n, "campaign", "deadline", "agency_deadlines", "indicators", "assignments", "staff_contact",
		"id", "name", "previous", "catalog_version", "renamed")
	spec := &campaignSpec{byAgency: map[string]time.Time{}, agencyLines: map[string]int{}}
	if v, line := o.str("deadline", true); v != "" {
		t, ok := parseDateTime(v, loc)
		if !ok {
			f.problem(line, "campaign.deadline", "%s is not a date and time; write YYYY-MM-DD HH:MM, e.g. 2024-08-30 17:00", quote(v))
		}
		spec.deadline = t
	}
	if an, ok := o.keys["agency_deadlines"]; ok {
		an = deref(an)
		if an.Kind != yaml.MappingNode {
			f.problem(an.Line, "campaign.agency_deadlines", "must be a mapping of agency codes to dates, e.g. {SCT: \"2024-08-23 17:00\"}")
		} else {
			seen := map[string]int{}
			for i := 0; i+1 < len(an.Content); i += 2 {
				k, v := an.Content[i], deref(an.Content[i+1])
				field := "campaign.agency_deadlines." + k.Value
				code := strings.TrimSpace(k.Value)
				if prev, dup := seen[strings.ToUpper(code)]; dup {
					f.problem(k.Line, field, "given twice (first on line %d)", prev)
					continue
				}
				seen[strings.ToUpper(code)] = k.Line
				if v.Kind != yaml.ScalarNode {
					f.problem(v.Line, field, "must be a date and time, e.g. \"2024-08-23 17:00\"")
					continue
				}
				t, ok := parseDateTime(cleanText(v.Value), loc)
				if !ok {
					f.problem(v.Line, field, "%s is not a date and time; write YYYY-MM-DD HH:MM, e.g. 2024-08-23 17:00", quote(v.Value))
					continue
				}
				if !spec.deadline.IsZero() && t.After(spec.deadline) {
					f.problem(v.Line, field, "%s is after the campaign deadline %s", t.Format("2006-01-02 15:04"), spec.deadline.Format("2006-01-02 15:04"))
				}
				spec.byAgency[code] = t
				spec.agencyLines[code] = k.Line
			}
		}
	}
	for _, k := range []string{"id", "previous"} {
		v, line := o.str(k, false)
		if v != "" && !idRE.MatchString(v) {
			f.problem(line, "campaign."+k, "%s must be letters, digits, '.', '_' or '-' (up to 64)", quote(v))
		}
		if k == "id" {
			spec.id = v
		} else {
			spec.previous = v
		}
	}
	if _, ok := o.keys["name"]; ok {
		spec.nameVI, spec.nameEN = o.text("name", false)
	}
	spec.version, _ = o.str("catalog_version", false)
	if rn, ok := o.keys["renamed"]; ok {
		rn = deref(rn)
		spec.renamed = map[string]string{}
		if rn.Kind != yaml.MappingNode {
			f.problem(rn.Line, "campaign.renamed", "must map this year's indicator codes to last year's, e.g. {\"2.2.2b\": \"2.2.2\"}")
		} else {
			for i := 0; i+1 < len(rn.Content); i += 2 {
				k, v := rn.Content[i], deref(rn.Content[i+1])
				if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
					f.problem(v.Line, "campaign.renamed."+k.Value, "must be last year's indicator code")
					continue
				}
				spec.renamed[strings.TrimSpace(k.Value)] = strings.TrimSpace(v.Value)
			}
		}
	}
	spec.indicators, _ = o.str("indicators", true)
	spec.assignments, _ = o.str("assignments", true)
	if sn, ok := o.keys["staff_contact"]; ok {
		sc := f.mapping(sn, "campaign.staff_contact", "name", "phone", "email")
		spec.staff.Name, _ = sc.str("name", true)
		phone, line := sc.str("phone", true)
		if phone != "" && domain.NormalizePhone(phone) == "" {
			f.problem(line, "campaign.staff_contact.phone", "%s is not a Vietnamese phone number", quote(phone))
		}
		spec.staff.Phone = phone
		email, line := sc.str("email", false)
		if email != "" && !validEmail(email) {
			f.problem(line, "campaign.staff_contact.email", "%s is not an e-mail address", quote(email))
		}
		spec.staff.Email = email
	}
	return spec
}

// loadCampaignFiles reads the indicator and assignment files the campaign
// section names. agencies and people are nil when their lists are broken,
// which skips the checks against them.
func loadCampaignFiles(fsys readFS, spec *campaignSpec, agencies map[string]bool, people map[string]domain.Person, loc *time.Location, probs *problems) ([]domain.Indicator, []domain.Assignment) {
	dl := deadlines{def: spec.deadline, byAgency: map[string]time.Time{}}
	codes := upperCodes(agencies)
	for code, t := range spec.byAgency {
		if codes != nil && codes[strings.ToUpper(code)] == "" {
			probs.addf(EventFile, spec.agencyLines[code], "campaign.agency_deadlines."+code, "%s is not in the agency list", quote(code))
		}
		dl.byAgency[strings.ToUpper(code)] = t
	}
	var inds []domain.Indicator
	indsOK := false
	if spec.indicators != "" {
		if b, ok := fsys(spec.indicators, probs); ok {
			var err error
			inds, err = LoadIndicators(spec.indicators, b, agencies)
			probs.addErr(err)
			indsOK = err == nil
		}
	}
	var as []domain.Assignment
	if spec.assignments != "" {
		if b, ok := fsys(spec.assignments, probs); ok {
			var byCode map[string]domain.Indicator
			if indsOK {
				byCode = make(map[string]domain.Indicator, len(inds))
				for _, ind := range inds {
					byCode[ind.Code] = ind
				}
			}
			var err error
			as, err = loadAssignments(spec.assignments, b, byCode, CodeMatcher(agencies), people, dl, loc)
			probs.addErr(err)
		}
	}
	return inds, as
}

// readFS reads a campaign file, recording problems.
type readFS func(name string, probs *problems) ([]byte, bool)

// upperCodes maps upper-case agency codes to the codes as written; nil for a
// nil map.
func upperCodes(agencies map[string]bool) map[string]string {
	if agencies == nil {
		return nil
	}
	codes := make(map[string]string, len(agencies))
	for c, ok := range agencies {
		if ok {
			codes[strings.ToUpper(c)] = c
		}
	}
	return codes
}

var indicatorColumns = []column{
	{"code", true, []string{"ma", "ma_chi_so", "ma_chi_tieu", "indicator", "indicator_code"}},
	{"pillar", false, []string{"tru_cot", "nhom", "nhom_chi_so"}},
	{"name_vi", true, []string{"name", "ten", "ten_chi_so", "ten_chi_tieu", "ten_tieng_viet"}},
	{"name_en", false, []string{"english_name", "ten_tieng_anh"}},
	{"guidance_vi", false, []string{"guidance", "huong_dan", "huong_dan_thu_thap"}},
	{"guidance_en", false, []string{"huong_dan_tieng_anh"}},
	{"unit", false, []string{"don_vi_tinh", "dvt"}},
	{"value_type", true, []string{"type", "kieu", "kieu_du_lieu", "loai_gia_tri", "kieu_gia_tri"}},
	{"min", false, []string{"minimum", "toi_thieu", "gia_tri_nho_nhat"}},
	{"max", false, []string{"maximum", "toi_da", "gia_tri_lon_nhat"}},
	{"ref_year", false, []string{"year", "nam", "nam_so_lieu"}},
	{"evidence_required", false, []string{"evidence", "minh_chung", "can_minh_chung", "yeu_cau_minh_chung"}},
	{"agency", true, []string{"agency_code", "co_quan", "ma_co_quan", "ma_don_vi", "co_quan_cung_cap", "don_vi_cung_cap"}},
	{"last_year_value", false, []string{"last_year", "gia_tri_nam_truoc", "so_lieu_nam_truoc"}},
	{"change_limit", false, []string{"nguong_thay_doi", "muc_thay_doi_canh_bao"}},
	{"soft_min", false, []string{"thuong_thap_nhat", "canh_bao_duoi"}},
	{"soft_max", false, []string{"thuong_cao_nhat", "canh_bao_tren"}},
	{"numerator", false, []string{"tu_so"}},
	{"denominator", false, []string{"mau_so"}},
}

// valueTypeNames maps what a catalog may say (folded like headers) to a type.
var valueTypeNames = map[string]domain.ValueType{
	"integer": domain.TypeInteger, "int": domain.TypeInteger, "so_nguyen": domain.TypeInteger,
	"decimal": domain.TypeDecimal, "number": domain.TypeDecimal, "so_thap_phan": domain.TypeDecimal, "so": domain.TypeDecimal,
	"percent": domain.TypePercent, "phan_tram": domain.TypePercent, "ty_le": domain.TypePercent,
	"score": domain.TypeScore, "diem": domain.TypeScore,
	"yesno": domain.TypeYesNo, "yes_no": domain.TypeYesNo, "co_khong": domain.TypeYesNo,
	"text": domain.TypeText, "van_ban": domain.TypeText, "chu": domain.TypeText,
	"date": domain.TypeDate, "ngay": domain.TypeDate,
}

var yesNoCells = map[string]bool{
	"yes": true, "y": true, "co": true, "1": true, "x": true, "true": true,
	"no": false, "n": false, "khong": false, "0": false, "false": false,
}

// LoadIndicators parses the PII indicator catalog: columns code, name_vi,
// value_type and agency required; pillar, name_en, guidance_vi,
// guidance_en, unit, min, max, ref_year, evidence_required and
// last_year_value optional. name's extension decides CSV or XLSX, and name
// is used in problems.
//
// value_type is integer, decimal, percent, score, yesno, text or date (or
// the Vietnamese "số nguyên", "phần trăm", "điểm", ...). min and max are
// numbers (a Vietnamese decimal comma is fine; blank means open) and only
// for numeric types. ref_year is the year the data is about (2000..2100, or
// blank). evidence_required is yes/no/có/không/1/0; blank means yes. Agency
// codes must be keys of agencies (matched ignoring case, stored as the key is
// written); a nil map skips that check.
func LoadIndicators(name string, data []byte, agencies map[string]bool) ([]domain.Indicator, error) {
	var probs problems
	t, ok := readTable(name, data, indicatorColumns, &probs)
	if !ok {
		return nil, probs.err()
	}
	codes := upperCodes(agencies)
	seen := map[string]int{}
	var out []domain.Indicator
	for _, r := range t.rows {
		bad := func(field, format string, args ...any) {
			probs.addf(name, r.n, field, format, args...)
		}
		ind := domain.Indicator{
			Code:       r.get(t, "code"),
			Pillar:     r.get(t, "pillar"),
			NameVI:     r.get(t, "name_vi"),
			NameEN:     r.get(t, "name_en"),
			GuidanceVI: r.get(t, "guidance_vi"),
			GuidanceEN: r.get(t, "guidance_en"),
			Unit:       r.get(t, "unit"),
			LastYear:   r.get(t, "last_year_value"),
			Evidence:   true,
		}
		switch key := strings.ToUpper(ind.Code); {
		case ind.Code == "":
			bad("code", "is required")
		case !agencyCodeRE.MatchString(ind.Code):
			bad("code", "%s must be letters, digits, '.', '_' or '-' (up to 32), no spaces", quote(ind.Code))
		case seen[key] != 0:
			bad("code", "%s is already used on row %d", quote(ind.Code), seen[key])
		default:
			seen[key] = r.n
		}
		if ind.NameVI == "" {
			bad("name_vi", "is required")
		}

		vt := r.get(t, "value_type")
		key := normalizeHeader(vt)
		if vt == "%" {
			key = "percent"
		}
		switch typ, ok := valueTypeNames[key]; {
		case vt == "":
			bad("value_type", "is required: integer, decimal, percent, score, yesno, text or date")
		case !ok:
			bad("value_type", "%s is not a value type; use integer, decimal, percent, score, yesno, text or date", quote(vt))
		default:
			ind.Type = typ
		}

		ind.Min = boundCell(name, r.n, "min", r.get(t, "min"), &probs)
		ind.Max = boundCell(name, r.n, "max", r.get(t, "max"), &probs)
		if ind.Type != "" && !ind.Type.Numeric() && (ind.Min != nil || ind.Max != nil) {
			field := "min"
			if ind.Min == nil {
				field = "max"
			}
			bad(field, "only numeric indicators have a range; leave it blank for %s", ind.Type)
			ind.Min, ind.Max = nil, nil
		}
		if ind.Min != nil && ind.Max != nil && *ind.Min > *ind.Max {
			bad("max", "%s is less than min %s", r.get(t, "max"), r.get(t, "min"))
		}
		loadPlausibility(name, r.n, &ind, func(c string) string { return r.get(t, c) }, &probs)

		if y := r.get(t, "ref_year"); y != "" {
			n, err := strconv.Atoi(y)
			if err != nil || n < 2000 || n > 2100 {
				bad("ref_year", "%s is not a year between 2000 and 2100", quote(y))
			} else {
				ind.RefYear = n
			}
		}
		if e := r.get(t, "evidence_required"); e != "" {
			v, ok := yesNoCells[normalizeHeader(e)]
			if !ok {
				bad("evidence_required", "%s is not yes or no (có/không, 1/0)", quote(e))
			}
			ind.Evidence = v || !ok
		}

		agency := r.get(t, "agency")
		switch {
		case agency == "":
			bad("agency", "is required: the code of the agency that supplies it")
		case codes == nil:
			ind.Agency = agency
		default:
			if c, ok := codes[strings.ToUpper(agency)]; ok {
				ind.Agency = c
			} else {
				bad("agency", "%s is not in the agency list", quote(agency))
			}
		}
		out = append(out, ind)
	}
	if len(out) == 0 {
		probs.add(name, 0, "", "has no indicators")
	}
	checkRatios(name, out, seen, &probs)
	if err := probs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// boundCell reads a min or max cell; blank is nil (open).
func boundCell(file string, row int, field, s string, probs *problems) *float64 {
	if s == "" {
		return nil
	}
	f, err := flows.ParseDecimal(s)
	if err != nil {
		if err.Kind == "ambiguous" {
			probs.addf(file, row, field, "%s could be read two ways; write it without a thousands separator (e.g. 1000) or with a decimal comma (e.g. 1,5)", quote(s))
		} else {
			probs.addf(file, row, field, "%s is not a number", quote(s))
		}
		return nil
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		probs.addf(file, row, field, "%s is not a number", quote(s))
		return nil
	}
	return &f
}

var assignmentColumns = []column{
	{"indicator", true, []string{"code", "indicator_code", "ma_chi_so", "chi_so", "ma_chi_tieu"}},
	{"agency", true, []string{"agency_code", "co_quan", "ma_co_quan", "don_vi", "ma_don_vi"}},
	{"focal", true, []string{"focal_points", "focal_point", "focal_ids", "dau_moi", "can_bo_dau_moi", "nguoi_dau_moi"}},
	{"deadline", false, []string{"due", "han", "han_chot", "thoi_han", "han_nop", "han_cuoi"}},
}

// LoadAssignments parses the assignment list: columns indicator, agency and
// focal required, deadline optional. name's extension decides CSV or XLSX,
// and name is used in problems.
//
// Each row asks agency for indicator through its focal points: person ids
// separated by ';' or ','. Every focal point must be in people, have the
// focal role and belong to that agency (a focal point sees only their own
// agency's indicators). An (indicator, agency) pair appears once. deadline
// is "dd/mm/yyyy hh:mm" or "dd/mm/yyyy" (then 17:00, the end of office
// hours) in loc, or "yyyy-mm-dd hh:mm"; blank means defaultDeadline. nil
// maps skip the checks against them.
//
// Any problem rejects the whole file (nil and a *ValidationError): a bad
// file changes nothing.
func LoadAssignments(name string, data []byte, indicators map[string]domain.Indicator, agencies map[string]bool, people map[string]domain.Person, defaultDeadline time.Time, loc *time.Location) ([]domain.Assignment, error) {
	return loadAssignments(name, data, indicators, CodeMatcher(agencies), people, deadlines{def: defaultDeadline}, loc)
}

// LoadAssignmentsMatching is LoadAssignments with the agency column
// resolved by match (a code or a name, as the console accepts).
func LoadAssignmentsMatching(name string, data []byte, indicators map[string]domain.Indicator, match AgencyMatcher, people map[string]domain.Person, defaultDeadline time.Time, loc *time.Location) ([]domain.Assignment, error) {
	return loadAssignments(name, data, indicators, match, people, deadlines{def: defaultDeadline}, loc)
}

func loadAssignments(name string, data []byte, indicators map[string]domain.Indicator, match AgencyMatcher, people map[string]domain.Person, dl deadlines, loc *time.Location) ([]domain.Assignment, error) {
	if loc == nil {
		loc = time.UTC
	}
	var probs problems
	t, ok := readTable(name, data, assignmentColumns, &probs)
	if !ok {
		return nil, probs.err()
	}
	var indCodes map[string]string
	if indicators != nil {
		indCodes = make(map[string]string, len(indicators))
		for c := range indicators {
			indCodes[strings.ToUpper(c)] = c
		}
	}
	var ids map[string]string
	if people != nil {
		ids = make(map[string]string, len(people))
		for id := range people {
			ids[strings.ToUpper(id)] = id
		}
	}
	seen := map[string]int{}
	var out []domain.Assignment
	for _, r := range t.rows {
		bad := func(field, format string, args ...any) {
			probs.addf(name, r.n, field, format, args...)
		}
		a := domain.Assignment{Indicator: r.get(t, "indicator"), Agency: r.get(t, "agency")}
		switch {
		case a.Indicator == "":
			bad("indicator", "is required")
		case indCodes != nil:
			if c, ok := indCodes[strings.ToUpper(a.Indicator)]; ok {
				a.Indicator = c
			} else {
				bad("indicator", "%s is not in the indicator list", quote(a.Indicator))
			}
		}
		agencyOK := false
		switch {
		case a.Agency == "":
			bad("agency", "is required")
		case match != nil:
			if c, ok := match(a.Agency); ok {
				a.Agency, agencyOK = c, true
			} else {
				bad("agency", "%s is not in the agency list", quote(a.Agency))
			}
		default:
			agencyOK = true
		}
		if a.Indicator != "" && a.Agency != "" {
			key := strings.ToUpper(a.Indicator) + "\x00" + strings.ToUpper(a.Agency)
			if prev := seen[key]; prev != 0 {
				bad("indicator", "%s is already assigned to %s on row %d", quote(a.Indicator), a.Agency, prev)
			} else {
				seen[key] = r.n
			}
		}

		focal := r.get(t, "focal")
		for _, id := range strings.FieldsFunc(focal, func(r rune) bool { return r == ';' || r == ',' }) {
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			if ids != nil {
				canon, ok := ids[strings.ToUpper(id)]
				if !ok {
					bad("focal", "%s is not in the people list", quote(id))
					continue
				}
				id = canon
				p := people[id]
				if !p.Has(domain.RoleFocal) {
					bad("focal", "%s (%s) does not have the focal role; add \"focal\" to their roles in the people list", quote(id), p.FullName)
				}
				if agencyOK && !strings.EqualFold(p.AgencyCode, a.Agency) {
					bad("focal", "%s (%s) belongs to %s, not %s; a focal point answers only for their own agency", quote(id), p.FullName, p.AgencyCode, a.Agency)
				}
			}
			if !slices.Contains(a.Focal, id) {
				a.Focal = append(a.Focal, id)
			}
		}
		if len(a.Focal) == 0 && focal == "" {
			bad("focal", "is required: at least one focal point's id, several separated by ';'")
		} else if len(a.Focal) == 0 {
			bad("focal", "%s names no focal point; write person ids separated by ';'", quote(focal))
		}

		if d := r.get(t, "deadline"); d != "" {
			when, ok := parseDeadline(d, loc)
			if !ok {
				bad("deadline", "%s is not a date; write dd/mm/yyyy or dd/mm/yyyy hh:mm, e.g. 23/08/2024 17:00", quote(d))
			}
			a.Deadline = when
		} else {
			a.Deadline = dl.forAgency(a.Agency)
			if a.Deadline.IsZero() {
				bad("deadline", "is required: there is no campaign deadline to default to")
			}
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		probs.add(name, 0, "", "has no assignments")
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// deadlineClockRE splits "23/08/2024 17:00" into date and time.
var deadlineClockRE = regexp.MustCompile(`^(.*?\S)\s+(?:lúc\s+)?(\d{1,2}[:hH]\d{2})$`)

// parseDeadline reads "dd/mm/yyyy", "dd/mm/yyyy hh:mm" (also "17h00") or
// "yyyy-mm-dd hh:mm" in loc. A date alone means 17:00.
func parseDeadline(s string, loc *time.Location) (time.Time, bool) {
	if t, ok := parseDateTime(s, loc); ok {
		return t, true
	}
	datePart, h, m := s, 17, 0
	if sm := deadlineClockRE.FindStringSubmatch(s); sm != nil {
		var ok bool
		if h, m, ok = parseClock(sm[2]); !ok {
			return time.Time{}, false
		}
		datePart = sm[1]
	}
	d, err := flows.ParseDate(datePart)
	if err != nil {
		return time.Time{}, false
	}
	return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, loc), true
}
