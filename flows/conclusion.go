package flows

import (
	"fmt"
	"maps"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
)

// The conclusion notice (thông báo kết luận) after a meeting: the template
// staff start from, the follow-up lines they type, and the message and text
// version its recipients get. All pure.

// Limits of a notice, so that it fits one chat message.
const (
	MaxConclusionTitle = 200
	MaxConclusionBody  = 3000
	MaxFollowUps       = 50
)

// ConclusionChair is who chaired the event as far as the plan says: the
// speaker of the closing item (the last agenda item), "" when unknown.
func ConclusionChair(ev *domain.Event) string {
	if n := len(ev.Agenda); n > 0 {
		return ev.Agenda[n-1].SpeakerVI
	}
	return ""
}

// ConclusionTemplate is the notice's title and body filled with the
// event's facts: name, date, venue, chair, how many attended, the agenda.
func ConclusionTemplate(ev *domain.Event, chair string, attendees int) (title, body string) {
	loc := ev.Location
	if loc == nil {
		loc = time.UTC
	}
	title = "Thông báo kết luận " + ev.NameVI
	var b strings.Builder
	fmt.Fprintf(&b, "Ngày %s, tại %s, %s đã tổ chức %s", ev.Start.In(loc).Format("02/01/2006"), ev.VenueVI, orgName(ev), ev.NameVI)
	if chair != "" {
		fmt.Fprintf(&b, " do %s chủ trì", chair)
	}
	fmt.Fprintf(&b, ". Tham dự Hội nghị có %d đại biểu.\n\nNội dung Hội nghị:\n", attendees)
	for _, it := range ev.Agenda {
		fmt.Fprintf(&b, "- %s", it.TitleVI)
		if it.SpeakerVI != "" {
			fmt.Fprintf(&b, " (%s)", it.SpeakerVI)
		}
		b.WriteString(";\n")
	}
	b.WriteString("\nKết luận của chủ trì Hội nghị:\n1. \n2. \n\nĐề nghị các cơ quan, đơn vị thực hiện các nhiệm vụ được giao dưới đây đúng thời hạn.")
	return title, b.String()
}

func orgName(ev *domain.Event) string {
	if ev.Organizer.Name != "" {
		return ev.Organizer.Name
	}
	return "Ban tổ chức"
}

var followUpDateRE = regexp.MustCompile(`^(\d{1,2}/\d{1,2}/\d{4})(?:\s+(\d{1,2})[:hH](\d{2}))?$`)

// ParseFollowUps reads the follow-up tasks staff type, one a line:
// "agency code | task | dd/mm/yyyy [hh:mm]" (a date alone means 17:00).
// Every problem names the line, in Vietnamese; a deadline that is not after
// now is refused. IDs are the notice's id and the line's number.
func ParseFollowUps(text, conclusionID string, dir *domain.Directory, loc *time.Location, now time.Time) ([]domain.Task, []string) {
	if loc == nil {
		loc = time.UTC
	}
	var out []domain.Task
	var probs []string
	n := 0
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		n++
		if n > MaxFollowUps {
			probs = append(probs, fmt.Sprintf("Dòng %d: tối đa %d nhiệm vụ trong một thông báo.", i+1, MaxFollowUps))
			break
		}
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			probs = append(probs, fmt.Sprintf("Dòng %d: cần 3 phần cách nhau bởi «|»: mã đơn vị | nhiệm vụ | hạn (dd/mm/yyyy).", i+1))
			continue
		}
		code, title, due := strings.TrimSpace(parts[0]), strings.Join(strings.Fields(parts[1]), " "), strings.TrimSpace(parts[2])
		a, ok := dir.Agency(strings.ToUpper(code))
		if !ok {
			probs = append(probs, fmt.Sprintf("Dòng %d: «%s» không phải mã đơn vị trong danh sách.", i+1, clip(code, 20)))
			continue
		}
		if title == "" || utf8.RuneCountInString(title) > 300 {
			probs = append(probs, fmt.Sprintf("Dòng %d: nội dung nhiệm vụ cần từ 1 đến 300 ký tự.", i+1))
			continue
		}
		m := followUpDateRE.FindStringSubmatch(due)
		var when time.Time
		if m != nil {
			d, err := ParseDate(m[1])
			h, mi := 17, 0
			if m[2] != "" {
				h, _ = strconv.Atoi(m[2])
				mi, _ = strconv.Atoi(m[3])
			}
			if err == nil && h < 24 && mi < 60 {
				when = time.Date(d.Year(), d.Month(), d.Day(), h, mi, 0, 0, loc)
			}
		}
		if when.IsZero() {
			probs = append(probs, fmt.Sprintf("Dòng %d: hạn «%s» không phải ngày; viết dd/mm/yyyy hoặc dd/mm/yyyy hh:mm.", i+1, clip(due, 20)))
			continue
		}
		if !when.After(now) {
			probs = append(probs, fmt.Sprintf("Dòng %d: hạn %s đã qua; xin chọn một ngày sau hôm nay.", i+1, when.Format("02/01/2006 15:04")))
			continue
		}
		out = append(out, domain.Task{ID: conclusionID + "-" + strconv.Itoa(len(out)+1), Kind: domain.TaskKindFollowUp, Title: title,
			AgencyCode: a.Code, Deadline: when, Status: domain.TaskTodo, Conclusion: conclusionID})
	}
	return out, probs
}

