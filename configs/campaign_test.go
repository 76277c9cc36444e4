package configs

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

var hcmZone = func() *time.Location {
	l, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		panic(err)
	}
	return l
}()

func hcmTime(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, hcmZone)
}

func TestExampleCampaign(t *testing.T) {
	c, err := Load(Example())
	if err != nil {
		t.Fatalf("example does not load:\n%v", err)
	}
	if len(c.Indicators) != 26 {
		t.Fatalf("%d indicators, want the 26 of the sample", len(c.Indicators))
	}
	if !c.Deadline.Equal(hcmTime(2024, 8, 30, 17, 0)) {
		t.Errorf("Deadline = %v", c.Deadline)
	}
	if c.StaffContact.Name == "" || domain.NormalizePhone(c.StaffContact.Phone) == "" {
		t.Errorf("StaffContact = %+v", c.StaffContact)
	}
	people := map[string]domain.Person{}
	for _, p := range c.People {
		people[p.ID] = p
	}
	agencies := map[string]bool{}
	for _, a := range c.Agencies {
		agencies[a.Code] = true
	}
	inds := map[string]domain.Indicator{}
	lastYear := 0
	for _, ind := range c.Indicators {
		inds[ind.Code] = ind
		if !ind.Type.Valid() || ind.NameVI == "" || ind.NameEN == "" || ind.Pillar == "" || ind.Unit == "" {
			t.Errorf("%s: incomplete %+v", ind.Code, ind)
		}
		if ind.GuidanceVI == "" || ind.GuidanceEN == "" || !strings.Contains(ind.GuidanceVI, "2023") || !strings.Contains(ind.GuidanceEN, "2023") {
			t.Errorf("%s: guidance must say what to count for 2023, in both languages", ind.Code)
		}
		if ind.RefYear != 2023 {
			t.Errorf("%s: RefYear %d, want 2023 (PII 2024 uses 2023 data)", ind.Code, ind.RefYear)
		}
		if !agencies[ind.Agency] {
			t.Errorf("%s: agency %q", ind.Code, ind.Agency)
		}
		if ind.Min == nil {
			t.Errorf("%s: no minimum", ind.Code)
		}
		if ind.Type == domain.TypePercent && (ind.Max == nil || *ind.Max < 100) {
			t.Errorf("%s: a percentage needs a maximum of at least 100", ind.Code)
		}
		if ind.LastYear != "" {
			lastYear++
		}
	}
	if lastYear < 3 {
		t.Errorf("%d last-year values, want a few", lastYear)
	}
	for code, agency := range map[string]string{"1.1.1": "SKHCN", "2.2.2": "STC", "P3.02": "STTTT", "P3.03": "BQLKCN", "P4.01": "NHNN", "5.1.3": "CTK", "P5.04": "CT", "P6.05": "SNNPTNT"} {
		if inds[code].Agency != agency {
			t.Errorf("%s: agency %q, want %q", code, inds[code].Agency, agency)
		}
	}
	if ind := inds["P7.02"]; ind.Type != domain.TypeDecimal || *ind.Max != 1 {
		t.Errorf("HDI: %+v", ind)
	}
	if ind := inds["P1.02"]; ind.Type != domain.TypeScore || *ind.Max != 10 || ind.Evidence {
		t.Errorf("PCI sub-index: %+v", ind)
	}

	assigned := map[string]bool{}
	for _, a := range c.Assignments {
		ind, ok := inds[a.Indicator]
		if !ok {
			t.Errorf("assignment of unknown %q", a.Indicator)
		}
		if a.Agency != ind.Agency {
			t.Errorf("%s assigned to %s, catalog says %s", a.Indicator, a.Agency, ind.Agency)
		}
		assigned[a.Indicator] = true
		if len(a.Focal) == 0 {
			t.Errorf("%s: no focal point", a.Indicator)
		}
		for _, id := range a.Focal {
			p, ok := people[id]
			if !ok || !p.Has(domain.RoleFocal) || p.AgencyCode != a.Agency {
				t.Errorf("%s/%s: focal %s is not a focal point of the agency: %+v", a.Indicator, a.Agency, id, p)
			}
		}
		if a.Deadline.After(c.Deadline) || a.Deadline.Location().String() != "Asia/Ho_Chi_Minh" {
			t.Errorf("%s: deadline %v", a.Indicator, a.Deadline)
		}
	}
	for code := range inds {
		if !assigned[code] {
			t.Errorf("%s is assigned to nobody", code)
		}
	}
	find := func(code string) domain.Assignment {
		for _, a := range c.Assignments {
			if a.Indicator == code {
				return a
			}
		}
		t.Fatalf("%s not assigned", code)
		return domain.Assignment{}
	}
	if d := find("2.2.2").Deadline; !d.Equal(hcmTime(2024, 8, 23, 17, 0)) {
		t.Errorf("STC's override: %v", d)
	}
	if d := find("P1.02").Deadline; !d.Equal(hcmTime(2024, 8, 20, 17, 0)) {
		t.Errorf("row's own deadline: %v", d)
	}
	if d := find("1.1.1").Deadline; !d.Equal(c.Deadline) {
		t.Errorf("default deadline: %v", d)
	}
	if a := find("2.2.1"); len(a.Focal) != 2 {
		t.Errorf("two focal points: %v", a.Focal)
	}

	// The example's guidance examples and last-year values read as values.
	for _, ind := range c.Indicators {
		if ind.Type.Numeric() && ind.LastYear != "" {
			s, _, _ := strings.Cut(ind.LastYear, " (")
			if _, err := flows.ParseValue(ind, s); err != nil {
				t.Errorf("%s: last year %q: %v", ind.Code, ind.LastYear, err)
			}
		}
	}
}

