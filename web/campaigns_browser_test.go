package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
)

// In Chromium: staff create a data campaign (a refused form lists its
// problem and keeps what was typed), open its items from its page, and
// switch the console back to the served campaign with the switcher.
func TestBrowserConsoleCreatesCampaign(t *testing.T) {
	w := newWorld(t)
	w.submit(t, "2.1.1", "SNV", "P004", "45,5")
	ctx := testenv.Browser(t, 1280, 900, 90*time.Second)
	link, err := w.console.IssueSignIn(context.Background(), "S001")
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "sign in", chromedp.Navigate(w.srv.URL+strings.TrimPrefix(link, "https://hoinghi.example.vn")),
		chromedp.WaitVisible(chromedp.ID("signin")), chromedp.Click(chromedp.ID("signin")))
	until(t, ctx, "the overview", `!!document.getElementById('by-agency')`)

	fill := func(late string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(chromedp.CSS(`#new-campaign input[name=id]`), "pii-2027"),
			chromedp.SetValue(chromedp.CSS(`#new-campaign input[name=name_vi]`), "PII 2027"),
			chromedp.SetValue(chromedp.CSS(`#new-campaign input[name=deadline]`), "2027-08-20T17:00"),
			chromedp.SetValue(chromedp.CSS(`#new-campaign input[name="deadline_UBND-YM"]`), late),
		}
	}
	do(t, ctx, "campaigns page", chromedp.Navigate(w.srv.URL+"/admin/campaigns"), chromedp.WaitVisible(chromedp.ID("new-campaign")))
	do(t, ctx, "a deadline after the campaign's", append(fill("2027-09-01T17:00"),
		chromedp.Click(chromedp.CSS(`#new-campaign input[value=SNV]`)), // only UBND-YM
		chromedp.Click(chromedp.CSS(`#new-campaign button[type=submit]`)))...)
	until(t, ctx, "refused", `!!document.getElementById('campaign-errors') && document.getElementById('campaign-errors').innerText.includes('Hạn nộp của UBND huyện Yên Mỹ sau hạn nộp chung')`)
	if v := text(t, ctx, `document.querySelector('#new-campaign input[name=name_vi]').value + '|' + document.querySelector('#new-campaign input[value=SNV]').checked`); v != "PII 2027|false" {
		t.Errorf("the refused form lost what was typed: %s", v)
	}
	if list, _ := w.store.Campaigns(context.Background()); len(list) != 1 {
		t.Fatalf("a refused form stored a campaign: %d", len(list))
	}
	do(t, ctx, "corrected", append(fill("2027-08-10T17:00"), chromedp.Click(chromedp.CSS(`#new-campaign button[type=submit]`)))...)
	until(t, ctx, "created", `!!document.getElementById('campaign-name') && document.getElementById('campaign-name').innerText.includes('PII 2027')`)
	rec, err := w.store.Campaign(context.Background(), "pii-2027")
	if err != nil || len(rec.Assignments) != 1 || rec.Assignments[0].Agency != "UBND-YM" {
		t.Fatalf("created %+v %v", rec, err)
	}

	// Its items: only UBND-YM's, none entered yet; the switcher says which.
	do(t, ctx, "its items", chromedp.Click(chromedp.ID("campaign-view")))
	// On the items page itself, loaded: the campaigns page left behind may
	// show the same switcher for a moment (a node that then vanishes).
	until(t, ctx, "2027's items", `location.pathname === '/admin/indicators' && document.readyState === 'complete' && !!document.getElementById('switch-campaign') && document.getElementById('switch-campaign').value === 'pii-2027' && !!document.querySelector('main table tbody')`)
	if rows := text(t, ctx, `document.querySelector('main table tbody').innerText`); !strings.Contains(rows, "UBND huyện Yên Mỹ") || strings.Contains(rows, "Sở Nội vụ") {
		t.Errorf("2027's rows: %q", rows)
	}
	do(t, ctx, "switch back", chromedp.SetValue(chromedp.ID("switch-campaign"), "pii-2026"),
		chromedp.Click(chromedp.CSS(`#campaign-switcher button`)))
	until(t, ctx, "2026's items", `document.getElementById('switch-campaign').value === 'pii-2026' && document.querySelector('main table tbody').innerText.includes('Sở Nội vụ')`)
	if sub, _ := w.store.Submission(context.Background(), "2.1.1", "SNV"); sub.Status != domain.StatusSubmitted {
		t.Errorf("the served campaign's item: %+v", sub)
	}
}