// FollowUpLines writes follow-up tasks back as the lines ParseFollowUps
// reads (a draft opened again).
func FollowUpLines(tasks []domain.Task, loc *time.Location) string {
	var lines []string
	for _, t := range tasks {
		lines = append(lines, fmt.Sprintf("%s | %s | %s", t.AgencyCode, t.Title, t.Deadline.In(loc).Format("02/01/2006 15:04")))
	}
	return strings.Join(lines, "\n")
}

// followUpsByAgency groups the tasks by agency name, agencies in order.
func followUpsByAgency(lang domain.Lang, dir *domain.Directory, tasks []domain.Task) ([]string, map[string][]domain.Task) {
	by := map[string][]domain.Task{}
	for _, t := range tasks {
		name := t.AgencyCode
		if a, ok := dir.Agency(t.AgencyCode); ok {
			name = a.Name(lang)
		}
		by[name] = append(by[name], t)
	}
	names := make([]string, 0, len(by))
	for n := range maps.Keys(by) {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, by
}

// ConclusionText is the notice as a text document (the version recipients
// download), in Vietnamese: it is an official document.
func ConclusionText(ev *domain.Event, dir *domain.Directory, c domain.Conclusion) string {
	loc := ev.Location
	if loc == nil {
		loc = time.UTC
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s\n\n%s\n", strings.ToUpper(orgName(ev)), strings.ToUpper(c.Title), c.Body)
	if len(c.FollowUps) > 0 {
		b.WriteString("\nNHIỆM VỤ GIAO CÁC CƠ QUAN, ĐƠN VỊ\n")
		names, by := followUpsByAgency(domain.Vietnamese, dir, c.FollowUps)
		for _, n := range names {
			fmt.Fprintf(&b, "\n%s:\n", n)
			for _, t := range by[n] {
				fmt.Fprintf(&b, "- %s (hạn %s)\n", t.Title, t.Deadline.In(loc).Format("15:04 02/01/2006"))
			}
		}
	}
	if !c.SentAt.IsZero() {
		fmt.Fprintf(&b, "\nGửi ngày %s.\n", c.SentAt.In(loc).Format("02/01/2006"))
	}
	return b.String()
}

// ConclusionMessage is the notice in chat: the text, the follow-up tasks by
// agency with their deadlines, how to report them done, and a button to the
// text version (link, "" for none).
func ConclusionMessage(lang domain.Lang, ev *domain.Event, dir *domain.Directory, c domain.Conclusion, link string) []Reply {
	loc := ev.Location
	if loc == nil {
		loc = time.UTC
	}
	var b strings.Builder
	b.WriteString(t(lang, "concl_head", ev.Name(lang)))
	fmt.Fprintf(&b, "\n\n%s\n\n%s", c.Title, c.Body)
	if len(c.FollowUps) > 0 {
		b.WriteString("\n\n" + t(lang, "concl_tasks"))
		names, by := followUpsByAgency(lang, dir, c.FollowUps)
		for _, n := range names {
			b.WriteString("\n" + n + ":")
			for _, task := range by[n] {
				b.WriteString("\n" + t(lang, "concl_task", task.Title, task.Deadline.In(loc).Format("15:04 02/01/2006")))
			}
		}
		b.WriteString("\n\n" + t(lang, "concl_tail"))
	}
	r := Reply{Text: b.String()}
	if link != "" {
		r.Link = &LinkButton{Label: t(lang, "btn_concl_text"), URL: link}
	}
	return []Reply{r}
}

func init() {
	maps.Copy(catalogs[domain.Vietnamese], map[msg]string{
		"concl_head":     "📄 Thông báo kết luận — %s",
		"concl_tasks":    "📌 Nhiệm vụ giao các cơ quan, đơn vị:",
		"concl_task":     "• %s (hạn %s)",
		"concl_tail":     "Đầu mối của đơn vị được giao báo kết quả bằng lệnh /congviec (kèm tệp nếu có).",
		"btn_concl_text": "📄 Tải bản văn bản",
	})
	maps.Copy(catalogs[domain.English], map[msg]string{
		"concl_head":     "📄 Conclusion notice — %s",
		"concl_tasks":    "📌 Tasks assigned to agencies:",
		"concl_task":     "• %s (due %s)",
		"concl_tail":     "The focal points of each agency report results with /tasks (attaching a file if any).",
		"btn_concl_text": "📄 Download the text",
	})
}
