package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// batchStore is what the batch suite needs besides storage.Store: both
// stores apply updates handled at the same moment in one transaction.
type batchStore interface {
	ApplyBatch(ctx context.Context, reqs []sqlstore.ApplyReq) ([]bool, error)
	AuditLog(ctx context.Context, limit int) ([]sqlstore.AuditEntry, error)
	People(ctx context.Context, ids []string) ([]domain.Person, error)
}

// runBatch: a batch of updates whose effects are of every kind the store
// gathers into one statement per kind (ids, links, answers, substitute
// withdrawals, audit) mixed with ones it writes on their own, ends as if
// its updates were applied one after another; a replay in it changes
// nothing; a stale effect in it rolls the whole batch back, and then each
// update alone fails only itself.
func runBatch(t *testing.T, open func(t *testing.T) storage.Store, at time.Time) {
	ctx := context.Background()
	key := func(id string) domain.UpdateKey { return domain.UpdateKey{Channel: domain.Telegram, UpdateID: id} }
	link := func(ch domain.Channel, user, p string) domain.Effect {
		return domain.LinkIdentity{Identity: domain.Identity{Channel: ch, UserID: user, ChatID: user, PersonID: p, Proof: domain.ProofCode}}
	}
	answer := func(p string, st domain.RSVPStatus) domain.Effect {
		r := domain.RSVP{PersonID: p, Status: st, Channel: domain.Telegram, At: at}
		if st == domain.RSVPSubstitute {
			r.Substitute = &domain.Substitute{Name: "Phạm Văn Dũng", Position: "Chuyên viên", Phone: "0933000111"}
		}
		return domain.SaveRSVP{RSVP: r}
	}
	audit := func(p, action string) domain.Effect {
		return domain.Audit{PersonID: p, Action: action, Detail: "batch", Channel: domain.Telegram}
	}
	roles := func(t *testing.T, s storage.Store, id string) string {
		t.Helper()
		ps, err := s.(batchStore).People(ctx, []string{id})
		if err != nil || len(ps) != 1 {
			t.Fatalf("person %s: %+v, %v", id, ps, err)
		}
		return fmt.Sprint(ps[0].Roles)
	}
	history := func(t *testing.T, s storage.Store, p string) []domain.RSVPStatus {
		t.Helper()
		h, err := s.RSVPHistory(ctx, p)
		if err != nil {
			t.Fatalf("history %s: %v", p, err)
		}
		var out []domain.RSVPStatus
		for _, r := range h {
			out = append(out, r.Status)
		}
		return out
	}

	t.Run("a batch of every kind ends as one update after another", func(t *testing.T) {
		s := seeded(t, open)
		b, ok := s.(batchStore)
		if !ok {
			t.Fatalf("%T does not apply batches", s)
		}
		if _, err := s.Apply(ctx, key("before"), at, []domain.Effect{answer("DB003", domain.RSVPAttend)}); err != nil {
			t.Fatalf("apply: %v", err)
		}
		reqs := []sqlstore.ApplyReq{
			{Key: key("b1"), At: at, Effects: []domain.Effect{link(domain.Telegram, "61", "DB001"), answer("DB001", domain.RSVPAttend), audit("DB001", "batch.one")}},
			// The same chat linked again, to someone else, in the same
			// batch: the later link wins, as it would one at a time.
			{Key: key("b4"), At: at, Effects: []domain.Effect{link(domain.Telegram, "61", "DB003"), audit("DB003", "batch.four")}},
			// A substitute (a person row written on its own) after the
			// withdrawal gathered above, and before the one below.
			{Key: key("b2"), At: at, Effects: []domain.Effect{link(domain.Zalo, "z62", "DB002"), answer("DB002", domain.RSVPSubstitute)}},
			{Key: key("before"), At: at, Effects: []domain.Effect{answer("DB003", domain.RSVPDecline)}}, // a replay
			{Key: key("b3"), At: at, Effects: []domain.Effect{answer("DB003", domain.RSVPDecline), domain.SetLanguage{PersonID: "DB003", Lang: domain.English}}},
			// DB002 answers again from another chat: the substitute named
			// in b2 is withdrawn, after it was written.
			{Key: key("b5"), At: at, Effects: []domain.Effect{link(domain.Telegram, "65", "DB002"), answer("DB002", domain.RSVPAttend)}},
			{Key: key("b6"), At: at}, // no effects: its id only
		}
		applied, err := b.ApplyBatch(ctx, reqs)
		if err != nil {
			t.Fatalf("ApplyBatch: %v", err)
		}
		if want := []bool{true, true, true, false, true, true, true}; fmt.Sprint(applied) != fmt.Sprint(want) {
			t.Fatalf("applied = %v, want %v", applied, want)
		}
		for _, c := range []struct {
			ch   domain.Channel
			user string
			want string
		}{{domain.Telegram, "61", "DB003"}, {domain.Zalo, "z62", "DB002"}, {domain.Telegram, "65", "DB002"}} {
			if pid, err := s.IdentityPerson(ctx, c.ch, c.user); err != nil || pid != c.want {
				t.Errorf("%s:%s linked to %q, %v; want %s", c.ch, c.user, pid, err, c.want)
			}
		}
		for p, want := range map[string]string{
			"DB001": "[attend]", "DB002": "[substitute attend]", "DB003": "[attend decline]",
		} {
			if got := fmt.Sprint(history(t, s, p)); got != want {
				t.Errorf("%s: answers %s, want %s (the replay adds none)", p, got, want)
			}
		}
		if got := roles(t, s, domain.SubstituteID("DB002")); got != "[]" {
			t.Errorf("DB002's substitute has roles %s, want none: withdrawn by the later answer", got)
		}
		if st, err := s.PersonState(ctx, "DB003"); err != nil || st.Lang != domain.English {
			t.Errorf("DB003: lang %q, %v; want English", st.Lang, err)
		}
		log, err := b.AuditLog(ctx, 100)
		if err != nil {
			t.Fatalf("audit: %v", err)
		}
		var got []string
		for _, e := range log {
			got = append(got, e.PersonID+" "+e.Action)
		}
		// Newest first: the batch's audit rows in the order of its updates.
		want := "[DB002 identity.link DB002 identity.link DB003 batch.four DB003 identity.link DB001 batch.one DB001 identity.link]"
		if fmt.Sprint(got) != want {
			t.Errorf("audit = %v, want %s", got, want)
		}
		for n, applied := range []bool{false, false, false, false, false, false} {
			if ok, err := s.Apply(ctx, key(fmt.Sprint("b", n+1)), at, nil); err != nil || ok != applied {
				t.Errorf("b%d again: %v, %v; want recorded", n+1, ok, err)
			}
		}

		// The other way round: a withdrawal gathered, then the same
		// person naming a substitute in the next update.
		applied, err = b.ApplyBatch(ctx, []sqlstore.ApplyReq{
			{Key: key("c1"), At: at, Effects: []domain.Effect{answer("DB002", domain.RSVPDecline)}},
			{Key: key("c2"), At: at, Effects: []domain.Effect{answer("DB002", domain.RSVPSubstitute)}},
		})
		if err != nil || fmt.Sprint(applied) != "[true true]" {
			t.Fatalf("ApplyBatch = %v, %v", applied, err)
		}
		if got := roles(t, s, domain.SubstituteID("DB002")); got != "[substitute]" {
			t.Errorf("DB002's substitute has roles %s, want substitute: named by the later answer", got)
		}
	})

	t.Run("a stale effect in a batch rolls it back; alone it fails only itself", func(t *testing.T) {
		s := seeded(t, open)
		b := s.(batchStore)
		stale := domain.SaveSubmission{Submission: domain.Submission{Indicator: "none", Agency: "STC"}, Action: "submit", ExpectVersion: 99}
		reqs := []sqlstore.ApplyReq{
			{Key: key("s1"), At: at, Effects: []domain.Effect{link(domain.Telegram, "71", "DB001"), answer("DB001", domain.RSVPAttend), audit("DB001", "stale.one")}},
			{Key: key("s2"), At: at, Effects: []domain.Effect{answer("DB002", domain.RSVPDecline), stale, audit("DB002", "stale.two")}},
			{Key: key("s3"), At: at, Effects: []domain.Effect{link(domain.Telegram, "73", "DB003"), answer("DB003", domain.RSVPAttend)}},
		}
		applied, err := b.ApplyBatch(ctx, reqs)
		if !errors.Is(err, storage.ErrConflict) || applied != nil {
			t.Fatalf("ApplyBatch = %v, %v; want ErrConflict", applied, err)
		}
		for _, u := range []string{"71", "73"} {
			if _, err := s.IdentityPerson(ctx, domain.Telegram, u); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("a rolled-back batch linked chat %s: %v", u, err)
			}
		}
		for _, p := range []string{"DB001", "DB002", "DB003"} {
			if h := history(t, s, p); len(h) != 0 {
				t.Errorf("%s: answers %v after the rollback, want none", p, h)
			}
		}
		if log, err := b.AuditLog(ctx, 100); err != nil || len(log) != 0 {
			t.Errorf("audit after the rollback: %+v, %v; want none", log, err)
		}
		for n, r := range reqs {
			applied, err := s.Apply(ctx, r.Key, r.At, r.Effects)
			if n == 1 {
				if !errors.Is(err, storage.ErrConflict) || applied {
					t.Errorf("the stale update alone = %v, %v; want ErrConflict", applied, err)
				}
				continue
			}
			if err != nil || !applied {
				t.Errorf("update %d alone = %v, %v; want applied", n+1, applied, err)
			}
		}
		if h := history(t, s, "DB002"); len(h) != 0 {
			t.Errorf("DB002: answers %v, want none (its update was stale)", h)
		}
		if h := history(t, s, "DB003"); fmt.Sprint(h) != "[attend]" {
			t.Errorf("DB003: answers %v, want [attend]", h)
		}
		// A batch of only replays applies nothing, and says so.
		applied, err = b.ApplyBatch(ctx, []sqlstore.ApplyReq{reqs[0], reqs[2]})
		if err != nil || fmt.Sprint(applied) != "[false false]" {
			t.Errorf("replayed batch = %v, %v; want nothing applied", applied, err)
		}
		if h := history(t, s, "DB001"); len(h) != 1 {
			t.Errorf("DB001: answers %v after the replays, want one", h)
		}
	})
}
