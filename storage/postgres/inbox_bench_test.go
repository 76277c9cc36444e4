package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// BenchmarkAppendInbox appends a getUpdates batch of 100 updates of linked
// chats: the statement that also reads each sender's person and facts
// version (migration 0020) runs under the append lock, so its time is what
// every append waits.
func BenchmarkAppendInbox(b *testing.B) {
	ctx := context.Background()
	s := open(b, testenv.PostgresURL(b))
	if err := s.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		b.Fatalf("sync: %v", err)
	}
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	const chats = 100
	for i := range chats {
		user := fmt.Sprint("u", i)
		if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: "link-" + user}, at, []domain.Effect{
			domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: "DB001", Proof: domain.ProofLink}},
			domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB001", Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}},
		}); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		items := make([]storage.InboxItem, chats)
		for i := range items {
			n++
			user := fmt.Sprint("u", i)
			items[i] = storage.InboxItem{Key: fmt.Sprint("telegram:", n), Part: i % 64, Chat: "telegram:" + user, Payload: []byte(`{}`), Created: at,
				Channel: "telegram", User: user}
		}
		if _, err := s.AppendInbox(ctx, "w", items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