func TestEventWithoutCampaign(t *testing.T) {
	c, err := Load(campaignFS(okEvent, okAgencies, okPeople))
	if err != nil {
		t.Fatal(err)
	}
	if c.Indicators != nil || c.Assignments != nil || !c.Deadline.IsZero() {
		t.Errorf("campaign without a campaign section: %+v", c)
	}
}

const (
	okIndicators = `code,pillar,name_vi,name_en,guidance_vi,guidance_en,unit,value_type,min,max,ref_year,evidence_required,agency,last_year_value
1.1.1,1 Thể chế,Chính sách,Policies,Đếm văn bản,Count,số văn bản,integer,0,,2023,có,SKHCN,5
2.2.2,2 Vốn,Chi ngân sách,Budget,Chi/GRDP,Spend/GRDP,%,percent,0,100,2023,yes,stc,
P7.02,7 Tác động,HDI,HDI,,,0-1,decimal,"0,0","1,0",2023,0,SKHCN,
`
	okAssignments = `indicator,agency,focal,deadline
1.1.1,SKHCN,DB004,
2.2.2,STC,DB002;DB005,
p7.02,skhcn,DB004,25/08/2024
`
	// DB004 is SKHCN's focal point, DB005 another STC one; DB001 is staff
	// and DB003 a delegate only.
	campaignPeople = okPeople + `DB004,Phạm Văn Dũng,Chuyên viên,SKHCN,0912000111,,focal,,
DB005,Đỗ Thị Hoa,Chuyên viên,STC,0912000222,,focal;delegate,,
`
	campaignSection = `campaign:
  deadline: "2024-08-30 17:00"
  agency_deadlines: {STC: "2024-08-23 17:00"}
  indicators: indicators.csv
  assignments: assignments.csv
  staff_contact: {name: "Văn phòng Sở", phone: "0912 345 678"}
`
)

func campaignFiles(event, indicators, assignments string) fstest.MapFS {
	fsys := campaignFS(event, okAgencies, campaignPeople)
	fsys["indicators.csv"] = &fstest.MapFile{Data: []byte(indicators)}
	fsys["assignments.csv"] = &fstest.MapFile{Data: []byte(assignments)}
	return fsys
}

