package flows

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
)

// The organisers' plan and the follow-up tasks of a conclusion notice, in
// chat (/congviec): the person's tasks, most urgent first; a task's status
// set with a button, a note typed, and a follow-up task marked done with an
// optional file. The feedback form after the event is here too.

const (
	stateTaskNote = "cv_note" // Draft["id"]: the task a note is being typed for
	stateTaskFile = "cv_file" // Draft["id"]: a follow-up marked done, its optional file awaited
	stateFeedback = "fb_comment"

	btnTaskPrefix   = "cv:"
	btnTaskList     = "cv:l"
	btnTaskOpen     = "cv:o:" // + id
	btnTaskStatus   = "cv:s:" // + status + ":" + id
	btnTaskNote     = "cv:n:" // + id
	btnTaskNoFile   = "cv:nf"
	btnFeedback     = "fb:" // + rating + ":" + event id
	btnFeedbackSkip = "fb:skip"

	// MaxTaskNote bounds a note typed in chat (as in tasks.csv).
	MaxTaskNote = 1000
	// MaxFeedbackComment bounds a feedback comment.
	MaxFeedbackComment = 1000
	maxTaskButtons     = 12
)

// WantsTasks says whether the step needs Facts.Tasks for this input: the
// bot layer loads them only then.
func WantsTasks(s Session, in Input) bool {
	switch {
	case in.Kind == InCommand && (in.Command == "congviec" || in.Command == "tasks"):
		return true
	case in.Kind == InButton && strings.HasPrefix(in.Data, btnTaskPrefix):
		return true
	}
	return s.State == stateTaskNote || s.State == stateTaskFile
}

// wantsTaskFile says the chat is waiting for the optional file of a
// follow-up task marked done (the bot layer stores files only then).
func wantsTaskFile(s Session, f Facts) bool {
	return f.Person != nil && s.State == stateTaskFile && f.Proof.Verified()
}

func (r *stepper) taskCommand() {
	r.reset()
	r.taskList()
}

// myTask returns the task id among the person's own (Facts.Tasks): nobody
// touches a task that is not theirs, whatever button they craft.
func (r *stepper) myTask(ref string) (domain.Task, bool) {
	for _, t := range r.f.Tasks {
		if r.taskRef(t) == ref {
			return t, true
		}
	}
	return domain.Task{}, false
}

// taskRef names a task in buttons and the session: its id for the served
// event's, "id@event" for another event's (two events' plans may use the
// same ids).
func (r *stepper) taskRef(t domain.Task) string {
	return TaskRef(t, r.servedID)
}

// TaskRef is taskRef for the bot layer and the scheduler: served is the
// deployment's served event. A long event id (config ids run to 64
// characters) is named by a digest, so that a button's payload stays
// within Telegram's 64 bytes.
func TaskRef(t domain.Task, served string) string {
	if t.EventID == "" || t.EventID == served {
		return t.ID
	}
	ev := t.EventID
	if len(ev) > 16 {
		sum := sha256.Sum256([]byte(ev))
		ev = hex.EncodeToString(sum[:5])
	}
	return t.ID + "@" + ev
}

func (r *stepper) taskAllowed() bool {
	if r.verified() {
		return true
	}
	r.reset()
	r.refused = "tasks without a verified link"
	r.replies = append(r.replies, Reply{Text: r.t("verify_needed", r.helpdesk()), AskContact: r.f.Channel == domain.Telegram})
	return false
}

func (r *stepper) taskList() {
	if !r.taskAllowed() {
		return
	}
	if len(r.f.Tasks) == 0 {
		r.say(r.t("task_none"), r.menuButtons()...)
		return
	}
	tasks := SortTasks(r.f.Tasks, r.f.Now)
	var b strings.Builder
	b.WriteString(r.t("task_list_head", len(tasks)))
	var rows [][]Button
	for i, t := range tasks {
		b.WriteString("\n")
		b.WriteString(r.taskLine(t))
		if i < maxTaskButtons && t.Status != domain.TaskDone {
			rows = append(rows, []Button{{clip(t.ID+" · "+t.Title, 40), btnTaskOpen + r.taskRef(t)}})
		}
	}
	r.say(b.String(), rows...)
}

// SortTasks orders tasks as the owner should do them: open ones by
// deadline (late first, as they are earliest), done ones last.
func SortTasks(tasks []domain.Task, now time.Time) []domain.Task {
	out := make([]domain.Task, len(tasks))
	copy(out, tasks)
	rank := func(t domain.Task) int {
		if t.Status == domain.TaskDone {
			return 1
		}
		return 0
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0; j-- {
			a, b := out[j-1], out[j]
			if rank(a) < rank(b) || (rank(a) == rank(b) && !b.Deadline.Before(a.Deadline)) {
				break
			}
			out[j-1], out[j] = b, a
		}
	}
	return out
}

