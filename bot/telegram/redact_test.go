package telegram

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/flows"
)

// With the server gone, every library call fails with a *url.Error whose URL
// holds the token. Neither the errors nor the logs may show it.
func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	s := newSetup(t)
	id := s.srv.AddFile("a.pdf", []byte("x"))
	s.srv.Close()

	check := func(what, text string) {
		t.Helper()
		if strings.Contains(text, testToken) || strings.Contains(text, url.PathEscape(testToken)) ||
			strings.Contains(text, "AAH-sEcReT") {
			t.Errorf("%s shows the token: %s", what, text)
		}
	}

	err := s.a.Send(context.Background(), "1", []flows.Reply{{Text: "x"}})
	if err == nil {
		t.Fatal("Send to a closed server succeeded")
	}
	check("Send error", err.Error())
	if !strings.Contains(err.Error(), "<redacted>") {
		t.Errorf("expected the redacted URL in %q", err)
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Errorf("the *url.Error is no longer reachable: %v", err)
	} else {
		check("unwrapped url.Error", ue.URL)
	}

	_, err = s.a.DownloadFile(context.Background(), id, 100)
	if err == nil {
		t.Fatal("download from a closed server succeeded")
	}
	check("DownloadFile error", err.Error())

	err = s.a.SetWebhook(context.Background())
	if err != nil {
		check("SetWebhook error", err.Error())
	}

	// Poll logs its failures while retrying.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.a.Poll(ctx); err != nil {
		check("Poll error", err.Error())
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "deleteWebhook failed") {
		t.Errorf("expected retry warnings in the log:\n%s", logs)
	}
	check("log", logs)

	// The redaction itself, for an error that is not a *url.Error.
	if got := s.a.redact(errors.New("x " + testToken + " y")).Error(); got != "x <redacted> y" {
		t.Errorf("redact = %q", got)
	}
}
