package scheduler_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/webchat"
	"github.com/dieuphoi/dieuphoi/bot/zalo"
	"github.com/dieuphoi/dieuphoi/bot/zalo/zalotest"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage/files"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

type meetingTestStore interface {
	AddMeetingDoc(ctx context.Context, d domain.MeetingDoc) (int64, error)
	MeetingDocs(ctx context.Context, eventID string, withInternal bool) ([]domain.MeetingDoc, error)
	MeetingDocStats(ctx context.Context, eventID string) (map[int64]sqlstore.DocStats, error)
	ChatMessages(ctx context.Context, chat string, limit int) ([][]byte, error)
	SaveChatMessage(ctx context.Context, chat string, seq int64, body []byte, at time.Time, keep int) error
	DeleteChatMessage(ctx context.Context, chat string, seq int64) error
	Zalo(string) *sqlstore.ZaloStore
}

// The meeting's documents reach the delegates who accepted, on the channel
// each uses (Telegram as a document, Zalo as an uploaded file, the web chat
// as a file to download), at the configured moment and not before, once per
// person and document however often the job runs; a document attached
// after the moment goes out when attached; internal ones never go; those
// who did not accept get nothing.
func TestMeetingDocumentsDeliveredOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		ms := st.(meetingTestStore)
		people := []domain.Person{
			person("A1", "Nguyễn Văn An", "STC", "0912000001", domain.RoleDelegate),
			person("Z1", "Trần Thị Bình", "SYT", "0912000002", domain.RoleDelegate),
			person("W1", "Lê Minh Châu", "STC", "0912000003", domain.RoleDelegate),
			person("P1", "Phạm Quốc Dũng", "SYT", "0912000004", domain.RoleDelegate),
			person("D1", "Hoàng Thu Hà", "SYT", "0912000005", domain.RoleDelegate),
			person("ST", "Đinh Hải Giang", "SKHCN", "0912000009", domain.RoleStaff),
		}
		e := newEnv(t, st, people, "timezone: Asia/Ho_Chi_Minh\njobs:\n  meeting_documents: {at: [\"-1d 16:00\"]}\n")
		e.clk.Set(at("2024-07-25 09:00"))
		for _, id := range []string{"A1", "P1", "D1", "ST"} {
			e.link(id)
		}
		e.apply(domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Zalo, UserID: "zu-z1", ChatID: "zu-z1", PersonID: "Z1"}})
		e.apply(domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Web, UserID: "web-w1", ChatID: "web-w1", PersonID: "W1"}})
		e.rsvp("A1", domain.RSVPAttend, nil)
		e.rsvp("Z1", domain.RSVPAttend, nil)
		e.rsvp("W1", domain.RSVPAttend, nil)
		e.rsvp("D1", domain.RSVPDecline, nil)

		api := zalotest.New(t, "app-m", "oa-secret-m", "app-secret-m")
		access, refresh := api.IssueTokens(24 * time.Hour)
		za, err := zalo.New(e.ctx, zalo.Config{AppID: "app-m", OASecret: "oa-secret-m", AppSecret: "app-secret-m", OAID: api.OAID(),
			APIBase: api.URL(), OAuthBase: api.URL(), Handler: nopHandler{}, Tokens: ms.Zalo(api.OAID()), Sync: true,
			Seed: &zalo.Tokens{AccessToken: access, RefreshToken: refresh}, Clock: e.clk.Now, Log: quiet(), RefreshCheck: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = za.Close() })
		hook := httptest.NewServer(za.WebhookHandler())
		t.Cleanup(hook.Close)
		api.SetWebhook(hook.URL)
		web := webchat.New(webchat.Config{History: ms, FileDir: t.TempDir(),
			Who: func(context.Context, string) (bool, domain.Lang) { return true, domain.Vietnamese }})

		blobs, err := files.New(filepath.Join(t.TempDir(), "docs"))
		if err != nil {
			t.Fatal(err)
		}
		pdf := []byte("%PDF-1.4\n% Ke hoach 106/KH-UBND\n%%EOF\n")
		sum, size, err := blobs.Put(bytes.NewReader(pdf), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		add := func(title, name string, internal bool, created time.Time) int64 {
			id, err := ms.AddMeetingDoc(e.ctx, domain.MeetingDoc{EventID: e.ev.ID, AgendaNo: 3, Title: title, FileName: name,
				MIME: "application/pdf", SHA256: sum, Size: size, Internal: internal, CreatedBy: "ST", CreatedAt: created})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		plan := add("Kế hoạch số 106/KH-UBND", "ke-hoach-106.pdf", false, at("2024-07-25 09:00"))
		add("Kịch bản điều hành (nội bộ)", "kich-ban.pdf", true, at("2024-07-25 09:00"))

		links := &bot.DocLinks{Key: []byte("0123456789abcdef0123456789abcdef"), Base: "https://hoinghi.example.vn"}
		s, err := scheduler.New(scheduler.Config{Store: st, Outbox: st,
			Senders: map[domain.Channel]bot.Sender{domain.Telegram: e.tg, domain.Zalo: za, domain.Web: web},
			Event:   e.ev, Directory: func() *domain.Directory { return e.dir }, Schedule: e.sched, Now: e.clk.Now, Log: quiet(),
			Meeting: ms, Files: blobs, DocLinks: links})
		if err != nil {
			t.Fatal(err)
		}
		e.runDue(s, at("2024-07-31 09:00"))
		api.Follow("zu-z1") // inside Zalo's 48-hour window at the moment
		e.runDue(s, at("2024-08-01 15:59"))
		docsOf := func(id string) []string {
			var out []string
			for _, d := range e.srv.Documents(e.chats[id]) {
				out = append(out, d.Name)
			}
			return out
		}
		zaloFiles := func() []string {
			var out []string
			for _, m := range api.Messages("zu-z1") {
				if m.File != nil {
					out = append(out, m.File.Name)
				}
			}
			return out
		}
		webFiles := func() string {
			msgs, err := ms.ChatMessages(e.ctx, "web-w1", 50)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, m := range msgs {
				b.Write(m)
			}
			return b.String()
		}
		if n := len(docsOf("A1")) + len(zaloFiles()); n != 0 || webFiles() != "" {
			t.Fatalf("documents sent before the moment: telegram+zalo %d, web %q", n, webFiles())
		}

		e.runDue(s, at("2024-08-01 16:00"))
		if got := docsOf("A1"); len(got) != 1 || got[0] != "ke-hoach-106.pdf" {
			t.Fatalf("telegram documents = %v", got)
		}
		if d := e.srv.Documents(e.chats["A1"])[0]; !bytes.Equal(d.Data, pdf) || !strings.Contains(d.Caption, "Kế hoạch số 106/KH-UBND — Mục 3") {
			t.Fatalf("telegram document %q caption %q", d.Data, d.Caption)
		}
		if d := e.srv.Documents(e.chats["A1"])[0]; !strings.Contains(d.Markup, `"url":"https://hoinghi.example.vn/tailieu/pii-test/`) {
			t.Fatalf("telegram document markup %q: want the web link as a URL button", d.Markup)
		}
		if got := zaloFiles(); len(got) != 1 || got[0] != "ke-hoach-106.pdf" {
			t.Fatalf("zalo files = %v (messages %+v)", got, api.Messages("zu-z1"))
		}
		if w := webFiles(); strings.Count(w, "ke-hoach-106.pdf") != 1 || !strings.Contains(w, "/tailieu/pii-test/") {
			t.Fatalf("web chat = %s", w)
		}
		for _, id := range []string{"P1", "D1", "ST"} {
			if got := docsOf(id); len(got) != 0 {
				t.Errorf("%s did not accept but got %v", id, got)
			}
		}

		// The job runs again, and later: nothing twice.
		e.runDue(s, at("2024-08-01 16:05"))
		e.runDue(s, at("2024-08-01 19:00"))
		// A document attached after the moment goes out when attached.
		late := add("Khung chỉ số PII 2024", "khung-pii-2024.pdf", false, at("2024-08-01 20:00"))
		e.runDue(s, at("2024-08-01 20:00").Add(30*time.Second))
		e.runDue(s, at("2024-08-01 20:05"))
		if got := docsOf("A1"); strings.Join(got, ",") != "ke-hoach-106.pdf,khung-pii-2024.pdf" {
			t.Fatalf("telegram documents after re-runs = %v", got)
		}
		if got := zaloFiles(); strings.Join(got, ",") != "ke-hoach-106.pdf,khung-pii-2024.pdf" {
			t.Fatalf("zalo files after re-runs = %v", got)
		}
		if w := webFiles(); strings.Count(w, "ke-hoach-106.pdf") != 1 || strings.Count(w, "khung-pii-2024.pdf") != 1 || strings.Contains(w, "kich-ban") {
			t.Fatalf("web chat after re-runs = %s", w)
		}
		stats, err := ms.MeetingDocStats(e.ctx, e.ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stats[plan].Received != 3 || stats[late].Received != 3 || stats[plan].Opened != 0 {
			t.Fatalf("figures = %+v; want 3 received each", stats)
		}
	})
}
