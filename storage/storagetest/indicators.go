package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
)

// CampaignStore is what the data campaign needs of a results store.
type CampaignStore interface {
	storage.Store
	storage.CampaignStore
}

// Indicators returns a two-indicator catalog.
func Indicators() []domain.Indicator {
	hundred := 100.0
	zero := 0.0
	return []domain.Indicator{
		{Code: "2.2.2", Pillar: "2 Vốn con người", NameVI: "Chi ngân sách cho KH&CN trên GRDP", Unit: "%", Type: domain.TypePercent,
			Min: &zero, Max: &hundred, RefYear: 2023, Evidence: true, Agency: "STC"},
		{Code: "P1.04", Pillar: "1 Thể chế", NameVI: "Chỉ số cải cách hành chính", Unit: "điểm", Type: domain.TypeScore, RefYear: 2023, Agency: "STC"},
	}
}

// Assignments gives both indicators to STC's focal point DB002.
func Assignments() []domain.Assignment {
	d := time.Date(2024, 8, 30, 10, 0, 0, 0, time.UTC)
	return []domain.Assignment{
		{Indicator: "2.2.2", Agency: "STC", Focal: []string{"DB002"}, Deadline: d},
		{Indicator: "P1.04", Agency: "STC", Focal: []string{"DB002"}, Deadline: d},
	}
}

