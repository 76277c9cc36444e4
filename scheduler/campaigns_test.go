package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage"
)

// campaignStore is what the campaigns' test needs of a store.
type campaignStore interface {
	ImportCampaign(ctx context.Context, c domain.CampaignRecord, at time.Time) (bool, error)
	Campaigns(ctx context.Context) ([]domain.CampaignRecord, error)
	SetCampaign(id string)
	SetCampaignStatus(ctx context.Context, id string, s domain.Status, by string, at time.Time) error
	InCampaign(id string) storage.CampaignStore
	SyncCatalog(ctx context.Context, indicators []domain.Indicator, assignments []domain.Assignment) error
}

const campaignSchedule = `
jobs:
  indicator_ladder:
    at: ["-3d 08:00", "0d 08:00"]
    overdue: "08:00"
    grace: 4h
  indicator_escalation: {at: ["+1d 09:00"], grace: 4h}
  indicator_digest: {cron: "30 7 * * *", grace: 2h}
`

// Two open campaigns with the same agencies: each focal point is reminded
// of each campaign at that campaign's own moments, with its own deadlines
// and its own submissions counting as done; the current campaign keeps
// its outbox keys (a scheduler of before the upgrade sent its T-3 already:
// nothing twice), the other's name it and carry a button that opens it;
// staff are told per campaign which agencies are late; a closed or
// archived campaign sends nothing more; a second process evaluating the
// same moments sends nothing twice.
func TestOpenCampaignsReminders(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		cst := st.(campaignStore)
		people := []domain.Person{
			person("F1", "Chu Phương Tuyết", "STC", "0912000101", domain.RoleFocal),
			person("F2", "Trần Ngọc Dung", "SYT", "0912000102", domain.RoleFocal),
			person("ST", "Đinh Hải Giang", "SKHCN", "0912000009", domain.RoleStaff),
		}
		e := newEnv(t, st, people, campaignSchedule)
		for _, p := range people {
			e.link(p.ID)
		}
		inds := []domain.Indicator{
			{Code: "1.1", NameVI: "Chi ngân sách cho KH&CN", Type: domain.TypeInteger, Agency: "STC"},
			{Code: "3.1", NameVI: "Số cơ sở y tế", Type: domain.TypeInteger, Agency: "SYT"},
		}
		dl24, dl25 := at("2024-08-16 17:00"), at("2024-08-23 17:00")
		as := func(d time.Time) []domain.Assignment {
			return []domain.Assignment{{Indicator: "1.1", Agency: "STC", Focal: []string{"F1"}, Deadline: d},
				{Indicator: "3.1", Agency: "SYT", Focal: []string{"F2"}, Deadline: d}}
		}
		if err := cst.SyncCatalog(e.ctx, inds, as(dl24)); err != nil {
			t.Fatal(err)
		}
		for _, c := range []domain.CampaignRecord{
			{ID: "pii2024", NameVI: "Số liệu PII 2024", NameEN: "PII data 2024", Deadline: dl24, Status: domain.StatusOpen},
			{ID: "pii2025", NameVI: "Số liệu PII bổ sung", NameEN: "Extra PII data", Deadline: dl25, Status: domain.StatusOpen,
				Opens: at("2024-08-01 00:00"), Assignments: as(dl25), StaffContact: domain.Contact{Name: "Nguyễn Công Hiếu", Phone: "0386534362"}},
		} {
			if _, err := cst.ImportCampaign(e.ctx, c, e.clk.Now()); err != nil {
				t.Fatal(err)
			}
		}
		cst.SetCampaign("pii2024")
		cat24, cat25 := domain.NewCatalog(inds, as(dl24)), domain.NewCatalog(inds, as(dl25))
		data := func(ctx context.Context, id string) (storage.CampaignStore, *domain.Catalog, error) {
			switch id {
			case "pii2024":
				return cst.InCampaign(id), cat24, nil
			case "pii2025":
				return cst.InCampaign(id), cat25, nil
			}
			return nil, nil, storage.ErrNotFound
		}
		submit := func(personID, code, agency, campaign string) {
			e.apply(domain.SaveSubmission{Submission: domain.Submission{Indicator: code, Agency: agency, Value: "12", By: personID},
				Action: "submit", CampaignID: campaign})
		}
		seen := map[string]int{}
		fresh := func(id string) []flows.Reply {
			var out []flows.Reply
			msgs := e.srv.Messages(e.chats[id])
			for _, m := range msgs[seen[id]:] {
				r := flows.Reply{Text: m.Text}
				for _, row := range m.Inline {
					var bs []flows.Button
					for _, b := range row {
						bs = append(bs, flows.Button{Label: b.Text, Data: b.Data})
					}
					r.Buttons = append(r.Buttons, bs)
				}
				out = append(out, r)
			}
			seen[id] = len(msgs)
			return out
		}
		want := func(label, id string, n int) []flows.Reply {
			t.Helper()
			got := fresh(id)
			if len(got) != n {
				var texts []string
				for _, r := range got {
					texts = append(texts, r.Text)
				}
				t.Fatalf("%s: %s got %d messages, want %d:\n%s", label, id, len(got), n, strings.Join(texts, "\n---\n"))
			}
			return got
		}
		plain := func(label string, r flows.Reply) {
			t.Helper()
			if strings.Contains(r.Text, "Đợt số liệu") || len(r.Buttons) != 0 {
				t.Errorf("%s: the current campaign's message names a campaign or has a button: %q %v", label, r.Text, r.Buttons)
			}
		}
		named := func(label string, r flows.Reply) {
			t.Helper()
			contains(t, label, r.Text, "🗂 Đợt số liệu: Số liệu PII bổ sung")
			if len(r.Buttons) != 1 || len(r.Buttons[0]) != 1 || r.Buttons[0][0].Data != flows.CampaignButton("pii2025") {
				t.Errorf("%s: buttons %v, want one opening pii2025", label, r.Buttons)
			}
		}

		// Before the upgrade: one campaign, the scheduler's own jobs.
		old := e.scheduler(st, "old", scheduler.CampaignProgress(cat24, cst.InCampaign("pii2024")))
		e.runDue(old, at("2024-08-13 08:00"))
		plain("T-3 2024", want("old T-3", "F1", 1)[0])
		want("old T-3", "F2", 1)
		want("old digest", "ST", 1)

		// After it: every open campaign; 2024's T-3 and digest are not sent
		// again, 2025's digest (open since 01/08) starts.
		e.campaigns = scheduler.OpenCampaigns(cst, "pii2024", data)
		s := e.scheduler(st, "w1", nil)
		e.runDue(s, at("2024-08-13 08:00"))
		want("upgrade", "F1", 0)
		want("upgrade", "F2", 0)
		named("2025 digest", want("2025 digest", "ST", 1)[0])

		// F2 sends 2024's 3.1, F1 2025's 1.1: each only in that campaign.
		submit("F2", "3.1", "SYT", "pii2024")
		submit("F1", "1.1", "STC", "pii2025")
		e.runDue(s, at("2024-08-16 08:00"))
		r := want("2024 T0", "F1", 1)[0]
		plain("2024 T0", r)
		contains(t, "2024 T0", r.Text, "Hôm nay là hạn cuối", "16/08/2024", "1.1", "0221 3862 538")
		want("2024 T0", "F2", 0)
		fresh("ST") // the digests of the days between

		// The day after 2024's deadline: F1 overdue, staff told STC is
		// late (SYT sent), naming no campaign.
		e.runDue(s, at("2024-08-17 09:00"))
		plain("2024 overdue", want("2024 overdue", "F1", 1)[0])
		var esc []string
		for _, r := range fresh("ST") {
			if strings.Contains(r.Text, "quá hạn gửi số liệu") {
				esc = append(esc, r.Text)
			}
		}
		if len(esc) != 1 || !strings.Contains(esc[0], "Sở Tài chính") || strings.Contains(esc[0], "Sở Y tế") || strings.Contains(esc[0], "Đợt số liệu") {
			t.Fatalf("2024 escalation: %q", esc)
		}

		// 2024 is closed: nothing more about it. 2025's T-3 reaches F2
		// only (F1 sent), naming it, with a button opening it; the staff
		// digest is 2025's alone.
		if err := cst.SetCampaignStatus(e.ctx, "pii2024", domain.StatusClosed, "ST", at("2024-08-18 07:00")); err != nil {
			t.Fatal(err)
		}
		e.runDue(s, at("2024-08-20 08:00"))
		want("after close", "F1", 0)
		r = want("2025 T-3", "F2", 1)[0]
		named("2025 T-3", r)
		contains(t, "2025 T-3", r.Text, "Còn 3 ngày", "23/08/2024", "3.1", "Nguyễn Công Hiếu")
		d := want("2025 digest after close", "ST", 1)[0]
		named("2025 digest after close", d)
		if !strings.Contains(d.Text, "Sở Y tế") || strings.Contains(d.Text, "Sở Tài chính") {
			t.Errorf("2025 digest: %q", d.Text)
		}

		// 2025's deadline and the day after: F2 reminded, staff told SYT
		// is late in 2025.
		e.runDue(s, at("2024-08-23 08:00"))
		named("2025 T0", want("2025 T0", "F2", 1)[0])
		fresh("ST")
		e.runDue(s, at("2024-08-24 09:00"))
		named("2025 overdue", want("2025 overdue", "F2", 1)[0])
		esc = nil
		for _, r := range fresh("ST") {
			if strings.Contains(r.Text, "quá hạn gửi số liệu") {
				esc = append(esc, r.Text)
			}
		}
		if len(esc) != 1 || !strings.Contains(esc[0], "🗂 Đợt số liệu: Số liệu PII bổ sung") || !strings.Contains(esc[0], "Sở Y tế") ||
			strings.Contains(esc[0], "Sở Tài chính") {
			t.Fatalf("2025 escalation: %q", esc)
		}

		// Another process evaluating the same moments sends nothing twice.
		again := e.scheduler(st, "w2", nil)
		if n, err := again.RunDue(e.ctx, at("2024-08-24 09:00")); err != nil || n != 0 {
			t.Fatalf("rerun: %d enqueued, %v", n, err)
		}

		// The keys name the campaign; the current one's keep their names.
		for job, n := range map[string]int{"indicator_ladder": 4, "cp:pii2025/indicator_ladder": 3, "cp:pii2025/indicator_escalation": 1} {
			var sent int
			for _, it := range e.items(job) {
				if it.Status == "sent" {
					sent++
				}
			}
			if sent != n {
				t.Errorf("%s: %d sent, want %d", job, sent, n)
			}
		}

		// 2025 archived: nothing more to anyone.
		if err := cst.SetCampaignStatus(e.ctx, "pii2025", domain.StatusArchived, "ST", at("2024-08-24 10:00")); err != nil {
			t.Fatal(err)
		}
		e.runDue(s, at("2024-08-26 09:00"))
		for _, id := range []string{"F1", "F2", "ST"} {
			want("after archive", id, 0)
		}
	})
}
