package bot

import (
	"context"
	"slices"
	"sync"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
)

// What a focal point works on (their agency's submissions) and what staff
// review (the review queue) are kept in this process, per campaign, with
// the version they were read at, and read from the database again only
// when the person's facts version names another (storage.FactsVersion.Work).
//
// The version is read with the rest of the facts version: by the inbox
// append, in its snapshot, when the session's facts are used (cachedFacts:
// a step with effects drops them, so this chat's own last change is never
// missed), else by the chat look-up as the update is handled. A list is
// kept under the version read before it, never after: a change between the
// two is then in the list and only makes its version look older than it
// is (read again at the next version). Every write to a submission changes
// its version (count of rows, sum of their versions: sqlstore.workVersionSQL),
// so a list kept at a version is exactly the rows at that version. Kept per
// process, not in the session: one agency's list serves every focal point
// of the agency, and a session stays small.
//
// Bounded: one list per campaign and agency, and one review queue per
// campaign; a new version replaces the old.
type workCache struct {
	mu    sync.Mutex
	lists map[workKey]workList
}

// workKey names a list: a campaign's submissions of an agency, or with
// agency "" its review queue.
type workKey struct {
	campaign, agency string
}

type workList struct {
	version string
	subs    []domain.Submission
}

// list returns the list under key at version, reading it with read when
// the one kept is of another version (or version is "": not kept). hit
// reports whether the kept list was used. The caller gets a list of its
// own: flows may reorder or change what they are given.
func (c *workCache) list(ctx context.Context, key workKey, version string, read func(context.Context) ([]domain.Submission, error)) (subs []domain.Submission, hit bool, err error) {
	if version != "" {
		c.mu.Lock()
		l, ok := c.lists[key]
		c.mu.Unlock()
		if ok && l.version == version {
			return slices.Clone(l.subs), true, nil
		}
	}
	subs, err = read(ctx)
	if err != nil || version == "" {
		return subs, false, err
	}
	c.mu.Lock()
	if c.lists == nil {
		c.lists = map[workKey]workList{}
	}
	c.lists[key] = workList{version: version, subs: slices.Clone(subs)}
	c.mu.Unlock()
	return subs, false, nil
}

// workVersions are the versions of person p's work lists that the update
// may use: those of the facts version read about p, none when it was read
// about someone else (or not read).
func workVersions(v storage.FactsVersion, p domain.Person) (review, agency string) {
	if v.Person == "" || v.Person != p.ID {
		return "", ""
	}
	return v.Work()
}
