package configs

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dieuphoi/dieuphoi/domain"
)

func TestExampleLoads(t *testing.T) {
	c, err := Load(Example())
	if err != nil {
		t.Fatalf("example does not load:\n%v", err)
	}
	ev := c.Event
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	if ev.Location == nil || ev.Location.String() != "Asia/Ho_Chi_Minh" {
		t.Fatalf("Location = %v", ev.Location)
	}
	at := func(h, m int) time.Time { return time.Date(2024, 8, 2, h, m, 0, 0, loc) }
	if !ev.Start.Equal(at(8, 0)) || ev.Start.Format("2006-01-02 15:04 -07") != "2024-08-02 08:00 +07" {
		t.Errorf("Start = %v", ev.Start)
	}
	if ev.Start.Location().String() != "Asia/Ho_Chi_Minh" {
		t.Errorf("Start is in %v, want the event's zone", ev.Start.Location())
	}
	if !ev.DoorsOpen.Equal(at(7, 30)) || !ev.End.Equal(at(11, 10)) {
		t.Errorf("DoorsOpen, End = %v, %v", ev.DoorsOpen, ev.End)
	}
	if !ev.RSVPCutoff.Equal(time.Date(2024, 7, 31, 17, 0, 0, 0, loc)) {
		t.Errorf("RSVPCutoff = %v", ev.RSVPCutoff)
	}
	if ev.ID != "pii-2024" || ev.NameVI == "" || ev.NameEN == "" || ev.VenueVI != "Trung tâm Thông tin - Hội nghị tỉnh Hưng Yên" || ev.VenueEN == "" || ev.Address == "" {
		t.Errorf("event texts: %+v", ev)
	}
	if ev.Organizer.Name == "" || domain.NormalizePhone(ev.Organizer.Phone) == "" {
		t.Errorf("Organizer = %+v", ev.Organizer)
	}

	want := []struct {
		start, end string
		speaker    string
	}{
		{"07:30", "08:00", "Sở KH&CN"},
		{"08:00", "08:10", "Sở KH&CN"},
		{"08:10", "08:20", "Đ/c Nguyễn Duy Hưng - Phó Chủ tịch UBND tỉnh"},
		{"08:20", "08:30", "Lãnh đạo Học viện Khoa học, Công nghệ và Đổi mới sáng tạo"},
		{"08:30", "08:45", "Lãnh đạo Sở KH&CN"},
		{"08:45", "09:45", "Học viện Khoa học, Công nghệ và Đổi mới sáng tạo"},
		{"09:45", "10:45", "Chủ trì và đại biểu dự Hội nghị"},
		{"10:45", "11:00", "Lãnh đạo Sở KH&CN"},
		{"11:00", "11:10", "Đồng chí Trần Tùng Chuẩn, Giám đốc Sở KH&CN"},
	}
	if len(ev.Agenda) != len(want) {
		t.Fatalf("%d agenda items, want %d", len(ev.Agenda), len(want))
	}
	for i, w := range want {
		it := ev.Agenda[i]
		if it.No != i+1 {
			t.Errorf("item %d: No = %d", i+1, it.No)
		}
		if got := it.Start.Format("15:04") + "-" + it.End.Format("15:04"); got != w.start+"-"+w.end {
			t.Errorf("item %d: %s, want %s-%s", it.No, got, w.start, w.end)
		}
		if !it.Start.Equal(at(it.Start.Hour(), it.Start.Minute())) || it.Start.Day() != 2 {
			t.Errorf("item %d: start %v not on the event day in Asia/Ho_Chi_Minh", it.No, it.Start)
		}
		if it.SpeakerVI != w.speaker {
			t.Errorf("item %d: speaker %q, want %q", it.No, it.SpeakerVI, w.speaker)
		}
		if it.TitleVI == "" || it.TitleEN == "" || it.SpeakerEN == "" {
			t.Errorf("item %d: missing text: %+v", it.No, it)
		}
	}
	if ev.Agenda[0].TitleVI != "Đón tiếp đại biểu" || ev.Agenda[8].TitleVI != "Phát biểu kết thúc Hội nghị" {
		t.Errorf("titles: %q, %q", ev.Agenda[0].TitleVI, ev.Agenda[8].TitleVI)
	}

	if n := len(c.People); n < 85 || n > 100 {
		t.Errorf("%d people, want about 90", n)
	}
	agencies := map[string]bool{}
	for _, a := range c.Agencies {
		agencies[a.Code] = true
	}
	if len(c.Agencies) != 37 || !agencies["SKHCN"] || !agencies["H-DISTRICTS"] || !agencies["PRESS"] {
		t.Errorf("%d agencies: %v", len(c.Agencies), agencies)
	}
	ids, phones := map[string]bool{}, map[string]bool{}
	perAgency := map[string]int{}
	var focal, staff int
	for _, p := range c.People {
		if !agencies[p.AgencyCode] {
			t.Errorf("%s: agency %q not in the list", p.ID, p.AgencyCode)
		}
		if ids[p.ID] || phones[p.Phone] {
			t.Errorf("%s: id or phone %s repeated", p.ID, p.Phone)
		}
		ids[p.ID], phones[p.Phone] = true, true
		if len(p.Phone) != 10 || p.Phone != domain.NormalizePhone(p.Phone) {
			t.Errorf("%s: phone %q is not a normalised mobile", p.ID, p.Phone)
		}
		if p.FullName == "" || p.Position == "" || len(p.Roles) == 0 {
			t.Errorf("%s: incomplete: %+v", p.ID, p)
		}
		if p.InviteToken != "" || p.InviteCode != "" {
			t.Errorf("%s: the example leaves invites to the database", p.ID)
		}
		perAgency[p.AgencyCode]++
		if p.Has(domain.RoleFocal) {
			focal++
		}
		if p.Has(domain.RoleStaff) {
			staff++
			if p.AgencyCode != "SKHCN" {
				t.Errorf("%s: staff outside the organiser", p.ID)
			}
		}
	}
	for _, code := range []string{"UBND", "HV-KHCNDMST", "H-DISTRICTS", "PRESS", "SKHCN", "STC", "CTK"} {
		if perAgency[code] == 0 {
			t.Errorf("nobody from %s", code)
		}
	}
	if focal < 14 || staff < 4 || staff > 5 {
		t.Errorf("%d focal points, %d staff", focal, staff)
	}
}

