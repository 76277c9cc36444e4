package scheduler_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage/files"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// meetEventsStore is what the two events' meeting jobs need of a store.
type meetEventsStore interface {
	eventStore
	meetingTestStore
	scheduler.PlanStore
	Events(ctx context.Context) ([]domain.EventRecord, error)
}

// Two overlapping events each run their own meeting jobs, from the
// scheduler's list of open events (scheduler.OpenEvents): each event's
// documents reach only its own accepted delegates, once, at its moment (a
// delegate of both gets both); a delegate who accepts after the documents
// went out gets them then, once; the plan's tasks of both events — with
// the same id — are reminded to their own owners, another event's button
// naming it; after the events each one's attendees get its feedback form,
// the other event's still running though it is over.
func TestMeetingJobsForTwoEvents(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		ms := st.(meetEventsStore)
		people := []domain.Person{
			person("A1", "Nguyễn Văn An", "STC", "0912000001", domain.RoleDelegate),
			person("A2", "Trần Thị Bình", "SYT", "0912000002", domain.RoleDelegate),
			person("P1", "Lê Minh Châu", "STC", "0912000003", domain.RoleDelegate),
			person("L1", "Phạm Quốc Dũng", "SYT", "0912000004", domain.RoleDelegate),
			person("ST", "Đinh Hải Giang", "SKHCN", "0912000009", domain.RoleStaff),
		}
		e := newEnv(t, st, people, "timezone: Asia/Ho_Chi_Minh\njobs:\n  meeting_documents: {at: [\"-1d 16:00\"]}\n"+
			"  indicator_ladder: {at: [\"-3d 08:00\", \"-1d 08:00\", \"0d 08:00\"], overdue: \"08:00\", grace: 4h}\n")
		conf, council := e.ev, councilEvent()
		for _, r := range []domain.EventRecord{
			{Event: *conf, Code: "PII", Invitees: []domain.Invitee{{PersonID: "A1"}, {PersonID: "A2"}, {PersonID: "ST"}}},
			{Event: *council, Code: "HD", Invitees: []domain.Invitee{{PersonID: "A1"}, {PersonID: "P1"}, {PersonID: "L1"}}},
		} {
			if _, err := ms.ImportEvent(e.ctx, r, e.clk.Now()); err != nil {
				t.Fatal(err)
			}
		}
		ms.SetEvent(conf.ID)
		for _, id := range []string{"A1", "A2", "P1", "L1", "ST"} {
			e.link(id)
		}
		answer := func(person, event string, s domain.RSVPStatus) {
			e.apply(domain.SaveRSVP{RSVP: domain.RSVP{PersonID: person, Status: s, Channel: domain.Telegram, EventID: event}})
		}
		answer("A1", conf.ID, domain.RSVPAttend)
		answer("A2", conf.ID, domain.RSVPAttend)
		answer("A1", council.ID, domain.RSVPAttend)
		answer("P1", council.ID, domain.RSVPAttend)
		answer("L1", council.ID, domain.RSVPDecline)

		blobs, err := files.New(filepath.Join(t.TempDir(), "docs"))
		if err != nil {
			t.Fatal(err)
		}
		add := func(ev, title, name string) int64 {
			data := []byte("%PDF-1.4\n% " + title + "\n%%EOF\n")
			sum, size, err := blobs.Put(bytes.NewReader(data), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			id, err := ms.AddMeetingDoc(e.ctx, domain.MeetingDoc{EventID: ev, Title: title, FileName: name,
				MIME: "application/pdf", SHA256: sum, Size: size, CreatedBy: "ST", CreatedAt: at("2024-07-25 09:00")})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		confDoc := add(conf.ID, "Kế hoạch số 106/KH-UBND", "ke-hoach-106.pdf")
		councilDoc := add(council.ID, "Thuyết minh đề tài", "thuyet-minh.pdf")

		// The same task id in both events' plans, different owners.
		for ev, owner := range map[string]string{conf.ID: "A2", council.ID: "P1"} {
			if err := ms.SyncPlanTasks(e.ctx, ev, []domain.Task{{EventID: ev, ID: "VP-01", Kind: domain.TaskKindPlan,
				Title: "Chuẩn bị phòng họp " + ev, Unit: "Văn phòng Sở", OwnerID: owner, Deadline: at("2024-08-05 17:00"),
				Status: domain.TaskTodo}}, e.clk.Now()); err != nil {
				t.Fatal(err)
			}
		}

		s, err := scheduler.New(scheduler.Config{Store: st, Outbox: st,
			Senders: map[domain.Channel]bot.Sender{domain.Telegram: e.tg},
			Event:   conf, Directory: func() *domain.Directory { return e.dir }, Schedule: e.sched, Now: e.clk.Now, Log: quiet(),
			EventKey: conf.ID, Meeting: ms, Files: blobs, Plan: ms, Events: scheduler.OpenEvents(ms, conf.ID)})
		if err != nil {
			t.Fatal(err)
		}
		docs := func(id string) []string {
			var out []string
			for _, d := range e.srv.Documents(e.chats[id]) {
				out = append(out, d.Name)
			}
			return out
		}
		want := func(when string, wants map[string]string) {
			t.Helper()
			for id, w := range wants {
				if got := strings.Join(docs(id), ","); got != w {
					t.Errorf("%s: %s's documents = %q, want %q", when, id, got, w)
				}
			}
		}

		e.runDue(s, at("2024-08-01 15:59"))
		want("before the moment", map[string]string{"A1": "", "A2": "", "P1": "", "L1": ""})
		e.runDue(s, at("2024-08-01 16:00"))
		e.runDue(s, at("2024-08-01 16:05"))
		e.runDue(s, at("2024-08-01 16:30"))
		// A1 accepted both events: both documents; the others their own
		// event's; L1 declined.
		all := map[string]string{"A1": "ke-hoach-106.pdf,thuyet-minh.pdf", "A2": "ke-hoach-106.pdf", "P1": "thuyet-minh.pdf", "L1": "", "ST": ""}
		want("at the moment", all)

		// L1 changes their mind after the documents went out: they get the
		// council's, once, at the next evaluation.
		e.clk.Set(at("2024-08-01 17:00"))
		answer("L1", council.ID, domain.RSVPAttend)
		e.runDue(s, at("2024-08-01 17:00").Add(20*time.Second))
		e.runDue(s, at("2024-08-01 17:10"))
		e.runDue(s, at("2024-08-01 18:00"))
		all["L1"] = "thuyet-minh.pdf"
		want("after a late acceptance", all)

		for ev, doc := range map[string]int64{conf.ID: confDoc, council.ID: councilDoc} {
			stats, err := ms.MeetingDocStats(e.ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if n := stats[doc].Received; n != map[string]int{conf.ID: 2, council.ID: 3}[ev] {
				t.Errorf("%s: document received by %d", ev, n)
			}
		}

		// After the events: each one's attendees (checked in) get its
		// feedback form, once; the council is over but still runs it.
		for _, c := range []sqlstore.CheckIn{
			{PersonID: "A1", EventID: conf.ID}, {PersonID: "A2", EventID: conf.ID},
			{PersonID: "A1", EventID: council.ID}, {PersonID: "P1", EventID: council.ID},
		} {
			c.At, c.By, c.Method = at("2024-08-02 08:00"), "ST", "desk"
			if _, _, err := ms.CheckIn(e.ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		e.runDue(s, at("2024-08-02 13:30"))
		e.runDue(s, at("2024-08-02 14:00"))
		forms := func(id string) []string {
			var out []string
			for _, m := range e.srv.Messages(e.chats[id]) {
				for _, row := range m.Inline {
					if len(row) > 0 && strings.HasPrefix(row[0].Data, "fb:1:") {
						out = append(out, strings.TrimPrefix(row[0].Data, "fb:1:"))
					}
				}
			}
			return out
		}
		for id, w := range map[string]string{"A1": conf.ID + "," + council.ID, "A2": conf.ID, "P1": council.ID, "L1": ""} {
			got := forms(id)
			if strings.Join(got, ",") != w && !(len(got) == 2 && got[0]+","+got[1] == council.ID+","+conf.ID && w == conf.ID+","+council.ID) {
				t.Errorf("%s's feedback forms = %q, want %q", id, got, w)
			}
		}

		// The plans' ladders: each VP-01 to its own owner; the council's
		// button names its event.
		for _, when := range []string{"2024-08-03 09:00", "2024-08-04 09:00", "2024-08-05 09:00", "2024-08-05 10:00"} {
			e.runDue(s, at(when))
		}
		taskButtons := func(id string) (texts, data []string) {
			for _, m := range e.srv.Messages(e.chats[id]) {
				if strings.Contains(m.Text, "VP-01") {
					texts = append(texts, m.Text)
					for _, row := range m.Inline {
						for _, b := range row {
							data = append(data, b.Data)
						}
					}
				}
			}
			return texts, data
		}
		a2t, a2b := taskButtons("A2")
		p1t, p1b := taskButtons("P1")
		if len(a2t) == 0 || len(p1t) == 0 {
			t.Fatalf("task reminders: A2 %q, P1 %q", a2t, p1t)
		}
		if !strings.Contains(strings.Join(a2t, "\n"), "Chuẩn bị phòng họp "+conf.ID) || strings.Contains(strings.Join(a2t, "\n"), council.ID) {
			t.Errorf("A2's reminders: %q", a2t)
		}
		if !strings.Contains(strings.Join(p1t, "\n"), "Chuẩn bị phòng họp "+council.ID) {
			t.Errorf("P1's reminders: %q", p1t)
		}
		if a2b[0] != "cv:o:VP-01" || p1b[0] != "cv:o:VP-01@"+council.ID {
			t.Errorf("task buttons: A2 %q, P1 %q", a2b, p1b)
		}
		for job, owner := range map[string]string{scheduler.JobTaskLadder: "A2", council.ID + "/" + scheduler.JobTaskLadder: "P1"} {
			items := e.items(job)
			for _, it := range items {
				if it.PersonID != owner {
					t.Errorf("%s reminded %s (%s)", job, it.PersonID, it.Key)
				}
			}
			if len(items) == 0 {
				t.Errorf("%s: no reminders", job)
			}
		}

		// The council's conclusion notice: its attendees, not the
		// conference's.
		cs, ok := s.ForEvent(e.ctx, council.ID)
		if !ok {
			t.Fatal("no scheduler for the council after it ended")
		}
		n, err := cs.SendConclusion(e.ctx, domain.Conclusion{EventID: council.ID, ID: "KL-1", Title: "Kết luận"},
			func(lang domain.Lang) []flows.Reply {
				return []flows.Reply{{Text: "Thông báo kết luận của Hội đồng"}}
			})
		if err != nil || n != 2 {
			t.Fatalf("conclusion enqueued %d (%v), want A1 and P1", n, err)
		}
		e.runDue(s, at("2024-08-05 10:05"))
		for id, w := range map[string]bool{"A1": true, "P1": true, "A2": false} {
			got := strings.Contains(strings.Join(e.texts(id), "\n"), "Thông báo kết luận của Hội đồng")
			if got != w {
				t.Errorf("%s got the council's conclusion: %v", id, got)
			}
		}
	})
}