// RunCampaign runs the data-campaign suite.
func RunCampaign(t *testing.T, open func(t *testing.T) CampaignStore) {
	ctx := context.Background()
	at := time.Date(2024, 8, 10, 9, 0, 0, 0, time.UTC)
	seed := func(t *testing.T) CampaignStore {
		s := open(t)
		if err := s.SyncDirectory(ctx, Agencies(), People()); err != nil {
			t.Fatal(err)
		}
		if err := s.SyncCatalog(ctx, Indicators(), Assignments()); err != nil {
			t.Fatalf("sync catalog: %v", err)
		}
		// Twice: the second sync replaces, never duplicates.
		if err := s.SyncCatalog(ctx, Indicators(), Assignments()); err != nil {
			t.Fatalf("resync catalog: %v", err)
		}
		return s
	}
	n := 0
	apply := func(t *testing.T, s CampaignStore, e domain.Effect) {
		t.Helper()
		n++
		if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: "c" + time.Now().Format("150405.000000000") + string(rune('a'+n%26))}, at, []domain.Effect{e}); err != nil {
			t.Fatalf("apply %T: %v", e, err)
		}
	}
	get := func(t *testing.T, s CampaignStore) domain.Submission {
		t.Helper()
		sub, err := s.Submission(ctx, "2.2.2", "STC")
		if err != nil {
			t.Fatalf("get submission: %v", err)
		}
		return sub
	}
	evidence := []domain.Evidence{
		{SHA256: "ab12", Name: "QĐ 106.pdf", MIME: "application/pdf", Size: 1234, Group: "g1"},
		{Link: "https://hungyen.gov.vn/van-ban/106"},
	}

	t.Run("draft, submit, return, fix, approve, with history", func(t *testing.T) {
		s := seed(t)
		sub := domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "0.5", By: "DB002"}
		apply(t, s, domain.SaveSubmission{Submission: sub, Action: "draft"})
		if got := get(t, s); got.Status != domain.StatusDraft || got.Version != 1 || got.Value != "0.5" {
			t.Fatalf("after draft: %+v", got)
		}
		sub.Value, sub.Evidence, sub.DocNumber, sub.DocDate = "0.62", evidence, "106/KH-UBND", time.Date(2024, 6, 18, 0, 0, 0, 0, time.UTC)
		apply(t, s, domain.SaveSubmission{Submission: sub, Action: "submit", ExpectVersion: 1})
		got := get(t, s)
		if got.Status != domain.StatusSubmitted || got.Version != 2 || len(got.Evidence) != 2 || got.Evidence[0] != evidence[0] ||
			got.DocNumber != "106/KH-UBND" || !got.DocDate.Equal(sub.DocDate) || got.SubmittedAt.IsZero() {
			t.Fatalf("after submit: %+v", got)
		}
		q, err := s.ReviewQueue(ctx)
		if err != nil || len(q) != 1 {
			t.Fatalf("review queue = %v, %v; want 1", q, err)
		}
		apply(t, s, domain.ReviewSubmission{Indicator: "2.2.2", Agency: "STC", Comment: "Thiếu quyết định giao dự toán", By: "DB003", ExpectVersion: 2})
		if got := get(t, s); got.Status != domain.StatusReturned || got.ReviewNote != "Thiếu quyết định giao dự toán" || got.ReviewedBy != "DB003" {
			t.Fatalf("after return: %+v", got)
		}
		sub.Value = "0.64"
		apply(t, s, domain.SaveSubmission{Submission: sub, Action: "submit", ExpectVersion: 3})
		apply(t, s, domain.ReviewSubmission{Indicator: "2.2.2", Agency: "STC", Approve: true, By: "DB003", ExpectVersion: 4})
		got = get(t, s)
		if got.Status != domain.StatusApproved || got.Value != "0.64" {
			t.Fatalf("after approve: %+v", got)
		}
		// Approved items cannot be changed any more.
		sub.Value = "9"
		if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: "after-approval"}, at,
			[]domain.Effect{domain.SaveSubmission{Submission: sub, Action: "submit", ExpectVersion: 5}}); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("change of an approved item: %v; want ErrConflict", err)
		}
		if got := get(t, s); got.Value != "0.64" || got.Status != domain.StatusApproved {
			t.Fatalf("approved item changed: %+v", got)
		}
		h, err := s.SubmissionHistory(ctx, "2.2.2", "STC")
		if err != nil {
			t.Fatal(err)
		}
		actions := ""
		for _, c := range h {
			actions += c.Action + ":" + c.OldValue + ">" + c.NewValue + " "
		}
		if want := "draft:>0.5 submit:0.5>0.62 return:0.62>0.62 submit:0.62>0.64 approve:0.64>0.64 "; actions != want {
			t.Fatalf("history = %q, want %q", actions, want)
		}
		if h[1].Evidence != 2 || h[2].Comment == "" || h[0].By != "DB002" {
			t.Errorf("history details = %+v", h)
		}
	})

	t.Run("a stale edit changes nothing and says so", func(t *testing.T) {
		s := seed(t)
		sub := domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "1", By: "DB002"}
		apply(t, s, domain.SaveSubmission{Submission: sub, Action: "submit"})
		stale := []struct {
			name string
			e    []domain.Effect
		}{
			{"submit that saw nothing stored", []domain.Effect{domain.SaveSubmission{Submission: domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "2", By: "DB096"}, Action: "submit"}}},
			{"draft of an older version", []domain.Effect{domain.SaveSubmission{Submission: domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "3", By: "DB096"}, Action: "draft", ExpectVersion: 0}}},
			{"review of another version", []domain.Effect{domain.ReviewSubmission{Indicator: "2.2.2", Agency: "STC", Approve: true, By: "DB003", ExpectVersion: 7}}},
			// The whole update is rolled back, the language change too.
			{"with another effect", []domain.Effect{domain.SetLanguage{PersonID: "DB002", Lang: domain.English},
				domain.SaveSubmission{Submission: domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "4", By: "DB002"}, Action: "submit"}}},
		}
		for i, c := range stale {
			key := domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprintf("stale-%d", i)}
			applied, err := s.Apply(ctx, key, at, c.e)
			if !errors.Is(err, storage.ErrConflict) || applied {
				t.Fatalf("%s: Apply = %v, %v; want ErrConflict", c.name, applied, err)
			}
			// Not recorded: the same update may be stepped again and applied.
			if applied, err := s.Apply(ctx, key, at, nil); err != nil || !applied {
				t.Fatalf("%s: update id recorded by a rolled-back update (%v, %v)", c.name, applied, err)
			}
		}
		if got := get(t, s); got.Value != "1" || got.Status != domain.StatusSubmitted || got.Version != 1 {
			t.Fatalf("stale effects applied: %+v", got)
		}
		if st, err := s.PersonState(ctx, "DB002"); err != nil || st.Lang == domain.English {
			t.Fatalf("the rolled-back update's language change stayed: %+v, %v", st, err)
		}
		h, err := s.SubmissionHistory(ctx, "2.2.2", "STC")
		if err != nil || len(h) != 1 {
			t.Fatalf("history = %+v, %v; want only the stored submit", h, err)
		}
	})

	t.Run("two edits of one version at once: one is stored", func(t *testing.T) {
		s := seed(t)
		apply(t, s, domain.SaveSubmission{Submission: domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "1", By: "DB002"}, Action: "draft"})
		const n = 6
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				sub := domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: fmt.Sprint(10 + i), By: "DB002"}
				_, errs[i] = s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprintf("race-%d", i)}, at,
					[]domain.Effect{domain.SaveSubmission{Submission: sub, Action: "submit", ExpectVersion: 1}})
			}(i)
		}
		wg.Wait()
		won := ""
		for i, err := range errs {
			switch {
			case err == nil:
				if won != "" {
					t.Fatalf("two edits of version 1 were both stored (%s and %d)", won, 10+i)
				}
				won = fmt.Sprint(10 + i)
			case !errors.Is(err, storage.ErrConflict):
				t.Fatalf("edit %d: %v", i, err)
			}
		}
		got := get(t, s)
		h, err := s.SubmissionHistory(ctx, "2.2.2", "STC")
		if won == "" || got.Value != won || got.Version != 2 || err != nil || len(h) != 2 {
			t.Fatalf("winner %q; stored %+v; history %d rows (%v)", won, got, len(h), err)
		}
	})

	// On PostgreSQL statements whose result is only their error are sent
	// later, together (sqlstore.Pipeline); one that needs its result (a
	// version check) goes out with them. Either way one update's effects
	// take effect in their order, and a replay applies nothing.
	t.Run("one update's effects apply in their order", func(t *testing.T) {
		s := seed(t)
		sub := domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "1", By: "DB002"}
		key := domain.UpdateKey{Channel: domain.Telegram, UpdateID: "ordered"}
		effects := []domain.Effect{
			domain.SetLanguage{PersonID: "DB002", Lang: domain.English},
			domain.SaveSubmission{Submission: sub, Action: "draft"}, // version 1
			domain.SetLanguage{PersonID: "DB002", Lang: domain.Vietnamese},
			domain.SaveSubmission{Submission: domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "2", By: "DB002"}, Action: "submit", ExpectVersion: 1},
			domain.SetLanguage{PersonID: "DB002", Lang: domain.English},
			domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB002", Status: domain.RSVPDecline, Channel: domain.Telegram, At: at}},
			domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB002", Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}},
		}
		if applied, err := s.Apply(ctx, key, at, effects); err != nil || !applied {
			t.Fatalf("Apply = %v, %v; want applied", applied, err)
		}
		check := func(when string) {
			t.Helper()
			if got := get(t, s); got.Value != "2" || got.Status != domain.StatusSubmitted || got.Version != 2 {
				t.Fatalf("%s: submission %+v; want the submit of the draft, version 2", when, got)
			}
			st, err := s.PersonState(ctx, "DB002")
			if err != nil || st.Lang != domain.English || st.RSVP == nil || st.RSVP.Status != domain.RSVPAttend {
				t.Fatalf("%s: state %+v, %v; want the last language and the last answer", when, st, err)
			}
			h, err := s.SubmissionHistory(ctx, "2.2.2", "STC")
			if err != nil || len(h) != 2 || h[0].Action != "draft" || h[1].Action != "submit" {
				t.Fatalf("%s: history %+v, %v; want draft then submit", when, h, err)
			}
		}
		check("applied")
		if applied, err := s.Apply(ctx, key, at, effects); err != nil || applied {
			t.Fatalf("replay = %v, %v; want not applied, no error", applied, err)
		}
		check("after the replay")
		if h, err := s.RSVPHistory(ctx, "DB002"); err != nil || len(h) != 2 {
			t.Fatalf("answers = %+v, %v; want the two of the update once", h, err)
		}
	})

	t.Run("submissions by agency", func(t *testing.T) {
		s := seed(t)
		apply(t, s, domain.SaveSubmission{Submission: domain.Submission{Indicator: "P1.04", Agency: "STC", Value: "8.2", By: "DB002"}, Action: "draft"})
		list, err := s.Submissions(ctx, "STC")
		if err != nil || len(list) != 1 || list[0].Indicator != "P1.04" {
			t.Fatalf("STC submissions = %+v, %v", list, err)
		}
		other, err := s.Submissions(ctx, "SKHCN")
		if err != nil || len(other) != 0 {
			t.Fatalf("SKHCN submissions = %+v, %v; want none", other, err)
		}
		all, err := s.Submissions(ctx, "")
		if err != nil || len(all) != 1 {
			t.Fatalf("all = %+v, %v", all, err)
		}
		if _, err := s.Submission(ctx, "2.2.2", "STC"); err == nil {
			t.Fatal("missing submission: want ErrNotFound")
		}
	})
}

