package flows

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
)

func icsEvent() domain.Event {
	at := func(h, m int) time.Time { return time.Date(2024, 8, 2, h, m, 0, 0, hcm) }
	return domain.Event{
		ID: "pii-test", NameVI: "Hội nghị PII thử nghiệm", NameEN: "Test PII conference", Location: hcm,
		DoorsOpen: at(7, 30), Start: at(8, 0), End: at(11, 0),
		VenueVI: "Trung tâm Hội nghị tỉnh", VenueEN: "Provincial Conference Centre", Address: "Đường Quảng Trường, Hưng Yên",
		RSVPCutoff: time.Date(2024, 7, 31, 17, 0, 0, 0, hcm),
		Agenda: []domain.AgendaItem{
			{No: 1, Start: at(7, 30), End: at(8, 0), TitleVI: "Đón tiếp đại biểu", TitleEN: "Welcoming delegates"},
			{No: 2, Start: at(8, 0), End: at(8, 30), TitleVI: "Khai mạc, giới thiệu đại biểu", TitleEN: "Opening", SpeakerVI: "Sở KH&CN"},
			{No: 3, Start: at(8, 30), End: at(10, 0), TitleVI: "Thảo luận về Bộ chỉ số PII", TitleEN: "Discussion of the PII"},
		},
	}
}

func contains(t testing.TB, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, s)
		}
	}
}

func TestICS(t *testing.T) {
	ev := icsEvent()
	ev.NameVI = "Hội nghị triển khai Chỉ số đổi mới sáng tạo cấp địa phương (PII) năm 2024; phiên toàn thể, có thảo luận"
	ev.Agenda[2].TitleVI = `Thảo luận: "điểm mạnh, điểm yếu"; giải pháp \ kiến nghị`
	out := ICS(ev, domain.Vietnamese)
	if !bytes.HasSuffix(out, []byte("END:VCALENDAR\r\n")) {
		t.Fatalf("does not end with END:VCALENDAR CRLF")
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n")
	for i, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, l)
		}
		if len(l) > 75 {
			t.Errorf("line %d is %d octets: %q", i+1, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d splits a UTF-8 character: %q", i+1, l)
		}
	}
	// Unfold and check the properties.
	unfolded := strings.ReplaceAll(string(out), "\r\n ", "")
	for _, want := range []string{
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n",
		"BEGIN:VTIMEZONE\r\nTZID:Asia/Ho_Chi_Minh\r\n", "TZOFFSETFROM:+0700\r\n", "TZOFFSETTO:+0700\r\n",
		"UID:pii-test@dieuphoi\r\n",
		"DTSTART;TZID=Asia/Ho_Chi_Minh:20240802T080000\r\n",
		"DTEND;TZID=Asia/Ho_Chi_Minh:20240802T110000\r\n",
		"SUMMARY:Hội nghị triển khai Chỉ số đổi mới sáng tạo cấp địa phương (PII) năm 2024\\; phiên toàn thể\\, có thảo luận\r\n",
		"LOCATION:Trung tâm Hội nghị tỉnh\\, Đường Quảng Trường\\, Hưng Yên\r\n",
		"DESCRIPTION:Đón tiếp đại biểu từ 07:30.\\n\\nChương trình:\\n1. 07:30–08:00 Đón tiếp đại biểu\\n",
		`3. 08:30–10:00 Thảo luận: "điểm mạnh\, điểm yếu"\; giải pháp \\ kiến nghị`,
		"BEGIN:VEVENT\r\n", "END:VEVENT\r\n",
	} {
		if !strings.Contains(unfolded, want) {
			t.Errorf("missing %q in:\n%s", want, unfolded)
		}
	}
	if !bytes.Equal(out, ICS(ev, domain.Vietnamese)) {
		t.Error("not stable")
	}
	contains(t, "english", strings.ReplaceAll(string(ICS(ev, domain.English)), "\r\n ", ""), "SUMMARY:Test PII conference", "Agenda:", "UID:pii-test@dieuphoi")
}

// The calendar file after «Tham dự» is rendered once per event and
// language, and is the same as rendering it: another event (a changed one is
// another *domain.Event) or another language gets its own.
func TestICSOfRendersOncePerEventAndLanguage(t *testing.T) {
	ev := icsEvent()
	changed := icsEvent()
	changed.Start = changed.Start.Add(time.Hour)
	for _, tc := range []struct {
		name string
		ev   *domain.Event
		lang domain.Lang
	}{
		{"vi", &ev, domain.Vietnamese},
		{"en", &ev, domain.English},
		{"changed event", &changed, domain.Vietnamese},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := icsOf(tc.ev, tc.lang)
			if want := ICS(*tc.ev, tc.lang); !bytes.Equal(first, want) {
				t.Fatalf("icsOf differs from ICS:\n%s\nwant\n%s", first, want)
			}
			if again := icsOf(tc.ev, tc.lang); &again[0] != &first[0] {
				t.Error("rendered again for the same event and language")
			}
			if n := testing.AllocsPerRun(10, func() { icsOf(tc.ev, tc.lang) }); n != 0 {
				t.Errorf("%v allocations for a file rendered before", n)
			}
		})
	}
	if bytes.Equal(icsOf(&ev, domain.Vietnamese), icsOf(&changed, domain.Vietnamese)) {
		t.Error("a changed event got the earlier event's file")
	}
}