// TaskStatusLabel is a status in words.
func TaskStatusLabel(lang domain.Lang, s domain.TaskStatus) string {
	return t(lang, msg("task_st_"+string(s)))
}

func (r *stepper) taskLine(t domain.Task) string {
	days := domain.DaysUntil(r.f.Now, t.Deadline, r.loc())
	when := r.dateTime(t.Deadline)
	var due string
	switch {
	case t.Status == domain.TaskDone:
		due = ""
	case t.Late(r.f.Now) && days < 0:
		due = " · " + r.t("task_late", -days)
	case t.Late(r.f.Now):
		due = " · " + r.t("task_late_today")
	case days == 0:
		due = " · " + r.t("task_today")
	default:
		due = " · " + r.t("task_days_left", days)
	}
	return r.t("task_line", taskIcon(t, r.f.Now), t.ID, t.Title, when, TaskStatusLabel(r.s.Lang, t.Status)) + due
}

func taskIcon(t domain.Task, now time.Time) string {
	switch {
	case t.Status == domain.TaskDone:
		return "✅"
	case t.Late(now):
		return "🔴"
	case t.Status == domain.TaskBlocked:
		return "⛔"
	case t.Status == domain.TaskDoing:
		return "🔄"
	}
	return "⬜"
}

func (r *stepper) taskUnit(t domain.Task) string {
	if t.Unit != "" {
		return t.Unit
	}
	if a, ok := r.f.Directory.Agency(t.AgencyCode); ok {
		return a.Name(r.s.Lang)
	}
	return t.AgencyCode
}

func (r *stepper) openTask(id string) {
	if !r.taskAllowed() {
		return
	}
	t, ok := r.myTask(id)
	if !ok {
		r.refused = "task not the person's"
		r.say(r.t("stale_button"))
		r.taskList()
		return
	}
	text := r.t("task_card", t.ID, t.Title, r.taskUnit(t), r.dateTime(t.Deadline), TaskStatusLabel(r.s.Lang, t.Status))
	if t.Note != "" {
		text += "\n" + r.t("task_card_note", t.Note)
	}
	if t.Late(r.f.Now) {
		text += "\n" + r.t("task_card_late")
	}
	rows := [][]Button{
		{{r.t("btn_task_doing"), btnTaskStatus + string(domain.TaskDoing) + ":" + r.taskRef(t)}, {r.t("btn_task_done"), btnTaskStatus + string(domain.TaskDone) + ":" + r.taskRef(t)}},
		{{r.t("btn_task_blocked"), btnTaskStatus + string(domain.TaskBlocked) + ":" + r.taskRef(t)}, {r.t("btn_task_note"), btnTaskNote + r.taskRef(t)}},
		{{r.t("btn_task_list"), btnTaskList}},
	}
	r.say(text, rows...)
}

// taskButton handles the /congviec buttons; it reports whether the button
// was one of them.
func (r *stepper) taskButton() bool {
	d := r.in.Data
	if !strings.HasPrefix(d, btnTaskPrefix) {
		return false
	}
	switch {
	case d == btnTaskList:
		r.reset()
		r.taskList()
	case strings.HasPrefix(d, btnTaskOpen):
		r.reset()
		r.openTask(strings.TrimPrefix(d, btnTaskOpen))
	case strings.HasPrefix(d, btnTaskNote):
		r.reset()
		if !r.taskAllowed() {
			return true
		}
		t, ok := r.myTask(strings.TrimPrefix(d, btnTaskNote))
		if !ok {
			r.refused = "task not the person's"
			r.say(r.t("stale_button"))
			r.taskList()
			return true
		}
		r.s.State, r.s.Draft = stateTaskNote, map[string]string{"id": r.taskRef(t)}
		r.say(r.t("task_ask_note", t.ID, MaxTaskNote))
	case strings.HasPrefix(d, btnTaskStatus):
		r.reset()
		if !r.taskAllowed() {
			return true
		}
		st, id, _ := strings.Cut(strings.TrimPrefix(d, btnTaskStatus), ":")
		status := domain.TaskStatus(st)
		t, ok := r.myTask(id)
		if !ok || !status.Valid() {
			r.refused = "task not the person's"
			r.say(r.t("stale_button"))
			r.taskList()
			return true
		}
		if t.Status == status {
			r.say(r.t("task_same_status", t.ID, TaskStatusLabel(r.s.Lang, status)), []Button{{r.t("btn_task_list"), btnTaskList}})
			return true
		}
		if status == domain.TaskDone && t.Kind == domain.TaskKindFollowUp {
			// An agency reports a follow-up done with the result attached
			// when it has one (a report, a decision): asked once, optional.
			r.s.State, r.s.Draft = stateTaskFile, map[string]string{"id": r.taskRef(t)}
			r.say(r.t("task_ask_file", t.ID), []Button{{r.t("btn_task_nofile"), btnTaskNoFile}})
			return true
		}
		r.updateTask(t, status, "", nil)
	case d == btnTaskNoFile:
		if r.s.State != stateTaskFile {
			r.say(r.t("stale_button"))
			r.taskList()
			return true
		}
		t, ok := r.myTask(r.s.Draft["id"])
		r.reset()
		if !ok {
			r.taskList()
			return true
		}
		r.updateTask(t, domain.TaskDone, "", nil)
	default:
		r.say(r.t("stale_button"))
		r.taskList()
	}
	return true
}

