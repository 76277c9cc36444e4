package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// Updates applied together share one transaction, yet each gets its own
// answer: a replay is not applied again, and one stale effect fails only
// its own update.
func TestApplyBatch(t *testing.T) {
	ctx := context.Background()
	s := open(t, testenv.PostgresURL(t))
	if err := s.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	key := func(id string) domain.UpdateKey { return domain.UpdateKey{Channel: domain.Telegram, UpdateID: id} }
	lang := func(p string, l domain.Lang) []domain.Effect {
		return []domain.Effect{domain.SetLanguage{PersonID: p, Lang: l}}
	}
	if _, err := s.Apply(ctx, key("1"), at, lang("DB001", domain.English)); err != nil {
		t.Fatalf("apply: %v", err)
	}

	t.Run("one transaction, per-update results", func(t *testing.T) {
		applied, err := s.ApplyBatch(ctx, []sqlstore.ApplyReq{
			{Key: key("1"), At: at, Effects: lang("DB001", domain.Vietnamese)}, // a replay
			{Key: key("2"), At: at, Effects: lang("DB002", domain.English)},
			{Key: key("3"), At: at},
			{Key: key("3"), At: at}, // the same update twice in one batch
		})
		if err != nil {
			t.Fatalf("ApplyBatch: %v", err)
		}
		if want := []bool{false, true, true, false}; fmt.Sprint(applied) != fmt.Sprint(want) {
			t.Fatalf("applied = %v, want %v", applied, want)
		}
		for p, want := range map[string]domain.Lang{"DB001": domain.English, "DB002": domain.English} {
			st, err := s.PersonState(ctx, p)
			if err != nil || st.Lang != want {
				t.Errorf("%s: lang %q, %v; want %q (a replay changes nothing)", p, st.Lang, err, want)
			}
		}
	})

	t.Run("a stale effect fails its own update only", func(t *testing.T) {
		bad := []domain.Effect{domain.SaveSubmission{Submission: domain.Submission{Indicator: "none", Agency: "STC"}, Action: "submit", ExpectVersion: 99}}
		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range errs {
			wg.Go(func() {
				eff := lang("DB003", domain.English)
				if i == 7 {
					eff = bad
				}
				_, errs[i] = s.Apply(ctx, key(fmt.Sprint(100+i)), at, eff)
			})
		}
		wg.Wait()
		for i, err := range errs {
			if (i == 7) != (err != nil) {
				t.Errorf("update %d: %v", i, err)
			}
		}
		if !errors.Is(errs[7], storage.ErrConflict) {
			t.Logf("stale update: %v", errs[7])
		}
		for i := range errs {
			applied, err := s.Apply(ctx, key(fmt.Sprint(100+i)), at, nil)
			if err != nil || applied != (i == 7) {
				t.Errorf("update %d again: applied %v, %v; want recorded only when it was applied", i, applied, err)
			}
		}
	})
}

// Look-ups of who a chat is, made at the same moment, share one query and
// each gets its own answer.
func TestIdentityStateBatched(t *testing.T) {
	ctx := context.Background()
	s := open(t, testenv.PostgresURL(t))
	if err := s.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	people := []string{"DB001", "DB002", "DB003"}
	for i, p := range people {
		link := domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: fmt.Sprint(500 + i), ChatID: fmt.Sprint(500 + i), PersonID: p, Proof: domain.ProofCode}}
		eff := []domain.Effect{link}
		if p == "DB002" {
			eff = append(eff, domain.SetLanguage{PersonID: p, Lang: domain.English})
		}
		if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: "l" + p}, at, eff); err != nil {
			t.Fatalf("link %s: %v", p, err)
		}
	}
	var wg sync.WaitGroup
	for round := range 50 {
		for i := range 4 { // 503 is linked to nobody
			wg.Go(func() {
				user := fmt.Sprint(500 + i)
				id, st, found, err := s.IdentityState(ctx, domain.Telegram, user)
				if i == 3 {
					if !errors.Is(err, storage.ErrNotFound) || found {
						t.Errorf("round %d: unlinked %s: %v, %v; want ErrNotFound", round, user, found, err)
					}
					return
				}
				wantLang := domain.Lang("")
				if people[i] == "DB002" {
					wantLang = domain.English
				}
				if err != nil || !found || id.PersonID != people[i] || id.ChatID != user || id.Proof != domain.ProofCode || st.Lang != wantLang {
					t.Errorf("round %d: %s = %+v %+v %v %v; want %s", round, user, id, st, found, err, people[i])
				}
			})
		}
	}
	wg.Wait()
}
