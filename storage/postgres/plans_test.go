package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// Every statement of an update's hot path is planned once per connection
// (its generic plan), not afresh with the values at hand on its first
// five runs: with PostgreSQL's default plan_cache_mode each statement
// text below showed 5 custom plans on the connection.
func TestGenericPlans(t *testing.T) {
	ctx := context.Background()
	// One connection, so that pg_prepared_statements (per session) holds
	// every statement run.
	s, err := postgres.Open(ctx, testenv.PostgresURL(t)+"&pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	// A page of chats linked before the first plans are made, as when the
	// first notices go out a moment after the first people linked: a plan
	// made for a table of one page may read it whole, and kept as the
	// table grows.
	var links []sqlstore.ApplyReq
	for n := range 30 {
		user := fmt.Sprint("early", n)
		links = append(links, sqlstore.ApplyReq{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: user}, At: at, Effects: []domain.Effect{
			domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: "DB003", Proof: domain.ProofPhone}}}})
	}
	if _, err := s.ApplyBatch(ctx, links); err != nil {
		t.Fatal(err)
	}
	for n := range 8 {
		user := fmt.Sprint("u", n)
		steps := []func() error{
			func() error {
				_, err := s.ChatFacts(ctx, storage.ChatLookup{Channel: domain.Telegram, UserID: user})
				return err
			},
			func() error {
				_, err := s.ChatFacts(ctx, storage.ChatLookup{Channel: domain.Telegram, UserID: user, Candidate: "DB002"})
				return err
			},
			func() error { _, err := s.PersonState(ctx, "DB001"); return err },
			func() error { _, err := s.Identities(ctx, "DB001"); return err },
			func() error {
				return s.Run(ctx, sqlstore.IdentitiesOfRead([]string{"DB001", "DB002"}, map[string][]domain.Identity{}))
			},
			func() error { _, err := s.People(ctx, []string{"DB001"}); return err },
			func() error { _, err := s.NoticeTargets(ctx, []string{"DB001", "DB002~thay"}); return err },
			func() error {
				_, err := s.AppendInbox(ctx, "w", []storage.InboxItem{{Key: "k" + user, Part: n, Chat: "telegram:" + user,
					Payload: []byte(`{}`), Created: at, Channel: "telegram", User: user}})
				return err
			},
			func() error {
				_, err := s.ApplyBatch(ctx, []sqlstore.ApplyReq{{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: user + "a"}, At: at, Effects: []domain.Effect{
					domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: "DB001", Proof: domain.ProofPhone}}}}})
				return err
			},
			func() error {
				_, err := s.ApplyBatch(ctx, []sqlstore.ApplyReq{{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: user + "b"}, At: at, Effects: []domain.Effect{
					domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB001", Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}}}}})
				return err
			},
			func() error {
				_, err := s.ApplyBatch(ctx, []sqlstore.ApplyReq{{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: user + "c"}, At: at, Effects: []domain.Effect{
					domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB002", Status: domain.RSVPSubstitute, Channel: domain.Telegram, At: at,
						Substitute: &domain.Substitute{Name: "Trần Văn Bình", Position: "Phó phòng", Phone: "0900000001"}}}}}})
				return err
			},
		}
		for i, step := range steps {
			if err := step(); err != nil {
				t.Fatalf("round %d, step %d: %v", n, i, err)
			}
		}
	}
	c, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	rows, err := c.Query(ctx, `SELECT generic_plans, custom_plans, left(regexp_replace(statement, '\s+', ' ', 'g'), 100)
		FROM pg_prepared_statements WHERE statement NOT LIKE '%pg_prepared_statements%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var generic, custom int64
		var q string
		if err := rows.Scan(&generic, &custom, &q); err != nil {
			t.Fatal(err)
		}
		seen++
		if custom > 0 {
			t.Errorf("%d custom plans, %d generic: %s", custom, generic, q)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// A chat's look-up, planned at its first run while identities and
	// rsvps were empty, still looks every account up by index, and reads
	// no table whole (the unreachable marks were hashed at every run); nor
	// does it cache look-ups that never repeat (Memoize: a hash table
	// built at every run).
	var name string
	if err := c.QueryRow(ctx, `SELECT name FROM pg_prepared_statements WHERE statement LIKE 'WITH q (n, channel, user_id, cand)%'`).Scan(&name); err != nil {
		t.Fatalf("the look-up's prepared statement: %v", err)
	}
	// EXPLAIN EXECUTE takes no parameters: 8 accounts as literals.
	const eight = `ARRAY['telegram', 'telegram', 'telegram', 'telegram', 'telegram', 'telegram', 'telegram', 'telegram'],
		ARRAY['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8'], ARRAY['', '', '', '', '', '', '', 'DB002']`
	plan, err := c.Query(ctx, `EXPLAIN EXECUTE `+name+`('', `+eight+`)`)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for plan.Next() {
		var l string
		if err := plan.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	plan.Close()
	if err := plan.Err(); err != nil || len(lines) == 0 {
		t.Fatalf("EXPLAIN the look-up: %d lines, %v", len(lines), err)
	}
	text := strings.Join(lines, "\n")
	for _, bad := range []string{"Seq Scan on identities", "Seq Scan on rsvps", "Seq Scan on people", "Seq Scan on unreachable", "Hash", "hashed", "Memoize"} {
		if strings.Contains(text, bad) {
			t.Errorf("the look-up's plan has %q:\n%s", bad, text)
		}
	}
	// Whom a substitute's invitation goes to: each person's chats by
	// index, never the identities table hashed whole.
	noPlanSteps(t, c, "the notice targets'", `SELECT p.id, COALESCE(p.lang%`, "Seq Scan on identities", "Seq Scan on people", "Hash")
	// Whose chats notices go to: each person's by index, never the
	// identities table read whole (the plan was made while it held a page
	// of chats).
	noPlanSteps(t, c, "the notices' chats'", `SELECT i.channel, i.user_id, i.chat_id, i.person_id, i.proof, i.linked_at%FROM unnest%`, "Seq Scan on identities", "Hash")
	if seen < 10 {
		t.Errorf("%d prepared statements on the connection; want the hot path's", seen)
	}
}

// noPlanSteps fails t when the plan of the statement prepared on c whose
// text is like pattern, for three people, has any of bad.
func noPlanSteps(t *testing.T, c *pgxpool.Conn, what, pattern string, bad ...string) {
	t.Helper()
	ctx := context.Background()
	var name string
	if err := c.QueryRow(ctx, `SELECT name FROM pg_prepared_statements WHERE statement LIKE $1`, pattern).Scan(&name); err != nil {
		t.Fatalf("%s prepared statement: %v", what, err)
	}
	plan, err := c.Query(ctx, `EXPLAIN EXECUTE `+name+`(ARRAY['DB001', 'DB002', 'DB003'])`)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(plan, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(lines, "\n")
	for _, b := range bad {
		if strings.Contains(text, b) {
			t.Errorf("%s plan has %q:\n%s", what, b, text)
		}
	}
}

// A focal point's submissions (read at every update of theirs) are their
// agency's rows found by index, not every campaign's rows scanned and
// sorted: with two campaigns of 40 agencies × 25 indicators, the generic
// plan the pool's connections keep reads submissions_agency.
func TestFocalSubmissionsByIndex(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, withConns(testenv.PostgresURL(t), 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Pool().Exec(ctx, `INSERT INTO submissions (indicator_code, agency_code, status, value, by_person, updated_at, campaign_id)
		SELECT 'I' || i, 'A' || a, 'approved', '1', 'x', now(), c
		FROM generate_series(1, 25) AS i, generate_series(1, 40) AS a, (VALUES ('pii-2024'), ('pii-2025')) AS v (c)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `ANALYZE submissions`); err != nil {
		t.Fatal(err)
	}
	cs := s.InCampaign("pii-2025")
	subs, err := cs.Submissions(ctx, "A7")
	if err != nil || len(subs) != 25 || subs[0].Indicator != "I1" || subs[1].Indicator != "I10" {
		t.Fatalf("the agency's submissions: %d, %v", len(subs), err)
	}
	c, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	var name string
	if err := c.QueryRow(ctx, `SELECT name FROM pg_prepared_statements WHERE statement LIKE '%FROM submissions WHERE campaign_id = $1 AND agency_code = $2%'
		AND statement NOT LIKE '%pg_prepared_statements%'`).Scan(&name); err != nil {
		t.Fatalf("the read's prepared statement: %v", err)
	}
	rows, err := c.Query(ctx, `EXPLAIN EXECUTE `+name+`('pii-2025', 'A7')`)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if text := strings.Join(lines, "\n"); !strings.Contains(text, "submissions_agency") || strings.Contains(text, "Seq Scan") {
		t.Errorf("the focal point's read:\n%s", text)
	}
}
