package papers_test

import (
	"fmt"
	"github.com/dieuphoi/dieuphoi/papers"
	"github.com/dieuphoi/dieuphoi/papers/paperstest"
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/domain"
)

func TestRank(t *testing.T) {
	tests := []struct {
		position string
		want     int
	}{
		{"Chủ tịch UBND tỉnh", papers.RankProvince},
		{"Phó Chủ tịch UBND tỉnh", papers.RankProvince + 1},
		{"Phó Bí thư Tỉnh ủy", papers.RankProvince + 1},
		{"Giám đốc Sở", papers.RankHead},
		{"giám đốc sở", papers.RankHead},
		{"Cục trưởng", papers.RankHead},
		{"Phó Giám đốc Sở", papers.RankHead + 1},
		{"Phó Chủ tịch UBND huyện Văn Lâm", papers.RankHead + 1},
		{"Phó Cục trưởng", papers.RankHead + 1},
		{"Phó Trưởng Ban", papers.RankHead + 1},
		{"Phó Chánh Văn phòng", papers.RankHead + 1},
		{"Chánh Văn phòng Sở", papers.RankUnit},
		{"Giám đốc Trung tâm Thông tin, thống kê", papers.RankUnit},
		{"Trưởng phòng Tổng hợp", papers.RankUnit},
		{"Trưởng khoa Quản lý khoa học", papers.RankUnit},
		{"Phó Trưởng phòng Kế hoạch - Tài chính", papers.RankUnit + 1},
		{"Chuyên viên chính", papers.RankOther},
		{"Nghiên cứu viên, chuyên gia", papers.RankOther},
		{"", papers.RankOther},
		{"Phóng viên Báo Hưng Yên", papers.RankPress},
	}
	for _, tt := range tests {
		if got := papers.Rank(tt.position); got != tt.want {
			t.Errorf("papers.Rank(%q) = %d, want %d", tt.position, got, tt.want)
		}
	}
}

// attendees of the example, with one decline and one substitute.
func attendees(t *testing.T) (domain.Event, *domain.Directory, []papers.Seat) {
	t.Helper()
	ev, dir := example(t)
	// DB002 sends a substitute, DB003 declines.
	d2, _ := dir.Person("DB002")
	sub := domain.Person{ID: domain.SubstituteID("DB002"), FullName: "Ngô Thị Hằng", Position: "Chuyên viên",
		AgencyCode: d2.AgencyCode, SubstituteFor: "DB002", Roles: []domain.Role{domain.RoleSubstitute},
		InviteToken: "subtok", CheckinToken: "subchk", InviteCode: "HYSUB1"}
	people := append(dir.People(), sub)
	dir = domain.NewDirectory(people, dir.Agencies())
	rsvps := map[string]domain.RSVP{
		"DB002": {PersonID: "DB002", Status: domain.RSVPSubstitute},
		"DB003": {PersonID: "DB003", Status: domain.RSVPDecline},
		"DB004": {PersonID: "DB004", Status: domain.RSVPAttend},
	}
	seats := papers.Attendees(dir, rsvps, func(p domain.Person, a domain.Agency, f string) papers.Invitee {
		return papers.NewInvitee(p, a, f, publicURL, "")
	})
	return ev, dir, seats
}