// A small valid campaign the broken-input tests spoil one way each.
const (
	okEvent = `id: test-2024
name: {vi: "Hội nghị thử", en: "Test conference"}
timezone: Asia/Ho_Chi_Minh
date: 2024-08-02
doors_open: "07:30"
start: "08:00"
end: "09:00"
venue: {vi: "Hội trường", en: "Hall"}
address: "Hưng Yên"
rsvp_cutoff: "2024-07-31 17:00"
organizer: {name: "Văn phòng", phone: "0221 3862 538"}
agencies: agencies.csv
people: delegates.csv
agenda:
  - {start: "07:30", end: "08:00", title: {vi: "Đón tiếp", en: "Welcome"}}
  - {start: "08:00", end: "08:30", title: "Khai mạc", speaker: {vi: "Sở KH&CN"}}
  - {start: "08:30", end: "09:00", title: {vi: "Bế mạc"}}
`
	okAgencies = `code,name_vi,name_en,kind
SKHCN,Sở Khoa học và Công nghệ,Department of Science and Technology,department
STC,Sở Tài chính,Department of Finance,department
`
	okPeople = `id,full_name,position,agency,phone,email,roles,invite_token,invite_code
DB001,Nguyễn Văn An,Chuyên viên,SKHCN,0912345678,an@example.com,staff,,
DB002,Trần Thị Bình,Phó Giám đốc Sở,STC,+84 983 111 222,,delegate;focal,AAAAAAAAAAAAAAAAAAAAAA,hy-7k3m 9q
DB003,Lê Minh Châu,Trưởng phòng,stc,0389 000 111,,,,
`
)

