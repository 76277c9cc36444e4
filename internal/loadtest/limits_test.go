package loadtest

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// The fake's flood control answers as Telegram's: the 31st send within a
// second, a private chat's 6th in a burst, a group's 21st within a minute
// get 429 with a retry_after of at least a second, and are not counted as
// sent.
func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		chats func(i int) int64
		ok    int
		why   string
	}{
		{"30 a second in all", func(i int) int64 { return int64(1000 + i) }, 30, "second"},
		{"a private chat's burst of 5", func(int) int64 { return 42 }, 5, "chat"},
		{"20 a minute to a group", func(int) int64 { return -1001 }, 20, "group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter(TelegramLimits)
			for i := range tc.ok {
				if ra := l.admit(tc.chats(i), ""); ra != 0 {
					t.Fatalf("send %d refused (retry after %d)", i+1, ra)
				}
			}
			if ra := l.admit(tc.chats(tc.ok), ""); ra < 1 {
				t.Fatalf("send %d accepted, want 429", tc.ok+1)
			}
			if len(l.accepted) != tc.ok || l.rejected != 1 || l.why[tc.why] != 1 || l.refusals[0].Why != tc.why {
				t.Errorf("accepted %d, rejected %d, why %v %+v", len(l.accepted), l.rejected, l.why, l.refusals)
			}
		})
	}
}

// Each accepted send records the address it came from, and SocketPorts
// tells which process holds that connection: the broadcast trace's "which
// process sent it".
func TestSendsTellTheirProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SocketPorts reads /proc")
	}
	lim := TelegramLimits
	api, err := Start(Options{Token: "1:T", Limits: &lim})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	cl := &http.Client{Transport: &http.Transport{}}
	defer cl.CloseIdleConnections()
	resp, err := cl.PostForm(api.URL()+"/bot1:T/sendMessage", url.Values{"chat_id": {"42"}, "text": {"xin chào"}})
	if err != nil {
		t.Fatal(err)
	}
	// Read to the end, so that the connection stays open (idle).
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sendMessage answered %d", resp.StatusCode)
	}
	sends := api.SendStats().Accepted
	if len(sends) != 1 || sends[0].Chat != 42 {
		t.Fatalf("accepted %+v, want one send to chat 42", sends)
	}
	_, port, err := net.SplitHostPort(sends[0].From)
	if err != nil {
		t.Fatalf("from %q: %v", sends[0].From, err)
	}
	n, _ := strconv.Atoi(port)
	ports, err := SocketPorts(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !ports[n] {
		t.Errorf("port %d of the send is not among this process's sockets %v", n, ports)
	}
	// Another process's ports do not include it.
	if other, err := SocketPorts(os.Getppid()); err == nil && other[n] {
		t.Errorf("port %d also found in the parent process", n)
	}
}