func (r *stepper) updateTask(t domain.Task, status domain.TaskStatus, note string, file *domain.Evidence) {
	ev := t.EventID
	if ev == "" {
		ev = r.f.Event.ID
	}
	r.effects = append(r.effects, domain.UpdateTask{EventID: ev, TaskID: t.ID, Status: status, Note: note, File: file,
		By: r.f.Person.ID, Channel: r.f.Channel})
	for i := range r.f.Tasks {
		if r.taskRef(r.f.Tasks[i]) == r.taskRef(t) {
			r.f.Tasks = append([]domain.Task(nil), r.f.Tasks...)
			if status != "" {
				r.f.Tasks[i].Status = status
			}
			if note != "" {
				r.f.Tasks[i].Note = note
			}
		}
	}
	switch {
	case file != nil:
		r.say(r.t("task_done_file", t.ID, file.Name))
	case status != "":
		r.say(r.t("task_status_set", t.ID, TaskStatusLabel(r.s.Lang, status)))
	default:
		r.say(r.t("task_note_saved", t.ID))
	}
	r.taskList()
}

// taskAnswer takes text or a file while a task question is open.
func (r *stepper) taskAnswer() {
	id := r.s.Draft["id"]
	t, ok := r.myTask(id)
	if !ok || !r.verified() {
		r.reset()
		r.taskList()
		return
	}
	switch r.s.State {
	case stateTaskNote:
		if r.in.Kind != InText {
			r.say(r.t("task_ask_note", t.ID, MaxTaskNote))
			return
		}
		note := strings.TrimSpace(r.in.Text)
		if n := utf8.RuneCountInString(note); n > MaxTaskNote {
			r.say(r.t("task_note_long", n, MaxTaskNote))
			return
		}
		if note == "" {
			r.say(r.t("task_ask_note", t.ID, MaxTaskNote))
			return
		}
		r.reset()
		r.updateTask(t, "", note, nil)
	case stateTaskFile:
		if r.in.Kind != InFile || len(r.in.Files) == 0 {
			r.say(r.t("task_ask_file", t.ID), []Button{{r.t("btn_task_nofile"), btnTaskNoFile}})
			return
		}
		f := r.in.Files[0]
		if f.Problem != "" || f.SHA256 == "" {
			r.say(r.t("task_file_refused", r.fileProblem(f)), []Button{{r.t("btn_task_nofile"), btnTaskNoFile}})
			return
		}
		r.reset()
		r.updateTask(t, domain.TaskDone, strings.TrimSpace(f.Caption), &domain.Evidence{SHA256: f.SHA256, Name: evidenceName(f), MIME: f.MIME, Size: f.Size})
	}
}

// fileProblem says why a file was not kept, in words.
func (r *stepper) fileProblem(f FileRef) string {
	switch {
	case strings.HasPrefix(f.Problem, "quota"):
		return r.t("task_file_quota")
	}
	switch f.Problem {
	case "too_large":
		return r.t("task_file_too_large")
	case "bad_type":
		return r.t("task_file_bad_type")
	}
	return r.t("task_file_failed")
}

// --- feedback after the event ------------------------------------------------

// FeedbackButtons are the rating buttons of the feedback form for event.
func FeedbackButtons(eventID string) [][]Button {
	row := make([]Button, 0, 5)
	for i := 1; i <= 5; i++ {
		row = append(row, Button{strconv.Itoa(i) + "⭐", btnFeedback + strconv.Itoa(i) + ":" + eventID})
	}
	return [][]Button{row}
}