func campaignFS(event, agencies, people string) fstest.MapFS {
	return fstest.MapFS{
		"event.yaml":    {Data: []byte(event)},
		"agencies.csv":  {Data: []byte(agencies)},
		"delegates.csv": {Data: []byte(people)},
	}
}

// lineOf returns the 1-based line of text holding substr.
func lineOf(t *testing.T, text, substr string) int {
	t.Helper()
	i := strings.Index(text, substr)
	if i < 0 {
		t.Fatalf("%q not in test input", substr)
	}
	return strings.Count(text[:i], "\n") + 1
}

func replace(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%q not in test input", old)
	}
	return strings.Replace(s, old, new, 1)
}

func TestSmallCampaign(t *testing.T) {
	c, err := Load(campaignFS(okEvent, okAgencies, okPeople))
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Person{
		{ID: "DB001", FullName: "Nguyễn Văn An", Position: "Chuyên viên", AgencyCode: "SKHCN", Phone: "0912345678", Email: "an@example.com", Roles: []domain.Role{domain.RoleStaff}},
		{ID: "DB002", FullName: "Trần Thị Bình", Position: "Phó Giám đốc Sở", AgencyCode: "STC", Phone: "0983111222", Roles: []domain.Role{domain.RoleDelegate, domain.RoleFocal}, InviteToken: "AAAAAAAAAAAAAAAAAAAAAA", InviteCode: "HY7K3M9Q"},
		{ID: "DB003", FullName: "Lê Minh Châu", Position: "Trưởng phòng", AgencyCode: "STC", Phone: "0389000111", Roles: []domain.Role{domain.RoleDelegate}},
	}
	if !reflect.DeepEqual(c.People, want) {
		t.Errorf("people:\n got %+v\nwant %+v", c.People, want)
	}
	if it := c.Event.Agenda[1]; it.TitleVI != "Khai mạc" || it.TitleEN != "" || it.SpeakerVI != "Sở KH&CN" {
		t.Errorf("plain-string title: %+v", it)
	}
	// The directory the rest of the program builds accepts the result.
	d := domain.NewDirectory(c.People, c.Agencies)
	if p, ok := d.ByCode("HY-7K3M-9Q"); !ok || p.ID != "DB002" {
		t.Errorf("ByCode = %v, %v", p, ok)
	}
}

