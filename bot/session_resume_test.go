package bot_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/redis"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
)

// sessionPutter is a session store that can be given a session's bytes.
type sessionPutter interface {
	storage.SessionStore
	Put(ctx context.Context, chat string, session []byte) error
}

// A session written as JSON by an earlier version (mid-way through naming
// a substitute, the name and position in its draft) is resumed after the
// upgrade, in both session stores: the next answer is taken as the
// substitute's phone and the confirmation stores all three.
func TestSessionSavedAsJSONBeforeIsResumed(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		ss   func(t *testing.T, s *sqlite.Store) sessionPutter
	}{
		{"sqlite", func(t *testing.T, s *sqlite.Store) sessionPutter {
			return s
		}},
		{"redis", func(t *testing.T, _ *sqlite.Store) sessionPutter {
			rs, err := redis.Open(ctx, redis.Options{URL: testenv.RedisURL(t), Prefix: testenv.Prefix(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rs.Close() })
			return rs
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			ss := tc.ss(t, st)
			r := newRig(t, st, ss)
			// Linked as DB001 through the invite link, then the session
			// replaced by the JSON an earlier version wrote at the phone
			// question.
			if err := r.d.Handle(ctx, r.in(flows.Input{Kind: flows.InCommand, Command: "start", Text: r.token})); err != nil {
				t.Fatal(err)
			}
			old := `{"s":{"p":"DB001","l":"vi","s":"sub_phone","d":{"name":"Phạm Thu Hà","position":"Phó Trưởng phòng"},"u":"0001-01-01T00:00:00Z"},` +
				`"u":"telegram:1","r":[{"Text":"Số điện thoại của người đi thay?","Buttons":null,"AskContact":false}]}`
			if err := ss.Put(ctx, "telegram:"+r.chat, []byte(old)); err != nil {
				t.Fatal(err)
			}
			for _, in := range []flows.Input{{Kind: flows.InText, Text: "0911222333"}, {Kind: flows.InButton, Data: "sub:ok"}} {
				if err := r.d.Handle(ctx, r.in(in)); err != nil {
					t.Fatal(err)
				}
			}
			h, err := st.RSVPHistory(ctx, "DB001")
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != 1 || h[0].Status != domain.RSVPSubstitute || h[0].Substitute.Phone != "0911222333" ||
				h[0].Substitute.Name != "Phạm Thu Hà" || !strings.Contains(h[0].Substitute.Position, "Phó Trưởng phòng") {
				t.Fatalf("history = %+v, want the substitute from the old session's draft", h)
			}
		})
	}
}
