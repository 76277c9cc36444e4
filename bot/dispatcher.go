// Package bot is the transport-neutral core: channel adapters turn platform
// updates into Inbound events, the Dispatcher runs them through the flows and
// applies the results, and Senders render replies per channel.
package bot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/files"
)

// ErrUnreachable is what a Sender's error wraps when the person can no
// longer be reached on that channel (blocked the bot, left the OA).
var ErrUnreachable = errors.New("recipient unreachable")

// ErrMessagingWindow is the ErrUnreachable of a platform that lets a bot
// write only for a while after the person's last message (Zalo's 48 hours):
// the person has not blocked anything and is reachable again once they
// write. Staff are told which of the two it is.
var ErrMessagingWindow = fmt.Errorf("outside the platform's messaging window: %w", ErrUnreachable)

// ErrTooLarge is what a Fetcher returns for a file over the limit.
var ErrTooLarge = errors.New("file too large")

// Inbound is one update from any channel, already neutral.
type Inbound struct {
	Key    domain.UpdateKey // platform update id, for de-duplication
	UserID string           // the sender's account on the channel
	ChatID string           // where replies go
	Input  flows.Input
	// Group is set for a chat of several people (a Telegram group,
	// supergroup): no personal flow runs there (SECURITY.md). PrivateURL
	// opens a private chat with the bot, for the one note a group gets.
	Group      bool   `json:",omitempty"`
	PrivateURL string `json:",omitempty"`
	// Source is where the update came from, for the code-guessing
	// throttle: the client's address on the web chat; "" means UserID.
	Source string `json:",omitempty"`
	// FactsAt is set by the inbox worker, not stored with the update: the
	// person the sender's account was linked to when the update was
	// stored, and that person's version. The session's cached facts stand
	// in for the database only when they carry the same (factsCache).
	FactsAt storage.FactsVersion `json:"-"`
}

// ChatKey names a conversation across channels.
func (in Inbound) ChatKey() string { return string(in.Key.Channel) + ":" + in.ChatID }

// Sender delivers replies on one channel.
type Sender interface {
	Send(ctx context.Context, chatID string, replies []flows.Reply) error
}

// Fetcher downloads a file a user sent on one channel.
type Fetcher interface {
	Fetch(ctx context.Context, f flows.FileRef, maxBytes int64) ([]byte, error)
}

// Blobs stores evidence files by content (storage/files).
type Blobs interface {
	Put(r io.Reader, max int64) (sha string, size int64, err error)
}

// Opener is a Fetcher that can also hand a file over as a stream (the web
// chat, whose uploads wait on disk): the dispatcher then stores it without
// holding it in memory.
type Opener interface {
	Open(ctx context.Context, f flows.FileRef, maxBytes int64) (io.ReadCloser, error)
}

// BlobQuota keeps who stored which evidence file (storage/sqlstore), for the
// per-person and total disk quotas and the collection of unused files.
type BlobQuota interface {
	BlobUsage(ctx context.Context, personID string) (person, total int64, err error)
	RecordBlob(ctx context.Context, sum, personID string, size int64, at time.Time) error
}

// Default disk quotas for evidence files.
const (
	DefaultPersonQuota = 200 << 20 // bytes one person may store
	DefaultTotalQuota  = 10 << 30  // bytes all evidence files may take
)

// TaskReader gives the tasks a person answers for in an event: the plan
// tasks they own and, for a focal point, the sent follow-up tasks of their
// agency (storage/sqlstore).
type TaskReader interface {
	TasksOf(ctx context.Context, eventID, personID, agency string, focal bool) ([]domain.Task, error)
}

// Exporter builds a staff export ("xlsx", "csv", "zip") as a file to send.
type Exporter interface {
	Export(ctx context.Context, kind string) (*flows.File, error)
}

// MaxEvidenceSize is the largest evidence file accepted.
const MaxEvidenceSize = 20 << 20

// maxConflictRetries bounds how often one update is stepped again after its
// effects were found stale; more means the item changes faster than anyone
// can read it, and the update is left for the platform to redeliver.
const maxConflictRetries = 3

// ErrNotSaved means the update's results could not be stored. The adapter
// must not acknowledge the update, so that the platform redelivers it.
var ErrNotSaved = errors.New("update not saved")

// Dispatcher handles inbound updates: de-duplicates them, serialises each
// chat, runs the flow step, applies its effects, saves the session and sends
// the replies, in that order, so that a crash at any point followed by a
// replay reaches the same state without losing or doubling anything.
type Dispatcher struct {
	// work keeps focal points' and staff's lists by version (workcache.go).
	work     workCache
	events   func(ctx context.Context) ([]domain.EventRecord, error)
	camps    Campaigns
	store    storage.Store
	sessions storage.SessionStore
	event    *domain.Event
	dir      atomic.Pointer[domain.Directory]
	now      func() time.Time
	log      *slog.Logger

	campaign  storage.CampaignStore
	taskStore TaskReader
	catalog   atomic.Pointer[domain.Catalog]
	helpdesk  domain.Contact
	publicURL string
	blobs     Blobs
	exporter  Exporter
	quota     BlobQuota
	limiter   Limiter
	perQuota  int64
	allQuota  int64
	reads     reads      // evidence read in the background (reading.go)
	dirMu     sync.Mutex // serialises changes to dir (directory.go)
	dirGen    uint64     // changes to dir, under dirMu
	pend      pendingPeople

	mu       sync.RWMutex
	senders  map[domain.Channel]Sender
	fetchers map[domain.Channel]Fetcher
	tasks    map[string]TaskFunc
	meeting  *Meeting // the meeting's commands (meeting.go); nil: off

	// invited indexes the events' invitees (events.go).
	invited atomic.Pointer[domain.Invitations]

	order serializer
	// Work behind the replies (later): its order per chat, its count.
	afterOrder serializer
	afterN     atomic.Int64
	afterWG    sync.WaitGroup
	metrics    *Metrics
	flood      *floodGuard
}

// Config is what a Dispatcher needs.
type Config struct {
	Store     storage.Store
	Sessions  storage.SessionStore
	Event     *domain.Event
	Directory *domain.Directory
	Now       func() time.Time // nil means time.Now
	Log       *slog.Logger
	// The data campaign, when configured.
	Campaign storage.CampaignStore
	// Tasks reads the organisers' plan and follow-up tasks for /congviec
	// (nil: none).
	Tasks    TaskReader
	Catalog  *domain.Catalog
	Helpdesk domain.Contact
	// PublicURL is the bot's base URL, for links in messages (evidence in
	// the console, a substitute's check-in page).
	PublicURL string
	Blobs     Blobs
	Exporter  Exporter
	// Quota, when set, bounds the evidence files each person (PersonQuota
	// bytes) and everyone together (TotalQuota) may store; zero limits
	// mean the defaults.
	Quota                   BlobQuota
	PersonQuota, TotalQuota int64
	// Limiter counts invite-code attempts across chats (nil: in memory,
	// this process only).
	Limiter Limiter
	// Reader, when set, reads evidence files in the background after they
	// are stored; Background ends that work (nil: never).
	Reader     EvidenceReader
	Background context.Context
	// Metrics, when nil, are kept on a private registry.
	Metrics *Metrics
	// FloodRate and FloodBurst bound how fast one chat is served: burst
	// updates at once, then rate per second. Zero means 3 per second with a
	// burst of 30: a person tapping quickly through a form, or an album of
	// ten photos, fits; dozens a second do not.
	FloodRate, FloodBurst float64
	// Events, when set, lists the deployment's events (cached by the
	// caller): a person invited to several upcoming ones chooses in chat
	// (flows.Facts.Events). Nil: Event alone.
	Events func(ctx context.Context) ([]domain.EventRecord, error)
	// Campaigns, when set, offers a focal point or staff member the open
	// data campaigns to choose from (campaigns.go). Nil: Campaign alone.
	Campaigns Campaigns
}