func TestBrokenInputs(t *testing.T) {
	type want struct {
		file  string
		row   int
		field string
		msg   string // a part of the message
	}
	tests := []struct {
		label                   string
		event, agencies, people string
		want                    want
	}{
		{
			label:  "bad phone",
			people: replace(t, okPeople, "0389 000 111", "abc"),
			want:   want{"delegates.csv", 4, "phone", "«abc» is not a Vietnamese phone number"},
		},
		{
			label:  "missing phone",
			people: replace(t, okPeople, "0389 000 111", ""),
			want:   want{"delegates.csv", 4, "phone", "is required"},
		},
		{
			label:  "unknown agency",
			people: replace(t, okPeople, ",stc,", ",SYT,"),
			want:   want{"delegates.csv", 4, "agency", "«SYT» is not in the agency list"},
		},
		{
			label:  "duplicate id",
			people: replace(t, okPeople, "DB003", "db001"),
			want:   want{"delegates.csv", 4, "id", "already used on row 2"},
		},
		{
			label:  "empty id",
			people: replace(t, okPeople, "DB003", ""),
			want:   want{"delegates.csv", 4, "id", "is required"},
		},
		{
			label:  "missing name",
			people: replace(t, okPeople, "Lê Minh Châu", " "),
			want:   want{"delegates.csv", 4, "full_name", "is required"},
		},
		{
			label:  "missing column",
			people: replace(t, okPeople, "id,full_name,position,agency,phone", "id,full_name,position,agency,mobile_2"),
			want:   want{"delegates.csv", 1, "phone", "required column is missing"},
		},
		{
			label:  "unknown role",
			people: replace(t, okPeople, "delegate;focal", "delegate;boss"),
			want:   want{"delegates.csv", 3, "roles", "«boss» is not a role"},
		},
		{
			label:  "short invite token",
			people: replace(t, okPeople, "AAAAAAAAAAAAAAAAAAAAAA", "abc123"),
			want:   want{"delegates.csv", 3, "invite_token", "at least 22"},
		},
		{
			label:  "bad invite code",
			people: replace(t, okPeople, "hy-7k3m 9q", "ab!"),
			want:   want{"delegates.csv", 3, "invite_code", "«ab!»"},
		},
		{
			label:  "duplicate invite code",
			people: replace(t, okPeople, "0389 000 111,,,,", "0389 000 111,,,,HY7K3M9Q"),
			want:   want{"delegates.csv", 4, "invite_code", "already used on row 3"},
		},
		{
			label:  "bad email",
			people: replace(t, okPeople, "an@example.com", "an at example"),
			want:   want{"delegates.csv", 2, "email", "not an e-mail address"},
		},
		{
			label:  "csv syntax",
			people: replace(t, okPeople, "Lê Minh Châu", `Lê "Minh" Châu`),
			want:   want{"delegates.csv", 4, "", "CSV syntax"},
		},
		{
			label:  "no people",
			people: "id,full_name,agency,phone\n",
			want:   want{"delegates.csv", 0, "", "has no people"},
		},
		{
			label:    "duplicate agency",
			agencies: okAgencies + "skhcn,Sở KH&CN,,\n",
			want:     want{"agencies.csv", 4, "code", "already used on row 2"},
		},
		{
			label: "bad time",
			event: replace(t, okEvent, `start: "08:00"`, `start: "8 giờ"`),
			want:  want{"event.yaml", lineOf(t, okEvent, `start: "08:00"`), "start", "«8 giờ» is not a time of day"},
		},
		{
			label: "bad agenda time",
			event: replace(t, okEvent, `end: "08:30"`, `end: "25:00"`),
			want:  want{"event.yaml", lineOf(t, okEvent, `end: "08:30"`), "agenda[2].end", "«25:00» is not a time of day"},
		},
		{
			label: "bad date",
			event: replace(t, okEvent, "2024-08-02", "02/08/2024"),
			want:  want{"event.yaml", 4, "date", "write YYYY-MM-DD"},
		},
		{
			label: "bad yaml",
			event: replace(t, okEvent, "address: \"Hưng Yên\"", "address: \"Hưng Yên\n   bad: ["),
			want:  want{"event.yaml", lineOf(t, okEvent, "address:") + 1, "", "YAML syntax"},
		},
		{
			label: "bad yaml indentation",
			event: replace(t, okEvent, "agencies: agencies.csv", "agencies: agencies.csv\n  people: x"),
			want:  want{"event.yaml", lineOf(t, okEvent, "agencies: agencies.csv") + 1, "", "YAML syntax: mapping values are not allowed"},
		},
		{
			label: "unknown timezone",
			event: replace(t, okEvent, "Asia/Ho_Chi_Minh", "Asia/Hanoi"),
			want:  want{"event.yaml", 3, "timezone", "«Asia/Hanoi» is not a known IANA time zone"},
		},
		{
			label: "missing required field",
			event: replace(t, okEvent, "venue: {vi: \"Hội trường\", en: \"Hall\"}\n", ""),
			want:  want{"event.yaml", 0, "venue", "is required"},
		},
		{
			label: "missing translation",
			event: replace(t, okEvent, `venue: {vi: "Hội trường", en: "Hall"}`, `venue: {en: "Hall"}`),
			want:  want{"event.yaml", lineOf(t, okEvent, "venue:"), "venue.vi", "is required"},
		},
		{
			label: "unknown key",
			event: replace(t, okEvent, "address:", "adress:"),
			want:  want{"event.yaml", lineOf(t, okEvent, "address:"), "adress", "unknown key"},
		},
		{
			label: "agenda overlap",
			event: replace(t, okEvent, `{start: "08:30", end: "09:00"`, `{start: "08:20", end: "09:00"`),
			want:  want{"event.yaml", lineOf(t, okEvent, `{start: "08:30"`), "agenda[3].start", "overlaps item 2, which ends at 08:30"},
		},
		{
			label: "agenda out of order",
			event: replace(t, okEvent, `{start: "08:30", end: "09:00"`, `{start: "07:40", end: "07:50"`),
			want:  want{"event.yaml", lineOf(t, okEvent, `{start: "08:30"`), "agenda[3].start", "time order"},
		},
		{
			label: "agenda end before start",
			event: replace(t, okEvent, `{start: "08:00", end: "08:30"`, `{start: "08:00", end: "07:59"`),
			want:  want{"event.yaml", lineOf(t, okEvent, `{start: "08:00", end: "08:30"`), "agenda[2].end", "not after the item's start"},
		},
		{
			label: "agenda after the end",
			event: replace(t, okEvent, `end: "09:00", title`, `end: "09:10", title`),
			want:  want{"event.yaml", lineOf(t, okEvent, `end: "09:00", title`), "agenda[3].end", "after the event ends"},
		},
		{
			label: "rsvp cutoff after start",
			event: replace(t, okEvent, "2024-07-31 17:00", "2024-08-02 08:30"),
			want:  want{"event.yaml", lineOf(t, okEvent, "rsvp_cutoff"), "rsvp_cutoff", "after the event starts"},
		},
		{
			label: "doors open after start",
			event: replace(t, okEvent, `doors_open: "07:30"`, `doors_open: "08:15"`),
			want:  want{"event.yaml", lineOf(t, okEvent, "doors_open"), "doors_open", "after start"},
		},
		{
			label: "bad organizer phone",
			event: replace(t, okEvent, "0221 3862 538", "gọi văn phòng"),
			want:  want{"event.yaml", lineOf(t, okEvent, "organizer:"), "organizer.phone", "not a Vietnamese phone number"},
		},
		{
			label: "missing people file",
			event: replace(t, okEvent, "people: delegates.csv", "people: nope.csv"),
			want:  want{"nope.csv", 0, "", "cannot open"},
		},
		{
			label: "path outside the campaign",
			event: replace(t, okEvent, "people: delegates.csv", "people: ../delegates.csv"),
			want:  want{"../delegates.csv", 0, "", "not a valid path"},
		},
		{
			label: "old excel",
			event: replace(t, okEvent, "people: delegates.csv", "people: delegates.xls"),
			want:  want{"delegates.xls", 0, "", ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			ev, ag, pe := okEvent, okAgencies, okPeople
			if tt.event != "" {
				ev = tt.event
			}
			if tt.agencies != "" {
				ag = tt.agencies
			}
			if tt.people != "" {
				pe = tt.people
			}
			fsys := campaignFS(ev, ag, pe)
			fsys["delegates.xls"] = &fstest.MapFile{Data: []byte("\xD0\xCF\x11\xE0")}
			c, err := Load(fsys)
			if err == nil {
				t.Fatalf("loaded: %+v", c)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not a *ValidationError: %v", err, err)
			}
			w := tt.want
			for _, p := range ve.Problems {
				if p.File == w.file && p.Row == w.row && p.Field == w.field && strings.Contains(p.Msg, w.msg) {
					line := Problem{File: w.file, Row: w.row, Field: w.field, Msg: p.Msg}.String()
					if !strings.Contains(err.Error(), line) {
						t.Errorf("Error() lacks %q:\n%v", line, err)
					}
					return
				}
			}
			t.Errorf("no problem {%s %d %s …%s…}; got:\n%v", w.file, w.row, w.field, w.msg, err)
		})
	}
}