func TestSmallDataCampaign(t *testing.T) {
	c, err := Load(campaignFiles(okEvent+campaignSection, okIndicators, okAssignments))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Indicators) != 3 || len(c.Assignments) != 3 {
		t.Fatalf("%d indicators, %d assignments", len(c.Indicators), len(c.Assignments))
	}
	i0, i1, i2 := c.Indicators[0], c.Indicators[1], c.Indicators[2]
	if i0.Type != domain.TypeInteger || *i0.Min != 0 || i0.Max != nil || !i0.Evidence || i0.LastYear != "5" || i0.RefYear != 2023 {
		t.Errorf("1.1.1: %+v", i0)
	}
	if i1.Agency != "STC" || i1.Type != domain.TypePercent || *i1.Max != 100 {
		t.Errorf("agency code as in the agency list: %+v", i1)
	}
	if i2.Evidence || *i2.Max != 1 || i2.GuidanceVI != "" {
		t.Errorf("P7.02: %+v", i2)
	}
	want := []domain.Assignment{
		{Indicator: "1.1.1", Agency: "SKHCN", Focal: []string{"DB004"}, Deadline: hcmTime(2024, 8, 30, 17, 0)},
		{Indicator: "2.2.2", Agency: "STC", Focal: []string{"DB002", "DB005"}, Deadline: hcmTime(2024, 8, 23, 17, 0)},
		{Indicator: "P7.02", Agency: "SKHCN", Focal: []string{"DB004"}, Deadline: hcmTime(2024, 8, 25, 17, 0)},
	}
	for i, w := range want {
		g := c.Assignments[i]
		if g.Indicator != w.Indicator || g.Agency != w.Agency || strings.Join(g.Focal, ";") != strings.Join(w.Focal, ";") || !g.Deadline.Equal(w.Deadline) {
			t.Errorf("assignment %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if c.StaffContact.Name != "Văn phòng Sở" {
		t.Errorf("StaffContact = %+v", c.StaffContact)
	}
}

// wantProblem checks that err is a *ValidationError holding a problem at
// file:row in field whose message contains msg.
func wantProblem(t *testing.T, err error, file string, row int, field, msg string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *ValidationError", err)
	}
	for _, p := range ve.Problems {
		if p.File == file && p.Row == row && p.Field == field && strings.Contains(p.Msg, msg) {
			return
		}
	}
	t.Errorf("no problem %s:%d: %s: …%s…; got:\n%v", file, row, field, msg, err)
}

func TestBrokenIndicators(t *testing.T) {
	tests := []struct {
		label, data string
		row         int
		field, msg  string
	}{
		{"duplicate code", replace(t, okIndicators, "P7.02", "2.2.2"), 4, "code", "already used on row 3"},
		{"duplicate code case", okIndicators + "p7.02,7,HDI,HDI,,,0-1,decimal,0,1,2023,0,SKHCN,\n", 5, "code", "«p7.02» is already used on row 4"},
		{"empty code", replace(t, okIndicators, "P7.02,", ","), 4, "code", "is required"},
		{"code with space", replace(t, okIndicators, "P7.02", "P7 02"), 4, "code", "no spaces"},
		{"unknown type", replace(t, okIndicators, "decimal", "float"), 4, "value_type", "«float» is not a value type"},
		{"missing type", replace(t, okIndicators, "integer", ""), 2, "value_type", "is required"},
		{"min over max", replace(t, okIndicators, `"0,0","1,0"`, "5,1"), 4, "max", "less than min"},
		{"bad min", replace(t, okIndicators, "percent,0,100", "percent,zero,100"), 3, "min", "«zero» is not a number"},
		{"ambiguous max", replace(t, okIndicators, "integer,0,", "integer,0,1.000"), 2, "max", "could be read two ways"},
		{"range on text", replace(t, okIndicators, "decimal", "text"), 4, "min", "only numeric"},
		{"unknown agency", replace(t, okIndicators, "yes,stc", "yes,SYT"), 3, "agency", "«SYT» is not in the agency list"},
		{"no agency", replace(t, okIndicators, "yes,stc", "yes,"), 3, "agency", "is required"},
		{"ref year", replace(t, okIndicators, "2023,có", "23,có"), 2, "ref_year", "«23» is not a year between 2000 and 2100"},
		{"ref year text", replace(t, okIndicators, "2023,có", "năm 2023,có"), 2, "ref_year", "not a year"},
		{"evidence", replace(t, okIndicators, "2023,có", "2023,maybe"), 2, "evidence_required", "«maybe» is not yes or no"},
		{"no name", replace(t, okIndicators, "HDI,HDI", ",HDI"), 4, "name_vi", "is required"},
		{"missing column", strings.Replace(okIndicators, "value_type", "kind_of", 1), 1, "value_type", "required column is missing"},
	}
	agencies := map[string]bool{"SKHCN": true, "STC": true}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got, err := LoadIndicators("indicators.csv", []byte(tt.data), agencies)
			wantProblem(t, err, "indicators.csv", tt.row, tt.field, tt.msg)
			if got != nil {
				t.Errorf("a bad file returned indicators")
			}
		})
	}
	// Vietnamese headers and type names load too.
	vi := strings.NewReplacer(
		"code,pillar,name_vi,name_en,guidance_vi,guidance_en,unit,value_type,min,max,ref_year,evidence_required,agency,last_year_value",
		"Mã chỉ số,Trụ cột,Tên chỉ số,Tên tiếng Anh,Hướng dẫn,Hướng dẫn tiếng Anh,Đơn vị tính,Kiểu dữ liệu,Tối thiểu,Tối đa,Năm số liệu,Minh chứng,Cơ quan cung cấp,Giá trị năm trước",
		",integer,", ",Số nguyên,", ",percent,", ",Phần trăm,", ",decimal,", ",số thập phân,").Replace(okIndicators)
	a, err := LoadIndicators("chi-so.csv", []byte(vi), agencies)
	b, err2 := LoadIndicators("indicators.csv", []byte(okIndicators), agencies)
	if err != nil || err2 != nil || len(a) != 3 || a[0].Type != b[0].Type || a[1].Type != b[1].Type || a[2].Type != b[2].Type || *a[2].Max != 1 {
		t.Errorf("Vietnamese headers: %+v, %v, %v", a, err, err2)
	}
}

