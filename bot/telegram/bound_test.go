package telegram

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/flows"
)

// A Bot API that never answers a send: the call is bounded by the
// caller's deadline when it is near (an update's), else by callTimeout.
func TestHungSendBounded(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/getMe") {
			w.Write([]byte(`{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"B","username":"b"}}`))
			return
		}
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer srv.Close()
	defer close(stop) // before Close, which waits for the handlers
	a, err := New(context.Background(), Config{Token: testToken, APIBase: srv.URL, Handler: newRecorder()})
	if err != nil {
		t.Fatal(err)
	}
	send := func(ctx context.Context) (time.Duration, error) {
		start := time.Now()
		err := a.Send(ctx, "901", []flows.Reply{{Text: "chào"}})
		return time.Since(start), err
	}

	// No deadline of the caller's: callTimeout.
	a.callTimeout = 200 * time.Millisecond
	if d, err := send(context.Background()); err == nil || d > 3*time.Second {
		t.Errorf("no deadline: %v after %v, want an error after callTimeout", err, d)
	}
	// A deadline beyond inheritBound: callTimeout still.
	far, cancel := context.WithTimeout(context.Background(), inheritBound+time.Minute)
	defer cancel()
	if d, err := send(far); err == nil || d > 3*time.Second {
		t.Errorf("far deadline: %v after %v, want an error after callTimeout", err, d)
	}
	// An update's deadline: that bounds it.
	a.callTimeout = time.Hour
	near, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if d, err := send(near); !errors.Is(err, context.DeadlineExceeded) || d > 3*time.Second {
		t.Errorf("near deadline: %v after %v, want the deadline's error", err, d)
	}
}