// NewDispatcher returns a dispatcher with no channels yet; add them with
// SetSender.
func NewDispatcher(c Config) *Dispatcher {
	d := &Dispatcher{
		store: c.Store, sessions: c.Sessions, event: c.Event, now: c.Now, log: c.Log,
		campaign: c.Campaign, taskStore: c.Tasks, helpdesk: c.Helpdesk, blobs: c.Blobs, exporter: c.Exporter, publicURL: c.PublicURL,
		quota: c.Quota, perQuota: c.PersonQuota, allQuota: c.TotalQuota, limiter: c.Limiter,
		senders: map[domain.Channel]Sender{}, fetchers: map[domain.Channel]Fetcher{}, tasks: map[string]TaskFunc{},
		events: c.Events, camps: c.Campaigns,
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.metrics = c.Metrics; d.metrics == nil {
		d.metrics = NewMetrics(prometheus.NewRegistry())
	}
	rate, burst := c.FloodRate, c.FloodBurst
	if rate <= 0 {
		rate = 3
	}
	if burst <= 0 {
		burst = 30
	}
	d.flood = newFloodGuard(rate, burst)
	if d.limiter == nil {
		d.limiter = newMemLimiter()
	}
	if d.perQuota <= 0 {
		d.perQuota = DefaultPersonQuota
	}
	if d.allQuota <= 0 {
		d.allQuota = DefaultTotalQuota
	}
	if d.exporter != nil {
		d.tasks["export"] = d.exportTask
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	d.dir.Store(c.Directory)
	d.catalog.Store(c.Catalog)
	d.reads = reads{reader: c.Reader, bg: c.Background}
	return d
}

// SetSender registers the sender for a channel.
func (d *Dispatcher) SetSender(ch domain.Channel, s Sender) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.senders[ch] = s
}

// Senders returns the registered senders by channel.
func (d *Dispatcher) Senders() map[domain.Channel]Sender {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make(map[domain.Channel]Sender, len(d.senders))
	for k, v := range d.senders {
		out[k] = v
	}
	return out
}

// SetFetcher registers how files sent on a channel are downloaded.
func (d *Dispatcher) SetFetcher(ch domain.Channel, f Fetcher) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fetchers[ch] = f
}

// Catalog returns the data campaign's catalog (nil when none).
func (d *Dispatcher) Catalog() *domain.Catalog { return d.catalog.Load() }

// SetCatalog swaps in a new catalog (after an import of assignments).
func (d *Dispatcher) SetCatalog(c *domain.Catalog) { d.catalog.Store(c) }

// Act applies effects decided outside a chat (the staff console) through
// the same path as a chat's: one transaction, then the notices a chat
// review would send (a focal point told their indicator was approved or
// returned).
func (d *Dispatcher) Act(ctx context.Context, key domain.UpdateKey, effects []domain.Effect) error {
	if _, err := d.store.Apply(ctx, key, d.now(), effects); err != nil {
		if !errors.Is(err, storage.ErrConflict) { // a stale edit is no store failure
			d.metrics.storeErr.WithLabelValues("database").Inc()
		}
		return fmt.Errorf("apply: %w", err)
	}
	var notices []flows.Notice
	for _, e := range effects {
		if r, ok := e.(domain.ReviewSubmission); ok {
			notices = append(notices, flows.ReviewNotices(d.catalog.Load(), r)...)
		}
	}
	log := d.log.With("update", key.String())
	d.notify(ctx, notices, log)
	d.substitutes(ctx, effects, log)
	return nil
}

// substitutes follows answers that name (or stop naming) a substitute: the
// store made them a person of their own, so the people list is read again
// (their link, code and check-in work at once), and a substitute who can be
// reached — their phone is that of someone already talking to the bot, or
// they have opened their own link before — gets their invitation in chat.
func (d *Dispatcher) substitutes(ctx context.Context, effects []domain.Effect, log *slog.Logger) {
	if invite := d.reloadForSubstitutes(ctx, effects, log); invite != nil {
		invite(ctx)
	}
}

// reloadForSubstitutes is the first half of substitutes, in the update's
// turn (the substitute's link works once the reply is out): it reads the
// substitutes named or withdrawn into the people list; it returns
// the second half, the invitations, to send behind the reply.
func (d *Dispatcher) reloadForSubstitutes(ctx context.Context, effects []domain.Effect, log *slog.Logger) func(ctx context.Context) {
	var subs []domain.RSVP
	for _, e := range effects {
		r, ok := e.(domain.SaveRSVP)
		if !ok {
			continue
		}
		// Only answers that name a substitute or withdraw one change the
		// people list; the others need no (costly) re-read.
		if p, had := d.Directory().Person(domain.SubstituteID(r.RSVP.PersonID)); r.RSVP.Status == domain.RSVPSubstitute || (had && p.Has(domain.RoleSubstitute)) {
			subs = append(subs, r.RSVP)
		}
	}
	if len(subs) == 0 {
		return nil
	}
	ids := make([]string, len(subs))
	for i, r := range subs {
		ids[i] = domain.SubstituteID(r.PersonID)
	}
	// Only these people changed: read them, not the whole list again.
	// Other processes find them when their link, code or chat first
	// reaches them (findUnknown, facts).
	dir, err := d.refreshPeople(ctx, ids)
	if err != nil {
		log.Warn("read substitutes", "err", err)
		return nil
	}
	return func(ctx context.Context) { d.inviteSubstitutes(ctx, dir, subs, log) }
}

