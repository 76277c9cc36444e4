package zalo

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/zalo/zalotest"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// twoStores opens the same database twice, as two processes would.
type opener func(t *testing.T) (a, b *sqlstore.Queries)

func openPostgres(t *testing.T) (*sqlstore.Queries, *sqlstore.Queries) {
	url := testenv.PostgresURL(t)
	ctx := context.Background()
	var qs []*sqlstore.Queries
	for range 2 {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		qs = append(qs, &s.Queries)
	}
	return qs[0], qs[1]
}

func openSQLite(t *testing.T) (*sqlstore.Queries, *sqlstore.Queries) {
	path := filepath.Join(t.TempDir(), "dieuphoi.db")
	ctx := context.Background()
	var qs []*sqlstore.Queries
	for range 2 {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		qs = append(qs, &s.Queries)
	}
	return qs[0], qs[1]
}

var databases = []struct {
	name string
	open opener
}{{"postgres", openPostgres}, {"sqlite", openSQLite}}

func TestZaloStoreSQL(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			q1, q2 := db.open(t)
			s1, s2 := q1.Zalo("oa1"), q2.Zalo("oa1")
			ctx := context.Background()
			if _, err := s1.Get(ctx); !isNotFound(err) {
				t.Fatalf("empty store: %v", err)
			}
			exp := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
			seed := Tokens{AccessToken: "a1", RefreshToken: "r1", ExpiresAt: exp}
			if ok, err := s1.CAS(ctx, Tokens{}, seed); !ok || err != nil {
				t.Fatalf("seed: %v %v", ok, err)
			}
			if ok, _ := s2.CAS(ctx, Tokens{}, Tokens{AccessToken: "x", RefreshToken: "y"}); ok {
				t.Fatal("second seed won")
			}
			got, err := s2.Get(ctx)
			if err != nil || got.AccessToken != "a1" || got.RefreshToken != "r1" || got.Version != 1 || !got.ExpiresAt.Equal(exp) {
				t.Fatalf("get: %+v %v", got, err)
			}
			now := time.Now()
			if ok, _ := s1.Lease(ctx, 1, "p1", now, now.Add(time.Minute)); !ok {
				t.Fatal("lease p1")
			}
			if ok, _ := s2.Lease(ctx, 1, "p2", now, now.Add(time.Minute)); ok {
				t.Fatal("p2 took a held lease")
			}
			if ok, _ := s2.Lease(ctx, 1, "p2", now.Add(2*time.Minute), now.Add(3*time.Minute)); !ok {
				t.Fatal("p2 could not take an expired lease")
			}
			if err := s1.Release(ctx, "p1"); err != nil { // not the holder: no effect
				t.Fatal(err)
			}
			if ok, _ := s1.Lease(ctx, 1, "p1", now.Add(2*time.Minute), now.Add(3*time.Minute)); ok {
				t.Fatal("p1 released p2's lease")
			}
			next := Tokens{AccessToken: "a2", RefreshToken: "r2", ExpiresAt: exp.Add(25 * time.Hour)}
			if ok, _ := s1.CAS(ctx, Tokens{Version: 7}, next); ok {
				t.Fatal("CAS on a wrong version")
			}
			if ok, err := s2.CAS(ctx, got, next); !ok || err != nil {
				t.Fatalf("CAS: %v %v", ok, err)
			}
			got, _ = s1.Get(ctx)
			if got.Version != 2 || got.RefreshToken != "r2" {
				t.Fatalf("after CAS: %+v", got)
			}
			if ok, _ := s1.Lease(ctx, 2, "p1", now, now.Add(time.Minute)); !ok {
				t.Fatal("CAS did not release the lease")
			}
			if q1.Zalo("oa2").Release(ctx, "p1") != nil {
				t.Fatal("release on another OA")
			}

			if _, err := s1.LastInteraction(ctx, "u1"); !isNotFound(err) {
				t.Fatalf("no interaction: %v", err)
			}
			t1 := time.Date(2026, 3, 1, 9, 30, 15, 0, time.UTC)
			if err := s1.Touch(ctx, "u1", t1); err != nil {
				t.Fatal(err)
			}
			if err := s2.Touch(ctx, "u1", t1.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if at, err := s1.LastInteraction(ctx, "u1"); err != nil || !at.Equal(t1.Add(time.Hour)) {
				t.Fatalf("last interaction: %v %v", at, err)
			}
		})
	}
}

