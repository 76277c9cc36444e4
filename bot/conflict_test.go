package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// racingStore lets a test slip another person's change in just before the
// next Apply: the narrowest window of a version race, after the facts were
// read and before the effects are written.
type racingStore struct {
	*postgres.Store
	before func()
}

func (s *racingStore) Apply(ctx context.Context, key domain.UpdateKey, at time.Time, effects []domain.Effect) (bool, error) {
	if f := s.before; f != nil {
		s.before = nil
		f()
	}
	return s.Store.Apply(ctx, key, at, effects)
}

// Two focal points of one agency send one indicator at the same moment, on
// PostgreSQL and Redis. The one whose write comes second is told plainly
// that nothing was stored, with the stored value and a button to redo it;
// never "sent"; the history holds only what was stored.
func TestVersionRaceOnPostgres(t *testing.T) {
	ctx := context.Background()
	pg, ss := pgRedis(t)
	people := append(storagetest.People(), domain.Person{ID: "DB004", FullName: "Hoàng Thu Giang", Position: "Chuyên viên",
		AgencyCode: "STC", Phone: "0977000111", Roles: []domain.Role{domain.RoleFocal}})
	as := storagetest.Assignments()
	as[0].Focal = []string{"DB002", "DB004"}
	if err := pg.SyncDirectory(ctx, storagetest.Agencies(), people); err != nil {
		t.Fatal(err)
	}
	if err := pg.SyncCatalog(ctx, storagetest.Indicators(), as); err != nil {
		t.Fatal(err)
	}
	dir, err := pg.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := &racingStore{Store: pg}
	rec := &recorder{}
	d := bot.NewDispatcher(bot.Config{Store: st, Sessions: ss, Event: event(), Directory: dir, Campaign: pg,
		Catalog: domain.NewCatalog(storagetest.Indicators(), as), Now: func() time.Time { return time.Date(2024, 8, 10, 9, 0, 0, 0, time.UTC) }})
	d.SetSender(domain.Telegram, rec)

	seq := 0
	send := func(in flows.Input) string {
		t.Helper()
		seq++
		before := len(rec.texts("2002"))
		if err := d.Handle(ctx, bot.Inbound{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprint(seq)}, UserID: "2002", ChatID: "2002", Input: in}); err != nil {
			t.Fatalf("handle %+v: %v", in, err)
		}
		return strings.Join(rec.texts("2002")[before:], "\n")
	}
	btn := func(data string) flows.Input { return flows.Input{Kind: flows.InButton, Data: data} }
	text := func(s string) flows.Input { return flows.Input{Kind: flows.InText, Text: s} }
	p, _ := dir.Person("DB002")
	// A focal point acts for the agency on a verified link (SECURITY.md).
	send(flows.Input{Kind: flows.InContact, Phone: p.Phone, ContactIsSelf: true, ContactVerified: true})
	send(btn("ind:2.2.2"))
	send(text("0,52"))
	send(btn("iv:ok"))
	send(text("https://hungyen.gov.vn/qd-106"))
	send(btn("ev:done"))
	send(text("106/KH-UBND"))
	send(text("18/06/2024"))
	if got := send(btn("nt:skip")); !strings.Contains(got, "Xin kiểm tra trước khi gửi") {
		t.Fatalf("summary = %q", got)
	}
	// DB004 sends 0,61 between the facts DB002's send reads and its write.
	st.before = func() {
		cur, err := pg.Submission(ctx, "2.2.2", "STC")
		if err != nil {
			t.Error(err)
			return
		}
		sub := cur
		sub.Value, sub.By = "0.61", "DB004"
		if _, err := pg.Apply(ctx, domain.UpdateKey{Channel: domain.Web, UpdateID: "db004-send"}, time.Date(2024, 8, 10, 9, 0, 0, 0, time.UTC),
			[]domain.Effect{domain.SaveSubmission{Submission: sub, Action: "submit", ExpectVersion: cur.Version}}); err != nil {
			t.Error(err)
		}
	}
	got := send(btn("sm:send"))
	if strings.Contains(got, "Đã gửi") {
		t.Fatalf("the loser of the race was told %q", got)
	}
	for _, want := range []string{"CHƯA được lưu", "Hoàng Thu Giang", "0,61", "0,52"} {
		if !strings.Contains(got, want) {
			t.Errorf("conflict message lacks %q:\n%s", want, got)
		}
	}
	sub, err := pg.Submission(ctx, "2.2.2", "STC")
	if err != nil || sub.Value != "0.61" || sub.By != "DB004" {
		t.Fatalf("stored = %+v, %v; want DB004's 0.61", sub, err)
	}
	history := func() string {
		h, err := pg.SubmissionHistory(ctx, "2.2.2", "STC")
		if err != nil {
			t.Fatal(err)
		}
		var b []string
		for _, c := range h {
			if c.Action != "draft" { // each confirmed step keeps a draft
				b = append(b, c.By+":"+c.Action+":"+c.NewValue)
			}
		}
		return strings.Join(b, " ")
	}
	if h, want := history(), "DB004:submit:0.61"; h != want {
		t.Fatalf("history = %q, want %q (only what was stored)", h, want)
	}
	// The redo button sends DB002's value over the one now seen.
	if got := send(btn("sm:send")); !strings.Contains(got, "Đã gửi chỉ số 2.2.2") {
		t.Fatalf("redo answered %q", got)
	}
	if h, want := history(), "DB004:submit:0.61 DB002:submit:0.52"; h != want {
		t.Fatalf("history = %q, want %q", h, want)
	}
}