// inviteSubstitutes sends their invitation in chat to the substitutes
// named in subs who can be reached.
func (d *Dispatcher) inviteSubstitutes(ctx context.Context, dir *domain.Directory, subs []domain.RSVP, log *slog.Logger) {
	for _, r := range subs {
		sub, ok := dir.Person(domain.SubstituteID(r.PersonID))
		if r.Status != domain.RSVPSubstitute || !ok || !sub.Has(domain.RoleSubstitute) {
			continue
		}
		to := []string{sub.ID}
		if p, ok := dir.ByPhone(sub.Phone); ok && p.ID != sub.ID && p.ID != r.PersonID {
			to = append(to, p.ID)
		}
		// Their languages and chats in one query.
		targets, err := d.store.NoticeTargets(ctx, to)
		if err != nil {
			log.Warn("substitute invitation: targets", "err", err)
			continue
		}
		for _, id := range to {
			t := targets[id]
			if len(t.Links) == 0 {
				continue // no chat to invite them in
			}
			text := flows.SubstituteInvite(orVietnamese(t.Lang), d.event, dir, sub, d.publicURL)
			d.sendNotice(ctx, flows.Notice{PersonID: id, Replies: []flows.Reply{{Text: text}}}, t.Links, log)
		}
	}
}

func orVietnamese(l domain.Lang) domain.Lang {
	if l == "" {
		return domain.Vietnamese
	}
	return l
}

// SetDirectory swaps in a new snapshot of the people list.
func (d *Dispatcher) SetDirectory(dir *domain.Directory) {
	d.dirMu.Lock()
	defer d.dirMu.Unlock()
	d.dir.Store(dir)
	d.dirGen++
}

// Directory returns the current snapshot of the people list.
func (d *Dispatcher) Directory() *domain.Directory { return d.dir.Load() }

// Event returns the event the campaign is about.
func (d *Dispatcher) Event() *domain.Event { return d.event }

func (d *Dispatcher) sender(ch domain.Channel) (Sender, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	s, ok := d.senders[ch]
	if !ok {
		return nil, fmt.Errorf("no sender for channel %q", ch)
	}
	return s, nil
}

// Handle processes one update. A nil error means the update may be
// acknowledged to the platform. ErrNotSaved (wrapped) means it must not.
// Updates of one chat are handled strictly in the order Handle is called.
func (d *Dispatcher) Handle(ctx context.Context, in Inbound) error {
	start := time.Now()
	ch := string(in.Key.Channel)
	chat := in.ChatKey()
	d.metrics.seen(chat, start)
	if ok, notify := d.flood.allow(chat, start); !ok {
		d.metrics.updates.WithLabelValues(ch, "flood").Inc()
		d.metrics.flood.WithLabelValues(ch).Inc()
		if notify {
			d.log.Warn("chat is flooding; slowing it down", "channel", ch, "chat", in.ChatID)
			if err := d.send(ctx, in.Key.Channel, in.ChatID, []flows.Reply{flows.SlowDown(domain.Vietnamese)}); err != nil {
				d.log.Warn("send slow-down notice", "err", err)
			}
		}
		return nil
	}
	var err error
	var outcome string
	d.order.do(chat, func() { outcome, err = d.handle(ctx, in, chat) })
	switch {
	case errors.Is(err, ErrNotSaved):
		outcome = "not_saved"
	case err != nil:
		outcome = "error"
	}
	d.metrics.updates.WithLabelValues(ch, outcome).Inc()
	d.metrics.latency.WithLabelValues(ch).Observe(time.Since(start).Seconds())
	return err
}

// ObserveInboxWait records how long an update waited between its append
// to the inbox and the start of its handling, and of that how long it was
// queued in the worker (behind its chat's earlier updates).
func (d *Dispatcher) ObserveInboxWait(total, queued time.Duration) {
	d.metrics.stage.WithLabelValues("inbox_wait").Observe(total.Seconds())
	d.metrics.stage.WithLabelValues("chat_queue").Observe(queued.Seconds())
}

func (d *Dispatcher) handle(ctx context.Context, in Inbound, chat string) (string, error) {
	err := d.handleUpdate(ctx, in, chat)
	if err == errDuplicate {
		return "duplicate", nil
	}
	if err == errBusy {
		return "busy", nil
	}
	return "handled", err
}

// Outcomes of handleUpdate that are not failures.
var (
	errDuplicate = errors.New("duplicate")
	errBusy      = errors.New("busy")
)

