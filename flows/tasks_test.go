package flows

import (
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// taskChat drives Step for one verified person holding tasks, applying
// UpdateTask effects to its own copy the way the store does.
type taskChat struct {
	t      *testing.T
	s      Session
	person domain.Person
	proof  domain.Proof
	tasks  []domain.Task
	now    time.Time
	last   Result
	all    []domain.Effect
}

func newTaskChat(t *testing.T) *taskChat {
	return &taskChat{t: t, proof: domain.ProofPhone, now: time.Date(2024, 7, 30, 9, 0, 0, 0, hcm),
		person: domain.Person{ID: "DB002", FullName: "Trần Thị Bình", AgencyCode: "STC", Roles: []domain.Role{domain.RoleFocal, domain.RoleDelegate}},
		tasks: []domain.Task{
			{EventID: "pii-2024", ID: "VP-02", Kind: domain.TaskKindPlan, Title: "Phát hành giấy mời", Unit: "Văn phòng Sở", OwnerID: "DB002",
				Deadline: time.Date(2024, 7, 29, 17, 0, 0, 0, hcm), Status: domain.TaskTodo},
			{EventID: "pii-2024", ID: "KL1-1", Kind: domain.TaskKindFollowUp, Title: "Rà soát số liệu chi ngân sách KH&CN", AgencyCode: "STC",
				Deadline: time.Date(2024, 8, 20, 17, 0, 0, 0, hcm), Status: domain.TaskTodo},
		}}
}

func (c *taskChat) send(in Input) Result {
	c.t.Helper()
	p := c.person
	f := Facts{Now: c.now, Channel: domain.Telegram, Event: testEvent(), Directory: testDirectory(), Person: &p, Proof: c.proof,
		StateOf: p.ID, Catalog: &domain.Catalog{}}
	if WantsTasks(c.s, in) {
		f.Tasks = c.tasks
	}
	if in.Kind == InFile && !WantsFiles(c.s, f) {
		c.t.Fatalf("a file for a follow-up marked done would not be stored")
	}
	r := Step(c.s, in, f)
	c.s, c.last = r.Session, r
	for _, e := range r.Effects {
		c.all = append(c.all, e)
		if u, ok := e.(domain.UpdateTask); ok {
			for i := range c.tasks {
				if c.tasks[i].ID == u.TaskID {
					if u.Status != "" {
						c.tasks[i].Status = u.Status
					}
					if u.Note != "" {
						c.tasks[i].Note = u.Note
					}
				}
			}
		}
	}
	return r
}

func (c *taskChat) text() string { return allText(c.last) }

func TestTasksInChat(t *testing.T) {
	type step struct {
		in        Input
		want      string // in the replies
		effects   int    // UpdateTask effects this step
		status    domain.TaskStatus
		note      string
		withFile  bool
		taskID    string
		buttonFor string // a button the replies must offer
	}
	long := strings.Repeat("ghi chú ", 130)
	cases := []struct {
		name  string
		proof domain.Proof
		steps []step
	}{
		{"list, most urgent first, with late mark", domain.ProofPhone, []step{
			{in: cmd("congviec", ""), want: "🔴 VP-02 — Phát hành giấy mời", buttonFor: btnTaskOpen + "VP-02"},
		}},
		{"set doing then a note", domain.ProofPhone, []step{
			{in: btn(btnTaskOpen + "VP-02"), want: "Đã quá hạn", buttonFor: btnTaskStatus + "doing:VP-02"},
			{in: btn(btnTaskStatus + "doing:VP-02"), want: "Đã cập nhật công việc VP-02: đang làm", effects: 1, status: domain.TaskDoing, taskID: "VP-02"},
			{in: btn(btnTaskNote + "VP-02"), want: "Xin gõ ghi chú"},
			{in: text(long), want: "quá giới hạn 1000 ký tự"},
			{in: text("Đã in 90 giấy mời"), want: "Đã ghi chú cho công việc VP-02", effects: 1, note: "Đã in 90 giấy mời", taskID: "VP-02"},
		}},
		{"follow-up done with a file", domain.ProofPhone, []step{
			{in: btn(btnTaskStatus + "done:KL1-1"), want: "gửi kèm tệp kết quả", buttonFor: btnTaskNoFile},
			{in: Input{Kind: InFile, Files: []FileRef{{Name: "bao-cao.pdf", Problem: "bad_type"}}}, want: "chỉ nhận PDF"},
			{in: Input{Kind: InFile, Files: []FileRef{{Name: "bao-cao.pdf", MIME: "application/pdf", SHA256: strings.Repeat("a", 64), Size: 1000}}},
				want: "kèm tệp «bao-cao.pdf»", effects: 1, status: domain.TaskDone, withFile: true, taskID: "KL1-1"},
		}},
		{"follow-up done without a file", domain.ProofPhone, []step{
			{in: btn(btnTaskStatus + "done:KL1-1"), want: "Không kèm tệp"},
			{in: btn(btnTaskNoFile), want: "Đã cập nhật công việc KL1-1: đã xong", effects: 1, status: domain.TaskDone, taskID: "KL1-1"},
		}},
		{"someone else's task is refused", domain.ProofPhone, []step{
			{in: btn(btnTaskStatus + "done:CN-01"), want: "không còn hiệu lực"},
			{in: btn(btnTaskStatus + "bogus:VP-02"), want: "không còn hiệu lực"},
		}},
		{"an unverified link cannot change tasks", domain.ProofCode, []step{
			{in: btn(btnTaskStatus + "done:VP-02"), want: "xác thực"},
			{in: cmd("congviec", ""), want: "xác thực"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTaskChat(t)
			c.proof = tc.proof
			for i, st := range tc.steps {
				before := len(c.all)
				c.send(st.in)
				if !strings.Contains(c.text(), st.want) {
					t.Fatalf("step %d (%s): replies %q lack %q", i, describe(st.in), c.text(), st.want)
				}
				if st.buttonFor != "" && !hasButton(c.last, st.buttonFor) {
					t.Fatalf("step %d: no button %q", i, st.buttonFor)
				}
				got := c.all[before:]
				if len(got) != st.effects {
					t.Fatalf("step %d: effects %+v, want %d", i, got, st.effects)
				}
				if st.effects == 1 {
					u := got[0].(domain.UpdateTask)
					if u.Status != st.status || u.Note != st.note || (u.File != nil) != st.withFile || u.TaskID != st.taskID ||
						u.By != "DB002" || u.EventID != "pii-2024" {
						t.Fatalf("step %d: effect %+v", i, u)
					}
				}
			}
		})
	}
}

func TestFeedbackForm(t *testing.T) {
	c := newTaskChat(t)
	req := FeedbackRequest(domain.Vietnamese, testEvent())
	if len(req.Buttons) != 1 || len(req.Buttons[0]) != 5 || !strings.Contains(req.Text, "đánh giá") {
		t.Fatalf("form %+v", req)
	}
	c.send(btn(req.Buttons[0][3].Data))
	if len(c.all) != 1 || c.all[0].(domain.SaveFeedback).Rating != 4 {
		t.Fatalf("effects %+v", c.all)
	}
	c.send(text(strings.Repeat("x", 1001)))
	if len(c.all) != 1 || !strings.Contains(c.text(), "quá giới hạn") {
		t.Fatalf("a long comment: %q, effects %+v", c.text(), c.all)
	}
	c.send(text("Nên gửi tài liệu sớm hơn"))
	if len(c.all) != 2 || c.all[1].(domain.SaveFeedback).Comment != "Nên gửi tài liệu sớm hơn" || c.all[1].(domain.SaveFeedback).Rating != 0 {
		t.Fatalf("effects %+v", c.all)
	}
	// A rating for another event, or out of range, is refused.
	for _, d := range []string{"fb:6:pii-2024", "fb:3:other-event", "fb:x:pii-2024"} {
		before := len(c.all)
		c.send(btn(d))
		if len(c.all) != before {
			t.Fatalf("%s was taken: %+v", d, c.all)
		}
	}
}

func TestParseFollowUps(t *testing.T) {
	now := time.Date(2024, 8, 2, 15, 0, 0, 0, hcm)
	cases := []struct {
		name, text string
		tasks      int
		problem    string
	}{
		{"two lines", "STC | Rà soát số liệu chi KH&CN | 20/08/2024\nstc|Gửi báo cáo|21/08/2024 09:30\n\n", 2, ""},
		{"past date", "STC | Việc | 01/08/2024", 0, "Dòng 1: hạn 01/08/2024 17:00 đã qua"},
		{"unknown agency", "XYZ | Việc | 20/08/2024", 0, "«XYZ» không phải mã đơn vị"},
		{"not a date", "STC | Việc | mai", 0, "hạn «mai» không phải ngày"},
		{"missing part", "STC | Việc", 0, "cần 3 phần"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tasks, probs := ParseFollowUps(tc.text, "KL1", testDirectory(), hcm, now)
			if len(tasks) != tc.tasks || (tc.problem == "") != (len(probs) == 0) || (tc.problem != "" && !strings.Contains(probs[0], tc.problem)) {
				t.Fatalf("tasks %+v, problems %q", tasks, probs)
			}
			if tc.tasks == 2 && (tasks[1].ID != "KL1-2" || tasks[1].AgencyCode != "STC" || tasks[1].Deadline.Hour() != 9 || tasks[0].Deadline.Hour() != 17) {
				t.Fatalf("tasks %+v", tasks)
			}
		})
	}
	title, body := ConclusionTemplate(testEvent(), ConclusionChair(testEvent()), 87)
	for _, want := range []string{"02/08/2024", "87 đại biểu", "Tuyên bố lý do", "chủ trì"} {
		if !strings.Contains(title+body, want) {
			t.Errorf("template lacks %q:\n%s", want, body)
		}
	}
}

// No input, in any task state, changes a task that is not the person's.
func FuzzTaskInput(f *testing.F) {
	for _, s := range []string{"cv:o:VP-02", "cv:s:done:CN-01", "cv:s:doing:VP-02", "cv:n:KL1-1", "cv:nf", "cv:l", "cv:", "cv:s::", "fb:5:pii-2024", "fb:skip", "ghi chú"} {
		for _, st := range []string{"", stateTaskNote, stateTaskFile, stateFeedback} {
			f.Add(s, st, "VP-02", true)
			f.Add(s, st, "CN-01", false)
		}
	}
	f.Fuzz(func(t *testing.T, data, state, draftID string, button bool) {
		c := newTaskChat(t)
		c.s = Session{PersonID: "DB002", State: state, Draft: map[string]string{"id": draftID, "ev": "pii-2024"}}
		in := Input{Kind: InText, Text: data}
		if button {
			in = Input{Kind: InButton, Data: data}
		}
		r := c.send(in)
		for _, rep := range r.Replies {
			if rep.Text == "" {
				t.Fatalf("an empty reply to %q in %q", data, state)
			}
		}
		for _, e := range r.Effects {
			if u, ok := e.(domain.UpdateTask); ok && ((u.TaskID != "VP-02" && u.TaskID != "KL1-1") || u.By != "DB002") {
				t.Fatalf("%q in %q changed %+v", data, state, u)
			}
		}
	})
}
