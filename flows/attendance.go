package flows

import (
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// RenderAttendance writes /diemdanh: at the door, who of those expected
// (accepted, or sending a substitute) is in, then the agencies still
// waiting for someone, most first, and one line for those complete.
// event names the event when staff chose one other than the served one
// ("" otherwise).
func RenderAttendance(lang domain.Lang, h Headcount, event string, now time.Time) string {
	var b strings.Builder
	if event != "" {
		b.WriteString("📅 " + event + "\n")
	}
	exp := h.Total.Attend + h.Total.Substitute
	b.WriteString(t(lang, "att_head", FormatClock(now)+" "+now.Format("02/01/2006"), h.Total.CheckedIn, exp, h.Total.Attend, h.Total.Substitute))
	type wait struct {
		row     HeadcountRow
		missing int
	}
	var todo []wait
	complete := 0
	for _, r := range h.ByAgency {
		e := r.Attend + r.Substitute
		if e == 0 {
			continue
		}
		if m := e - r.CheckedIn; m > 0 {
			todo = append(todo, wait{r, m})
		} else {
			complete++
		}
	}
	sort.SliceStable(todo, func(i, j int) bool {
		if todo[i].missing != todo[j].missing {
			return todo[i].missing > todo[j].missing
		}
		return Collate(todo[i].row.Agency.Name(lang), todo[j].row.Agency.Name(lang))
	})
	if len(todo) > 0 {
		b.WriteString("\n\n" + t(lang, "att_todo_head", len(todo)))
		for i, w := range todo {
			if i == 40 {
				b.WriteString("\n" + t(lang, "att_more", len(todo)-40))
				break
			}
			b.WriteString("\n" + t(lang, "att_line", w.row.Agency.Name(lang), w.missing, w.row.Attend+w.row.Substitute))
		}
	}
	if complete > 0 {
		b.WriteString("\n\n" + t(lang, "att_done", complete))
	}
	return b.String()
}

func init() {
	maps.Copy(catalogs[domain.Vietnamese], map[msg]string{
		"att_head":      "🚪 Điểm danh (%s)\nĐã có mặt: %d / %d dự kiến (tham dự %d, cử người thay %d)",
		"att_todo_head": "Chưa đến đủ — %d đơn vị (thiếu nhiều nhất trước):",
		"att_line":      "• %s: chưa đến %d/%d",
		"att_more":      "… và %d đơn vị khác.",
		"att_done":      "✅ %d đơn vị đã có mặt đủ.",
		"help_attend":   "/diemdanh — điểm danh: ai đã đến, đơn vị nào còn thiếu\n/sukien — chọn sự kiện cho /tonghop và /diemdanh",
	})
	maps.Copy(catalogs[domain.English], map[msg]string{
		"att_head":      "🚪 Check-in (%s)\nPresent: %d of %d expected (attending %d, substitutes %d)",
		"att_todo_head": "Still expected — %d agencies (most missing first):",
		"att_line":      "• %s: %d of %d not yet here",
		"att_more":      "… and %d more agencies.",
		"att_done":      "✅ %d agencies are all present.",
		"help_attend":   "/attendance — check-in: who is here, which agencies are missing someone\n/event — choose the event /headcount and /attendance are about",
	})
}