func TestBrokenAssignments(t *testing.T) {
	tests := []struct {
		label, data string
		row         int
		field, msg  string
	}{
		{"unknown indicator", replace(t, okAssignments, "p7.02", "P9.99"), 4, "indicator", "«P9.99» is not in the indicator list"},
		{"unknown agency", replace(t, okAssignments, "p7.02,skhcn", "p7.02,SYT"), 4, "agency", "«SYT» is not in the agency list"},
		{"unknown person", replace(t, okAssignments, "DB002;DB005", "DB002;DB999"), 3, "focal", "«DB999» is not in the people list"},
		{"not focal", replace(t, okAssignments, "SKHCN,DB004,", "SKHCN,DB001,"), 2, "focal", "does not have the focal role"},
		{"delegate only", replace(t, okAssignments, "DB002;DB005", "DB003"), 3, "focal", "«DB003» (Lê Minh Châu) does not have the focal role"},
		{"other agency", replace(t, okAssignments, "DB002;DB005", "DB002;DB004"), 3, "focal", "belongs to SKHCN, not STC"},
		{"no focal", replace(t, okAssignments, "DB002;DB005", ""), 3, "focal", "is required"},
		{"only separators", replace(t, okAssignments, "DB002;DB005", ";"), 3, "focal", "names no focal point"},
		{"duplicate pair", okAssignments + "2.2.2,stc,DB005,\n", 5, "indicator", "already assigned to STC on row 3"},
		{"bad deadline", replace(t, okAssignments, "25/08/2024", "31/02/2024"), 4, "deadline", "«31/02/2024» is not a date"},
		{"bad clock", replace(t, okAssignments, "25/08/2024", "25/08/2024 25:00"), 4, "deadline", "is not a date"},
		{"two-digit year", replace(t, okAssignments, "25/08/2024", "25/08/24"), 4, "deadline", "is not a date"},
		{"missing column", strings.Replace(okAssignments, "focal", "people", 1), 1, "focal", "required column is missing"},
	}
	inds, err := LoadIndicators("indicators.csv", []byte(okIndicators), map[string]bool{"SKHCN": true, "STC": true})
	if err != nil {
		t.Fatal(err)
	}
	indMap := map[string]domain.Indicator{}
	for _, ind := range inds {
		indMap[ind.Code] = ind
	}
	ps, err := LoadPeople("delegates.csv", []byte(campaignPeople), map[string]bool{"SKHCN": true, "STC": true})
	if err != nil {
		t.Fatal(err)
	}
	people := map[string]domain.Person{}
	for _, p := range ps {
		people[p.ID] = p
	}
	agencies := map[string]bool{"SKHCN": true, "STC": true}
	def := hcmTime(2024, 8, 30, 17, 0)
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got, err := LoadAssignments("assignments.csv", []byte(tt.data), indMap, agencies, people, def, hcmZone)
			wantProblem(t, err, "assignments.csv", tt.row, tt.field, tt.msg)
			if got != nil {
				t.Errorf("a bad file returned assignments")
			}
		})
	}

	got, err := LoadAssignments("assignments.csv", []byte(okAssignments), indMap, agencies, people, def, hcmZone)
	if err != nil || len(got) != 3 {
		t.Fatalf("%v, %v", got, err)
	}
	// No default deadline: rows without one are refused.
	_, err = LoadAssignments("assignments.csv", []byte(okAssignments), indMap, agencies, people, time.Time{}, hcmZone)
	wantProblem(t, err, "assignments.csv", 2, "deadline", "no campaign deadline")
}

