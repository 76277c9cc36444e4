package bot_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/bottest"
	"github.com/dieuphoi/dieuphoi/bot/inbox"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
)

// lostDeletions is an inbox store whose deletions, while lose is set,
// report success and delete nothing: what a deletion committed without
// waiting for the disk (storage/postgres DeleteInbox) leaves behind when
// PostgreSQL crashes before its WAL is flushed.
type lostDeletions struct {
	*postgres.Store
	lose atomic.Bool
	lost atomic.Int64
}

func (s *lostDeletions) DeleteInbox(ctx context.Context, ids []int64) error {
	if s.lose.Load() {
		s.lost.Add(int64(len(ids)))
		return nil
	}
	return s.Store.DeleteInbox(ctx, ids)
}

// Handled updates whose deletion from the PostgreSQL inbox was lost are
// read again — by the process that takes the inbox over after the crash,
// or by this one restarted — and dropped by the dispatcher by their update
// key: no reply goes out twice and no answer is stored twice. So the
// deletion may commit without waiting for the disk. (The process that
// handled them does not read them again itself: it remembers what it
// deleted lately.)
func TestLostInboxDeletionSendsNothingTwice(t *testing.T) {
	ctx := context.Background()
	pg, ss := pgRedis(t)
	r := newRig(t, pg, ss)
	st := &lostDeletions{Store: pg}
	st.lose.Store(true)
	buf := &bottest.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	start := func() (*inbox.Worker, *inbox.Intake, func()) {
		w := inbox.NewWorker(inbox.WorkerConfig{Store: st, Handler: r.d, Log: log, LeaseTTL: 3 * time.Second, Poll: 10 * time.Millisecond})
		in := inbox.NewIntake(st, w, log)
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); w.Run(wctx) }()
		var once sync.Once
		halt := func() { once.Do(func() { in.Close(); stop(); <-done }) }
		t.Cleanup(halt)
		return w, in, halt
	}
	_, in, halt := start()

	steps := substituteSteps(r.token)
	for _, s := range steps {
		if err := in.HandleAndWait(ctx, r.in(s)); err != nil {
			t.Fatalf("handle %v: %v", s, err)
		}
	}
	sent := len(r.sent.texts(r.chat))
	deadline := time.Now().Add(20 * time.Second)
	for st.lost.Load() < int64(len(steps)) {
		if time.Now().After(deadline) {
			t.Fatalf("%d deletions lost, want %d", st.lost.Load(), len(steps))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, _, err := pg.InboxDepth(ctx); err != nil || n != len(steps) {
		t.Fatalf("inbox holds %d (%v), want the %d handled updates whose deletion was lost", n, err, len(steps))
	}
	// The crash: this process goes; the next one reads the inbox, and
	// its deletions hold.
	halt()
	st.lose.Store(false)
	w2, _, _ := start()
	for {
		_, read := w2.Stats()
		n, _, err := pg.InboxDepth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if read >= int64(len(steps)) && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the handled updates were not read again and deleted: %d read, %d left in the inbox", read, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := len(r.sent.texts(r.chat)); got != sent {
		t.Errorf("handled updates read again sent %d more replies: %q", got-sent, r.sent.texts(r.chat)[sent:])
	}
	h, err := pg.RSVPHistory(ctx, "DB001")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 || h[0].Substitute == nil || h[0].Substitute.Phone != "0911222333" {
		t.Fatalf("history = %+v, want one substitute answer", h)
	}
}
