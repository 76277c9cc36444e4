// Package storage declares what the bot needs from its stores. The
// implementations live in one package per outside dependency:
// storage/postgres (production results), storage/sqlite (the embedded
// default, results and sessions in one local file) and storage/redis
// (sessions, per-chat locks and de-duplication in production).
package storage

import (
	"context"
	"errors"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// ErrNotFound is returned when a look-up finds nothing.
var ErrNotFound = domain.ErrNotFound

// PersonState is what the flows need to know about a person beyond the
// people list: their current answer and chosen language.
type PersonState struct {
	RSVP *domain.RSVP // nil when they have not answered
	Lang domain.Lang  // "" when they never chose
	// Unreachable is set when some channel refused delivery to them: the
	// mark the dispatcher clears when they write in.
	Unreachable bool
}

// NoticeTarget is what a notice to a person needs: the language they
// chose ("" when none) and every chat account linked to them.
type NoticeTarget struct {
	Lang  domain.Lang
	Links []domain.Identity
}

// ChatLookup names a chat account for the dispatcher's first look at an
// update and, when the update is about someone else than the person the
// account is linked to (an invite link's token, a typed code, a shared
// number), that Candidate's id.
type ChatLookup struct {
	Channel   domain.Channel
	UserID    string
	Candidate string
}

// ChatFacts answers a ChatLookup in one query: the account's link (Err
// wraps ErrNotFound when it is linked to nobody), and the person the
// update is about — the Candidate when one was named, else the linked
// person — as the database holds them now, with their state. Found
// reports whether that person exists (Person and State are theirs).
type ChatFacts struct {
	Identity domain.Identity
	Person   domain.Person
	State    PersonState
	Found    bool
	Err      error
	// Version is the linked person's version read in the same snapshot
	// (set when no Candidate was named and the account is linked).
	Version FactsVersion
}

// Store keeps results: people, identities, answers with history, and the
// ids of the updates whose effects were applied.
type Store interface {
	// SyncDirectory upserts agencies and people from the config. New people
	// get an invite token and code; existing ones keep theirs (a token in
	// the input, when set, wins). Nothing is deleted.
	SyncDirectory(ctx context.Context, agencies []domain.Agency, people []domain.Person) error
	// Directory reads everyone back, tokens and codes included.
	Directory(ctx context.Context) (*domain.Directory, error)
	// IdentityPerson returns the person a channel account is linked to.
	IdentityPerson(ctx context.Context, ch domain.Channel, userID string) (string, error)
	// Identity returns a channel account's link: the person and the proof.
	Identity(ctx context.Context, ch domain.Channel, userID string) (domain.Identity, error)
	// Identities returns every channel account linked to a person.
	Identities(ctx context.Context, personID string) ([]domain.Identity, error)
	PersonState(ctx context.Context, personID string) (PersonState, error)
	// NoticeTargets reads the language and the linked chats of each of
	// these people in one query (a person without a chat has no Links).
	NoticeTargets(ctx context.Context, personIDs []string) (map[string]NoticeTarget, error)
	RSVPHistory(ctx context.Context, personID string) ([]domain.RSVP, error)
	// CurrentRSVPs returns everyone's current answer, keyed by person.
	CurrentRSVPs(ctx context.Context) (map[string]domain.RSVP, error)
	// Apply applies the effects of one update in one transaction. It records
	// key, and when key was recorded before it applies nothing and returns
	// applied=false: a replayed update changes nothing twice. When an effect
	// is stale (see ErrConflict) nothing is applied and the error wraps
	// ErrConflict.
	Apply(ctx context.Context, key domain.UpdateKey, at time.Time, effects []domain.Effect) (applied bool, err error)
	Ping(ctx context.Context) error
	Close() error
}

// SessionStore keeps where each chat is in its conversation, serialises the
// handling of one chat across processes, and remembers which updates were
// fully handled. Losing it loses no confirmed data.
//
// Handling one update is one turn: Begin (is it done? take the chat's lock,
// read its session), then on the Lease it returns Save (the new session,
// before the replies go out) and Finish (mark the update done and release
// the lock), or Release on failure. A store may do each of these in one
// round trip.
type SessionStore interface {
	// Begin starts handling update in chat. When update was fully handled
	// before, the Turn is Done and nothing is held. Otherwise Begin takes
	// chat's lock, waiting while another process holds it until ctx ends
	// (the error then wraps ErrLockTimeout), and returns the chat's session
	// with it. An update another holder finishes while Begin waits is Done.
	Begin(ctx context.Context, chat, update string) (Turn, error)
	Ping(ctx context.Context) error
	Close() error
}

// Turn is what Begin found.
type Turn struct {
	// Done means the update was fully handled before: no lock is held and
	// Lease is nil.
	Done bool
	// Session is the chat's session; empty when it has none.
	Session []byte
	// Lease holds the chat's lock; call Finish or Release.
	Lease Lease
}

// Lease is a chat's lock held for one update, from SessionStore.Begin. The
// lock stays held while the ctx given to Begin is live, until Finish or
// Release; a holder that stops (crashed, or its ctx ended) loses it a while
// later. A lock is only ever released by its holder.
type Lease interface {
	// Save stores the chat's session. It fails when the lock was lost to
	// another holder.
	Save(ctx context.Context, session []byte) error
	// MarkDone records the update as fully handled, keeping the lock.
	MarkDone(ctx context.Context) error
	// Finish records the update as fully handled and releases the lock.
	Finish(ctx context.Context) error
	// Release releases the lock without marking the update done. It is
	// harmless after Finish and when called twice.
	Release()
}

// Brief is implemented by a Lease that can keep what it saves for a short
// while only (BriefTTL): the dispatcher asks for it while a chat is not
// linked to anyone, so that made-up chats cost nothing lasting. A later
// turn without Brief keeps the chat for the store's usual time.
type Brief interface {
	Brief()
}

// ReadingBegin is a SessionStore that is also a counter store (the
// bot's Limiter) and can read counters in the same step as Begin.
type ReadingBegin interface {
	// BeginReading is Begin that also returns the counts of counters
	// (nil when the update was done).
	BeginReading(ctx context.Context, chat, update string, counters ...string) (Turn, []int64, error)
}

// BriefTTL is how long an unidentified chat's session and done marks last.
const BriefTTL = 15 * time.Minute

// CampaignStore keeps the data campaign: the catalog and assignments from
// the config, and each agency's submissions with their history. Submissions
// change only through Store.Apply (SaveSubmission, ReviewSubmission effects).
type CampaignStore interface {
	SyncCatalog(ctx context.Context, indicators []domain.Indicator, assignments []domain.Assignment) error
	// Submissions of one agency, or of all when agency is "".
	Submissions(ctx context.Context, agency string) ([]domain.Submission, error)
	Submission(ctx context.Context, indicator, agency string) (domain.Submission, error)
	ReviewQueue(ctx context.Context) ([]domain.Submission, error)
	SubmissionHistory(ctx context.Context, indicator, agency string) ([]domain.SubmissionChange, error)
}

// ErrConflict is what Apply's error wraps when an effect no longer applies
// because someone changed its item since the user saw it (a submission or a
// review carrying an older version). Nothing of the update was applied, its
// id is not recorded: the caller reads the facts again and tells the user.
var ErrConflict = errors.New("changed by someone else meanwhile")

// ErrLockTimeout is returned by Lock when ctx ends before the lock is free.
var ErrLockTimeout = errors.New("chat lock: timed out")

// EvidenceTextStore keeps the text read in evidence files, by content
// address (written by the background reader, read by review and search).
type EvidenceTextStore interface {
	SaveEvidenceText(ctx context.Context, t domain.EvidenceText) error
	// EvidenceTexts returns what is stored for shas (absent ones are
	// missing from the map).
	EvidenceTexts(ctx context.Context, shas []string) (map[string]domain.EvidenceText, error)
	// SearchEvidenceText returns the shas (at most limit) whose text
	// contains query, ignoring case.
	SearchEvidenceText(ctx context.Context, query string, limit int) ([]string, error)
}

// Enrolment link refusals (storage/sqlstore), told apart so the chat can
// say what happened.
var (
	ErrEnrolmentUsed    = errors.New("enrolment link already used")
	ErrEnrolmentExpired = errors.New("enrolment link expired")
)