// FeedbackRequest is the feedback form sent to attendees after the event.
func FeedbackRequest(lang domain.Lang, ev *domain.Event) Reply {
	return Reply{Text: t(lang, "fb_ask", ev.Name(lang)), Buttons: FeedbackButtons(ev.ID)}
}

func (r *stepper) feedbackButton() bool {
	d := r.in.Data
	if !strings.HasPrefix(d, btnFeedback) {
		return false
	}
	if d == btnFeedbackSkip {
		if r.s.State == stateFeedback {
			r.reset()
			r.say(r.t("fb_thanks"))
			return true
		}
		r.say(r.t("stale_button"))
		r.menu()
		return true
	}
	rating, ev, _ := strings.Cut(strings.TrimPrefix(d, btnFeedback), ":")
	n, err := strconv.Atoi(rating)
	// The form goes to attendees: delegates, substitutes, and staff who
	// were checked in; a focal point who only supplies data has no say.
	attendee := r.f.Person.Has(domain.RoleDelegate) || r.f.Person.Has(domain.RoleSubstitute) || r.f.Person.Has(domain.RoleStaff)
	known := ev == r.f.Event.ID || (r.f.Meeting != nil && r.f.Meeting.FeedbackEvent == ev && ev != "")
	if err != nil || n < 1 || n > 5 || !known || !attendee {
		r.refused = "feedback button"
		r.say(r.t("stale_button"))
		r.menu()
		return true
	}
	r.reset()
	r.effects = append(r.effects, domain.SaveFeedback{EventID: ev, PersonID: r.f.Person.ID, Rating: n})
	r.s.State, r.s.Draft = stateFeedback, map[string]string{"ev": ev}
	r.say(r.t("fb_rated", n, MaxFeedbackComment), []Button{{r.t("btn_fb_skip"), btnFeedbackSkip}})
	return true
}

func (r *stepper) feedbackComment() {
	if r.in.Kind != InText {
		r.say(r.t("fb_comment_text", MaxFeedbackComment), []Button{{r.t("btn_fb_skip"), btnFeedbackSkip}})
		return
	}
	c := strings.TrimSpace(r.in.Text)
	if n := utf8.RuneCountInString(c); n > MaxFeedbackComment {
		r.say(r.t("task_note_long", n, MaxFeedbackComment), []Button{{r.t("btn_fb_skip"), btnFeedbackSkip}})
		return
	}
	ev := r.s.Draft["ev"]
	r.reset()
	if c == "" || ev == "" { // ev was checked when the rating was given
		r.say(r.t("fb_thanks"))
		return
	}
	r.effects = append(r.effects, domain.SaveFeedback{EventID: ev, PersonID: r.f.Person.ID, Comment: c})
	r.say(r.t("fb_thanks"))
}

