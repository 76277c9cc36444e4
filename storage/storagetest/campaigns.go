package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// CampaignsStore is what the console's data campaigns need of a results
// store beside EventsStore.
type CampaignsStore interface {
	EventsStore
	CreateCampaign(ctx context.Context, c domain.CampaignRecord, by string, at time.Time) error
	ForCampaign(id string) storage.CampaignStore
	CampaignHistory(ctx context.Context, campaignID string) ([]domain.SubmissionChange, error)
	ImportBundle(ctx context.Context, b sqlstore.Bundle, at time.Time) (map[string]bool, error)
	LoadCatalog(ctx context.Context) ([]domain.Indicator, []domain.Assignment, error)
}

// RunCampaigns runs the suite of campaigns made in the console, read one
// at a time, and imports written in one transaction.
func RunCampaigns(t *testing.T, open func(t *testing.T) CampaignsStore) {
	ctx := context.Background()
	at := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	seed := func(t *testing.T) CampaignsStore {
		s := open(t)
		if err := s.SyncDirectory(ctx, Agencies(), People()); err != nil {
			t.Fatal(err)
		}
		if err := s.SyncCatalog(ctx, Indicators(), Assignments()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("a campaign made in the console keeps its assignments, opening day and deadlines", func(t *testing.T) {
		s := seed(t)
		if _, err := s.ImportCampaign(ctx, domain.CampaignRecord{ID: "pii-2024", NameVI: "PII 2024"}, at); err != nil {
			t.Fatal(err)
		}
		c := domain.CampaignRecord{ID: "pii-2025", NameVI: "PII 2025", CatalogVersion: "2025", PreviousID: "pii-2024",
			CodeMap: map[string]string{"2.2.2b": "2.2.2"}, Opens: at.AddDate(0, 1, 0), Deadline: at.AddDate(0, 3, 0),
			AgencyDeadlines: map[string]time.Time{"STC": at.AddDate(0, 2, 0)},
			Assignments:     []domain.Assignment{{Indicator: "P1.04", Agency: "STC", Focal: []string{"DB002"}, Deadline: at.AddDate(0, 2, 0)}}}
		if err := s.CreateCampaign(ctx, c, "DB003", at); err != nil {
			t.Fatal(err)
		}
		got, err := s.Campaign(ctx, "pii-2025")
		if err != nil {
			t.Fatal(err)
		}
		if !got.Opens.Equal(c.Opens) || !got.Deadline.Equal(c.Deadline) || got.PreviousID != "pii-2024" || got.PreviousCode("2.2.2b") != "2.2.2" {
			t.Errorf("campaign: %+v", got)
		}
		if len(got.Assignments) != 1 || got.Assignments[0].Indicator != "P1.04" || got.Assignments[0].Focal[0] != "DB002" ||
			!got.Assignments[0].Deadline.Equal(at.AddDate(0, 2, 0)) {
			t.Errorf("assignments: %+v", got.Assignments)
		}
		if err := s.CreateCampaign(ctx, c, "DB003", at); !errors.Is(err, sqlstore.ErrCampaignTaken) {
			t.Errorf("the same id again: %v", err)
		}
		c.ID, c.PreviousID = "pii-2026", "pii-1999"
		if err := s.CreateCampaign(ctx, c, "DB003", at); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("an unknown previous campaign: %v", err)
		}
		if _, err := s.Campaign(ctx, "pii-2026"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("the refused campaign was stored: %v", err)
		}
		if au, err := s.ScopeAudit(ctx, "campaign:pii-2025"); err != nil || len(au) != 2 || au[1].Action != "campaign.create" || au[1].PersonID != "DB003" {
			t.Errorf("audit: %+v %v", au, err)
		}
	})
	t.Run("another campaign is read and reviewed on its own", func(t *testing.T) {
		s := seed(t)
		for _, id := range []string{"a", "b"} {
			if _, err := s.ImportCampaign(ctx, domain.CampaignRecord{ID: id, NameVI: id}, at); err != nil {
				t.Fatal(err)
			}
		}
		s.SetCampaign("a")
		n := 0
		apply := func(e domain.Effect) {
			t.Helper()
			n++
			if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: "k" + string(rune('a'+n))}, at, []domain.Effect{e}); err != nil {
				t.Fatal(err)
			}
		}
		apply(domain.SaveSubmission{Submission: domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "0.5", By: "DB002"}, Action: "submit"})
		s.SetCampaign("b")
		apply(domain.SaveSubmission{Submission: domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "0.9", By: "DB002"}, Action: "submit"})
		s.SetCampaign("a")
		b := s.ForCampaign("b")
		if q, err := b.ReviewQueue(ctx); err != nil || len(q) != 1 || q[0].Value != "0.9" {
			t.Fatalf("b's queue: %+v %v", q, err)
		}
		// Reviewed in b while the store serves a.
		apply(domain.ReviewSubmission{Indicator: "2.2.2", Agency: "STC", Approve: true, By: "DB003", ExpectVersion: 1, CampaignID: "b"})
		if sub, err := b.Submission(ctx, "2.2.2", "STC"); err != nil || sub.Status != domain.StatusApproved {
			t.Errorf("b's submission: %+v %v", sub, err)
		}
		if sub, err := s.Submission(ctx, "2.2.2", "STC"); err != nil || sub.Status != domain.StatusSubmitted || sub.Value != "0.5" {
			t.Errorf("a's submission changed: %+v %v", sub, err)
		}
		if h, err := s.CampaignHistory(ctx, "b"); err != nil || len(h) != 2 || h[0].Action != "submit" || h[1].Action != "approve" || h[0].NewValue != "0.9" {
			t.Errorf("b's history: %+v %v", h, err)
		}
		if h, err := s.CampaignHistory(ctx, "a"); err != nil || len(h) != 1 {
			t.Errorf("a's history: %+v %v", h, err)
		}
	})
	t.Run("an import failing part-way leaves nothing", func(t *testing.T) {
		s := seed(t)
		if _, err := s.ImportEvent(ctx, EventRecord("old", "HN1", at), at); err != nil {
			t.Fatal(err)
		}
		newcomer := domain.Person{ID: "DB900", FullName: "Đỗ Văn Mới", AgencyCode: "SKHCN", Roles: []domain.Role{domain.RoleDelegate}}
		ind := domain.Indicator{Code: "9.9.9", Pillar: "9", NameVI: "Chỉ số mới", Type: domain.TypeInteger}
		first, clash := EventRecord("e1", "E1", at), EventRecord("e2", "HN1", at) // e2 takes old's code: found only when written
		b := sqlstore.Bundle{Agencies: Agencies(), People: append(People(), newcomer), Indicators: []domain.Indicator{ind},
			Campaigns: []domain.CampaignRecord{{ID: "c-new", NameVI: "Mới"}}, Events: []domain.EventRecord{first, clash}}
		if _, err := s.ImportBundle(ctx, b, at); !errors.Is(err, sqlstore.ErrCodeTaken) {
			t.Fatalf("import with a late clash: %v", err)
		}
		if list, _ := s.Events(ctx); len(list) != 1 || list[0].Event.ID != "old" {
			t.Errorf("events after the refused import: %+v", list)
		}
		if _, err := s.Campaign(ctx, "c-new"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("the campaign was kept: %v", err)
		}
		dir, _ := s.Directory(ctx)
		if _, ok := dir.Person("DB900"); ok {
			t.Error("the new person was kept")
		}
		if inds, _, _ := s.LoadCatalog(ctx); len(inds) != len(Indicators()) {
			t.Errorf("the catalog changed: %d indicators", len(inds))
		}
		// The same bundle without the clash goes in whole.
		b.Events = b.Events[:1]
		changed, err := s.ImportBundle(ctx, b, at)
		if err != nil || !changed["event:e1"] || !changed["campaign:c-new"] {
			t.Fatalf("import: %v %v", changed, err)
		}
		if inds, _, _ := s.LoadCatalog(ctx); len(inds) != len(Indicators())+1 {
			t.Errorf("catalog after the import: %d indicators", len(inds))
		}
		dir, _ = s.Directory(ctx)
		if _, ok := dir.Person("DB900"); !ok {
			t.Error("the new person is missing")
		}
	})
}
