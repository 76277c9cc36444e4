package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/export"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/files"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// The organisers' plan (tasks), the conclusion notices with their follow-up
// tasks, and the feedback after the event. Every page is staff only (get,
// post); every change is audited. The event is the console's
// (Config.Event): the pages work on its ID.

func init() {
	maps.Copy(flashes, map[string]string{
		"task_saved":       "Đã lưu công việc.",
		"task_stale":       "Công việc vừa được người khác cập nhật, chưa lưu. Xin xem trạng thái mới rồi sửa lại.",
		"concl_saved":      "Đã lưu bản nháp thông báo kết luận.",
		"concl_sent":       "Đã xếp lịch gửi thông báo kết luận qua trò chuyện.",
		"concl_none_new":   "Mọi người nhận đã có thông báo này; không gửi thêm.",
		"concl_stale_sent": "Thông báo đã gửi nên không sửa được nữa.",
	})
}

// planRoutes registers the plan and after-meeting pages; called by Routes.
func (c *Console) planRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/tasks", c.get(c.forEvent(c.serveTasks)))
	mux.Handle("POST /admin/tasks", c.post(c.forEvent(c.serveTaskCreate)))
	mux.Handle("GET /admin/tasks/{id}", c.get(c.forEvent(c.serveTask)))
	mux.Handle("POST /admin/tasks/{id}", c.post(c.forEvent(c.serveTaskSave)))
	mux.Handle("GET /admin/tasks/{id}/file/{sha}", c.get(c.forEvent(c.serveTaskFile)))
	mux.Handle("GET /admin/conclusions", c.get(c.forEvent(c.serveConclusions)))
	mux.Handle("GET /admin/conclusions/new", c.get(c.forEvent(c.serveConclusionNew)))
	mux.Handle("POST /admin/conclusions", c.post(c.forEvent(c.serveConclusionCreate)))
	mux.Handle("GET /admin/conclusions/{id}", c.get(c.forEvent(c.serveConclusion)))
	mux.Handle("POST /admin/conclusions/{id}", c.post(c.forEvent(c.serveConclusionSave)))
	mux.Handle("POST /admin/conclusions/{id}/send", c.post(c.forEvent(c.serveConclusionSend)))
	mux.Handle("GET /admin/conclusions/{id}/text", c.get(c.forEvent(c.serveConclusionText)))
	mux.Handle("GET /admin/feedback", c.get(c.forEvent(c.serveFeedback)))
	mux.Handle("GET /admin/feedback/export.csv", c.get(c.forEvent(c.serveFeedbackCSV)))
	mux.HandleFunc("GET /thongbao/{token}", c.servePublicConclusion)
}

func (c *Console) meeting(w http.ResponseWriter, r *http.Request, s *session) bool {
	if c.cfg.Plan != nil {
		return true
	}
	c.fail(w, r, s, http.StatusNotFound, "Chưa có dữ liệu", "Cơ sở dữ liệu này chưa lưu kế hoạch tổ chức và thông báo kết luận.")
	return false
}

// --- the organisers' plan --------------------------------------------------------

type taskRow struct {
	domain.Task
	Owner    string // who answers for it, in words
	Late     bool
	LateDays int // calendar days past the deadline (0: late since earlier today)
	Status   string
}

type tasksView struct {
	Rows              []taskRow
	Total, Done, Late int
	LateOnly          bool
	Form              taskForm
}

// taskForm is a task as typed in the console, with its problems.
type taskForm struct {
	ID, Title, Unit, Owner, Date, Clock, Status, Note string
	Version                                           int
	FollowUp                                          bool
	Errors                                            map[string]string
	People                                            []domain.Person // owner choices
}

