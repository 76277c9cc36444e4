package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// Warm opens the pool's connections and runs the hot path on each without
// leaving a row behind; an update's first statements on a warmed
// connection cost the server a fraction of what they cost on a new one.
func TestWarmConnections(t *testing.T) {
	ctx := context.Background()
	url := testenv.PostgresURL(t)
	s := open(t, url)
	if err := s.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatal(err)
	}
	w := open(t, withConns(url, 4))
	if err := w.Warm(ctx, 0); err != nil {
		t.Fatalf("Warm: %v", err)
	}
	if st := w.Pool().Stat(); st.TotalConns() != 4 || st.IdleConns() != 4 {
		t.Errorf("after Warm: %d connections, %d idle; want the pool's 4, all idle", st.TotalConns(), st.IdleConns())
	}
	for _, c := range []struct{ what, sql string }{
		{"identities", `SELECT count(*) FROM identities`},
		{"answers", `SELECT count(*) FROM rsvps`},
		{"update ids", `SELECT count(*) FROM processed_updates`},
		{"inbox", `SELECT count(*) FROM inbox`},
	} {
		var n int
		if err := s.Pool().QueryRow(ctx, c.sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		if n != 0 {
			t.Errorf("Warm left %d rows in %s", n, c.what)
		}
	}

	// The server CPU of one update's statements (look-up, append, apply)
	// on a connection's first use, new and warmed, where the server's
	// processes can be read (/proc, same machine).
	db := s.Pool().Config().ConnConfig.Database
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	first := func(warmed bool, round int) (time.Duration, bool) {
		f, err := postgres.Open(ctx, withConns(url, 1))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if warmed {
			if err := f.Warm(ctx, 0); err != nil {
				t.Fatalf("Warm: %v", err)
			}
		}
		var pid int
		if err := f.Pool().QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		user := fmt.Sprintf("first-%t-%d", warmed, round)
		cpu0, ok := serverCPU(ctx, db)[pid]
		if _, err := f.ChatFacts(ctx, storage.ChatLookup{Channel: domain.Telegram, UserID: user, Candidate: "DB002"}); err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("facts: %v", err)
		}
		if _, err := f.AppendInbox(ctx, "test", []storage.InboxItem{{Key: "telegram:" + user, Part: 1, Chat: "telegram:" + user,
			Payload: []byte(`{}`), Channel: string(domain.Telegram), User: user, Created: at}}); err != nil {
			t.Fatalf("append: %v", err)
		}
		if _, err := f.ApplyBatch(ctx, []sqlstore.ApplyReq{{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: user}, At: at, Effects: []domain.Effect{
			domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: "DB002", Proof: domain.ProofLink}},
			domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB002", Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}},
		}}}); err != nil {
			t.Fatalf("apply: %v", err)
		}
		cpu1, ok1 := serverCPU(ctx, db)[pid]
		return cpu1 - cpu0, ok && ok1
	}
	var cold, warm time.Duration
	for round := range 3 {
		c, ok := first(false, round)
		wm, ok2 := first(true, round)
		if !ok || !ok2 {
			t.Skip("the server's processes are not readable here (/proc)")
		}
		t.Logf("round %d: server CPU of the first update's statements: new connection %v, warmed %v", round, c, wm)
		cold, warm = cold+c, warm+wm
	}
	if warm*2 > cold {
		t.Errorf("first update on a warmed connection: %v of server CPU (3 rounds), on a new one %v; want under half", warm, cold)
	}
}

// keysTracer records the update ids and accounts the statements write.
type keysTracer struct {
	mu   sync.Mutex
	keys map[string][]string // statement kind → values of its second argument
}

func (k *keysTracer) note(sql string, args []any) {
	for _, kind := range []string{"INSERT INTO processed_updates", "INSERT INTO identities"} {
		if strings.HasPrefix(strings.TrimSpace(sql), kind) && len(args) > 1 {
			k.mu.Lock()
			k.keys[kind] = append(k.keys[kind], fmt.Sprint(args[1]))
			k.mu.Unlock()
		}
	}
}
func (k *keysTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	k.note(d.SQL, d.Args)
	return ctx
}
func (k *keysTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (k *keysTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (k *keysTracer) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	k.note(d.SQL, d.Args)
}
func (k *keysTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// The warm-ups of a pool's connections run side by side: each writes its
// own update id and account (rolled back), so none waits on a row another
// one wrote and has not rolled back yet. With one key for all, the 32 ran
// one after another (the processed-update insert took 3–10 ms on average).
func TestWarmUpsDoNotWaitForEachOther(t *testing.T) {
	ctx := context.Background()
	url := testenv.PostgresURL(t)
	s := open(t, url)
	if err := s.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatal(err)
	}
	k := &keysTracer{keys: map[string][]string{}}
	w, err := postgres.Open(ctx, withConns(url, 6), postgres.WithTracer(k))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	start := time.Now()
	if err := w.Warm(ctx, 0); err != nil {
		t.Fatalf("Warm: %v", err)
	}
	t.Logf("6 connections warmed in %v", time.Since(start))
	for _, kind := range []string{"INSERT INTO processed_updates", "INSERT INTO identities"} {
		got := k.keys[kind]
		distinct := map[string]bool{}
		for _, v := range got {
			distinct[v] = true
		}
		if len(got) != 6 || len(distinct) != 6 {
			t.Errorf("%s: the warm-ups wrote %v; want 6 different keys, one per connection", kind, got)
		}
	}
}

// The notifications' connection is not one of the pool's: the pool keeps
// every connection Warm warmed, instead of opening a cold one in the
// listener's place while serving.
func TestListenerLeavesThePoolWarm(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	url := testenv.PostgresURL(t)
	w := open(t, withConns(url, 2))
	if err := w.Warm(ctx, 0); err != nil {
		t.Fatalf("Warm: %v", err)
	}
	listening := make(chan bool, 10)
	done := make(chan struct{})
	go func() { defer close(done); w.ListenInbox(ctx, func(on bool) { listening <- on }, func(string) {}) }()
	defer func() { cancel(); <-done }()
	select {
	case on := <-listening:
		if !on {
			t.Fatal("not listening")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10 s")
	}
	if st := w.Pool().Stat(); st.TotalConns() != 2 || st.IdleConns() != 2 {
		t.Errorf("while listening the pool holds %d connections, %d idle; want the 2 warmed, both idle", st.TotalConns(), st.IdleConns())
	}
}