// handleUpdate handles in (its chat key, in.ChatKey(), made once by Handle).
func (d *Dispatcher) handleUpdate(ctx context.Context, in Inbound, chat string) error {
	if in.Group {
		return d.handleGroup(ctx, in)
	}
	log := LogWith(d.log, slog.String("channel", string(in.Key.Channel)), slog.String("chat", in.ChatID), slog.String("update", in.Key.UpdateID))
	key := in.Key.String()
	// One round trip: already done? take the chat's lock (another process
	// may hold it; one that finishes this update meanwhile makes it done),
	// and read the session.
	sp := d.metrics.stages()
	// Who the chat is does not depend on the session: read it from the
	// database while the session store answers, one round trip's wait
	// instead of two.
	//
	// An update that names nobody new (no invite link, code or number), from
	// an account that was linked when it was stored, may find what it needs
	// cached with the session (factsCache): the read waits for the session.
	cand := flows.Candidate(in.Input, d.dir.Load())
	mayCache := cand == "" && in.FactsAt.Person != ""
	var ident *identityCall
	if !mayCache {
		ident = &identityCall{d: d, ctx: ctx, in: in, cand: cand, done: make(chan struct{})}
		go ident.run()
	}
	turn, pre, err := d.beginTurn(ctx, in, chat, key) // the guessing counters read with it
	sp.mark("begin")
	if err != nil {
		// Sessions hold nothing confirmed: tell the user to retry rather
		// than keep the platform redelivering.
		log.Warn("begin update: session store", "err", err)
		d.metrics.storeErr.WithLabelValues("sessions").Inc()
		d.busy(ctx, in)
		return errBusy
	}
	if turn.Done {
		log.Debug("duplicate update ignored")
		return errDuplicate
	}
	lease := turn.Lease
	defer lease.Release()

	saved := d.decodeSession(chat, turn.Session, key)
	if saved.Update == key {
		// The session was saved for this very update but the process died
		// before marking it done: its step must not run again on the
		// advanced session. Send its replies again (they may not have gone
		// out) and finish.
		log.Info("replayed update: session already advanced, resending its replies")
		if err := d.sendTracked(ctx, in, lease, saved, nil); err != nil {
			return fmt.Errorf("send replies: %w", err)
		}
		if err := lease.Finish(ctx); err != nil {
			log.Warn("mark update done", "err", err)
		}
		return nil
	}
	sess := saved.Session
	var id identityResult
	switch {
	case !mayCache:
		<-ident.done
		id = ident.res
	case d.cachedIdentity(in, saved.Facts, &id):
		d.metrics.factsCache.WithLabelValues("hit").Inc()
	default:
		d.metrics.factsCache.WithLabelValues("miss").Inc()
		id = d.identity(ctx, in, cand)
	}
	facts, unreachable, err := d.facts(ctx, in, sess, &id)
	if err != nil {
		log.Error("load facts", "err", err)
		d.metrics.storeErr.WithLabelValues("database").Inc()
		return fmt.Errorf("%w: load facts: %v", ErrNotSaved, err)
	}
	if in.Input.Kind == flows.InFile && flows.WantsFiles(sess, facts) {
		// Only a focal point asked for evidence gets files downloaded and
		// kept; anyone else's file is answered by the flow and never
		// touches the disk.
		in.Input.Files = d.storeFiles(ctx, in.Key.Channel, facts.Person.ID, in.Input.Files, log)
	}
	sp.mark("facts")
	var guess *attempt
	if facts.Person == nil {
		guess = identifyAttempt(in)
	}
	var res flows.Result
	if guess != nil && d.guessBlocked(ctx, guess, pre, log) {
		// Too many codes tried from this source, or this code from too
		// many chats: the step does not even look at it.
		lang := sess.Lang
		if lang == "" {
			lang = domain.Vietnamese
		}
		res = flows.Result{Session: sess, Replies: []flows.Reply{{
			Text: flows.Text(lang, "too_many_tries", int(GuessSourceSpan.Minutes()), flows.ContactText(d.event.Organizer)),
		}}}
	} else {
		res = flows.Step(sess, in.Input, facts)
		res.Effects = auditReviews(res.Effects, in.Key.Channel)
		if guess != nil {
			// The counts ride the session save's round trip.
			defer d.recordAttemptRiding(ctx, guess, res.Session.PersonID != "", log)()
		}
	}
	// A chat linked to nobody that changes nothing costs nothing lasting: no
	// database row, and session and done marks that soon expire. Anyone
	// can make up chats by the thousand.
	anonymous := facts.Person == nil && res.Session.PersonID == "" && len(res.Effects) == 0
	if b, ok := lease.(storage.Brief); ok && anonymous {
		b.Brief()
	}
	now := d.now()
	applied := true
	// A step that changes nothing and tells no one has nothing to record
	// (its id only keeps effects and notices from going twice): no
	// transaction, no commit to wait for.
	if !anonymous && (len(res.Effects) > 0 || len(res.Notices) > 0) {
		applied, err = d.store.Apply(ctx, in.Key, now, res.Effects)
	}
	for try := 1; errors.Is(err, storage.ErrConflict) && try <= maxConflictRetries; try++ {
		// Someone changed an item (another focal point of the agency, a
		// reviewer) after the facts were read: nothing was applied. Step
		// again on fresh facts, so the flow tells the user what is stored
		// now instead of answering for a change that was not stored.
		log.Info("effects stale: stepping again on fresh facts", "try", try)
		id = identityResult{} // read again below: not to be cached
		if facts, unreachable, err = d.facts(ctx, in, sess, nil); err != nil {
			log.Error("load facts", "err", err)
			d.metrics.storeErr.WithLabelValues("database").Inc()
			return fmt.Errorf("%w: load facts: %v", ErrNotSaved, err)
		}
		res = flows.Step(sess, in.Input, facts)
		res.Effects = auditReviews(res.Effects, in.Key.Channel)
		now = d.now()
		applied, err = d.store.Apply(ctx, in.Key, now, res.Effects)
	}
	sp.mark("apply")
	log = LogWith(log, slog.String("state", sess.State), slog.String("next", res.Session.State))
	if res.Refused != "" {
		// Crafted callback data or a command this person may not use:
		// refused by the flow, recorded here for the operators.
		person := ""
		if facts.Person != nil {
			person = facts.Person.ID
		}
		log.Warn("refused", "reason", res.Refused, "person", person, "kind", in.Input.Kind, "data", clipData(in.Input.Data))
	}

	if err != nil {
		log.Error("apply effects", "err", err)
		d.metrics.storeErr.WithLabelValues("database").Inc()
		return fmt.Errorf("%w: apply effects: %v", ErrNotSaved, err)
	}
	if !applied && len(res.Effects) > 0 {
		log.Info("replayed update: effects were applied before")
	}
	// The replies are saved as the messages they go out as (bot/join.go):
	// a replay sends the same ones, and Sent counts messages.
	replies := joinReplies(in.Key.Channel, res.Replies, keyboardUp(sess, in.Input))
	saved = savedSession{Session: res.Session, Update: key, Replies: replies}
	if len(res.Effects) == 0 && len(res.Tasks) == 0 {
		// A step that changed something may have changed these facts:
		// the next update reads them again.
		saved.Facts = d.factsCache(in, id, facts.Person)
	}
	raw := encodeSession(saved)
	sctx, counted := d.countWithSave(ctx, in, len(saved.Replies))
	err = lease.Save(sctx, raw)
	counted.saved()
	if err != nil {
		log.Error("save session", "err", err)
		d.metrics.storeErr.WithLabelValues("sessions").Inc()
		return fmt.Errorf("%w: save session: %v", ErrNotSaved, err)
	}
	sp.mark("save")
	if err := d.sendTracked(ctx, in, lease, saved, counted); err != nil {
		log.Error("send replies", "err", err)
		return fmt.Errorf("send replies: %w", err)
	}
	sp.mark("send")
	// Mark the update done and, unless tasks still reply in this chat,
	// release the lock in the same step: nothing below needs it.
	if len(res.Tasks) == 0 {
		err = lease.Finish(ctx)
	} else {
		err = lease.MarkDone(ctx)
	}
	if err != nil {
		// The database already holds the update id; a replay is harmless.
		log.Warn("mark update done", "err", err)
	}
	sp.mark("finish")
	if applied {
		// Notices to others and a substitute's invitation are not this
		// chat's reply: they go out behind it, so that the chat's next
		// update does not wait for them (in order per chat). The people
		// list is read again first, in the turn: a substitute's link works
		// as soon as the reply says so.
		invite := d.reloadForSubstitutes(ctx, res.Effects, log)
		if notices := res.Notices; len(notices) > 0 || invite != nil {
			d.later(ctx, chat, func(ctx context.Context) {
				d.notify(ctx, notices, log)
				if invite != nil {
					invite(ctx)
				}
			})
		}
	}
	sp.mark("after")
	if facts.Person != nil && (facts.StateOf != facts.Person.ID || unreachable) {
		// They wrote in: the channel reaches them again (unblocked, or back
		// inside Zalo's messaging window). The person's state said whether
		// there is a mark to clear, when it was theirs that was loaded.
		if c, ok := d.store.(interface {
			ClearUnreachable(ctx context.Context, personID string, ch domain.Channel) error
		}); ok {
			if err := c.ClearUnreachable(ctx, facts.Person.ID, in.Key.Channel); err != nil {
				log.Warn("clear unreachable", "err", err)
			}
		}
	}
	for _, t := range res.Tasks {
		d.runTask(ctx, in, t, res.Session, facts, log)
	}
	if in.Input.Kind == flows.InFile && facts.Person != nil && facts.Person.Has(domain.RoleFocal) {
		d.readLater(in, log)
	}
	log.Debug("update handled", "replies", len(res.Replies), "effects", len(res.Effects))
	return nil
}

func (d *Dispatcher) send(ctx context.Context, ch domain.Channel, chatID string, replies []flows.Reply) error {
	if len(replies) == 0 {
		return nil
	}
	s, err := d.sender(ch)
	if err != nil {
		return err
	}
	err = s.Send(ctx, chatID, replies)
	result := "ok"
	switch {
	case errors.Is(err, ErrUnreachable):
		result = "blocked"
	case err != nil:
		result = "error"
	}
	d.metrics.sent.WithLabelValues(string(ch), result).Inc()
	return err
}