// liveTasks are the event's tasks that are someone's: the plan's, and the
// follow-ups of notices already sent (a draft's are shown on its page).
func (c *Console) liveTasks(ctx context.Context) ([]domain.Task, error) {
	tasks, err := c.cfg.Plan.Tasks(ctx, c.eventID(ctx))
	if err != nil {
		return nil, err
	}
	notices, err := c.cfg.Plan.Conclusions(ctx, c.eventID(ctx))
	if err != nil {
		return nil, err
	}
	sent := map[string]bool{}
	for _, n := range notices {
		sent[n.ID] = !n.SentAt.IsZero()
	}
	return slices.DeleteFunc(tasks, func(t domain.Task) bool { return t.Kind == domain.TaskKindFollowUp && !sent[t.Conclusion] }), nil
}

func (c *Console) taskRows(ctx context.Context) ([]taskRow, error) {
	tasks, err := c.liveTasks(ctx)
	if err != nil {
		return nil, err
	}
	now := c.cfg.Now()
	tasks = flows.SortTasks(tasks, now)
	rows := make([]taskRow, 0, len(tasks))
	for _, t := range tasks {
		rows = append(rows, c.taskRow(t, now))
	}
	return rows, nil
}

func (c *Console) taskRow(t domain.Task, now time.Time) taskRow {
	row := taskRow{Task: t, Late: t.Late(now), LateDays: max(-domain.DaysUntil(now, t.Deadline, c.loc), 0), Status: flows.TaskStatusLabel(domain.Vietnamese, t.Status)}
	dir := c.cfg.Directory()
	switch {
	case t.OwnerID != "":
		row.Owner = t.OwnerID
		if p, ok := dir.Person(t.OwnerID); ok {
			row.Owner = p.FullName
		}
	default:
		row.Owner = "Đầu mối " + t.AgencyCode
		if a, ok := dir.Agency(t.AgencyCode); ok {
			row.Owner = "Đầu mối " + a.NameVI
		}
	}
	if row.Unit == "" {
		if a, ok := dir.Agency(t.AgencyCode); ok {
			row.Unit = a.NameVI
		}
	}
	return row
}

// LateTasks counts the event's tasks past their deadline and not done, for
// the overview; -1 when unknown.
func (c *Console) LateTasks(ctx context.Context) int {
	if c.cfg.Plan == nil {
		return -1
	}
	tasks, err := c.liveTasks(ctx)
	if err != nil {
		c.cfg.Log.Error("console: tasks", "err", err)
		return -1
	}
	n, now := 0, c.cfg.Now()
	for _, t := range tasks {
		if t.Late(now) {
			n++
		}
	}
	return n
}

func (c *Console) serveTasks(w http.ResponseWriter, r *http.Request, s *session) {
	c.renderTasks(w, r, s, http.StatusOK, taskForm{Date: c.now().AddDate(0, 0, 7).Format("2006-01-02"), Clock: "17:00", Status: "todo"})
}

func (c *Console) renderTasks(w http.ResponseWriter, r *http.Request, s *session, status int, form taskForm) {
	if !c.meeting(w, r, s) {
		return
	}
	rows, err := c.taskRows(r.Context())
	if err != nil {
		c.oops(w, r, s, "tasks", err)
		return
	}
	form.People = c.ownerChoices()
	v := tasksView{Form: form, LateOnly: r.URL.Query().Get("late") == "1"}
	for _, row := range rows {
		v.Total++
		if row.Status == flows.TaskStatusLabel(domain.Vietnamese, domain.TaskDone) {
			v.Done++
		}
		if row.Late {
			v.Late++
		}
		if !v.LateOnly || row.Late {
			v.Rows = append(v.Rows, row)
		}
	}
	c.render(w, r, s, status, "tasks", "Kế hoạch tổ chức", v)
}

// ownerChoices are the people a task may be given to: staff first (the
// units of the Sở), then everyone else, by name.
func (c *Console) ownerChoices() []domain.Person {
	people := slices.Clone(c.cfg.Directory().People())
	sort.SliceStable(people, func(i, j int) bool {
		si, sj := people[i].Has(domain.RoleStaff), people[j].Has(domain.RoleStaff)
		if si != sj {
			return si
		}
		return people[i].FullName < people[j].FullName
	})
	return people
}

var taskIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,40}$`)

// readTaskForm checks a task typed in the console; a deadline that is not
// after now is refused unless it is the one already stored (an overdue task
// can still be edited).
func (c *Console) readTaskForm(r *http.Request, cur *domain.Task) (taskForm, domain.Task) {
	f := taskForm{ID: strings.TrimSpace(r.PostFormValue("id")), Title: strings.Join(strings.Fields(r.PostFormValue("title")), " "),
		Unit: strings.TrimSpace(r.PostFormValue("unit")), Owner: r.PostFormValue("owner"), Date: strings.TrimSpace(r.PostFormValue("date")),
		Clock: strings.TrimSpace(r.PostFormValue("clock")), Status: r.PostFormValue("status"), Note: strings.TrimSpace(r.PostFormValue("note")),
		Errors: map[string]string{}}
	f.Version, _ = strconv.Atoi(r.PostFormValue("version"))
	t := domain.Task{EventID: c.eventID(r.Context()), ID: f.ID, Kind: domain.TaskKindPlan, Title: f.Title, Unit: f.Unit, OwnerID: f.Owner,
		Status: domain.TaskStatus(f.Status), Note: f.Note}
	if cur != nil {
		f.ID, t.ID, t.Kind, f.FollowUp = cur.ID, cur.ID, cur.Kind, cur.Kind == domain.TaskKindFollowUp
		if f.FollowUp {
			// A follow-up belongs to its agency and its notice: only its
			// status, note and deadline are changed here.
			t.Title, t.Unit, t.OwnerID, t.AgencyCode, t.Conclusion = cur.Title, cur.Unit, cur.OwnerID, cur.AgencyCode, cur.Conclusion
			f.Title, f.Unit = cur.Title, cur.Unit
		}
	} else if f.ID != "" && !taskIDRE.MatchString(f.ID) {
		f.Errors["id"] = "Mã công việc gồm chữ không dấu, số, dấu chấm, gạch ngang; tối đa 40 ký tự (ví dụ VP-05)."
	}
	if !f.FollowUp {
		if n := utf8.RuneCountInString(f.Title); n == 0 || n > 300 {
			f.Errors["title"] = "Nội dung công việc cần từ 1 đến 300 ký tự."
		}
		if n := utf8.RuneCountInString(f.Unit); n == 0 || n > 200 {
			f.Errors["unit"] = "Xin ghi đơn vị chủ trì (ví dụ: Văn phòng Sở)."
		}
		if p, ok := c.cfg.Directory().Person(f.Owner); !ok {
			f.Errors["owner"] = "Xin chọn người phụ trách trong danh sách."
		} else {
			t.AgencyCode = p.AgencyCode
		}
	}
	if !t.Status.Valid() {
		f.Errors["status"] = "Xin chọn trạng thái."
	}
	if utf8.RuneCountInString(f.Note) > flows.MaxTaskNote {
		f.Errors["note"] = fmt.Sprintf("Ghi chú tối đa %d ký tự.", flows.MaxTaskNote)
	}
	when, err := time.ParseInLocation("2006-01-02 15:04", f.Date+" "+f.Clock, c.loc)
	switch {
	case err != nil:
		f.Errors["date"] = "Xin chọn ngày và giờ hạn."
	case (cur == nil || !when.Equal(cur.Deadline)) && !when.After(c.cfg.Now()):
		f.Errors["date"] = "Hạn " + when.Format("15:04 02/01/2006") + " đã qua; xin chọn một thời điểm sau bây giờ."
	}
	t.Deadline = when
	return f, t
}

func (c *Console) serveTaskCreate(w http.ResponseWriter, r *http.Request, s *session) {
	if !c.meeting(w, r, s) {
		return
	}
	f, t := c.readTaskForm(r, nil)
	if len(f.Errors) == 0 && t.ID == "" {
		t.ID = "CV-" + domain.NewInviteCode()[:6] // random: two staff adding at once never collide
	}
	if len(f.Errors) == 0 {
		err := c.cfg.Plan.SaveTask(r.Context(), t, 0, s.Person.ID, c.cfg.Now())
		switch {
		case errors.Is(err, storage.ErrConflict):
			f.Errors["id"] = "Mã " + t.ID + " đã có; xin chọn mã khác."
		case err != nil:
			c.oops(w, r, s, "add task", err)
			return
		default:
			c.auditAction(r.Context(), s, "task.add", t.ID)
			c.redirect(w, r, "/admin/tasks", "task_saved")
			return
		}
	}
	c.renderTasks(w, r, s, http.StatusUnprocessableEntity, f)
}

type taskView struct {
	Row     taskRow
	Form    taskForm
	History []taskChange
}

type taskChange struct {
	domain.TaskChange
	Who, Status, FileURL string
}

func (c *Console) loadTask(w http.ResponseWriter, r *http.Request, s *session) (domain.Task, bool) {
	return loadPlanRecord(c, w, r, s, "task", func(p storage.TaskStore) (domain.Task, error) {
		return p.Task(r.Context(), c.eventID(r.Context()), r.PathValue("id"))
	}, "Không tìm thấy công việc", "Không có công việc này trong kế hoạch.")
}

// loadPlanRecord reads the task or notice the page's {id} names, answering
// 404 with title and text when there is none.
func loadPlanRecord[T any](c *Console, w http.ResponseWriter, r *http.Request, s *session, what string,
	get func(storage.TaskStore) (T, error), title, text string) (T, bool) {
	var zero T
	if !c.meeting(w, r, s) {
		return zero, false
	}
	v, err := get(c.cfg.Plan)
	if errors.Is(err, sqlstore.ErrNoRows) {
		c.fail(w, r, s, http.StatusNotFound, title, text)
		return v, false
	}
	if err != nil {
		c.oops(w, r, s, what, err)
		return v, false
	}
	return v, true
}

func (c *Console) serveTask(w http.ResponseWriter, r *http.Request, s *session) {
	t, ok := c.loadTask(w, r, s)
	if !ok {
		return
	}
	dl := t.Deadline.In(c.loc)
	c.renderTask(w, r, s, http.StatusOK, t, taskForm{ID: t.ID, Title: t.Title, Unit: t.Unit, Owner: t.OwnerID, Date: dl.Format("2006-01-02"),
		Clock: dl.Format("15:04"), Status: string(t.Status), Note: t.Note, Version: t.Version, FollowUp: t.Kind == domain.TaskKindFollowUp})
}

func (c *Console) renderTask(w http.ResponseWriter, r *http.Request, s *session, status int, t domain.Task, f taskForm) {
	h, err := c.cfg.Plan.TaskHistory(r.Context(), c.eventID(r.Context()), t.ID)
	if err != nil {
		c.oops(w, r, s, "task history", err)
		return
	}
	f.People = c.ownerChoices()
	v := taskView{Row: c.taskRow(t, c.cfg.Now()), Form: f}
	for i := len(h) - 1; i >= 0; i-- {
		ch := taskChange{TaskChange: h[i], Who: h[i].By}
		if p, ok := c.cfg.Directory().Person(h[i].By); ok {
			ch.Who = p.FullName
		}
		if h[i].Status != "" {
			ch.Status = flows.TaskStatusLabel(domain.Vietnamese, h[i].Status)
		}
		if h[i].File != nil && h[i].File.SHA256 != "" {
			ch.FileURL = "/admin/tasks/" + t.ID + "/file/" + h[i].File.SHA256
		}
		v.History = append(v.History, ch)
	}
	c.render(w, r, s, status, "task", "Công việc "+t.ID, v)
}

func (c *Console) serveTaskSave(w http.ResponseWriter, r *http.Request, s *session) {
	cur, ok := c.loadTask(w, r, s)
	if !ok {
		return
	}
	f, t := c.readTaskForm(r, &cur)
	if len(f.Errors) > 0 {
		c.renderTask(w, r, s, http.StatusUnprocessableEntity, cur, f)
		return
	}
	err := c.cfg.Plan.SaveTask(r.Context(), t, f.Version, s.Person.ID, c.cfg.Now())
	switch {
	case errors.Is(err, storage.ErrConflict):
		c.redirect(w, r, "/admin/tasks/"+cur.ID, "task_stale")
	case err != nil:
		c.oops(w, r, s, "save task", err)
	default:
		c.auditAction(r.Context(), s, "task.edit", t.ID+" "+string(t.Status))
		c.redirect(w, r, "/admin/tasks/"+cur.ID, "task_saved")
	}
}

// serveTaskFile sends a file sent with a task's update, only one its
// history names, always as a download (it is whatever the agency sent).
func (c *Console) serveTaskFile(w http.ResponseWriter, r *http.Request, s *session) {
	t, ok := c.loadTask(w, r, s)
	if !ok {
		return
	}
	h, err := c.cfg.Plan.TaskHistory(r.Context(), c.eventID(r.Context()), t.ID)
	if err != nil {
		c.oops(w, r, s, "task history", err)
		return
	}
	sha := r.PathValue("sha")
	var ev *domain.Evidence
	for _, ch := range h {
		if ch.File != nil && ch.File.SHA256 == sha && sha != "" {
			ev = ch.File
		}
	}
	if ev == nil || c.cfg.Blobs == nil {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy tệp", "Công việc này không có tệp đó.")
		return
	}
	f, err := c.cfg.Blobs.Open(sha)
	if err != nil {
		c.cfg.Log.Warn("console: task file missing", "sha256", sha, "err", err)
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy tệp", "Tệp không còn trên máy chủ.")
		return
	}
	defer f.Close()
	name := files.SafeName(ev.Name, ev.MIME)
	if name == "" {
		name = "ket-qua-" + sha[:12]
	}
	c.auditAction(r.Context(), s, "evidence.download", t.ID+" "+name)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	if _, err := io.Copy(w, f); err != nil {
		c.cfg.Log.Warn("console: send task file", "err", err)
	}
}

func (c *Console) auditAction(ctx context.Context, s *session, action, detail string) {
	if err := c.cfg.Console.AddAudit(ctx, c.cfg.Now(), s.Person.ID, action, detail); err != nil {
		c.cfg.Log.Error("console: audit", "err", err, "action", action)
	}
}

// --- conclusion notices ------------------------------------------------------

type conclusionRow struct {
	domain.Conclusion
	Done, Late int
}

type conclusionForm struct {
	ID, Title, Body, FollowUps string
	Errors                     []string
}

type conclusionView struct {
	List     []conclusionRow
	Form     *conclusionForm
	Notice   *domain.Conclusion
	Tasks    []taskRow
	Preview  string
	Sent     bool
	Send     bool // sending is configured
	Agencies []domain.Agency
}

func (c *Console) serveConclusions(w http.ResponseWriter, r *http.Request, s *session) {
	if !c.meeting(w, r, s) {
		return
	}
	list, err := c.cfg.Plan.Conclusions(r.Context(), c.eventID(r.Context()))
	if err != nil {
		c.oops(w, r, s, "conclusions", err)
		return
	}
	v := conclusionView{}
	now := c.cfg.Now()
	for _, cn := range list {
		row := conclusionRow{Conclusion: cn}
		for _, t := range cn.FollowUps {
			if t.Status == domain.TaskDone {
				row.Done++
			}
			if !cn.SentAt.IsZero() && t.Late(now) {
				row.Late++
			}
		}
		v.List = append(v.List, row)
	}
	c.render(w, r, s, http.StatusOK, "conclusions", "Thông báo kết luận", v)
}

func (c *Console) serveConclusionNew(w http.ResponseWriter, r *http.Request, s *session) {
	if !c.meeting(w, r, s) {
		return
	}
	attendees := 0
	if c.cfg.Attendees != nil {
		ids, err := c.cfg.Attendees(r.Context(), c.eventID(r.Context()))
		if err != nil {
			c.oops(w, r, s, "attendees", err)
			return
		}
		attendees = len(ids)
	}
	title, body := flows.ConclusionTemplate(c.meetingEvent(r.Context()), flows.ConclusionChair(c.meetingEvent(r.Context())), attendees)
	c.renderConclusionForm(w, r, s, http.StatusOK, &conclusionForm{Title: title, Body: body})
}

func (c *Console) renderConclusionForm(w http.ResponseWriter, r *http.Request, s *session, status int, f *conclusionForm) {
	c.render(w, r, s, status, "conclusion", "Soạn thông báo kết luận", conclusionView{Form: f, Agencies: c.cfg.Directory().Agencies()})
}

// readConclusion checks a notice typed in the console; nothing is stored
// while it has problems.
func (c *Console) readConclusion(r *http.Request, id string) (*conclusionForm, domain.Conclusion) {
	f := &conclusionForm{ID: id, Title: strings.TrimSpace(r.PostFormValue("title")), Body: strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("body"), "\r\n", "\n")),
		FollowUps: r.PostFormValue("followups")}
	if n := utf8.RuneCountInString(f.Title); n == 0 || n > flows.MaxConclusionTitle {
		f.Errors = append(f.Errors, fmt.Sprintf("Tiêu đề cần từ 1 đến %d ký tự.", flows.MaxConclusionTitle))
	}
	if n := utf8.RuneCountInString(f.Body); n == 0 || n > flows.MaxConclusionBody {
		f.Errors = append(f.Errors, fmt.Sprintf("Nội dung cần từ 1 đến %d ký tự (đang có %d) để vừa một tin nhắn.", flows.MaxConclusionBody, n))
	}
	if len(f.FollowUps) > 20000 {
		f.Errors = append(f.Errors, "Danh sách nhiệm vụ quá dài.")
		f.FollowUps = ""
	}
	tasks, probs := flows.ParseFollowUps(f.FollowUps, id, c.cfg.Directory(), c.loc, c.cfg.Now())
	f.Errors = append(f.Errors, probs...)
	for i := range tasks {
		tasks[i].EventID = c.eventID(r.Context())
	}
	return f, domain.Conclusion{EventID: c.eventID(r.Context()), ID: id, Title: f.Title, Body: f.Body, FollowUps: tasks, CreatedBy: ""}
}

func (c *Console) serveConclusionCreate(w http.ResponseWriter, r *http.Request, s *session) {
	if !c.meeting(w, r, s) {
		return
	}
	id := "KL-" + domain.NewInviteCode()[:6]
	f, cn := c.readConclusion(r, id)
	if len(f.Errors) > 0 {
		f.ID = ""
		c.renderConclusionForm(w, r, s, http.StatusUnprocessableEntity, f)
		return
	}
	cn.CreatedBy = s.Person.ID
	if err := c.cfg.Plan.SaveConclusion(r.Context(), cn, c.cfg.Now()); err != nil {
		c.oops(w, r, s, "save conclusion", err)
		return
	}
	c.auditAction(r.Context(), s, "conclusion.save", id)
	c.redirect(w, r, "/admin/conclusions/"+id, "concl_saved")
}

func (c *Console) loadConclusion(w http.ResponseWriter, r *http.Request, s *session) (domain.Conclusion, bool) {
	return loadPlanRecord(c, w, r, s, "conclusion", func(p storage.TaskStore) (domain.Conclusion, error) {
		return p.Conclusion(r.Context(), c.eventID(r.Context()), r.PathValue("id"))
	}, "Không tìm thấy thông báo", "Không có thông báo kết luận này.")
}

func (c *Console) serveConclusion(w http.ResponseWriter, r *http.Request, s *session) {
	cn, ok := c.loadConclusion(w, r, s)
	if !ok {
		return
	}
	v := conclusionView{Notice: &cn, Sent: !cn.SentAt.IsZero(), Send: c.cfg.SendConclusion != nil, Agencies: c.cfg.Directory().Agencies(),
		Preview: flows.ConclusionText(c.meetingEvent(r.Context()), c.cfg.Directory(), cn)}
	now := c.cfg.Now()
	for _, t := range cn.FollowUps {
		v.Tasks = append(v.Tasks, c.taskRow(t, now))
	}
	if !v.Sent {
		v.Form = &conclusionForm{ID: cn.ID, Title: cn.Title, Body: cn.Body, FollowUps: flows.FollowUpLines(cn.FollowUps, c.loc)}
	}
	c.render(w, r, s, http.StatusOK, "conclusion", cn.Title, v)
}

func (c *Console) serveConclusionSave(w http.ResponseWriter, r *http.Request, s *session) {
	cur, ok := c.loadConclusion(w, r, s)
	if !ok {
		return
	}
	if !cur.SentAt.IsZero() {
		c.redirect(w, r, "/admin/conclusions/"+cur.ID, "concl_stale_sent")
		return
	}
	f, cn := c.readConclusion(r, cur.ID)
	if len(f.Errors) > 0 {
		c.render(w, r, s, http.StatusUnprocessableEntity, "conclusion", cur.Title,
			conclusionView{Notice: &cur, Form: f, Send: c.cfg.SendConclusion != nil, Agencies: c.cfg.Directory().Agencies()})
		return
	}
	cn.CreatedBy = cur.CreatedBy
	err := c.cfg.Plan.SaveConclusion(r.Context(), cn, c.cfg.Now())
	switch {
	case errors.Is(err, storage.ErrConflict):
		c.redirect(w, r, "/admin/conclusions/"+cur.ID, "concl_stale_sent")
	case err != nil:
		c.oops(w, r, s, "save conclusion", err)
	default:
		c.auditAction(r.Context(), s, "conclusion.save", cur.ID)
		c.redirect(w, r, "/admin/conclusions/"+cur.ID, "concl_saved")
	}
}

// serveConclusionSend marks the notice sent (its follow-ups then join the
// reminders) and queues it for its recipients; pressed again, it sends only
// to those who have not had it (people checked in since, say).
func (c *Console) serveConclusionSend(w http.ResponseWriter, r *http.Request, s *session) {
	cn, ok := c.loadConclusion(w, r, s)
	if !ok {
		return
	}
	if c.cfg.SendConclusion == nil {
		c.fail(w, r, s, http.StatusServiceUnavailable, "Chưa gửi được", "Bộ gửi tin chưa chạy; xin thử lại sau.")
		return
	}
	if cn.SentAt.IsZero() {
		if _, err := c.cfg.Plan.MarkConclusionSent(r.Context(), cn.EventID, cn.ID, s.Person.ID, randomSecret(), c.cfg.Now()); err != nil {
			c.oops(w, r, s, "mark conclusion sent", err)
			return
		}
		var err error
		if cn, err = c.cfg.Plan.Conclusion(r.Context(), cn.EventID, cn.ID); err != nil {
			c.oops(w, r, s, "conclusion", err)
			return
		}
	}
	n, err := c.cfg.SendConclusion(r.Context(), cn, c.cfg.PublicURL+"/thongbao/"+cn.LinkToken)
	if err != nil {
		c.oops(w, r, s, "send conclusion", err)
		return
	}
	c.auditAction(r.Context(), s, "conclusion.send", cn.ID+" "+strconv.Itoa(n))
	if n == 0 {
		c.redirect(w, r, "/admin/conclusions/"+cn.ID, "concl_none_new")
		return
	}
	c.redirect(w, r, "/admin/conclusions/"+cn.ID, "concl_sent")
}

func (c *Console) writeConclusionText(ctx context.Context, w http.ResponseWriter, cn domain.Conclusion) {
	ev, ok := c.eventByID(ctx, cn.EventID)
	if !ok {
		http.Error(w, "Không tìm thấy thông báo.", http.StatusNotFound)
		return
	}
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="thong-bao-ket-luan-`+cn.ID+`.txt"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(flows.ConclusionText(ev, c.cfg.Directory(), cn)))
}

func (c *Console) serveConclusionText(w http.ResponseWriter, r *http.Request, s *session) {
	if cn, ok := c.loadConclusion(w, r, s); ok {
		c.writeConclusionText(r.Context(), w, cn)
	}
}

// servePublicConclusion serves a sent notice's text version to whoever
// holds the link its recipients got.
func (c *Console) servePublicConclusion(w http.ResponseWriter, r *http.Request) {
	if c.cfg.Plan == nil {
		http.NotFound(w, r)
		return
	}
	cn, err := c.cfg.Plan.ConclusionByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		if !errors.Is(err, sqlstore.ErrNoRows) {
			c.cfg.Log.Error("console: conclusion by link", "err", err)
		}
		securityHeaders(w)
		http.Error(w, "Liên kết không hợp lệ hoặc thông báo không còn.", http.StatusNotFound)
		return
	}
	c.writeConclusionText(r.Context(), w, cn)
}

// --- feedback ------------------------------------------------------------------

type feedbackRow struct {
	domain.Feedback
	Name, Agency string
}

type feedbackView struct {
	Count   int
	Average string
	Bars    []feedbackBar
	Rows    []feedbackRow
}

type feedbackBar struct {
	Stars, Count, Total int
}

func (c *Console) feedbackRows(ctx context.Context) ([]feedbackRow, error) {
	list, err := c.cfg.Plan.Feedback(ctx, c.eventID(ctx))
	if err != nil {
		return nil, err
	}
	dir := c.cfg.Directory()
	out := make([]feedbackRow, 0, len(list))
	for _, f := range list {
		row := feedbackRow{Feedback: f, Name: f.PersonID}
		if p, ok := dir.Person(f.PersonID); ok {
			row.Name = p.FullName
			if a, ok := dir.Agency(p.AgencyCode); ok {
				row.Agency = a.NameVI
			}
		}
		out = append(out, row)
	}
	return out, nil
}

func (c *Console) serveFeedback(w http.ResponseWriter, r *http.Request, s *session) {
	if !c.meeting(w, r, s) {
		return
	}
	rows, err := c.feedbackRows(r.Context())
	if err != nil {
		c.oops(w, r, s, "feedback", err)
		return
	}
	v := feedbackView{Count: len(rows), Rows: rows}
	counts := [6]int{}
	sum := 0
	for _, f := range rows {
		counts[f.Rating]++
		sum += f.Rating
	}
	for stars := 5; stars >= 1; stars-- {
		v.Bars = append(v.Bars, feedbackBar{Stars: stars, Count: counts[stars], Total: len(rows)})
	}
	if len(rows) > 0 {
		v.Average = flows.FormatDecimal(domain.Vietnamese, strconv.FormatFloat(float64(sum)/float64(len(rows)), 'f', 1, 64))
	}
	c.render(w, r, s, http.StatusOK, "feedback", "Góp ý sau hội nghị", v)
}

func (c *Console) serveFeedbackCSV(w http.ResponseWriter, r *http.Request, s *session) {
	if !c.meeting(w, r, s) {
		return
	}
	rows, err := c.feedbackRows(r.Context())
	if err != nil {
		c.oops(w, r, s, "feedback", err)
		return
	}
	recs := make([][]string, 0, len(rows))
	for _, f := range rows {
		recs = append(recs, []string{f.PersonID, f.Name, f.Agency, strconv.Itoa(f.Rating), f.Comment, f.At.In(c.loc).Format("2006-01-02 15:04")})
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="gop-y-`+c.eventID(r.Context())+`.csv"`)
	if err := export.WriteTableCSV(w, []string{"Mã người", "Họ và tên", "Đơn vị", "Đánh giá (1-5)", "Góp ý", "Thời gian"}, recs); err != nil {
		c.cfg.Log.Error("console: feedback export", "err", err)
	}
	c.auditAction(r.Context(), s, "feedback.export", strconv.Itoa(len(recs)))
}
