package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// countingEvents counts the whole reads of the events list.
type countingEvents struct {
	eventStore
	reads int
}

func (c *countingEvents) Events(ctx context.Context) ([]domain.EventRecord, error) {
	c.reads++
	return c.eventStore.Events(ctx)
}

func (c *countingEvents) EventsVersion(ctx context.Context) (int64, error) {
	return c.eventStore.(interface {
		EventsVersion(ctx context.Context) (int64, error)
	}).EventsVersion(ctx)
}

// The dispatcher's events list is read whole again only when an event or
// its invitees changed (an import, a status change — by any process, here
// through another connection), not every time its check comes due.
func TestEventsCacheReadsAgainOnlyOnChange(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "d.db")
	open := func() eventStore {
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		es, err := asEventStore(st)
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	mine, other := open(), open()
	if err := mine.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2030, 5, 10, 0, 0, 0, 0, time.UTC)
	if _, err := other.ImportEvent(ctx, storagetest.EventRecord("ev-a", "A2030", day), day); err != nil {
		t.Fatal(err)
	}
	es := &countingEvents{eventStore: mine}
	c := &eventsCache{es: es, ttl: time.Nanosecond} // every call checks
	list := func() []domain.EventRecord {
		t.Helper()
		l, err := c.Events(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	for range 5 {
		if l := list(); len(l) != 1 {
			t.Fatalf("events = %d, want 1", len(l))
		}
	}
	if es.reads != 1 {
		t.Fatalf("the unchanged list was read whole %d times, want once", es.reads)
	}
	b := storagetest.EventRecord("ev-b", "B2030", day.AddDate(0, 1, 0))
	if _, err := other.ImportEvent(ctx, b, day); err != nil {
		t.Fatal(err)
	}
	if l := list(); len(l) != 2 || es.reads != 2 {
		t.Fatalf("after another process added an event: %d events, %d whole reads; want 2 and 2", len(l), es.reads)
	}
	// Same moment, same list length: only the counter tells.
	if err := other.SetEventStatus(ctx, "ev-b", domain.StatusClosed, "staff", day); err != nil {
		t.Fatal(err)
	}
	l := list()
	if es.reads != 3 || len(l) != 2 || l[1].Status != domain.StatusClosed {
		t.Fatalf("after a status change: %d whole reads, events %+v", es.reads, l)
	}
	b.Invitees = b.Invitees[:len(b.Invitees)-1]
	b.SourceHash = "edited"
	if _, err := other.ImportEvent(ctx, b, day); err != nil {
		t.Fatal(err)
	}
	if l := list(); es.reads != 4 || len(l[1].Invitees) != len(b.Invitees) {
		t.Fatalf("after an invitee was dropped: %d whole reads, %d invitees", es.reads, len(l[1].Invitees))
	}
	list()
	if es.reads != 4 {
		t.Fatalf("read whole again without a change (%d)", es.reads)
	}
}