func TestAttendeesInProtocolOrder(t *testing.T) {
	_, dir, seats := attendees(t)
	ids := map[string]papers.Seat{}
	for i, s := range seats {
		ids[s.Person.ID] = s
		if i > 0 && s.Rank < seats[i-1].Rank {
			t.Errorf("seat %d (%s, rank %d) after rank %d", i+1, s.Person.FullName, s.Rank, seats[i-1].Rank)
		}
	}
	if _, ok := ids["DB003"]; ok {
		t.Error("a delegate who declined is seated")
	}
	if _, ok := ids["DB002"]; ok {
		t.Error("a delegate who sent a substitute is seated")
	}
	s, ok := ids[domain.SubstituteID("DB002")]
	if !ok || s.Person.FullName != "Ngô Thị Hằng" || s.Status != domain.RSVPSubstitute || s.For == "" {
		t.Errorf("substitute seat = %+v, %v", s, ok)
	}
	if ids["DB004"].Status != domain.RSVPAttend {
		t.Errorf("DB004 = %+v", ids["DB004"])
	}
	n := 0
	for _, p := range dir.People() {
		if p.Has(domain.RoleDelegate) {
			n++
		}
	}
	if len(seats) != n-1 { // one declined; the substitute takes DB002's seat
		t.Errorf("%d seats for %d delegates", len(seats), n)
	}
	if seats[len(seats)-1].Rank != papers.RankPress {
		t.Errorf("last seat is %+v, want the press", seats[len(seats)-1])
	}
}

func TestBadgesReadBack(t *testing.T) {
	ev, _, seats := attendees(t)
	data, err := papers.Badges(ev, seats)
	if err != nil {
		t.Fatal(err)
	}
	path := paperstest.Write(t, data)
	wantPages := (len(seats) + 7) / 8
	if n := paperstest.Pages(t, path); n != wantPages {
		t.Fatalf("%d badges on %d pages, want %d", len(seats), n, wantPages)
	}
	pages := paperstest.Text(t, path)
	all := paperstest.Collapse(strings.Join(pages, "\n"))
	for _, s := range seats {
		if !strings.Contains(all, paperstest.Collapse(s.Person.FullName)) {
			t.Errorf("no badge for %s", s.Person.FullName)
		}
	}
	if !strings.Contains(all, "Ngô Thị Hằng") || !strings.Contains(all, "Dự thay") {
		t.Error("the substitute's badge lacks their name or whom they replace")
	}
	// The first sheet holds the first eight, each with their check-in QR.
	first := paperstest.Collapse(pages[0])
	for _, s := range seats[:8] {
		if !strings.Contains(first, paperstest.Collapse(s.Person.FullName)) {
			t.Errorf("%s is not on the first sheet", s.Person.FullName)
		}
	}
	one, err := papers.Badges(ev, seats[:3])
	if err != nil {
		t.Fatal(err)
	}
	onePath := paperstest.Write(t, one)
	imgs := paperstest.Images(t, onePath)
	for _, s := range seats[:3] {
		if !paperstest.HasQR(t, imgs, s.CheckIn) {
			t.Errorf("no check-in QR for %s", s.Person.FullName)
		}
	}
	paperstest.Render(t, path, 1, 60, "badges")
}

func TestSeatingListReadsBack(t *testing.T) {
	ev, _, seats := attendees(t)
	data, err := papers.SeatingList(ev, seats)
	if err != nil {
		t.Fatal(err)
	}
	path := paperstest.Write(t, data)
	pages := paperstest.Text(t, path)
	if n := paperstest.Pages(t, path); n < 2 || n != len(pages) {
		t.Fatalf("%d pages (text of %d)", n, len(pages))
	}
	all := paperstest.Collapse(strings.Join(pages, "\n"))
	if !strings.Contains(all, "DANH SÁCH ĐẠI BIỂU THEO THỨ TỰ NGHI THỨC") || !strings.Contains(all, "Ngô Thị Hằng (thay") {
		t.Errorf("title or substitute missing:\n%s", all)
	}
	// Rows appear in the list's order: number, then the name (whose end
	// may wrap in its cell).
	at := 0
	for i, s := range seats {
		want := fmt.Sprintf("%d %s", i+1, strings.Fields(s.Person.FullName)[0])
		j := strings.Index(all[at:], want)
		if j < 0 {
			t.Fatalf("row %q missing or out of order", want)
		}
		at += j
	}
	if !strings.Contains(paperstest.Collapse(pages[1]), "STT Họ và tên") {
		t.Error("page 2 does not repeat the header")
	}
	paperstest.Render(t, path, 1, 60, "seating")
	if _, err := papers.SeatingList(ev, nil); err == nil {
		t.Error("an empty list is printed")
	}
}