// Two processes share one token store; the token expired. Both send at once:
// Zalo sees exactly one refresh, both keep working with its result.
func TestTwoProcessesRefreshOnce(t *testing.T) {
	for _, db := range databases {
		for _, how := range []string{"expiry known", "token refused"} {
			t.Run(db.name+"/"+how, func(t *testing.T) {
				q1, q2 := db.open(t)
				srv := zalotest.New(t, testAppID, testOASecret, testAppSecret)
				srv.SetRefreshDelay(150 * time.Millisecond) // widen the race
				ctx := context.Background()
				at, rt := srv.IssueTokens(25 * time.Hour)
				seed := Tokens{AccessToken: at, RefreshToken: rt, ExpiresAt: time.Now().Add(25 * time.Hour)}
				if how == "expiry known" {
					seed.ExpiresAt = time.Now().Add(-time.Minute)
				}
				srv.ExpireAccessToken(at)
				logs := &syncBuffer{}
				var adapters []*Adapter
				for i, q := range []*sqlstore.Queries{q1, q2} {
					c := Config{
						AppID: testAppID, OASecret: testOASecret, AppSecret: testAppSecret, OAID: "oa1",
						APIBase: srv.URL(), OAuthBase: srv.URL(), Handler: newRecorder(),
						Tokens: q.Zalo("oa1"), Seed: &seed, RefreshCheck: -1, Log: jsonLogger(logs).With("process", i),
					}
					a, err := New(ctx, c)
					if err != nil {
						t.Fatal(err)
					}
					shorten(a)
					t.Cleanup(func() { _ = a.Close() })
					adapters = append(adapters, a)
				}
				var wg sync.WaitGroup
				for i, a := range adapters {
					for j := range 4 {
						wg.Go(func() {
							if err := a.Send(ctx, fmt.Sprintf("u%d%d", i, j), []flows.Reply{{Text: "nhắc lịch"}}); err != nil {
								t.Errorf("process %d send %d: %v", i, j, err)
							}
						})
					}
				}
				wg.Wait()
				if n, m := srv.Refreshes(), srv.RefreshAttempts(); n != 1 || m != 1 {
					t.Fatalf("%d refreshes in %d calls, want exactly 1", n, m)
				}
				st, err := q1.Zalo("oa1").Get(ctx)
				if err != nil || st.Version != 2 {
					t.Fatalf("stored: %v %v", st, err)
				}
				for i, a := range adapters {
					if err := a.Send(ctx, "later", []flows.Reply{{Text: fmt.Sprint(i)}}); err != nil {
						t.Errorf("process %d afterwards: %v", i, err)
					}
				}
				if n := srv.Refreshes(); n != 1 {
					t.Errorf("%d refreshes afterwards", n)
				}
				checkNoSecrets(t, "log", logs.String(), at, rt, st.AccessToken, st.RefreshToken)
			})
		}
	}
}

// The adapter on a real store records interactions and answers
// WithinWindow from them.
func TestWithinWindowOnSQLite(t *testing.T) {
	q, _ := openSQLite(t)
	s := newSetup(t, func(c *Config) {
		c.Tokens, c.Interactions = q.Zalo("oa1"), nil
	})
	s.srv.SendText("u5", "chào")
	s.h.Wait(t, 1)
	deadline := time.Now().Add(2 * time.Second)
	for {
		ok, err := s.a.WithinWindow(context.Background(), "u5", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not within the window")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