func TestBadYAMLLine(t *testing.T) {
	// A syntax error names its line.
	ev := replace(t, okEvent, "agencies: agencies.csv", "agencies: [agencies.csv")
	_, err := Load(campaignFS(ev, okAgencies, okPeople))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Row == 0 || !strings.HasPrefix(err.Error(), fmt.Sprintf("event.yaml:%d: YAML syntax: ", ve.Problems[0].Row)) {
		t.Errorf("got %v", err)
	}
}

func TestAllProblemsReported(t *testing.T) {
	ev := replace(t, okEvent, "Asia/Ho_Chi_Minh", "Mars/Olympus")
	ev = replace(t, ev, `end: "08:30"`, `end: "8.30"`)
	pe := replace(t, okPeople, "0389 000 111", "12")
	pe = replace(t, pe, "DB002", "DB001")
	ag := okAgencies + ",Không mã,,\n"
	_, err := Load(campaignFS(ev, ag, pe))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	got := err.Error()
	for _, want := range []string{
		"event.yaml:3: timezone: «Mars/Olympus»",
		"agenda[2].end: «8.30» is not a time of day",
		"agencies.csv:4: code: is required",
		"delegates.csv:3: id: «DB001» is already used on row 2",
		"delegates.csv:4: phone: «12» is not a Vietnamese phone number",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if len(strings.Split(got, "\n")) != len(ve.Problems) {
		t.Errorf("Error() is not one line per problem:\n%s", got)
	}
}

func TestErrorFormat(t *testing.T) {
	e := &ValidationError{Problems: []Problem{
		{File: "delegates.csv", Row: 12, Field: "phone", Msg: "«abc» is not a Vietnamese phone number"},
		{File: "event.yaml", Field: "venue", Msg: "is required"},
		{File: "big.csv", Msg: "too big"},
	}}
	want := "delegates.csv:12: phone: «abc» is not a Vietnamese phone number\nevent.yaml: venue: is required\nbig.csv: too big"
	if e.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", e.Error(), want)
	}
}

func exampleFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(Example(), name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exampleAgencies(t *testing.T) map[string]bool {
	t.Helper()
	as, err := LoadAgencies("agencies.csv", exampleFile(t, "agencies.csv"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, a := range as {
		m[a.Code] = true
	}
	return m
}

func TestXLSXLoadsLikeCSV(t *testing.T) {
	data := exampleFile(t, "delegates.csv")
	agencies := exampleAgencies(t)
	fromCSV, err := LoadPeople("delegates.csv", data, agencies)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}

	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	row := 1
	for i, rec := range recs {
		if i == 5 {
			row++ // a blank row in the middle is skipped
		}
		cells := make([]any, len(rec))
		for j, v := range rec {
			cells[j] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := f.SetSheetRow(sheet, cell, &cells); err != nil {
			t.Fatal(err)
		}
		row++
	}
	// A phone typed as a number loses its leading zero in Excel; it still
	// loads. Column E is phone; row 3 holds DB002.
	if recs[0][4] != "phone" {
		t.Fatalf("phone column moved: %v", recs[0])
	}
	if err := f.SetCellInt(sheet, "E3", int64(mustAtoi(t, recs[2][4]))); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	xlsx := bytes.Clone(buf.Bytes())

	fromXLSX, err := LoadPeople("delegates.xlsx", xlsx, agencies)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromCSV, fromXLSX) {
		t.Errorf("XLSX and CSV differ:\n%v\n%v", fromCSV[:3], fromXLSX[:3])
	}

	// Problems name the spreadsheet row, counting the blank one.
	if err := f.SetCellStr(sheet, "E10", "không có"); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	_, err = LoadPeople("delegates.xlsx", buf.Bytes(), agencies)
	if err == nil || !strings.Contains(err.Error(), "delegates.xlsx:10: phone: «không có»") {
		t.Errorf("got %v", err)
	}

	// And Load picks the format by extension.
	fsys := fstest.MapFS{}
	for _, name := range []string{"event.yaml", "agencies.csv", "indicators.csv", "assignments.csv"} {
		fsys[name] = &fstest.MapFile{Data: exampleFile(t, name)}
	}
	fsys["event.yaml"].Data = bytes.Replace(fsys["event.yaml"].Data, []byte("people: delegates.csv"), []byte("people: lists/delegates.xlsx"), 1)
	fsys["lists/delegates.xlsx"] = &fstest.MapFile{Data: xlsx}
	c, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.People, fromCSV) {
		t.Errorf("Load of XLSX differs from CSV")
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCSVVariants(t *testing.T) {
	agencies := map[string]bool{"SKHCN": true, "STC": true}
	want, err := LoadPeople("delegates.csv", []byte(okPeople), agencies)
	if err != nil {
		t.Fatal(err)
	}
	variants := map[string]string{
		"BOM":             "\uFEFF" + okPeople,
		"CRLF":            strings.ReplaceAll(okPeople, "\n", "\r\n"),
		"semicolons":      strings.NewReplacer(",", ";", "delegate;focal", "delegate,focal").Replace(okPeople),
		"blank lines":     strings.Replace(okPeople, "\nDB002", "\n,,,,,,,,\n\nDB002", 1),
		"Vietnamese hdr":  replace(t, okPeople, "id,full_name,position,agency,phone,email,roles", "Mã,Họ và tên,Chức vụ,Đơn vị,Số điện thoại,Email,Vai trò"),
		"upper hdr":       replace(t, okPeople, "id,full_name,position,agency,phone", "ID,Full Name,Position,AGENCY,Phone"),
		"extra column":    strings.ReplaceAll(okPeople, "\n", ",ghi chú\n"),
		"combining marks": replace(t, okPeople, "Nguyễn Văn An", "Nguye\u0302\u0303n Va\u0306n An"),
	}
	for label, data := range variants {
		t.Run(label, func(t *testing.T) {
			got, err := LoadPeople("delegates.csv", []byte(data), agencies)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
	// The whole example with a BOM.
	data := append([]byte("\uFEFF"), exampleFile(t, "delegates.csv")...)
	if ps, err := LoadPeople("delegates.csv", data, exampleAgencies(t)); err != nil || len(ps) < 85 {
		t.Errorf("example with BOM: %d people, %v", len(ps), err)
	}
}

func TestFileProblems(t *testing.T) {
	tests := []struct {
		label string
		name  string
		data  []byte
		msg   string
	}{
		{"too big", "big.csv", bytes.Repeat([]byte("a"), MaxFileSize+1), "larger than 10 MiB"},
		{"not utf-8", "d.csv", []byte("id,full_name,agency,phone\n1,Nguy\xean,STC,0912345678\n"), "not UTF-8"},
		{"utf-16", "d.csv", []byte("\xFF\xFEi\x00d\x00"), "UTF-16"},
		{"not xlsx", "d.xlsx", []byte("id,full_name\n"), "cannot read as an Excel"},
		{"unknown type", "d.json", []byte("[]"), "unknown file type"},
		{"empty", "d.csv", nil, "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			_, err := LoadPeople(tt.name, tt.data, nil)
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].File != tt.name || !strings.Contains(ve.Problems[0].Msg, tt.msg) {
				t.Errorf("got %v", err)
			}
		})
	}

	// Load refuses a big file before reading it all.
	fsys := campaignFS(okEvent, okAgencies, okPeople)
	fsys["delegates.csv"].Data = bytes.Repeat([]byte("x"), MaxFileSize+1)
	if _, err := Load(fsys); err == nil || !strings.Contains(err.Error(), "delegates.csv: file is larger than 10 MiB") {
		t.Errorf("got %v", err)
	}
}

func TestNilAgenciesSkipsCheck(t *testing.T) {
	ps, err := LoadPeople("d.csv", []byte("id,full_name,agency,phone\nX1,Nguyễn An,ANY,0912345678\n"), nil)
	if err != nil || len(ps) != 1 || ps[0].AgencyCode != "ANY" || !ps[0].Has(domain.RoleDelegate) {
		t.Errorf("got %+v, %v", ps, err)
	}
}
