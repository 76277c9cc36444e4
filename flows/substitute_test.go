package flows

import (
	"path/filepath"
	"testing"

	"github.com/dieuphoi/dieuphoi/domain"
)

// "Sửa" on the substitute confirmation changes one detail, keeping the
// others; names are written properly; a substitute who opens their own
// link gets their own invitation.
func TestGoldenSubstitute(t *testing.T) {
	for _, lang := range []string{"vi", "en"} {
		t.Run(lang, func(t *testing.T) {
			c := newChat(t)
			c.send(cmd("start", ""))
			if lang == "en" {
				c.send(btn("lang:en"))
			}
			c.send(text("HY7K3M9Q"))
			c.send(btn(btnSub))
			c.send(text("phạm  thu hà"))
			c.send(text("phó trưởng phòng"))
			c.send(text("0911222333"))
			c.send(btn(btnSubEdit))
			c.send(text("0911222444")) // typed instead of choosing: asked to choose
			c.send(btn(btnSubField + "phone"))
			c.send(text("0911 222 444"))
			c.send(btn(btnSubEdit))
			c.send(btn(btnSubField + "name"))
			c.send(text("PHẠM THU HẰNG"))
			r := c.send(btn(btnSubOK))
			var got *domain.SaveRSVP
			for _, e := range r.Effects {
				if s, ok := e.(domain.SaveRSVP); ok {
					got = &s
				}
			}
			if got == nil || got.RSVP.Substitute == nil || *got.RSVP.Substitute != (domain.Substitute{Name: "Phạm Thu Hằng", Position: "Phó trưởng phòng", Phone: "0911222444"}) {
				t.Fatalf("saved %+v", got)
			}

			// The substitute opens their own link.
			s := newChat(t)
			s.url = "https://hoinghi.example.vn"
			s.dir = domain.NewDirectory(append(testDirectory().People(), domain.Person{ID: domain.SubstituteID("DB001"), FullName: "Phạm Thu Hằng",
				Position: "Phó trưởng phòng", AgencyCode: "STC", Phone: "0911222444", Roles: []domain.Role{domain.RoleSubstitute},
				InviteToken: "tok-hang-0123456789abc", InviteCode: "HYHANG33", SubstituteFor: "DB001"}),
				[]domain.Agency{{Code: "STC", NameVI: "Sở Tài chính", NameEN: "Department of Finance"}})
			if lang == "en" {
				s.lang = domain.English
			}
			s.send(cmd("start", "tok-hang-0123456789abc"))
			s.wantReply("HYHANG33")
			s.wantReply("https://hoinghi.example.vn/checkin/tok-hang-0123456789abc")
			c.log.WriteString("=== the substitute opens their link\n")
			c.log.WriteString(s.log.String())
			golden(t, filepath.Join("testdata", "substitute_"+lang+".golden"), c.log.String())
		})
	}
}

// A substitute's check-in counts for the delegate they replace, in the
// chat's /tonghop as in the console.
func TestHeadcountCountsSubstitute(t *testing.T) {
	dir := testDirectory()
	h := CountHeadcount(dir, map[string]domain.RSVP{"DB001": {PersonID: "DB001", Status: domain.RSVPSubstitute}},
		map[string]bool{domain.SubstituteID("DB001"): true})
	if h.Total.CheckedIn != 1 || h.Total.Substitute != 1 || h.Total.Invited != 1 {
		t.Errorf("headcount %+v", h.Total)
	}
}
