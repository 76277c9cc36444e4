package flows

import (
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// The indicator list counts whole calendar days to the deadline
// (domain.DaysUntil), the rule the console and the reminders use.
func TestIndicatorListCountdown(t *testing.T) {
	for _, tc := range []struct {
		name string
		now  time.Time
		want string
	}{
		{"20 calendar days before, in the morning", time.Date(2024, 8, 10, 9, 0, 0, 0, hcm), "hạn 17:00 ngày 30/08/2024 (còn 20 ngày)"},
		{"the evening before a 17:00 deadline", time.Date(2024, 8, 29, 18, 0, 0, 0, hcm), "hạn ngày mai, 17:00 ngày 30/08/2024"},
		{"the morning of the deadline", time.Date(2024, 8, 30, 7, 40, 0, 0, hcm), "hạn hôm nay, 17:00 ngày 30/08/2024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCampaign(t)
			c.now = tc.now
			r := c.as("DB002", cmd("chiso", ""))
			all := ""
			for _, rp := range r.Replies {
				all += rp.Text + "\n"
			}
			if !strings.Contains(all, tc.want) {
				t.Errorf("list lacks %q:\n%s", tc.want, all)
			}
		})
	}
}

func TestCountdownWords(t *testing.T) {
	for _, tc := range []struct {
		days int
		lang domain.Lang
		want string
	}{
		{0, domain.Vietnamese, "hôm nay"}, {1, domain.Vietnamese, "ngày mai"}, {20, domain.Vietnamese, "còn 20 ngày"},
		{-1, domain.Vietnamese, "hôm qua"}, {-3, domain.Vietnamese, "3 ngày trước"},
		{0, domain.English, "today"}, {1, domain.English, "tomorrow"}, {2, domain.English, "2 days left"},
	} {
		if got := Countdown(tc.lang, tc.days); got != tc.want {
			t.Errorf("Countdown(%s, %d) = %q, want %q", tc.lang, tc.days, got, tc.want)
		}
	}
}

// The review card links each evidence file to the console, where it opens.
func TestReviewCardEvidenceLink(t *testing.T) {
	c := newCampaign(t)
	c.publicURL = "https://hoinghi.example.vn"
	sha := strings.Repeat("ab", 32)
	c.subs[[2]string{"2.2.2", "STC"}] = domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "0.52", Status: domain.StatusSubmitted,
		Version: 1, By: "DB002", SubmittedAt: c.now, Evidence: []domain.Evidence{
			{SHA256: sha, Name: "Quyết toán 2023.pdf", MIME: "application/pdf", Size: 2048},
			{Link: "https://stc.hungyen.gov.vn/qt2023"},
		}}
	c.as("DB003", cmd("duyet", ""))
	c.as("DB003", btn("rv:2.2.2|STC"))
	c.want("DB003", "Quyết toán 2023.pdf")
	c.want("DB003", "https://hoinghi.example.vn/admin/evidence/"+sha+"/view")
	c.want("DB003", "cần đăng nhập bảng điều khiển")
}