func init() {
	maps.Copy(catalogs[domain.Vietnamese], map[msg]string{
		"task_none":           "Anh/chị không có công việc nào được giao trong kế hoạch.",
		"task_list_head":      "📌 Công việc anh/chị phụ trách (%d):",
		"task_line":           "%s %s — %s\n    Hạn: %s · %s",
		"task_late":           "trễ %d ngày",
		"task_late_today":     "quá hạn hôm nay",
		"task_today":          "hạn hôm nay",
		"task_days_left":      "còn %d ngày",
		"task_st_todo":        "chưa làm",
		"task_st_doing":       "đang làm",
		"task_st_done":        "đã xong",
		"task_st_blocked":     "vướng mắc",
		"task_card":           "📌 %s — %s\n🏢 Đơn vị: %s\n⏰ Hạn: %s\nTrạng thái: %s",
		"task_card_note":      "📝 Ghi chú: %s",
		"task_card_late":      "🔴 Đã quá hạn.",
		"btn_task_doing":      "🔄 Đang làm",
		"btn_task_done":       "✅ Xong",
		"btn_task_blocked":    "⛔ Vướng mắc",
		"btn_task_note":       "📝 Thêm ghi chú",
		"btn_task_list":       "📋 Danh sách công việc",
		"btn_task_nofile":     "⏭ Không kèm tệp",
		"task_ask_note":       "Xin gõ ghi chú cho công việc %s (tối đa %d ký tự). Gõ /huy để thôi.",
		"task_note_long":      "Nội dung dài %d ký tự, quá giới hạn %d ký tự. Xin rút gọn rồi gửi lại; chưa có gì thay đổi.",
		"task_note_saved":     "📝 Đã ghi chú cho công việc %s.",
		"task_status_set":     "Đã cập nhật công việc %s: %s.",
		"task_same_status":    "Công việc %s đã ở trạng thái «%s», không có gì thay đổi.",
		"task_ask_file":       "Công việc %s: anh/chị có thể gửi kèm tệp kết quả (PDF, Word, Excel hoặc ảnh, tối đa 20 MB), hoặc bấm «Không kèm tệp».",
		"task_done_file":      "✅ Đã ghi nhận công việc %s hoàn thành, kèm tệp «%s».",
		"task_file_refused":   "Chưa nhận được tệp: %s Anh/chị gửi tệp khác hoặc bấm «Không kèm tệp»; công việc chưa thay đổi.",
		"task_file_too_large": "tệp lớn hơn 20 MB.",
		"task_file_bad_type":  "chỉ nhận PDF, Word, Excel hoặc ảnh.",
		"task_file_quota":     "dung lượng lưu trữ đã đầy, xin liên hệ Ban tổ chức.",
		"task_file_failed":    "không tải được tệp, xin gửi lại.",
		"help_tasks":          "/congviec — công việc anh/chị được giao: xem hạn, cập nhật tiến độ, ghi chú",
		"fb_ask":              "🙏 Cảm ơn anh/chị đã dự %s. Xin anh/chị đánh giá Hội nghị (1 = chưa tốt, 5 = rất tốt):",
		"fb_rated":            "Cảm ơn anh/chị đã đánh giá %d⭐. Nếu có góp ý, xin gõ ngắn gọn (tối đa %d ký tự), hoặc bấm «Bỏ qua».",
		"fb_comment_text":     "Xin gõ góp ý bằng chữ (tối đa %d ký tự), hoặc bấm «Bỏ qua».",
		"btn_fb_skip":         "⏭ Bỏ qua",
		"fb_thanks":           "Cảm ơn anh/chị đã góp ý!",
	})
	maps.Copy(catalogs[domain.English], map[msg]string{
		"task_none":           "You have no tasks in the plan.",
		"task_list_head":      "📌 Your tasks (%d):",
		"task_line":           "%s %s — %s\n    Due: %s · %s",
		"task_late":           "%d days late",
		"task_late_today":     "overdue since earlier today",
		"task_today":          "due today",
		"task_days_left":      "%d days left",
		"task_st_todo":        "to do",
		"task_st_doing":       "in progress",
		"task_st_done":        "done",
		"task_st_blocked":     "blocked",
		"task_card":           "📌 %s — %s\n🏢 Unit: %s\n⏰ Due: %s\nStatus: %s",
		"task_card_note":      "📝 Note: %s",
		"task_card_late":      "🔴 Overdue.",
		"btn_task_doing":      "🔄 In progress",
		"btn_task_done":       "✅ Done",
		"btn_task_blocked":    "⛔ Blocked",
		"btn_task_note":       "📝 Add a note",
		"btn_task_list":       "📋 Task list",
		"btn_task_nofile":     "⏭ No file",
		"task_ask_note":       "Please type a note for task %s (at most %d characters). Type /cancel to stop.",
		"task_note_long":      "That is %d characters, over the limit of %d. Please shorten it and send again; nothing was changed.",
		"task_note_saved":     "📝 Note added to task %s.",
		"task_status_set":     "Task %s updated: %s.",
		"task_same_status":    "Task %s is already «%s»; nothing changed.",
		"task_ask_file":       "Task %s: you may attach the result (PDF, Word, Excel or a photo, up to 20 MB), or tap «No file».",
		"task_done_file":      "✅ Task %s recorded as done, with the file «%s».",
		"task_file_refused":   "The file was not taken: %s Send another file or tap «No file»; the task is unchanged.",
		"task_file_too_large": "it is larger than 20 MB.",
		"task_file_bad_type":  "only PDF, Word, Excel or photos are accepted.",
		"task_file_quota":     "the storage quota is full; please contact the organisers.",
		"task_file_failed":    "it could not be downloaded; please send it again.",
		"help_tasks":          "/tasks — the tasks assigned to you: deadlines, progress, notes",
		"fb_ask":              "🙏 Thank you for attending %s. Please rate the conference (1 = poor, 5 = excellent):",
		"fb_rated":            "Thank you for your %d⭐ rating. If you have a comment, please type it briefly (at most %d characters), or tap «Skip».",
		"fb_comment_text":     "Please type your comment as text (at most %d characters), or tap «Skip».",
		"btn_fb_skip":         "⏭ Skip",
		"fb_thanks":           "Thank you for your feedback!",
	})
}