// EvidenceStore is a results store that also keeps evidence text.
type EvidenceStore interface {
	storage.Store
	storage.EvidenceTextStore
}

// RunEvidenceText runs the evidence-text suite.
func RunEvidenceText(t *testing.T, open func(t *testing.T) EvidenceStore) {
	ctx := context.Background()
	s := open(t)
	at := time.Date(2024, 8, 10, 9, 0, 0, 0, time.UTC)
	ok := domain.EvidenceText{SHA256: "aa11", Status: "ok", Pages: 2, Text: "Số: 125/BC-SKHCN\fTổng chi 1.234,5 triệu đồng 100%_x", ReadAt: at}
	bad := domain.EvidenceText{SHA256: "bb22", Status: "encrypted", ReadAt: at}
	for _, e := range []domain.EvidenceText{ok, bad, ok} { // the same file twice replaces
		if err := s.SaveEvidenceText(ctx, e); err != nil {
			t.Fatalf("save: %v", err)
		}
	}
	got, err := s.EvidenceTexts(ctx, []string{"aa11", "bb22", "cc33"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["aa11"].Text != ok.Text || got["aa11"].Pages != 2 || !got["aa11"].ReadAt.Equal(at) || got["bb22"].Status != "encrypted" {
		t.Fatalf("texts = %+v", got)
	}
	if p := got["aa11"].PageTexts(); len(p) != 2 || p[1] != "Tổng chi 1.234,5 triệu đồng 100%_x" {
		t.Fatalf("pages = %q", p)
	}
	for _, tc := range []struct {
		q    string
		want int
	}{{"số: 125", 1}, {"SKHCN", 1}, {"TRIỆU ĐỒNG", 1}, {"100%", 1}, {"%", 1}, {"0_", 0}, {"%_x", 1}, {"không có", 0}, {"  ", 0}} {
		found, err := s.SearchEvidenceText(ctx, tc.q, 10)
		if err != nil || len(found) != tc.want {
			t.Errorf("search %q = %v, %v; want %d", tc.q, found, err, tc.want)
		}
	}
	// When each file was read, without its text (the console's flag cache).
	st, ok2 := s.(interface {
		EvidenceTextStamps(ctx context.Context, shas []string) (map[string]time.Time, error)
	})
	if !ok2 {
		t.Fatal("the store has no EvidenceTextStamps")
	}
	later := at.Add(90 * time.Minute)
	bad.ReadAt = later
	if err := s.SaveEvidenceText(ctx, bad); err != nil {
		t.Fatal(err)
	}
	stamps, err := st.EvidenceTextStamps(ctx, []string{"aa11", "bb22", "cc33"})
	if err != nil || len(stamps) != 2 || !stamps["aa11"].Equal(at) || !stamps["bb22"].Equal(later) {
		t.Errorf("stamps = %v, %v", stamps, err)
	}
}
