package scheduler_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/configs"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/scheduler"
)

const indicatorSchedule = `
jobs:
  indicator_ladder:
    at: ["-7d 08:00", "-3d 08:00", "-1d 08:00", "0d 08:00"]
    overdue: "08:00"
    grace: 4h
  indicator_escalation: {at: ["+1d 09:00"], grace: 4h}
  indicator_digest: {cron: "30 7 * * 1-5", grace: 2h}
agency_leaders:
  STC: L1
`

type fakeProgress struct {
	mu    sync.Mutex
	tasks []scheduler.FocalTask
}

func (f *fakeProgress) Unfinished(context.Context) ([]scheduler.FocalTask, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]scheduler.FocalTask(nil), f.tasks...), nil
}

func (f *fakeProgress) set(tasks ...scheduler.FocalTask) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tasks = tasks
}

func TestIndicatorLadder(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		people := []domain.Person{
			person("F1", "Chu Phương Tuyết", "STC", "0912000101", domain.RoleFocal),
			person("F2", "Trần Ngọc Dung", "SYT", "0912000102", domain.RoleFocal),
			person("L1", "Nguyễn Văn Lãnh", "STC", "0912000103", domain.RoleDelegate),
			person("ST", "Đinh Hải Giang", "SKHCN", "0912000009", domain.RoleStaff),
		}
		e := newEnv(t, st, people, indicatorSchedule)
		for _, p := range people {
			e.link(p.ID)
		}
		e.apply(domain.SetLanguage{PersonID: "F2", Lang: domain.English})
		deadline := at("2024-08-16 17:00") // a Friday
		stc := scheduler.FocalTask{PersonID: "F1", AgencyCode: "STC", Deadline: deadline, Items: []scheduler.TaskItem{
			{Code: "1.1", Name: "Chi ngân sách cho KH&CN", Status: domain.StatusEmpty},
			{Code: "2.3", Name: "Số doanh nghiệp KH&CN", Status: domain.StatusReturned},
		}}
		syt := scheduler.FocalTask{PersonID: "F2", AgencyCode: "SYT", Deadline: deadline, Items: []scheduler.TaskItem{
			{Code: "3.1", Name: "Số cơ sở y tế", NameEN: "Health facilities", Status: domain.StatusDraft},
		}}
		prog := &fakeProgress{}
		prog.set(stc, syt)

		// Without Progress the indicator jobs do nothing.
		idle := e.scheduler(st, "idle", nil)
		e.runDue(idle, at("2024-08-09 08:00"))
		if n := e.srv.Calls("sendMessage"); n != 0 {
			t.Fatalf("%d messages without Progress", n)
		}

		s := e.scheduler(st, "w1", prog)
		last := map[string]int{}
		fresh := func(id string) []string {
			got := e.texts(id)
			out := got[last[id]:]
			last[id] = len(got)
			return out
		}
		one := func(id, when string) string {
			t.Helper()
			got := fresh(id)
			if len(got) != 1 {
				t.Fatalf("%s at %s: got %q, want one message", id, when, got)
			}
			return got[0]
		}

		// The idle scheduler evaluated the jobs up to T-7 08:00 (Fri 9 Aug)
		// already; this one catches up from there: Monday's digest is too
		// late (skipped), Tuesday's goes.
		e.runDue(s, at("2024-08-13 07:30"))
		if got := fresh("ST"); len(got) != 1 || !strings.Contains(got[0], "Tiến độ số liệu PII") {
			t.Fatalf("staff digest at 07:30: %q", got)
		}
		e.runDue(s, at("2024-08-13 08:00"))
		contains(t, "T-3", one("F1", "T-3"), "Còn 3 ngày đến hạn gửi số liệu PII (hạn 16/08/2024). Sở Tài chính còn thiếu 2 chỉ tiêu:",
			"• 1.1 Chi ngân sách cho KH&CN — chưa nhập", "• 2.3 Số doanh nghiệp KH&CN — bị trả lại, cần sửa", "0221 3862 538")
		contains(t, "T-3 en", one("F2", "T-3"), "3 days left", "Department of Health still lacks 1 indicators", "• 3.1 Health facilities — draft, not submitted")

		// F2 finishes; F1 does not.
		prog.set(stc)
		e.runDue(s, at("2024-08-15 08:00"))
		contains(t, "T-1", one("F1", "T-1"), "Còn 1 ngày")
		if got := fresh("F2"); len(got) != 0 {
			t.Errorf("F2 reminded after finishing: %q", got)
		}
		e.runDue(s, at("2024-08-16 08:00"))
		contains(t, "T0", one("F1", "T0"), "Hôm nay là hạn cuối")

		// The day after: overdue reminder at 08:00, escalation at 09:00 to
		// staff and to STC's leader.
		e.runDue(s, at("2024-08-17 09:00"))
		contains(t, "overdue", one("F1", "T+1"), "Đã quá hạn gửi số liệu PII 1 ngày")
		contains(t, "leader", one("L1", "T+1"), "Kính gửi Nguyễn Văn Lãnh", "Sở Tài chính đã quá hạn", "1 ngày", "Chu Phương Tuyết 0912 000 101")
		contains(t, "staff escalation", strings.Join(fresh("ST"), "\n---\n"), "Các đơn vị quá hạn", "• Sở Tài chính: hạn 16/08/2024, quá 1 ngày, còn thiếu 2 chỉ tiêu")

		// Daily while overdue (no digest on Sunday).
		e.runDue(s, at("2024-08-18 08:00"))
		contains(t, "overdue 2", one("F1", "T+2"), "quá hạn gửi số liệu PII 2 ngày")
		if got := fresh("ST"); len(got) != 0 {
			t.Errorf("staff got %q on Sunday", got)
		}
		e.runDue(s, at("2024-08-19 08:00"))
		one("F1", "T+3")
		contains(t, "digest", one("ST", "Monday"), "Sở Tài chính: còn thiếu 2 chỉ tiêu, hạn 16/08/2024 (quá hạn 3 ngày)")
	})
}