func TestDeadlines(t *testing.T) {
	dl := deadlines{def: hcmTime(2024, 8, 30, 17, 0), byAgency: map[string]time.Time{"STC": hcmTime(2024, 8, 23, 17, 0)}}
	if d := dl.forAgency("stc"); !d.Equal(hcmTime(2024, 8, 23, 17, 0)) {
		t.Errorf("override: %v", d)
	}
	if d := dl.forAgency("SKHCN"); !d.Equal(dl.def) {
		t.Errorf("default: %v", d)
	}
	for in, want := range map[string]time.Time{
		"25/08/2024":          hcmTime(2024, 8, 25, 17, 0),
		"5/8/2024":            hcmTime(2024, 8, 5, 17, 0),
		"25/08/2024 10:30":    hcmTime(2024, 8, 25, 10, 30),
		"25-08-2024 8h00":     hcmTime(2024, 8, 25, 8, 0),
		"25.08.2024 lúc 9:15": hcmTime(2024, 8, 25, 9, 15),
		"2024-08-25 16:00":    hcmTime(2024, 8, 25, 16, 0),
	} {
		got, ok := parseDeadline(in, hcmZone)
		if !ok || !got.Equal(want) || got.Location() != hcmZone {
			t.Errorf("parseDeadline(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "25/08", "08/25/2024", "25/08/2024 17", "mai", "25/08/2024 17:00:00 extra"} {
		if got, ok := parseDeadline(bad, hcmZone); ok {
			t.Errorf("parseDeadline(%q) = %v", bad, got)
		}
	}

	// Through Load: a row's own deadline beats the agency's, which beats
	// the campaign's.
	asg := okAssignments + "1.1.1,STC,DB005,\n2.2.2,SKHCN,DB004,01/08/2024 08:00\n"
	c, err := Load(campaignFiles(okEvent+campaignSection, okIndicators, asg))
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{
		hcmTime(2024, 8, 30, 17, 0), // SKHCN, blank: campaign
		hcmTime(2024, 8, 23, 17, 0), // STC, blank: agency override
		hcmTime(2024, 8, 25, 17, 0), // own date
		hcmTime(2024, 8, 23, 17, 0), // STC again
		hcmTime(2024, 8, 1, 8, 0),   // own date and time
	}
	for i, w := range want {
		if !c.Assignments[i].Deadline.Equal(w) {
			t.Errorf("row %d: %v, want %v", i+2, c.Assignments[i].Deadline, w)
		}
	}
}

func TestBrokenCampaignSection(t *testing.T) {
	section := func(old, new string) string { return okEvent + replace(t, campaignSection, old, new) }
	tests := []struct {
		label, event string
		field, msg   string
	}{
		{"bad deadline", section("2024-08-30 17:00", "30/8"), "campaign.deadline", "«30/8» is not a date and time"},
		{"no deadline", section(`  deadline: "2024-08-30 17:00"`+"\n", ""), "campaign.deadline", "is required"},
		{"unknown agency", section("{STC:", "{SYT:"), "campaign.agency_deadlines.SYT", "«SYT» is not in the agency list"},
		{"override too late", section(`{STC: "2024-08-23 17:00"}`, `{STC: "2024-09-05 17:00"}`), "campaign.agency_deadlines.STC", "after the campaign deadline"},
		{"bad override", section(`{STC: "2024-08-23 17:00"}`, `{STC: "sớm"}`), "campaign.agency_deadlines.STC", "not a date and time"},
		{"no indicators", section("  indicators: indicators.csv\n", ""), "campaign.indicators", "is required"},
		{"unknown key", section("  indicators:", "  indicator_file: x\n  indicators:"), "campaign.indicator_file", "unknown key"},
		{"bad staff phone", section("0912 345 678", "gọi văn phòng"), "campaign.staff_contact.phone", "not a Vietnamese phone number"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			_, err := Load(campaignFiles(tt.event, okIndicators, okAssignments))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v", err)
			}
			found := false
			for _, p := range ve.Problems {
				if p.File == "event.yaml" && p.Field == tt.field && strings.Contains(p.Msg, tt.msg) && p.Row > 0 {
					found = true
				}
			}
			if !found {
				t.Errorf("no event.yaml problem %s: …%s…; got:\n%v", tt.field, tt.msg, err)
			}
		})
	}

	// A broken catalog rejects the campaign; the assignment rows are not
	// blamed for indicators that could not be read.
	_, err := Load(campaignFiles(okEvent+campaignSection, replace(t, okIndicators, "percent", "procent"), okAssignments))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].File != "indicators.csv" {
		t.Errorf("got %v", err)
	}
	// A missing file is named.
	fsys := campaignFiles(okEvent+campaignSection, okIndicators, okAssignments)
	delete(fsys, "assignments.csv")
	if _, err := Load(fsys); err == nil || !strings.Contains(err.Error(), "assignments.csv: cannot open") {
		t.Errorf("got %v", err)
	}
}