// busy tells the user, in their language where known, to try again.
func (d *Dispatcher) busy(ctx context.Context, in Inbound) {
	if err := d.send(ctx, in.Key.Channel, in.ChatID, []flows.Reply{flows.Busy(domain.Vietnamese)}); err != nil {
		d.log.Warn("send busy notice", "err", err)
	}
}

// savedSession is what the session store holds for a chat: the flow's
// session plus the last update it reflects, that update's replies as the
// messages they go out as (joined), and how many are known to be delivered.
type savedSession struct {
	Session flows.Session `json:"s"`
	Update  string        `json:"u,omitempty"`
	Replies []flows.Reply `json:"r,omitempty"`
	Sent    int           `json:"n,omitempty"`
	// Facts is who the chat is, cached (factsCache); nil when the last
	// step changed something or the chat is linked to nobody.
	Facts *cachedFacts `json:"f,omitempty"`
}

// sendTracked sends the replies not yet delivered, one at a time. When one
// fails, it records how far it got, so that the redelivered update resends
// from there and the user does not get the earlier ones twice. counted is
// the count of the replies already started (countWithSave); nil: counted
// here.
func (d *Dispatcher) sendTracked(ctx context.Context, in Inbound, lease storage.Lease, s savedSession, counted *replyCount) error {
	if counted == nil {
		counted = d.countReplies(ctx, in, len(s.Replies)-s.Sent)
	}
	ctx, err := counted.wait(ctx)
	if err != nil {
		return err
	}
	for i := s.Sent; i < len(s.Replies); i++ {
		err := d.send(ctx, in.Key.Channel, in.ChatID, s.Replies[i:i+1])
		if errors.Is(err, ErrRefused) || (err != nil && s.Replies[i].Optional && ctx.Err() == nil) {
			// The platform refuses this message for good, or an optional
			// attachment (the calendar file) failed: sending it again
			// cannot help or is not worth it, and the chat must not wait.
			d.log.Warn("reply not sent; going on without it", "channel", in.Key.Channel, "chat", in.ChatID, "reply", i, "err", err)
			continue
		}
		if err != nil {
			if i > s.Sent {
				s.Sent = i
				if perr := lease.Save(ctx, encodeSession(s)); perr != nil {
					d.log.Warn("record sent replies", "err", perr)
				}
			}
			return err
		}
	}
	return nil
}

// replyCount counts an update's replies against the sending budget (a
// Sender that is a Counter: bot/pace) on a goroutine of its own, while the
// caller does other work (saving the session); wait waits for it. A nil
// replyCount has nothing to count. (One struct rather than closures and
// channels for each part: fewer allocations per update.)
type replyCount struct {
	ctx  context.Context
	c    Counter
	chat string
	n    int
	// The count starts once queued or returned is closed (nil queued: at
	// once): the session save it rides was queued, or has returned.
	queued   <-chan struct{}
	returned chan struct{}
	err      error // set before done is closed
	done     chan struct{}
}

func (r *replyCount) run() {
	if r.queued != nil {
		select {
		case <-r.queued:
		case <-r.returned:
		}
	}
	r.err = r.c.Count(r.ctx, r.chat, r.n)
	close(r.done)
}

// wait waits for the count and returns ctx marked as counted (Counted), or
// the count's error.
func (r *replyCount) wait(ctx context.Context) (context.Context, error) {
	if r == nil {
		return ctx, nil
	}
	<-r.done
	if r.err != nil {
		return ctx, r.err
	}
	return Counted(ctx), nil
}

// saved lets a count waiting for its save start (the save has returned).
func (r *replyCount) saved() {
	if r != nil && r.returned != nil {
		close(r.returned)
	}
}

// countReplies starts counting n replies to in's chat against the sending
// budget in one go, while the caller does other work; nil when there is
// nothing to count.
func (d *Dispatcher) countReplies(ctx context.Context, in Inbound, n int) *replyCount {
	return d.countAfter(ctx, in, n, nil)
}

// countAfter is countReplies that starts counting once queued is closed, or
// saved is called (nil queued: at once).
func (d *Dispatcher) countAfter(ctx context.Context, in Inbound, n int, queued <-chan struct{}) *replyCount {
	sd, err := d.sender(in.Key.Channel)
	c, ok := sd.(Counter)
	if err != nil || !ok || n <= 0 {
		return nil
	}
	r := &replyCount{ctx: ctx, c: c, chat: in.ChatID, n: n, queued: queued, done: make(chan struct{})}
	if queued != nil {
		r.returned = make(chan struct{})
	}
	go r.run()
	return r
}

// decodeSession reads what the session store held for chat, its replies
// only when it was saved for update (decodeSessionFor).
func (d *Dispatcher) decodeSession(chat string, raw []byte, update string) savedSession {
	s, err := decodeSessionFor(raw, update)
	if err != nil {
		// A session we cannot read is a fresh start, not an outage.
		d.log.Warn("discarding unreadable session", "chat", chat, "err", err)
		return savedSession{}
	}
	return s
}

