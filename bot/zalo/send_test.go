package zalo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/bot/zalo/zalotest"
	"github.com/dieuphoi/dieuphoi/flows"
)

const csPath = "/v3.0/oa/message/cs"

func TestSendSplitsTextAndRendersButtons(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	line := strings.TrimSpace(strings.Repeat("Chương trình hội nghị khoa học ", 3)) + "\n" // 93 chars
	long := strings.Repeat(line, 50)                                                       // 4650 chars
	var rows [][]flows.Button
	for r := range 3 {
		var row []flows.Button
		for b := range 3 {
			row = append(row, flows.Button{Label: fmt.Sprintf("Lựa chọn %d.%d", r, b), Data: fmt.Sprintf("opt:%d%d", r, b)})
		}
		rows = append(rows, row)
	}
	rows[0][0].Label = strings.Repeat("Dài ", 40)
	err := s.a.Send(ctx, "u1", []flows.Reply{
		{Text: long, Buttons: rows},
		{Text: "   "}, // skipped
		{Text: "Chia sẻ số điện thoại của bạn", AskContact: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	ms := s.srv.Messages("u1")
	// 3 text parts (the last with 5 buttons), 1 follow-up with 4 buttons,
	// 1 text + 1 request_user_info card.
	if len(ms) != 6 {
		t.Fatalf("%d messages: %+v", len(ms), ms)
	}
	var joined strings.Builder
	for i, m := range ms[:3] {
		if n := utf8.RuneCountInString(m.Text); n > MaxMessageLen {
			t.Errorf("part %d has %d characters", i, n)
		}
		if strings.HasSuffix(m.Text, "\n") || (i < 2 && len(m.Buttons) != 0) {
			t.Errorf("part %d: %q… buttons %v", i, m.Text[:20], m.Buttons)
		}
		joined.WriteString(m.Text + "\n")
	}
	if strings.TrimSpace(joined.String()) != strings.TrimSpace(long) {
		t.Errorf("split text does not rejoin to the original")
	}
	if b := ms[2].Buttons; len(b) != 5 || b[0].Type != "oa.query.hide" || b[0].Payload != ButtonPrefix+"opt:00" ||
		utf8.RuneCountInString(b[0].Title) > MaxButtonTitle || b[4].Payload != ButtonPrefix+"opt:11" {
		t.Errorf("first buttons: %+v", b)
	}
	if b := ms[3].Buttons; ms[3].Text != moreButtonsText || len(b) != 4 || b[3].Payload != ButtonPrefix+"opt:22" {
		t.Errorf("follow-up buttons: %q %+v", ms[3].Text, b)
	}
	if ms[4].Text != "Chia sẻ số điện thoại của bạn" || ms[5].TemplateType != "request_user_info" {
		t.Errorf("ask contact: %+v / %+v", ms[4], ms[5])
	}

	// The user's press comes back as the payload: a button input.
	s.srv.PressButton("u1", ms[3].Buttons[3].Payload)
	if got := s.h.Wait(t, 1); got[0].Input.Kind != flows.InButton || got[0].Input.Data != "opt:22" {
		t.Errorf("press: %+v", got[0].Input)
	}
}

func TestSendWithoutCardImageSkipsTheCard(t *testing.T) {
	s := newSetup(t, func(c *Config) { c.RequestInfoImageURL = "" })
	if err := s.a.Send(context.Background(), "u1", []flows.Reply{{Text: "Số điện thoại?", AskContact: true}}); err != nil {
		t.Fatal(err)
	}
	if ms := s.srv.Messages("u1"); len(ms) != 1 || ms[0].TemplateType != "" {
		t.Errorf("messages: %+v", ms)
	}
}

func TestSendErrorMapping(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	send := func() error { return s.a.Send(ctx, "u1", []flows.Reply{{Text: "nhắc lịch"}}) }
	for _, c := range []struct {
		code int
		want error
	}{
		{zalotest.CodeOutsideWindow, ErrOutsideWindow},
		{zalotest.CodeNotFollower, ErrNotFollower},
		{-201, ErrOutsideWindow},
		{zalotest.CodeQuota, ErrQuota},
		{zalotest.CodeRateLimit, ErrQuota},
	} {
		s.srv.FailNext(csPath, 1, c.code)
		if err := send(); !errors.Is(err, c.want) {
			t.Errorf("code %d: %v, want %v", c.code, err, c.want)
		}
	}
	s.srv.FailNext(csPath, 1, -999)
	err := send()
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != -999 || errors.Is(err, ErrOutsideWindow) {
		t.Errorf("other code: %v", err)
	}
	if err := send(); err != nil {
		t.Errorf("after the scripted errors: %v", err)
	}
	if s.srv.RefreshAttempts() != 0 {
		t.Errorf("refreshed on errors that are not about the token")
	}
}

func TestExpiredTokenIsRefreshedAndRetried(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	s.srv.ExpireAccessToken(s.access)
	if err := s.a.Send(ctx, "u1", []flows.Reply{{Text: "a"}}); err != nil {
		t.Fatal(err)
	}
	if n := s.srv.Refreshes(); n != 1 {
		t.Errorf("%d refreshes", n)
	}
	st, _ := s.store.Get(ctx)
	if st.Version != 2 || st.AccessToken == s.access || st.RefreshToken == s.refr || time.Until(st.ExpiresAt) < 24*time.Hour {
		t.Errorf("stored tokens: %v", st)
	}
	// A token Zalo says is invalid (not just expired) too.
	s.srv.ExpireAccessToken(st.AccessToken)
	if err := s.a.Send(ctx, "u1", []flows.Reply{{Text: "b"}}); err != nil {
		t.Fatal(err)
	}
	if n := s.srv.Refreshes(); n != 2 || len(s.srv.Messages("u1")) != 2 {
		t.Errorf("%d refreshes, %d messages", n, len(s.srv.Messages("u1")))
	}
	// Uploads use the same machinery.
	id, err := s.a.UploadImage(ctx, "card.png", []byte("png"))
	if err != nil || string(s.srv.Uploads(id)) != "png" {
		t.Errorf("upload image: %q %v", id, err)
	}
	tok, err := s.a.UploadFile(ctx, "a.pdf", []byte("pdf"))
	if err != nil || string(s.srv.Uploads(tok)) != "pdf" {
		t.Errorf("upload file: %q %v", tok, err)
	}
}

func TestTokenRefreshedAheadOfExpiry(t *testing.T) {
	s := newSetup(t, func(c *Config) {
		c.Seed.ExpiresAt = time.Now().Add(10 * time.Minute) // within RefreshBefore
		c.RefreshCheck = 20 * time.Millisecond
	})
	deadline := time.Now().Add(3 * time.Second)
	for s.srv.Refreshes() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.srv.Refreshes(); n != 1 {
		t.Fatalf("%d refreshes by the background check", n)
	}
	if err := s.a.Send(context.Background(), "u1", []flows.Reply{{Text: "a"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	if n := s.srv.Refreshes(); n != 1 {
		t.Errorf("%d refreshes; fresh tokens were refreshed again", n)
	}
}

func TestReauthorizationNeeded(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	s.srv.ExpireAccessToken(s.access)
	s.srv.RevokeRefreshTokens()
	err := s.a.Send(ctx, "u1", []flows.Reply{{Text: "a"}})
	if !errors.Is(err, ErrReauthorize) || !s.a.NeedsReauth() {
		t.Fatalf("err %v, NeedsReauth %v", err, s.a.NeedsReauth())
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != zalotest.CodeRefreshInvalid {
		t.Errorf("Zalo's code not kept: %v", err)
	}
	// Within the cool-down the refresh token is not tried again.
	attempts := s.srv.RefreshAttempts()
	if err := s.a.Send(ctx, "u1", []flows.Reply{{Text: "b"}}); !errors.Is(err, ErrReauthorize) {
		t.Errorf("second send: %v", err)
	}
	if s.srv.RefreshAttempts() != attempts {
		t.Errorf("refresh retried within the cool-down")
	}
	logs := s.logs.String()
	if strings.Count(logs, "Zalo cần cấp quyền lại") != 1 || !strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("expected one error log «Zalo cần cấp quyền lại»:\n%s", logs)
	}
	checkNoSecrets(t, "log", logs, s.access, s.refr)
	checkNoSecrets(t, "error", err.Error(), s.access, s.refr)

	// Staff authorise again; the new tokens are stored (another process's
	// start with ForceSeed): the adapter picks them up and the alarm clears.
	at, rt := s.srv.IssueTokens(25 * time.Hour)
	cur, _ := s.store.Get(ctx)
	if ok, _ := s.store.CAS(ctx, cur, Tokens{AccessToken: at, RefreshToken: rt, ExpiresAt: time.Now().Add(25 * time.Hour)}); !ok {
		t.Fatal("reseed")
	}
	s.a.reauthCooldown = 0
	if err := s.a.Send(ctx, "u1", []flows.Reply{{Text: "c"}}); err != nil {
		t.Fatalf("after re-authorisation: %v", err)
	}
	if s.a.NeedsReauth() {
		t.Errorf("NeedsReauth still set")
	}
}

func TestSecretsNeverInLogsOrErrors(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	// Refreshes, events, errors: all at debug level.
	s.srv.ExpireAccessToken(s.access)
	if err := s.a.Send(ctx, "u1", []flows.Reply{{Text: "a"}}); err != nil {
		t.Fatal(err)
	}
	cur, _ := s.store.Get(ctx)
	s.srv.SendText("u1", "hi")
	s.h.Wait(t, 1)
	s.a.log.Info("tokens by mistake", "tokens", cur, "alias", s.a.current())
	if got := fmt.Sprintf("%v %+v", cur, cur); strings.Contains(got, cur.AccessToken) || strings.Contains(got, cur.RefreshToken) {
		t.Errorf("Tokens print their secrets: %s", got)
	}
	s.srv.Close()
	err := s.a.Send(ctx, "u1", []flows.Reply{{Text: "b"}})
	if err == nil {
		t.Fatal("send to a closed server succeeded")
	}
	_, derr := s.a.DownloadFile(ctx, s.srv.URL()+"/attachments/x/y", 10)
	if derr == nil {
		t.Fatal("download from a closed server succeeded")
	}
	secrets := []string{s.access, s.refr, cur.AccessToken, cur.RefreshToken}
	checkNoSecrets(t, "send error", err.Error(), secrets...)
	checkNoSecrets(t, "download error", derr.Error(), secrets...)
	checkNoSecrets(t, "log", s.logs.String(), secrets...)
	if !strings.Contains(s.logs.String(), "zalo tokens refreshed") {
		t.Errorf("expected the refresh in the log")
	}
	// The scrubber itself.
	if got := s.a.redact(errors.New("x " + testAppSecret + " " + cur.AccessToken)).Error(); got != "x <redacted> <redacted>" {
		t.Errorf("redact = %q", got)
	}
}

func TestSplitText(t *testing.T) {
	if p := splitText("ngắn", 10); len(p) != 1 || p[0] != "ngắn" {
		t.Errorf("%q", p)
	}
	p := splitText(strings.Repeat("đ", 25), 10)
	if len(p) != 3 || utf8.RuneCountInString(p[0]) != 10 || utf8.RuneCountInString(p[2]) != 5 {
		t.Errorf("no break points: %q", p)
	}
	p = splitText("một hai ba bốn năm sáu", 10)
	for _, x := range p {
		if utf8.RuneCountInString(x) > 10 || strings.HasPrefix(x, " ") || strings.HasSuffix(x, " ") {
			t.Errorf("word split: %q", p)
		}
	}
}

// A reply's Link goes to Zalo as an oa.open.url button after the choices.
func TestSendLinkIsAnOpenURLButton(t *testing.T) {
	s := newSetup(t)
	err := s.a.Send(context.Background(), "u7", []flows.Reply{{
		Text:    "🔐 Đường dẫn đăng nhập trang quản trị.",
		Buttons: [][]flows.Button{{{Label: "Khác", Data: "x:1"}}},
		Link:    &flows.LinkButton{Label: "🔐 Mở trang quản trị", URL: "https://pii.example.vn/admin/signin/abc"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ms := s.srv.Messages("u7")
	if len(ms) != 1 || len(ms[0].Buttons) != 2 {
		t.Fatalf("sent %+v", ms)
	}
	if b := ms[0].Buttons[1]; b.Type != "oa.open.url" || b.URL != "https://pii.example.vn/admin/signin/abc" || b.Title != "🔐 Mở trang quản trị" {
		t.Fatalf("link button %+v", b)
	}
	if ms[0].Buttons[0].Payload != ButtonPrefix+"x:1" {
		t.Fatalf("choice button %+v", ms[0].Buttons[0])
	}
}
