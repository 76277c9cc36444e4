package flows

import (
	"testing"

	"github.com/dieuphoi/dieuphoi/domain"
)

const readPage = "UBND TỈNH HƯNG YÊN\nSố: 125/BC-SKHCN      Hưng Yên, ngày 15 tháng 3 năm 2024\n\nTỷ lệ chi cho KH&CN trên GRDP năm 2023 đạt 0,52 %."

func reading(sha, problem string, pages ...string) Input {
	return Input{Kind: InReading, Reading: &Reading{SHA256: sha, Problem: problem, Pages: pages}}
}

// TestReadingProposesNumberAndDate: what the evidence says arrives in the
// chat and becomes one-tap answers, while typing still works.
func TestReadingProposesNumberAndDate(t *testing.T) {
	c := newCampaign(t)
	c.as("DB002", btn("ind:2.2.2"))
	c.as("DB002", text("0,52%"))
	c.as("DB002", btn(btnValOK))
	c.as("DB002", file("bao-cao.pdf", "s1", ""))
	c.as("DB002", reading("s1", "", readPage))
	c.want("DB002", "Đã đọc xong tệp «bao-cao.pdf»")
	c.want("DB002", "Số/ký hiệu: 125/BC-SKHCN (trang 1)")
	c.want("DB002", "Ngày văn bản: 15/03/2024")
	c.want("DB002", "Giá trị 0,52% có trong tài liệu: trang 1, dòng 4")
	if c.chats["DB002"].State != stateIndEvidence {
		t.Fatalf("a reading moved the conversation to %q", c.chats["DB002"].State)
	}
	r := c.as("DB002", btn(btnEvDone))
	c.want("DB002", "Trong tài liệu có «Số: 125/BC-SKHCN» — đúng không?")
	if !hasButton(r, btnDocFound) {
		t.Fatal("no one-tap button for the number found")
	}
	r = c.as("DB002", btn(btnDocFound))
	c.want("DB002", "Văn bản ghi ngày 15/03/2024")
	if !hasButton(r, btnDateFound) {
		t.Fatal("no one-tap button for the date found")
	}
	// Typing another date still works.
	c.as("DB002", text("16/03/2024"))
	c.want("DB002", "Ghi chú")
	s := c.subs[[2]string{"2.2.2", "STC"}]
	if s.DocNumber != "125/BC-SKHCN" || s.DocDate.Format("02/01/2006") != "16/03/2024" {
		t.Fatalf("saved %q %v; want the number proposed and the date typed", s.DocNumber, s.DocDate)
	}
}

func TestReadingArrivesAtTheQuestion(t *testing.T) {
	c := newCampaign(t)
	c.as("DB002", btn("ind:2.2.2"))
	c.as("DB002", text("0,52%"))
	c.as("DB002", btn(btnValOK))
	c.as("DB002", file("scan.jpg", "s1", ""))
	c.as("DB002", btn(btnEvDone))
	if c.chats["DB002"].State != stateIndDocNo {
		t.Fatal("not at the number question")
	}
	// The value is not in this document: said, softly.
	r := c.as("DB002", reading("s1", "", "Số: 7/KH-SKHCN\nngày 02/01/2024\nKhông có số liệu."))
	c.want("DB002", "Chưa thấy giá trị 0,52% trong tài liệu")
	if !hasButton(r, btnDocFound) {
		t.Fatal("the question on screen did not get its proposal")
	}
	c.as("DB002", btn(btnDocFound))
	c.as("DB002", btn(btnDateFound))
	s := c.subs[[2]string{"2.2.2", "STC"}]
	if s.DocNumber != "7/KH-SKHCN" || s.DocDate.Format("2006-01-02") != "2024-01-02" {
		t.Fatalf("saved %q %v", s.DocNumber, s.DocDate)
	}
	// A tap on an old proposal is stale, not an answer.
	state := c.chats["DB002"].State
	c.as("DB002", btn(btnDocFound))
	c.want("DB002", catalogs[domain.Vietnamese]["stale_button"])
	if c.chats["DB002"].State != state {
		t.Fatalf("a stale tap moved the conversation from %q to %q", state, c.chats["DB002"].State)
	}
}

func TestReadingProblemsAndStrays(t *testing.T) {
	c := newCampaign(t)
	c.as("DB002", btn("ind:2.2.2"))
	c.as("DB002", text("0,52%"))
	c.as("DB002", btn(btnValOK))
	c.as("DB002", file("hong.pdf", "s1", ""))
	c.as("DB002", reading("s1", "encrypted"))
	c.want("DB002", "Không đọc được tệp «hong.pdf»")
	if c.chats["DB002"].State != stateIndEvidence {
		t.Fatal("an unreadable file moved the conversation")
	}
	// A reading for a file not in the working copy says nothing.
	if r := c.as("DB002", reading("other", "", readPage)); len(r.Replies) != 0 || len(r.Effects) != 0 {
		t.Fatalf("stray reading answered: %q", allText(r))
	}
	// Nor does one for a person who is not entering anything.
	c.as("DB003", text("xin chào"))
	if r := c.as("DB003", reading("s1", "", readPage)); len(r.Replies) != 0 {
		t.Fatalf("reading for staff answered: %q", allText(r))
	}
}