// facts gathers what the step may read. Who the chat is, and on what
// proof, is read from the database on every update, never from the session:
// a lost session (Redis flushed) changes nobody's rights, and a chat
// unlinked elsewhere (console, «Hủy liên kết») stops acting at once.
// unreachable reports whether the state loaded (that of f.StateOf) carries
// an unreachable mark.
func (d *Dispatcher) facts(ctx context.Context, in Inbound, s flows.Session, pre *identityResult) (f flows.Facts, unreachable bool, err error) {
	if pre == nil {
		r := d.identity(ctx, in, flows.Candidate(in.Input, d.dir.Load()))
		pre = &r
	}
	id, err := pre.id, pre.err
	pid := ""
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return flows.Facts{}, false, fmt.Errorf("identity: %w", err)
	default:
		pid = id.PersonID
	}
	// The person rows read with the identity keep this process's people
	// list current: a substitute another process added or withdrew is seen
	// here at their first update.
	dir := d.dir.Load()
	if pre.who != nil {
		dir = d.mergePeople(*pre.who)
	}
	if _, ok := dir.Person(pid); pid != "" && !ok {
		if dir, err = d.refreshPeople(ctx, []string{pid}); err != nil {
			return flows.Facts{}, false, fmt.Errorf("linked person: %w", err)
		}
	}
	if pid == "" {
		if dir, err = d.findUnknown(ctx, in.Input, dir); err != nil {
			return flows.Facts{}, false, err
		}
	}
	f = flows.Facts{
		Now: d.now(), Channel: in.Key.Channel, UserID: in.UserID, ChatID: in.ChatID,
		Event: d.event, Directory: dir,
	}
	if pid != "" {
		f.Proof = id.Proof
	}
	catalog := d.catalog.Load()
	if catalog != nil {
		f.Catalog, f.Helpdesk = catalog, d.helpdesk
	}
	f.PublicURL = d.publicURL
	if p, ok := dir.Person(pid); ok {
		f.Person = &p
	} else {
		f.Proof = ""
	}
	if f.Person != nil && in.Input.Kind == flows.InButton && strings.HasPrefix(in.Input.Data, "unl:") {
		if f.Links, err = d.store.Identities(ctx, f.Person.ID); err != nil {
			return f, false, fmt.Errorf("linked chats: %w", err)
		}
	}
	// Load the state of the person this chat is, or is about to be.
	who := ""
	if f.Person != nil {
		who = f.Person.ID
	}
	if c := flows.Candidate(in.Input, dir); c != "" {
		who = c
	}
	if f.Enrolment, err = d.enrolment(ctx, in.Input); err != nil {
		return f, false, err
	}
	if f.Enrolment != nil && f.Enrolment.Problem == "" {
		who = f.Enrolment.PersonID
	}
	p, ok := dir.Person(who)
	if !ok {
		return f, unreachable, nil // unknown, or removed from the list since
	}
	f.StateOf = p.ID
	var st storage.PersonState
	if pre.state != nil && pre.who != nil && p.ID == pre.who.ID {
		st = *pre.state
	} else if st, err = d.store.PersonState(ctx, p.ID); err != nil {
		return f, false, fmt.Errorf("person state: %w", err)
	}
	f.RSVP, f.Lang, unreachable = st.RSVP, st.Lang, st.Unreachable
	if err := d.eventFacts(ctx, &f, p.ID); err != nil {
		return f, false, err
	}
	if err := d.loadMeeting(ctx, in, s, &f); err != nil { // after eventFacts: about the person's event
		return f, false, err
	}
	if d.taskStore != nil && flows.WantsTasks(s, in.Input) {
		if f.Tasks, err = d.tasksOf(ctx, p); err != nil {
			return f, false, fmt.Errorf("tasks: %w", err)
		}
	}
	if d.campaign == nil || catalog == nil {
		return f, unreachable, nil
	}
	cs, err := d.campaignFacts(ctx, &f, p, s, in.Input)
	if err != nil {
		return f, false, err
	}
	// Read again only when their version moved (workCache).
	review, agency := workVersions(pre.version, p)
	campaign := f.CampaignID
	if campaign == "" && d.camps != nil && (p.Has(domain.RoleFocal) || p.Has(domain.RoleStaff)) {
		campaign = d.camps.Current()
	}
	if p.Has(domain.RoleFocal) {
		subs, hit, err := d.work.list(ctx, workKey{campaign: campaign, agency: p.AgencyCode}, agency, func(ctx context.Context) ([]domain.Submission, error) {
			return cs.Submissions(ctx, p.AgencyCode)
		})
		if err != nil {
			return f, false, fmt.Errorf("submissions: %w", err)
		}
		d.metrics.countWork("submissions", agency, hit)
		f.Submissions = make(map[string]domain.Submission, len(subs))
		for _, s := range subs {
			f.Submissions[s.Indicator] = s
		}
	}
	if p.Has(domain.RoleStaff) {
		var hit bool
		if f.ReviewQueue, hit, err = d.work.list(ctx, workKey{campaign: campaign}, review, cs.ReviewQueue); err != nil {
			return f, false, fmt.Errorf("review queue: %w", err)
		}
		d.metrics.countWork("review_queue", review, hit)
		if flows.WantsReview(s, in.Input) {
			if f.EvidenceTexts, err = evidenceTexts(ctx, cs, f.ReviewQueue); err != nil {
				return f, false, err
			}
		}
	}
	return f, unreachable, nil
}

// identityResult is a chat's identity as read from the database, with the
// row and state of the person the update is about (its candidate, else the
// linked person) when the store reads them at once.
type identityResult struct {
	id    domain.Identity
	who   *domain.Person
	state *storage.PersonState
	err   error
	// version is the version of the linked person these were read at
	// (Person "" when unknown: nothing to cache).
	version storage.FactsVersion
}

// identityCall is identity on a goroutine of its own, while the session
// store answers: res is set once done is closed. (A struct, not a closure
// over the update: the update stays on its handler's stack.)
type identityCall struct {
	d    *Dispatcher
	ctx  context.Context
	in   Inbound
	cand string
	res  identityResult
	done chan struct{}
}

func (c *identityCall) run() {
	c.res = c.d.identity(c.ctx, c.in, c.cand)
	close(c.done)
}

// identity reads who in's sender is and, from a store that can, in the
// same query, the person the update is about (cand, else the linked
// person) and their state.
func (d *Dispatcher) identity(ctx context.Context, in Inbound, cand string) identityResult {
	if s, ok := d.store.(chatFactsReader); ok {
		cf, err := s.ChatFacts(ctx, storage.ChatLookup{Channel: in.Key.Channel, UserID: in.UserID,
			Candidate: cand})
		if err != nil {
			return identityResult{err: err}
		}
		r := identityResult{id: cf.Identity, err: cf.Err}
		if cf.Found {
			r.who, r.state = &cf.Person, &cf.State
		}
		if cf.Err == nil && cf.Found && cand == "" {
			r.version = cf.Version
		}
		return r
	}
	id, err := d.store.Identity(ctx, in.Key.Channel, in.UserID)
	return identityResult{id: id, err: err}
}

// enrolment looks up the enrolment link a /start argument carries.
func (d *Dispatcher) enrolment(ctx context.Context, in flows.Input) (*flows.Enrolment, error) {
	arg := strings.TrimSpace(in.Text)
	if in.Kind != flows.InCommand || in.Command != "start" || !strings.HasPrefix(arg, flows.EnrolPrefix) || len(arg) > 100 {
		return nil, nil
	}
	es, ok := d.store.(EnrolmentStore)
	if !ok {
		return &flows.Enrolment{Problem: "unknown"}, nil
	}
	h := HashSecret(arg)
	pid, err := es.Enrolment(ctx, h, d.now())
	switch {
	case err == nil:
		return &flows.Enrolment{PersonID: pid, Hash: h}, nil
	case errors.Is(err, storage.ErrEnrolmentUsed):
		return &flows.Enrolment{Problem: "used"}, nil
	case errors.Is(err, storage.ErrEnrolmentExpired):
		return &flows.Enrolment{Problem: "expired"}, nil
	case errors.Is(err, storage.ErrNotFound):
		return &flows.Enrolment{Problem: "unknown"}, nil
	}
	return nil, fmt.Errorf("enrolment: %w", err)
}

// EnrolmentStore finds whom an enrolment link is for (storage/sqlstore).
type EnrolmentStore interface {
	Enrolment(ctx context.Context, tokenHash string, now time.Time) (string, error)
}

// HashSecret is how enrolment secrets are kept: their SHA-256, hex.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// groupNoted marks a group that got its one note.
const groupNoted = "group_noted"