func TestAssignmentsXLSX(t *testing.T) {
	c, err := Load(Example())
	if err != nil {
		t.Fatal(err)
	}
	inds := map[string]domain.Indicator{}
	for _, ind := range c.Indicators {
		inds[ind.Code] = ind
	}
	people := map[string]domain.Person{}
	for _, p := range c.People {
		people[p.ID] = p
	}
	agencies := map[string]bool{}
	for _, a := range c.Agencies {
		agencies[a.Code] = true
	}
	recs, err := csv.NewReader(bytes.NewReader(exampleFile(t, "assignments.csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, rec := range recs {
		cells := make([]any, len(rec))
		for j, v := range rec {
			cells[j] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &cells); err != nil {
			t.Fatal(err)
		}
	}
	write := func() []byte {
		var buf bytes.Buffer
		if _, err := f.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		return bytes.Clone(buf.Bytes())
	}
	fromCSV, err := LoadAssignments("assignments.csv", exampleFile(t, "assignments.csv"), inds, agencies, people, c.Deadline, hcmZone)
	if err != nil {
		t.Fatal(err)
	}
	fromXLSX, err := LoadAssignments("assignments.xlsx", write(), inds, agencies, people, c.Deadline, hcmZone)
	if err != nil || len(fromXLSX) != len(fromCSV) || len(fromXLSX) != 26 {
		t.Fatalf("%d from XLSX, %d from CSV: %v", len(fromXLSX), len(fromCSV), err)
	}

	// Row 16 gives 5.1.3 to a Cục Thuế focal point: the whole file is
	// refused, naming the row.
	if recs[15][0] != "5.1.3" {
		t.Fatalf("row 16 moved: %v", recs[15])
	}
	if err := f.SetCellStr(sheet, "C16", "DB050"); err != nil {
		t.Fatal(err)
	}
	got, err := LoadAssignments("assignments.xlsx", write(), inds, agencies, people, c.Deadline, hcmZone)
	if got != nil {
		t.Errorf("%d assignments from a bad file", len(got))
	}
	wantProblem(t, err, "assignments.xlsx", 16, "focal", "belongs to CT, not CTK")
	if !strings.Contains(err.Error(), "assignments.xlsx:16: focal: «DB050»") {
		t.Errorf("Error() = %v", err)
	}

	// A deadline typed as an Excel date in the built-in short format
	// (rendered m-d-yy) is refused rather than read with day and month
	// swapped.
	if err := f.SetCellStr(sheet, "C16", "DB053"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellValue(sheet, "D16", time.Date(2024, 8, 5, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStyle(sheet, "D16", "D16", style); err != nil {
		t.Fatal(err)
	}
	got, err = LoadAssignments("assignments.xlsx", write(), inds, agencies, people, c.Deadline, hcmZone)
	if got != nil {
		t.Errorf("Excel short date read as %v", got[14].Deadline)
	}
	wantProblem(t, err, "assignments.xlsx", 16, "deadline", "«08-05-24» is not a date")

	// In the Vietnamese format dd/mm/yyyy it is read right.
	ddmm := "dd/mm/yyyy"
	style, err = f.NewStyle(&excelize.Style{CustomNumFmt: &ddmm})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStyle(sheet, "D16", "D16", style); err != nil {
		t.Fatal(err)
	}
	got, err = LoadAssignments("assignments.xlsx", write(), inds, agencies, people, c.Deadline, hcmZone)
	if err != nil || !got[14].Deadline.Equal(hcmTime(2024, 8, 5, 17, 0)) {
		t.Errorf("dd/mm/yyyy Excel date: %v", err)
	}
}