func TestLoadExampleSchedule(t *testing.T) {
	sc, err := scheduler.LoadSchedule(configs.Example(), "schedule.yaml")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if sc.Location == nil || sc.Location.String() != "Asia/Ho_Chi_Minh" || sc.Rate.PerSecond != 30 || sc.Rate.PerChatPerSecond != 1 || sc.Rate.MaxAttempts != 8 {
		t.Errorf("schedule = %+v", sc)
	}
	day := sc.Job(scheduler.JobAgendaDayBefore)
	if !day.Enabled || len(day.At) != 1 || day.Grace != 2*time.Hour {
		t.Errorf("agenda_day_before = %+v", day)
	}
	ev := at("2024-08-02 08:00")
	if got := day.At[0].From(ev, hcm); !got.Equal(at("2024-08-01 15:00")) {
		t.Errorf("-1d 15:00 from %v = %v", ev, got)
	}
	sp := sc.Job(scheduler.JobSpeaker)
	if got := sp.At[0].From(at("2024-08-02 08:45"), hcm); !got.Equal(at("2024-08-02 08:30")) {
		t.Errorf("-15m = %v", got)
	}
	dg := sc.Job(scheduler.JobIndicatorDigest)
	if got := dg.Cron.Next(at("2024-08-02 07:30")); !got.Equal(at("2024-08-05 07:30")) { // Friday → Monday
		t.Errorf("cron next = %v", got)
	}
	if ids := sc.Speakers[6]; len(ids) != 2 || ids[0] != "DB003" {
		t.Errorf("speakers = %v", sc.Speakers)
	}
	c, err := configs.Load(configs.Example())
	if err != nil {
		t.Fatal(err)
	}
	dir := domain.NewDirectory(c.People, c.Agencies)
	for no, ids := range sc.Speakers {
		for _, id := range ids {
			if _, ok := dir.Person(id); !ok || no > len(c.Event.Agenda) {
				t.Errorf("speaker %s of item %d is not in the example", id, no)
			}
		}
	}
	for code, id := range sc.AgencyLeaders {
		if _, ok := dir.Person(id); !ok {
			t.Errorf("leader %s of %s is not in the example", id, code)
		}
	}

	for _, bad := range []string{
		"jobs: {nope: {}}",
		`jobs: {agenda_morning: {at: ["tomorrow"]}}`,
		`jobs: {staff_summary: {cron: "61 8 * * *"}}`,
		`jobs: {agenda_morning: {grace: "soon"}}`,
		"timezone: Mars/Olympus",
		"speakers: {0: [DB001]}",
		"unknown_key: 1",
	} {
		if _, err := scheduler.ParseSchedule("schedule.yaml", []byte(bad)); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

// One focal point with items due on different days: each deadline has its
// own ladder and escalation, and the digest runs only during the campaign.
func TestLadderPerDeadline(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		people := []domain.Person{
			person("F1", "Chu Phương Tuyết", "STC", "0912000101", domain.RoleFocal),
			person("L1", "Nguyễn Văn Lãnh", "STC", "0912000103", domain.RoleDelegate),
			person("ST", "Đinh Hải Giang", "SKHCN", "0912000009", domain.RoleStaff),
		}
		e := newEnv(t, st, people, indicatorSchedule)
		for _, p := range people {
			e.link(p.ID)
		}
		early, late := at("2024-08-20 17:00"), at("2024-08-30 17:00")
		prog := &fakeProgress{}
		prog.set(
			scheduler.FocalTask{PersonID: "F1", AgencyCode: "STC", Deadline: early, Items: []scheduler.TaskItem{
				{Code: "1.1", Name: "Chi ngân sách cho KH&CN", Status: domain.StatusEmpty}}},
			scheduler.FocalTask{PersonID: "F1", AgencyCode: "STC", Deadline: late, Items: []scheduler.TaskItem{
				{Code: "2.3", Name: "Số doanh nghiệp KH&CN", Status: domain.StatusEmpty}}},
		)
		s := e.scheduler(st, "w1", prog)
		seen := map[string]int{}
		fresh := func(id string) string {
			got := e.texts(id)
			out := got[seen[id]:]
			seen[id] = len(got)
			return strings.Join(out, "\n---\n")
		}

		// July, before the campaign opens at the conference: no digest.
		e.runDue(s, at("2024-07-29 07:30"))
		if got := fresh("ST"); got != "" {
			t.Errorf("digest before the campaign: %q", got)
		}
		e.runDue(s, at("2024-08-05 07:30"))
		contains(t, "first digest", fresh("ST"), "Sở Tài chính: còn thiếu 1 chỉ tiêu, hạn 20/08/2024", "Sở Tài chính: còn thiếu 1 chỉ tiêu, hạn 30/08/2024")

		// 21/08: only the item due 20/08 is overdue; 2.3 is not mentioned.
		e.runDue(s, at("2024-08-21 09:00"))
		f1 := fresh("F1")
		contains(t, "21/08", f1, "quá hạn gửi số liệu PII 1 ngày (hạn 20/08/2024)", "1.1 Chi ngân sách")
		if strings.Contains(f1, "2.3") || strings.Contains(f1, "30/08") {
			t.Errorf("21/08 reminder mentions the item due 30/08:\n%s", f1)
		}
		staff := fresh("ST")
		contains(t, "escalation 20/08", staff, "• Sở Tài chính: hạn 20/08/2024, quá 1 ngày, còn thiếu 1 chỉ tiêu")
		if strings.Contains(staff, "hạn 30/08/2024, quá") {
			t.Errorf("escalation calls 30/08 late: %s", staff)
		}
		contains(t, "leader", fresh("L1"), "quá hạn", "(hạn 20/08/2024)", "1.1")

		// 23/08 is T-7 of 30/08 and the third overdue day of 20/08: one
		// message, a part per deadline.
		e.runDue(s, at("2024-08-23 08:00"))
		contains(t, "23/08", fresh("F1"), "quá hạn gửi số liệu PII 3 ngày (hạn 20/08/2024)", "Còn 7 ngày đến hạn gửi số liệu PII (hạn 30/08/2024)", "2.3 Số doanh nghiệp")

		// 31/08: 2.3 escalated on its own deadline.
		e.runDue(s, at("2024-08-31 09:00"))
		contains(t, "escalation 30/08", fresh("ST"), "hạn 30/08/2024, quá 1 ngày, còn thiếu 1 chỉ tiêu")

		// Two weeks after the last deadline the digest stops.
		e.runDue(s, at("2024-09-13 07:30"))
		contains(t, "last digest", fresh("ST"), "Tiến độ số liệu PII")
		e.runDue(s, at("2024-09-16 07:30"))
		if got := fresh("ST"); strings.Contains(got, "Tiến độ số liệu PII") {
			t.Errorf("digest after the campaign: %q", got)
		}
	})
}