// handleGroup answers a group at most once, with a note and a button that
// opens a private chat: nobody is identified there, no person's data is
// shown or changed, no link is sent.
func (d *Dispatcher) handleGroup(ctx context.Context, in Inbound) error {
	log := d.log.With("channel", in.Key.Channel, "chat", in.ChatID, "update", in.Key.UpdateID)
	turn, err := d.sessions.Begin(ctx, in.ChatKey(), in.Key.String())
	if err != nil {
		log.Warn("begin group update: session store", "err", err)
		d.metrics.storeErr.WithLabelValues("sessions").Inc()
		return errBusy
	}
	if turn.Done {
		return errDuplicate
	}
	lease := turn.Lease
	defer lease.Release()
	saved := d.decodeSession(in.ChatKey(), turn.Session, in.Key.String())
	if saved.Session.State != groupNoted {
		// Marked before sending: a crash in between loses the note rather
		// than repeating it.
		raw := encodeSession(savedSession{Session: flows.Session{State: groupNoted}, Update: in.Key.String()})
		if err := lease.Save(ctx, raw); err != nil {
			d.metrics.storeErr.WithLabelValues("sessions").Inc()
			return fmt.Errorf("%w: save session: %v", ErrNotSaved, err)
		}
		log.Info("group chat: sent the private-chat note")
		if err := d.send(ctx, in.Key.Channel, in.ChatID, []flows.Reply{flows.GroupNote(domain.Vietnamese, in.PrivateURL)}); err != nil {
			log.Warn("send group note", "err", err)
		}
	}
	if err := lease.Finish(ctx); err != nil {
		log.Warn("mark update done", "err", err)
	}
	return nil
}

// auditReviews adds an audit row, in the same transaction, for every review
// done in a chat, with its channel.
func auditReviews(effects []domain.Effect, ch domain.Channel) []domain.Effect {
	for _, e := range effects {
		if r, ok := e.(domain.ReviewSubmission); ok {
			action := "review.return"
			if r.Approve {
				action = "review.approve"
			}
			effects = append(effects, domain.Audit{PersonID: r.By, Action: action, Detail: r.Indicator + "/" + r.Agency, Channel: ch})
		}
	}
	return effects
}

// storeFiles downloads the files of an update, checks their size, kind and
// the disk quotas, and stores them by content under a name with the
// extension of their detected type. A file that fails gets a Problem the
// flow explains to the user; the others go on.
func (d *Dispatcher) storeFiles(ctx context.Context, ch domain.Channel, personID string, refs []flows.FileRef, log *slog.Logger) []flows.FileRef {
	out := make([]flows.FileRef, len(refs))
	for i, f := range refs {
		out[i] = f
		if f.SHA256 != "" || f.Problem != "" {
			continue
		}
		if f.Size > MaxEvidenceSize {
			out[i].Problem = "too_large"
			continue
		}
		d.mu.RLock()
		fetcher := d.fetchers[ch]
		d.mu.RUnlock()
		if fetcher == nil || d.blobs == nil {
			out[i].Problem = "fetch_failed"
			continue
		}
		if p := d.overQuota(ctx, personID, f.Size, log); p != "" {
			out[i].Problem = p
			continue
		}
		r, err := d.fetch(ctx, fetcher, f)
		if err != nil {
			log.Warn("fetch file", "err", err)
			out[i].Problem = "fetch_failed"
			if errors.Is(err, ErrTooLarge) {
				out[i].Problem = "too_large"
			}
			continue
		}
		ref, problem := d.keepFile(ctx, personID, f, r, log)
		r.Close()
		if problem != "" {
			out[i].Problem = problem
			continue
		}
		out[i] = ref
	}
	return out
}

// fetch opens a file a user sent: as a stream where the channel can, else
// downloaded into memory (at most MaxEvidenceSize).
func (d *Dispatcher) fetch(ctx context.Context, fetcher Fetcher, f flows.FileRef) (io.ReadCloser, error) {
	if o, ok := fetcher.(Opener); ok {
		return o.Open(ctx, f, MaxEvidenceSize)
	}
	data, err := fetcher.Fetch(ctx, f, MaxEvidenceSize)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// keepFile checks a fetched file's kind by its first bytes, then stores it.
func (d *Dispatcher) keepFile(ctx context.Context, personID string, f flows.FileRef, r io.Reader, log *slog.Logger) (flows.FileRef, string) {
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		log.Warn("read file", "err", err)
		return f, "fetch_failed"
	}
	mime, ok := files.Classify(f.Name, head[:n])
	if !ok {
		return f, "bad_type"
	}
	sum, size, err := d.blobs.Put(io.MultiReader(bytes.NewReader(head[:n]), r), MaxEvidenceSize)
	if errors.Is(err, files.ErrTooLarge) {
		return f, "too_large"
	}
	if err != nil {
		log.Error("store file", "err", err)
		return f, "fetch_failed"
	}
	if d.quota != nil {
		// Recorded even when it puts the person over: the file is on disk
		// and must be counted (and collected when nothing uses it).
		if err := d.quota.RecordBlob(ctx, sum, personID, size, d.now()); err != nil {
			log.Warn("record evidence file", "err", err)
		}
	}
	f.SHA256, f.Size, f.MIME = sum, size, mime
	f.Name = files.SafeName(f.Name, mime)
	return f, ""
}

// overQuota returns the Problem for a file of size bytes (0 when unknown)
// that the person's or the total quota has no room for, "" when it fits.
func (d *Dispatcher) overQuota(ctx context.Context, personID string, size int64, log *slog.Logger) string {
	if d.quota == nil {
		return ""
	}
	person, total, err := d.quota.BlobUsage(ctx, personID)
	if err != nil {
		log.Warn("evidence usage", "err", err)
		return "" // a quota we cannot read does not stop official work
	}
	size = max(size, 1)
	switch {
	case total+size > d.allQuota:
		log.Warn("evidence storage is full", "total_bytes", total, "quota", d.allQuota)
		return "quota_total"
	case person+size > d.perQuota:
		log.Warn("person's evidence quota reached", "person", personID, "bytes", person, "quota", d.perQuota)
		return "quota_person"
	}
	return ""
}

// notify sends notices to other people on every channel they use. Best
// effort: the change is saved whatever happens to the notice.
func (d *Dispatcher) notify(ctx context.Context, notices []flows.Notice, log *slog.Logger) {
	for _, n := range notices {
		ids, err := d.store.Identities(ctx, n.PersonID)
		if err != nil {
			log.Warn("notice: identities", "err", err)
			continue
		}
		d.sendNotice(ctx, n, ids, log)
	}
}

// sendNotice sends n to the person's chats ids (all of them linked to
// n.PersonID), but the one it skips and any group.
func (d *Dispatcher) sendNotice(ctx context.Context, n flows.Notice, ids []domain.Identity, log *slog.Logger) {
	for _, id := range ids {
		if n.Skip != nil && id.Channel == n.Skip.Channel && id.UserID == n.Skip.UserID {
			continue
		}
		if !Private(id) {
			continue // a group linked before groups were refused
		}
		if err := d.send(ctx, id.Channel, id.ChatID, n.Replies); err != nil {
			log.Warn("notice not delivered", "channel", id.Channel, "err", err)
		}
	}
}

