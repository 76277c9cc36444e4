package configs

import (
	"errors"
	"strings"
	"testing"
)

const okInvitation = `invitation:
  parent_body: "UBND TỈNH HƯNG YÊN"
  issuing_body: "SỞ KHOA HỌC VÀ CÔNG NGHỆ"
  number: "125/GM-SKHCN"
  place: "Hưng Yên"
  date: 2024-07-26
  signer: {name: "Trần Tùng Chuẩn", title: "GIÁM ĐỐC", authority: "KT. CHỦ TỊCH"}
  recipients: ["Như trên", "Lưu: VT"]
`

func TestInvitationSection(t *testing.T) {
	c, err := Load(campaignFS(okEvent+okInvitation, okAgencies, okPeople))
	if err != nil {
		t.Fatal(err)
	}
	is := c.Event.Issuer
	if is.Parent != "UBND TỈNH HƯNG YÊN" || is.Body != "SỞ KHOA HỌC VÀ CÔNG NGHỆ" || is.Number != "125/GM-SKHCN" ||
		is.Place != "Hưng Yên" || is.SignerName != "Trần Tùng Chuẩn" || is.SignerTitle != "GIÁM ĐỐC" ||
		is.SignerAuthority != "KT. CHỦ TỊCH" || strings.Join(is.Recipients, "|") != "Như trên|Lưu: VT" {
		t.Errorf("Issuer = %+v", is)
	}
	if is.Date.Format("2006-01-02") != "2024-07-26" || is.Date.Location() != c.Event.Location {
		t.Errorf("Date = %v", is.Date)
	}
	// Without the section the event loads, with no issuer.
	c, err = Load(campaignFS(okEvent, okAgencies, okPeople))
	if err != nil || c.Event.Issuer.Set() {
		t.Errorf("no section: %+v, %v", c.Event.Issuer, err)
	}
	// The example carries the seed's issuer.
	ex, err := Load(Example())
	if err != nil {
		t.Fatal(err)
	}
	if e := ex.Event.Issuer; e.Body != "SỞ KHOA HỌC VÀ CÔNG NGHỆ" || e.SignerName != "Trần Tùng Chuẩn" || e.Number != "/GM-SKHCN" || e.Place != "Hưng Yên" {
		t.Errorf("example issuer = %+v", e)
	}
}

func TestInvitationProblems(t *testing.T) {
	ev := okEvent + okInvitation
	tests := []struct {
		label, old, new, field, msg string
	}{
		{"bad number", `"125/GM-SKHCN"`, `"số 125"`, "invitation.number", "not a số/ký hiệu"},
		{"no issuing body", `  issuing_body: "SỞ KHOA HỌC VÀ CÔNG NGHỆ"` + "\n", "", "invitation.issuing_body", "is required"},
		{"blank place", `place: "Hưng Yên"`, `place: ""`, "invitation.place", "must not be blank"},
		{"date after the event", "date: 2024-07-26", "date: 2024-08-03", "invitation.date", "after the event starts"},
		{"bad date", "date: 2024-07-26", "date: 26/07/2024", "invitation.date", "not a date"},
		{"no signer name", `name: "Trần Tùng Chuẩn", `, "", "invitation.signer.name", "is required"},
		{"unknown key", `place: "Hưng Yên"`, "place: \"Hưng Yên\"\n  seal: yes", "invitation.seal", "unknown key"},
		{"long title", `title: "GIÁM ĐỐC"`, `title: "` + strings.Repeat("GIÁM ĐỐC ", 20) + `"`, "invitation.signer.title", "at most 160"},
		{"recipients not a list", `recipients: ["Như trên", "Lưu: VT"]`, `recipients: "Như trên"`, "invitation.recipients", "must be a list"},
		{"blank recipient", `recipients: ["Như trên", "Lưu: VT"]`, `recipients: ["Như trên", ""]`, "invitation.recipients[2]", "line of text"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			_, err := Load(campaignFS(replace(t, ev, tt.old, tt.new), okAgencies, okPeople))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v", err)
			}
			for _, p := range ve.Problems {
				if p.File == "event.yaml" && p.Field == tt.field && strings.Contains(p.Msg, tt.msg) {
					return
				}
			}
			t.Errorf("no problem %s …%s…; got:\n%v", tt.field, tt.msg, err)
		})
	}
}
