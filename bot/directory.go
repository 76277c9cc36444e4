package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
)

// peopleReader reads a few people rather than the whole list
// (storage/sqlstore): the dispatcher keeps its copy of the list current
// with them.
type peopleReader interface {
	People(ctx context.Context, ids []string) ([]domain.Person, error)
	PeopleFor(ctx context.Context, token, code, phone string) ([]domain.Person, error)
}

// chatFactsReader reads who a chat is and the person an update is about in
// one query (storage/sqlstore, batched by storage/postgres).
type chatFactsReader interface {
	ChatFacts(ctx context.Context, l storage.ChatLookup) (storage.ChatFacts, error)
}

// mergePeople puts people, as the database holds them now, into the
// dispatcher's people list, copy-on-write (domain.Directory.With):
// readers keep the snapshot they hold. It returns the list that holds
// them. Callers at the same moment share one With: each leaves its people
// with the pending ones and whoever holds dirMu next merges all that are
// pending — when thousands of conversations name their substitutes at
// once, one copy of the list for many of them instead of one each (every
// copy held by the updates that read it), and no queue of updates behind
// the lock.
func (d *Dispatcher) mergePeople(people ...domain.Person) *domain.Directory {
	cur := d.dir.Load()
	if !changes(cur, people) {
		return cur
	}
	d.pend.mu.Lock()
	d.pend.people = append(d.pend.people, people...)
	d.pend.mu.Unlock()
	d.dirMu.Lock()
	defer d.dirMu.Unlock()
	d.pend.mu.Lock()
	pending := d.pend.people
	d.pend.people = nil
	d.pend.mu.Unlock()
	// Empty when an earlier holder merged ours with its own.
	cur = d.dir.Load()
	var changed []domain.Person
	for _, p := range pending {
		if changes(cur, []domain.Person{p}) {
			changed = append(changed, p)
		}
	}
	if len(changed) == 0 {
		return cur
	}
	next := cur.With(changed...)
	d.dir.Store(next)
	d.dirGen++
	return next
}

// pendingPeople are the people callers of mergePeople left to be merged
// by whoever holds dirMu next.
type pendingPeople struct {
	mu     sync.Mutex
	people []domain.Person
}

// KeepPeople reads the people list again every period until ctx ends and
// merges whom it finds changed, for what no chat brings to this process
// (the console's lists and check-in desk, the reminders): a substitute
// named, or a person added, through another process. A chat never waits
// for it: links, codes and linked chats find their person at once anyway
// (facts, findUnknown). A round during which the list changed here is
// skipped, so that it never puts back an older row over a newer one.
func (d *Dispatcher) KeepPeople(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.dirMu.Lock()
		gen := d.dirGen
		d.dirMu.Unlock()
		fresh, err := d.store.Directory(ctx)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("read the people list again", "err", err)
			}
			continue
		}
		d.dirMu.Lock()
		if cur := d.dir.Load(); d.dirGen == gen {
			var changed []domain.Person
			for _, p := range fresh.People() {
				if q, ok := cur.Person(p.ID); !ok || !samePerson(p, q) {
					changed = append(changed, p)
				}
			}
			if len(changed) > 0 {
				d.dir.Store(cur.With(changed...))
				d.dirGen++
			}
		}
		d.dirMu.Unlock()
	}
}

// changes reports whether any of people differs from dir's copy.
func changes(dir *domain.Directory, people []domain.Person) bool {
	for _, p := range people {
		q, ok := dir.Person(p.ID)
		if !ok || !samePerson(p, q) {
			return true
		}
	}
	return false
}

func samePerson(a, b domain.Person) bool {
	return a.ID == b.ID && a.FullName == b.FullName && a.Position == b.Position && a.AgencyCode == b.AgencyCode &&
		a.Phone == b.Phone && a.Email == b.Email && slices.Equal(a.Roles, b.Roles) && a.InviteToken == b.InviteToken &&
		a.InviteCode == b.InviteCode && a.CheckinToken == b.CheckinToken && a.SubstituteFor == b.SubstituteFor
}

// refreshPeople reads the people with ids again into the list.
func (d *Dispatcher) refreshPeople(ctx context.Context, ids []string) (*domain.Directory, error) {
	pr, ok := d.store.(peopleReader)
	if !ok {
		dir, err := d.store.Directory(ctx)
		if err != nil {
			return nil, err
		}
		d.SetDirectory(dir)
		return dir, nil
	}
	people, err := pr.People(ctx, ids)
	if err != nil {
		return nil, err
	}
	return d.mergePeople(people...), nil
}

// findUnknown looks in the database for the person an unlinked chat's
// invite link, typed code or own number names when this process's list
// does not have them: a substitute another process added a moment ago
// (their link works at once in every process), or someone added since.
// It returns the list with them, or dir when there was nothing to find.
func (d *Dispatcher) findUnknown(ctx context.Context, in flows.Input, dir *domain.Directory) (*domain.Directory, error) {
	pr, ok := d.store.(peopleReader)
	if !ok || flows.Candidate(in, dir) != "" {
		return dir, nil
	}
	var token, code, phone string
	switch in.Kind {
	case flows.InCommand:
		arg := strings.TrimSpace(in.Text)
		if in.Command != "start" || arg == "" || len(arg) > 100 || strings.HasPrefix(arg, flows.EnrolPrefix) {
			return dir, nil
		}
		token = arg
	case flows.InText:
		code = domain.NormalizeCode(in.Text)
	case flows.InContact:
		if ph := domain.NormalizePhone(in.Phone); in.ContactIsSelf && !dir.HasPhone(ph) {
			phone = ph
		}
	}
	if token == "" && code == "" && phone == "" {
		return dir, nil
	}
	people, err := pr.PeopleFor(ctx, token, code, phone)
	if err != nil {
		return dir, fmt.Errorf("find person: %w", err)
	}
	return d.mergePeople(people...), nil
}