// Private reports whether an identity's chat is the person's own: on
// Telegram a private chat's id is the user's id; Zalo OA and web chats are
// one-to-one.
func Private(id domain.Identity) bool {
	return id.Channel != domain.Telegram || id.ChatID == id.UserID
}

// TaskContext tells a task who asked for it, from where.
type TaskContext struct {
	Task     flows.Task
	PersonID string
	// Verified: the asking chat's link is verified (SECURITY.md); tasks
	// that act for a body refuse otherwise.
	Verified bool
	Lang     domain.Lang
	Key      domain.UpdateKey // the update that asked: an idempotency key
	Channel  domain.Channel
	ChatID   string
	// Campaign is the data campaign the chat is about (flows.Facts.CampaignID),
	// "" for the current one.
	Campaign string
}

// TaskFunc carries out a flow's task and returns the replies for the chat.
type TaskFunc func(ctx context.Context, tc TaskContext) ([]flows.Reply, error)

// SetTask registers how the task name is carried out.
func (d *Dispatcher) SetTask(name string, fn TaskFunc) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tasks[name] = fn
}

// auditedTasks are the staff actions done in chat that the audit trail
// records, with the chat's channel.
var auditedTasks = map[string]string{"export": "export", "remind": "remind.send", "broadcast": "broadcast.send"}

func (d *Dispatcher) runTask(ctx context.Context, in Inbound, t flows.Task, s flows.Session, f flows.Facts, log *slog.Logger) {
	d.mu.RLock()
	fn := d.tasks[t.Name]
	d.mu.RUnlock()
	lang := s.Lang
	if lang == "" {
		lang = domain.Vietnamese
	}
	var replies []flows.Reply
	var err error
	if fn == nil {
		err = fmt.Errorf("no task %q", t.Name)
	} else {
		// The author is the person the database links this chat to, not
		// whatever the session remembers.
		person := ""
		if f.Person != nil {
			person = f.Person.ID
		}
		if action, ok := auditedTasks[t.Name]; ok {
			d.audit(ctx, person, action, auditDetail(t), in.Key.Channel, log)
		}
		replies, err = fn(ctx, TaskContext{Task: t, PersonID: person, Verified: f.Proof.Verified(), Lang: lang, Key: in.Key, Channel: in.Key.Channel, ChatID: in.ChatID, Campaign: f.CampaignID})
	}
	if err != nil {
		log.Error("task failed", "task", t.Name, "err", err)
		replies = []flows.Reply{{Text: flows.Text(lang, "task_failed")}}
	}
	if err := d.send(ctx, in.Key.Channel, in.ChatID, replies); err != nil {
		log.Warn("send task replies", "task", t.Name, "err", err)
	}
	// A large file was made on disk for this chat only: the sender has read
	// (or copied) it by now.
	for _, r := range replies {
		if r.File != nil && r.File.Path != "" {
			if err := os.Remove(r.File.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
				log.Warn("remove sent file", "err", err)
			}
		}
	}
}

// auditDetail is what the audit trail keeps of a task's argument: the
// export kind or the audience, never a broadcast's text.
func auditDetail(t flows.Task) string {
	if t.Name == "broadcast" {
		id, aud, _ := flows.SplitBroadcastArg(t.Arg)
		return clipData(id + " " + aud)
	}
	if tok, ev := flows.SplitRemindArg(t.Arg); t.Name == "remind" && ev != "" {
		return clipData("event:" + ev + " " + tok) // the event's audit names it
	}
	a, _, _ := strings.Cut(t.Arg, "\n")
	return clipData(a)
}

func (d *Dispatcher) audit(ctx context.Context, person, action, detail string, ch domain.Channel, log *slog.Logger) {
	a, ok := d.store.(interface {
		AddAuditFrom(ctx context.Context, at time.Time, personID, action, detail string, ch domain.Channel) error
	})
	if !ok {
		return
	}
	if err := a.AddAuditFrom(ctx, d.now(), person, action, detail, ch); err != nil {
		log.Error("audit", "action", action, "err", err)
	}
}

// exportTask builds a staff export as a file.
func (d *Dispatcher) exportTask(ctx context.Context, tc TaskContext) ([]flows.Reply, error) {
	var f *flows.File
	var err error
	if ce, ok := d.exporter.(CampaignExporter); ok && d.camps != nil && tc.Campaign != "" && tc.Campaign != d.camps.Current() {
		f, err = ce.ExportCampaign(ctx, tc.Campaign, tc.Task.Arg)
	} else {
		f, err = d.exporter.Export(ctx, tc.Task.Arg)
	}
	if err != nil {
		return nil, err
	}
	return []flows.Reply{{File: f}}, nil
}

// maxLater bounds the work queued behind replies; beyond it the work runs
// in the update's own turn (memory stays bounded, the chat just waits).
const maxLater = 1000

// later runs fn after the current update, off the chat's turn, after the
// work queued earlier for the same chat. It is as durable as it was in
// the turn: the update is marked done before either.
func (d *Dispatcher) later(ctx context.Context, chat string, fn func(ctx context.Context)) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	if d.afterN.Add(1) > maxLater {
		d.afterN.Add(-1)
		fn(ctx)
		cancel()
		return
	}
	d.afterWG.Add(1)
	d.afterOrder.goDo(chat, func() {
		defer d.afterWG.Done()
		defer d.afterN.Add(-1)
		defer cancel()
		fn(ctx)
	})
}

// WaitAfter waits for the work queued behind replies (notices, substitute
// invitations) to finish; call it before closing the stores.
func (d *Dispatcher) WaitAfter() { d.afterWG.Wait() }

// serializer runs functions one at a time per key, in the order do is
// called, and different keys in parallel.
type serializer struct {
	mu   sync.Mutex
	tail map[string]chan struct{}
}

func (s *serializer) do(key string, fn func()) {
	prev, done := s.enter(key)
	defer s.leave(key, done)
	if prev != nil {
		<-prev
	}
	fn()
}

// goDo is do in a goroutine of its own, its place in key's order taken
// now.
func (s *serializer) goDo(key string, fn func()) {
	prev, done := s.enter(key)
	go func() {
		defer s.leave(key, done)
		if prev != nil {
			<-prev
		}
		fn()
	}()
}

// enter takes the next place in key's order: it returns what to wait for
// (nil: nothing) and what to close when done (leave).
func (s *serializer) enter(key string) (prev, done chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tail == nil {
		s.tail = map[string]chan struct{}{}
	}
	prev = s.tail[key]
	done = make(chan struct{})
	s.tail[key] = done
	return prev, done
}

func (s *serializer) leave(key string, done chan struct{}) {
	close(done)
	s.mu.Lock()
	if s.tail[key] == done {
		delete(s.tail, key)
	}
	s.mu.Unlock()
}

// clipData keeps a button payload short enough for a log line.
func clipData(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}
