package main

import (
	"context"
	"github.com/dieuphoi/dieuphoi/web"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/zalo"
	"github.com/dieuphoi/dieuphoi/bot/zalo/zalotest"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
)

var fileLinkRE = regexp.MustCompile(`http://\S+/files/\S+`)

// Over Zalo, the calendar file after accepting and a staff export arrive as
// signed download links served by the bot (Zalo takes neither .ics nor
// .xlsx).
func TestZaloDeliversFiles(t *testing.T) {
	api := zalotest.New(t, "app-1", "oa-secret-key", "app-secret")
	access, refresh := api.IssueTokens(time.Hour)
	env := baseEnv(t)
	env["DATABASE_URL"] = testenv.PostgresURL(t)
	env["REDIS_URL"] = testenv.RedisURL(t)
	env["DIEUPHOI_REDIS_PREFIX"] = testenv.Prefix(t)
	for k, v := range map[string]string{
		"ZALO_APP_ID": "app-1", "ZALO_OA_SECRET": "oa-secret-key", "ZALO_APP_SECRET": "app-secret",
		"ZALO_OA_ID": api.OAID(), "ZALO_ACCESS_TOKEN": access, "ZALO_REFRESH_TOKEN": refresh,
		"ZALO_API_BASE": api.URL(), "ZALO_OAUTH_BASE": api.URL(),
	} {
		env[k] = v
	}
	base, stop := startRun(t, env)
	defer stop()
	api.SetWebhook(base + "/zalo/webhook")
	ctx := context.Background()
	st, err := postgres.Open(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir, _ := st.Directory(ctx)

	// download follows a link from a message; the configured public URL is
	// http://127.0.0.1:0 in tests, the server is at base.
	download := func(text string) (string, []byte) {
		t.Helper()
		link := fileLinkRE.FindString(text)
		if link == "" {
			t.Fatalf("no download link in %q", text)
		}
		link = strings.Replace(link, "http://127.0.0.1:0", base, 1)
		res, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s = %d %s", link, res.StatusCode, body)
		}
		return res.Header.Get("Content-Type"), body
	}

	delegate := firstDelegate(t, st)
	d := &zaloUser{t: t, api: api, id: "zl-files-delegate"}
	d.expect(func() { api.SendText(d.id, "/start "+delegate.InviteToken) }, "Hội nghị triển khai")
	m := d.expectAny(func() { api.PressButton(d.id, zalo.ButtonPrefix+"rsvp:attend") }, ".ics")
	typ, body := download(m.Text)
	if !strings.HasPrefix(typ, "text/calendar") || !strings.Contains(string(body), "BEGIN:VCALENDAR") {
		t.Fatalf("calendar over Zalo: %q %.60q", typ, body)
	}

	staff, _ := dir.Person("DB090")
	s := &zaloUser{t: t, api: api, id: "zl-files-staff"}
	// Staff act for the Sở: on Zalo only an enrolment link proves it.
	secret, _, err := web.IssueEnrolment(ctx, st, staff.ID, "DB090", "console", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s.expect(func() { api.SendText(s.id, "/start "+secret) }, "")
	s.expect(func() { api.SendText(s.id, "/xuat") }, "")
	m = s.expectAny(func() { api.PressButton(s.id, zalo.ButtonPrefix+"ex:xlsx") }, ".xlsx")
	typ, body = download(m.Text)
	if !strings.Contains(typ, "spreadsheetml") || !strings.HasPrefix(string(body), "PK") {
		t.Fatalf("export over Zalo: %q %.20q", typ, body)
	}
}

// expectAny sends and waits (up to a few messages) for one containing want.
func (u *zaloUser) expectAny(send func(), want string) zalotest.Message {
	u.t.Helper()
	send()
	for n := u.seen + 1; n <= u.seen+6; n++ {
		msgs := u.api.WaitMessages(u.t, u.id, n, 15*time.Second)
		if m := msgs[n-1]; strings.Contains(m.Text, want) {
			u.seen = n
			return m
		}
	}
	u.t.Fatalf("zalo user %s was never told %q", u.id, want)
	return zalotest.Message{}
}
