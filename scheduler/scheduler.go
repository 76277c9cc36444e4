// Package scheduler sends what nobody asked for at that moment: agenda
// reminders, RSVP chasers, agenda change notices, the indicator deadline
// ladder, staff digests and broadcasts.
//
// Every message goes through an outbox table with a unique idempotency key
// "job|occurrence|recipient", so that it is enqueued once however often a
// job is evaluated, by however many processes. Timed jobs run in one process
// at a time (a lease row with a fencing token); a brief double leadership
// cannot duplicate anything because the key is the real guard. Any process
// may drain the outbox: rows are claimed with a lease (FOR UPDATE SKIP
// LOCKED on PostgreSQL), sent at Telegram's pace (30 messages a second in
// all, one a second per chat, retry_after honoured), retried with
// exponential backoff on transient errors and given up on 403.
//
// Delivery is at least once with a bounded repeat: a message whose send was
// in flight when its process died is sent again by the next worker once the
// claim lease (Config.ClaimLease) runs out, so it can arrive twice; at most
// Config.MaxInFlight messages are in flight per process at any moment. A
// process stopped by cancelling its context gives back the rows it has not
// sent yet at once.
//
// Time comes from Config.Now; RunDue evaluates every job for the window since
// its last evaluation, so that tests can move time and a process that was
// down catches up: a moment missed by less than the job's grace is still
// sent, one missed by more is recorded as skipped with the reason.
package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// Outbox is what the scheduler needs of the database: the outbox queue, the
// leader lease and its own bookkeeping. *postgres.Store and *sqlite.Store
// implement it (through sqlstore.Queries).
type Outbox interface {
	Enqueue(ctx context.Context, it sqlstore.OutboxItem) (bool, error)
	Claim(ctx context.Context, worker string, now time.Time, limit int, lease time.Duration) ([]sqlstore.OutboxItem, error)
	MarkSent(ctx context.Context, id int64, worker string, at time.Time) error
	MarkRetry(ctx context.Context, id int64, worker string, next time.Time, errText string) error
	Release(ctx context.Context, id int64, worker string, next time.Time, note string) error
	MarkFailed(ctx context.Context, id int64, worker string, errText string) error
	MarkSkipped(ctx context.Context, id int64, worker string, reason string) error
	MarkUnreachable(ctx context.Context, id int64, worker string, at time.Time, reason string) error
	Unreachables(ctx context.Context) ([]sqlstore.Unreachable, error)
	OutboxStats(ctx context.Context) (sqlstore.OutboxStats, error)

	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (fence int64, ok bool, err error)
	ReleaseLease(ctx context.Context, name, holder string) error
	JobRun(ctx context.Context, job string) (last time.Time, ok bool, err error)
	SetJobRun(ctx context.Context, job string, at time.Time, fence int64) error
	AgendaSnapshot(ctx context.Context, eventID string) (version int, hash string, snapshot []byte, err error)
	SetAgendaSnapshot(ctx context.Context, eventID string, version int, hash string, snapshot []byte, at time.Time) error

	BeginManualSend(ctx context.Context, id, kind, personID string, now time.Time) (sqlstore.ManualSend, error)
	FinishManualSend(ctx context.Context, id string, sent int) error
}

// Progress tells where the focal points stand with their indicators. The
// database implements it; with none configured the indicator jobs do
// nothing.
type Progress interface {
	// Unfinished returns, per focal point and agency, the indicators not
	// yet submitted (or returned for correction).
	Unfinished(ctx context.Context) ([]FocalTask, error)
}

// FocalTask is what one focal point still owes for one agency by one
// deadline; a focal point with items due on different days has one task per
// deadline.
type FocalTask struct {
	PersonID   string
	AgencyCode string
	Deadline   time.Time
	Items      []TaskItem
}

// TaskItem is one missing indicator.
type TaskItem struct {
	Code   string
	Name   string // Vietnamese
	NameEN string // optional
	Status domain.SubmissionStatus
}

func (i TaskItem) name(lang domain.Lang) string {
	if lang == domain.English && i.NameEN != "" {
		return i.NameEN
	}
	return i.Name
}

// Config is what a Scheduler needs. Store, Outbox, Event and Directory are
// required; the rest have defaults.
type Config struct {
	Store     storage.Store
	Outbox    Outbox
	Senders   map[domain.Channel]bot.Sender
	Event     *domain.Event
	Directory func() *domain.Directory
	Schedule  *Schedule // nil: DefaultSchedule()
	Progress  Progress  // nil: the indicator jobs do nothing
	Now       func() time.Time
	Log       *slog.Logger

	// Plan keeps the organisers' plan, conclusions and check-ins (nil:
	// no task reminders, conclusions or feedback form).
	Plan PlanStore

	// WorkerID names this process in claims and the leader lease; default
	// random.
	WorkerID string
	// Tick is how often the leader evaluates the jobs (default 20s) and
	// PollInterval how often the sender looks for due rows (default 1s).
	Tick, PollInterval time.Duration
	// LeaderTTL is the leader lease (default 1m); ClaimLease how long a
	// claimed row stays with its worker (default 2m).
	LeaderTTL, ClaimLease time.Duration
	// MaxInFlight bounds concurrent sends (default 8); Batch the rows
	// claimed at once (default the per-second rate).
	MaxInFlight, Batch int
	// RetryBase and RetryMax bound the backoff after a transient error
	// (default 10s doubling up to 30m).
	RetryBase, RetryMax time.Duration
	// FirstRunLookback is how far back a job looks the first time it is
	// evaluated (default 24h): moments before are not even recorded.
	FirstRunLookback time.Duration
	// Pace, for a channel, paces its messages in place of this process's
	// own pacer: shared by every process, and with the replies to people
	// writing in (bot/pace).
	Pace map[domain.Channel]Pacer

	// EventKey, when set, names the event's jobs "EventKey/job" (in the
	// outbox keys and the jobs' bookkeeping), so that two events' reminders
	// at the same moment to the same person are two messages. It is the
	// event's id (domain.EventRecord).
	EventKey string
	// EventCode is the event's code, carried by the answer buttons of its
	// chasers ("" with a single event: plain buttons, as before).
	EventCode string
	// RSVPs returns the event's current answers (nil: Store.CurrentRSVPs).
	RSVPs func(ctx context.Context) (map[string]domain.RSVP, error)
	// Invited says whether a person is invited to the event (nil:
	// everyone in the directory).
	Invited func(personID string) bool
	// EventOnly leaves out the data campaign's jobs: set for every event
	// but the one the campaign runs with.
	EventOnly bool
	// AfterOnly, in a Config that Events returns, runs only the event's
	// meeting jobs that outlive its answers (documents while it is not
	// over, the plan's and follow-ups' ladder, the feedback form): set for
	// an event whose answers are closed or that is over.
	AfterOnly bool

	// Meeting lists the event's documents (job meeting_documents; nil: the
	// job does nothing), Files reads them, DocLinks signs their web links
	// (nil: none).
	Meeting  MeetingDocs
	Files    bot.BlobOpener
	DocLinks *bot.DocLinks

	// Events, when set, lists the other events whose jobs this scheduler
	// runs (each a Config as for AddEvent). It is read again at every
	// evaluation, so that an event opened, closed or archived in the
	// console has its reminders start or stop without a restart: an event
	// no longer listed has no more jobs run. Events added with AddEvent
	// stay as they are.
	Events func(ctx context.Context, now time.Time) ([]Config, error)
	// EventVersion, in a Config that Events returns, changes when the
	// event does (its record's update time, its invitees): an event's jobs
	// are built again only then.
	EventVersion string

	// Campaigns, when set, lists the open data campaigns (OpenCampaigns),
	// each a Config with Campaign, CampaignKey, CampaignVersion and
	// Progress: each runs its own indicator jobs (ladder, escalation,
	// digest) in place of this scheduler's, read again at every
	// evaluation, so that a campaign closed or archived sends nothing more.
	Campaigns func(ctx context.Context, now time.Time) ([]Config, error)
	// Campaign is, in a Config that Campaigns returns, the campaign whose
	// indicator jobs it runs; CampaignKey names them ("" for the current
	// campaign: plain names, as before; "cp:ID" for another);
	// CampaignVersion changes when the record does.
	Campaign        *domain.CampaignRecord
	CampaignKey     string
	CampaignVersion string
	// CampaignOnly runs only the indicator jobs (set on a campaign's
	// scheduler).
	CampaignOnly bool
}

// eventJobs are the jobs about the event (named per event with EventKey).
var eventJobs = map[string]bool{JobAgendaDayBefore: true, JobAgendaMorning: true, JobSpeaker: true, JobAgendaChange: true,
	JobRSVPChaser: true, JobStaffSummary: true}

// meetingEventJobs are the meeting's jobs every event runs for itself
// (issue 15). The served event's keep their plain names, so that the outbox
// keys already written stay valid; another event's are named after it.
var meetingEventJobs = map[string]bool{JobMeetingDocs: true, JobTaskLadder: true, JobFeedback: true}

// jobName is a job's name in the outbox and the jobs' bookkeeping.
func (s *Scheduler) jobName(name string) string {
	if s.c.CampaignOnly {
		if s.c.CampaignKey != "" {
			return s.c.CampaignKey + "/" + name
		}
		return name
	}
	if s.c.EventKey != "" && (eventJobs[name] || (s.c.EventOnly && meetingEventJobs[name])) {
		return s.c.EventKey + "/" + name
	}
	return name
}

// ForEvent returns the scheduler that runs eventID's jobs: this one for its
// own event (or ""), else the other event's (false when it runs none, e.g.
// an archived event). The events are read again first (one query; children
// whose event has not changed are kept), so an event created or edited a
// moment ago — in this process or another — is served as it is now, not as
// the last evaluation saw it. Callers are staff actions (reminders,
// conclusions, votes), not every update.
func (s *Scheduler) ForEvent(ctx context.Context, eventID string) (*Scheduler, bool) {
	if eventID == "" || (s.c.Event != nil && s.c.Event.ID == eventID) {
		return s, true
	}
	if err := s.refreshEvents(ctx, s.c.Now()); err != nil {
		s.log.Warn("scheduler: other events", "err", err)
	}
	for _, o := range s.otherEvents() {
		if o.c.Event.ID == eventID {
			return o, true
		}
	}
	return nil, false
}

// Event is the event this scheduler's jobs are about.
func (s *Scheduler) Event() *domain.Event { return s.c.Event }

// AfterOnly reports whether this event's scheduler runs only the jobs of
// after the meeting (the event is closed or over): no RSVP reminders.
func (s *Scheduler) AfterOnly() bool { return s.c.AfterOnly }

// AddEvent has the scheduler evaluate the jobs of one more event: c is
// that event's Config (Event, EventKey, RSVPs, Invited, Schedule; the
// rest is taken from this scheduler's). Its messages go through this
// scheduler's outbox and sender; it runs the event's jobs only.
func (s *Scheduler) AddEvent(c Config) error {
	child, err := s.child(c)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.others = append(s.others, child)
	s.mu.Unlock()
	return nil
}

// child builds the scheduler of another event.
func (s *Scheduler) child(c Config) (*Scheduler, error) {
	if c.Event == nil || c.EventKey == "" {
		return nil, errors.New("scheduler: another event needs Event and EventKey")
	}
	base := s.c
	base.Event, base.EventKey, base.RSVPs, base.Invited, base.Schedule = c.Event, c.EventKey, c.RSVPs, c.Invited, c.Schedule
	base.EventCode, base.EventVersion, base.AfterOnly = c.EventCode, c.EventVersion, c.AfterOnly
	base.EventOnly, base.Events, base.Campaigns = true, nil, nil
	child, err := New(base)
	if err != nil {
		return nil, err
	}
	child.wake = s.wake // what it enqueues wakes this scheduler's sender
	return child, nil
}

// refreshEvents reads Config.Events again and keeps the other events'
// schedulers in step: new events get one, changed ones a new one, events
// no longer listed (closed, archived, over) lose theirs. An event that
// cannot be built is left out with an error; the others still run.
func (s *Scheduler) refreshEvents(ctx context.Context, now time.Time) error {
	if s.c.Events == nil {
		return nil
	}
	cs, err := s.c.Events(ctx, now)
	if err != nil {
		return fmt.Errorf("other events: %w", err)
	}
	s.mu.Lock()
	have := map[string]*Scheduler{}
	for _, o := range s.listed {
		have[o.c.EventKey] = o
	}
	s.mu.Unlock()
	var keep []*Scheduler
	var errs []error
	for _, c := range cs {
		if o, ok := have[c.EventKey]; ok && o.c.EventVersion == c.EventVersion {
			keep = append(keep, o)
			continue
		}
		child, err := s.child(c)
		if err != nil {
			errs = append(errs, fmt.Errorf("event %s: %w", c.EventKey, err))
			continue
		}
		keep = append(keep, child)
	}
	s.mu.Lock()
	s.listed = keep
	s.mu.Unlock()
	return errors.Join(errs...)
}

// otherEvents returns the other events' schedulers: those added and those
// listed by Config.Events.
func (s *Scheduler) otherEvents() []*Scheduler {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(slices.Clone(s.others), s.listed...)
}

// Pacer keeps one channel's messages within its limits for all processes.
type Pacer interface {
	// Wait returns when one message to chat may go out, or at once a
	// *pace.BusyError when the chat may not have one for a while (the row
	// then waits in the outbox).
	Wait(ctx context.Context, chat string) error
	// Pause stops every process's messages until until (a 429).
	Pause(ctx context.Context, until time.Time) error
}

// Scheduler runs the jobs and drains the outbox.
type Scheduler struct {
	c     Config
	sched *Schedule
	loc   *time.Location
	jobs  []*job
	log   *slog.Logger

	mu     sync.Mutex
	pacers map[domain.Channel]*pacer
	paused map[domain.Channel]time.Time
	away   atomic.Int64 // rows waiting in this process for their busy chat (sender.go)
	turns  chatTurns    // one chat's sends in their order (sender.go)
	fence  int64

	wake    chan struct{}
	refresh chan struct{} // Refresh: evaluate now, not at the next tick

	others []*Scheduler // other events' jobs (AddEvent), evaluated with these
	listed []*Scheduler // other events' jobs (Config.Events), read again each evaluation
	camps  []*Scheduler // the open campaigns' indicator jobs (Config.Campaigns)
}

// forever is the grace of messages that never expire (manual ones).
const forever = time.Duration(1<<63 - 1)

// LeaseName is the leader lease's row in scheduler_leader.
const LeaseName = "scheduler"

// New checks the configuration and returns a scheduler.
func New(c Config) (*Scheduler, error) {
	if c.Store == nil || c.Outbox == nil || c.Event == nil || c.Directory == nil {
		return nil, errors.New("scheduler: Store, Outbox, Event and Directory are required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.WorkerID == "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		c.WorkerID = "w-" + hex.EncodeToString(b)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Tick, 20*time.Second)
	def(&c.PollInterval, time.Second)
	def(&c.LeaderTTL, time.Minute)
	def(&c.ClaimLease, 2*time.Minute)
	def(&c.RetryBase, 10*time.Second)
	def(&c.RetryMax, 30*time.Minute)
	def(&c.FirstRunLookback, 24*time.Hour)
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 8
	}
	sc := c.Schedule
	if sc == nil {
		sc = DefaultSchedule()
	}
	rate := sc.Rate
	if rate.PerSecond <= 0 {
		rate.PerSecond = 30
	}
	if rate.PerChatPerSecond <= 0 {
		rate.PerChatPerSecond = 1
	}
	if rate.MaxAttempts <= 0 {
		rate.MaxAttempts = 8
	}
	sc.Rate = rate
	if c.Batch <= 0 {
		c.Batch = rate.PerSecond
	}
	loc := sc.Location
	if loc == nil {
		loc = c.Event.Location
	}
	if loc == nil {
		loc = time.UTC
	}
	s := &Scheduler{
		c: c, sched: sc, loc: loc, log: c.Log.With("component", "scheduler", "worker", c.WorkerID),
		paused: map[domain.Channel]time.Time{},
		wake:   make(chan struct{}, 1), refresh: make(chan struct{}, 1),
	}
	s.jobs = s.buildJobs()
	if dir := c.Directory(); dir != nil {
		for no, ids := range sc.Speakers {
			for _, id := range ids {
				if _, ok := dir.Person(id); !ok {
					s.log.Warn("schedule: speaker is not in the people list", "item", no, "person", id)
				}
			}
			if no > len(c.Event.Agenda) {
				s.log.Warn("schedule: speakers for an agenda item that does not exist", "item", no)
			}
		}
		for code, id := range sc.AgencyLeaders {
			if _, ok := dir.Person(id); !ok {
				s.log.Warn("schedule: agency leader is not in the people list", "agency", code, "person", id)
			}
		}
	}
	return s, nil
}

// DefaultSchedule is the schedule used when none is configured: the one in
// configs/example/schedule.yaml without speakers or agency leaders.
func DefaultSchedule() *Schedule {
	at := func(ss ...string) []Offset {
		var out []Offset
		for _, s := range ss {
			o, err := ParseOffset(s)
			if err != nil {
				panic(err)
			}
			out = append(out, o)
		}
		return out
	}
	daily, _ := ParseSpec("0 8 * * *")
	overdue, _ := ParseOffset("08:00")
	return &Schedule{
		Jobs: map[string]JobSpec{
			JobAgendaDayBefore:     {Enabled: true, At: at("-1d 15:00"), Grace: -1},
			JobAgendaMorning:       {Enabled: true, At: at("0d 06:30"), Grace: time.Hour},
			JobSpeaker:             {Enabled: true, At: at("-15m"), Grace: -1},
			JobAgendaChange:        {Enabled: true, Grace: -1},
			JobRSVPChaser:          {Enabled: true, At: at("-3d 09:00", "-1d 09:00"), Grace: -1},
			JobStaffSummary:        {Enabled: true, Cron: daily, Grace: -1},
			JobIndicatorLadder:     {Enabled: true, At: at("-7d 08:00", "-3d 08:00", "-1d 08:00", "0d 08:00"), Overdue: &overdue, Grace: -1},
			JobIndicatorEscalation: {Enabled: true, At: at("+1d 09:00"), Grace: -1},
			JobIndicatorDigest:     {Enabled: true, Cron: daily, Grace: -1},
			JobMeetingDocs:         {Enabled: true, At: at("-1d 16:00"), Grace: -1},
		},
		Speakers:      map[int][]string{},
		AgencyLeaders: map[string]string{},
	}
}

// Run runs until ctx ends: the leader loop (take or renew the lease; while
// leader, evaluate the jobs every Tick) and the sender loop (drain the
// outbox every PollInterval, or at once after this process enqueued).
func (s *Scheduler) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.senderLoop(ctx)
	}()
	s.leaderLoop(ctx)
	wg.Wait()
	return nil
}

func (s *Scheduler) leaderLoop(ctx context.Context) {
	leading := false
	tick := time.NewTicker(s.c.Tick)
	defer tick.Stop()
	for {
		fence, ok, err := s.c.Outbox.AcquireLease(ctx, LeaseName, s.c.WorkerID, s.c.Now(), s.c.LeaderTTL)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("leader lease", "err", err)
		case ok:
			if !leading {
				s.log.Info("leading the scheduled jobs", "fence", fence)
			}
			leading = true
			s.mu.Lock()
			s.fence = fence
			s.mu.Unlock()
			if _, err := s.RunDue(ctx, s.c.Now()); err != nil && ctx.Err() == nil {
				s.log.Error("scheduled jobs", "err", err)
			}
		default:
			if leading {
				s.log.Info("no longer leading the scheduled jobs")
			}
			leading = false
		}
		select {
		case <-ctx.Done():
			if leading {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				_ = s.c.Outbox.ReleaseLease(rctx, LeaseName, s.c.WorkerID)
				cancel()
			}
			return
		case <-tick.C:
		case <-s.refresh:
		}
	}
}

// Refresh has the leader loop evaluate the jobs now rather than at the
// next tick: called when the console changes an event, so that its
// reminders (Config.Events) follow at once. In a process that is not the
// leader it only renews its lease early; the leader's next tick does it.
func (s *Scheduler) Refresh() {
	select {
	case s.refresh <- struct{}{}:
	default:
	}
}

func (s *Scheduler) currentFence() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fence
}

// kick wakes the sender loop.
func (s *Scheduler) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// ---------------------------------------------------------------- jobs

// occurrence is one moment of a job: its messages share the key part id.
type occurrence struct {
	id      string
	at      time.Time
	grace   time.Duration // how late it may still be enqueued and sent
	expires time.Time     // zero: at+grace
	build   func(ctx context.Context, w *world) ([]delivery, error)
	after   func(ctx context.Context) error // run once everything is enqueued
}

// delivery is one message of an occurrence.
type delivery struct {
	recipient string // key part; the person id unless set
	personID  string
	render    func(lang domain.Lang) []flows.Reply
	skip      string // recorded as skipped with this reason, not sent
}

type job struct {
	name string
	// occurrences returns the job's moments in (from, to].
	occurrences func(ctx context.Context, w *world, from, to time.Time) ([]occurrence, error)
}

// RunDue evaluates every job for the window since its last evaluation up to
// now and enqueues what is due. It returns how many messages it enqueued to
// be sent (skipped records not counted). Jobs are independent: one failing
// does not stop the others, and it is evaluated again next time (the keys
// keep what was already enqueued from being doubled).
func (s *Scheduler) RunDue(ctx context.Context, now time.Time) (int, error) {
	skipped := map[string]int{}
	total, err := s.runDue(ctx, now, skipped)
	if total > 0 {
		s.kick()
	}
	if n := sumCounts(skipped); n > 0 {
		s.log.Info(fmt.Sprintf("%d nhắc nhở đã quá hạn hoặc chưa có người nhận được ghi là bỏ qua (xem lý do: dieuphoi schedule)", n),
			"skipped", n, "by_job", skipped)
	}
	return total, err
}

// runDue is RunDue without its log line: what was recorded as skipped is
// added to skipped, so that the other events' and the campaigns' are in
// the one summary.
func (s *Scheduler) runDue(ctx context.Context, now time.Time, skipped map[string]int) (int, error) {
	w := s.newWorld()
	w.skipped = skipped
	total := 0
	var errs []error
	if err := s.refreshEvents(ctx, now); err != nil {
		errs = append(errs, err)
	}
	if err := s.refreshCampaigns(ctx, now); err != nil {
		errs = append(errs, err)
	}
	for _, j := range s.jobs {
		n, err := s.runJob(ctx, w, j, now)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", j.name, err))
		}
	}
	others := s.otherEvents()
	fence := s.currentFence()
	for _, o := range others {
		o.mu.Lock()
		o.fence = fence
		o.mu.Unlock()
		n, err := o.runDue(ctx, now, skipped)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("event %s: %w", o.c.EventKey, err))
		}
	}
	for _, o := range s.campaignSchedulers() {
		o.mu.Lock()
		o.fence = fence
		o.mu.Unlock()
		n, err := o.runDue(ctx, now, skipped)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("campaign %s: %w", o.c.Campaign.ID, err))
		}
	}
	return total, errors.Join(errs...)
}

func (s *Scheduler) runJob(ctx context.Context, w *world, j *job, now time.Time) (int, error) {
	last, ok, err := s.c.Outbox.JobRun(ctx, j.name)
	if err != nil {
		return 0, err
	}
	from := last
	if !ok {
		from = now.Add(-s.c.FirstRunLookback)
	}
	occs, err := j.occurrences(ctx, w, from, now)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, o := range occs {
		n, err := s.enqueueOccurrence(ctx, w, j.name, o, now)
		total += n
		if err != nil {
			return total, err
		}
	}
	if now.After(from) {
		if err := s.c.Outbox.SetJobRun(ctx, j.name, now, s.currentFence()); err != nil {
			return total, err
		}
	}
	return total, nil
}

func (s *Scheduler) enqueueOccurrence(ctx context.Context, w *world, jobName string, o occurrence, now time.Time) (int, error) {
	ds, err := o.build(ctx, w)
	if err != nil {
		return 0, err
	}
	late := ""
	if lag := now.Sub(o.at); lag > o.grace {
		late = t(domain.Vietnamese, "skip_late", now.In(s.loc).Format("15:04 02/01/2006"),
			humanDuration(domain.Vietnamese, lag), humanDuration(domain.Vietnamese, o.grace))
	}
	expires := o.expires
	if expires.IsZero() && o.grace > 0 && o.grace != forever {
		expires = o.at.Add(o.grace)
	}
	n := 0
	for _, d := range ds {
		added, err := s.enqueue(ctx, w, jobName, o.id, o.at, expires, d, late, now)
		if err != nil {
			return n, err
		}
		if added {
			n++
		}
	}
	if o.after != nil {
		if err := o.after(ctx); err != nil {
			return n, err
		}
	}
	return n, nil
}

// enqueue adds one message; it reports whether a new row to send was added.
func (s *Scheduler) enqueue(ctx context.Context, w *world, jobName, occID string, due, expires time.Time, d delivery, skip string, now time.Time) (bool, error) {
	rcpt := d.recipient
	if rcpt == "" {
		rcpt = d.personID
	}
	it := sqlstore.OutboxItem{
		Key: jobName + "|" + occID + "|" + rcpt, Job: jobName, PersonID: d.personID,
		DueAt: due, ExpiresAt: expires, CreatedAt: now,
	}
	reason := skip
	if reason == "" {
		reason = d.skip
	}
	if reason == "" {
		r, err := w.recipient(ctx, d.personID)
		if err != nil {
			return false, err
		}
		if r.channel == "" {
			reason = r.why
		} else {
			payload, err := json.Marshal(d.render(r.lang))
			if err != nil {
				return false, fmt.Errorf("encode message: %w", err)
			}
			it.Channel, it.ChatID, it.Payload = r.channel, r.chatID, payload
		}
	}
	if reason != "" {
		it.Status, it.LastError = sqlstore.OutboxSkipped, reason
	}
	added, err := s.c.Outbox.Enqueue(ctx, it)
	if err != nil {
		return false, err
	}
	if added && reason != "" {
		// One line per message would bury everything else after a restart
		// with a later clock (hundreds of reminders whose moment passed):
		// RunDue sums them up; the outbox keeps each with its reason.
		s.log.Debug("message recorded as skipped", "key", it.Key, "reason", reason)
		w.skipped[jobName]++
	}
	return added && reason == "", nil
}

// window returns the moments among offsets from anchor and the cron spec
// that fall in (from, to].
func (s *Scheduler) window(spec JobSpec, anchor, from, to time.Time) []time.Time {
	var out []time.Time
	for _, o := range spec.At {
		at := o.From(anchor, s.loc)
		if at.After(from) && !at.After(to) {
			out = append(out, at)
		}
	}
	if spec.Cron != nil {
		at := from.In(s.loc)
		for range 10000 {
			at = spec.Cron.Next(at)
			if at.IsZero() || at.After(to) {
				break
			}
			out = append(out, at)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

func (s *Scheduler) grace(spec JobSpec, def time.Duration) time.Duration {
	if spec.Grace >= 0 {
		return spec.Grace
	}
	return def
}

func (s *Scheduler) occID(at time.Time) string { return at.In(s.loc).Format("2006-01-02T15:04") }

func (s *Scheduler) buildJobs() []*job {
	var jobs []*job
	add := func(name string, fn func(spec JobSpec) func(context.Context, *world, time.Time, time.Time) ([]occurrence, error)) {
		spec := s.sched.Job(name)
		if !spec.Enabled || (s.c.EventOnly && !eventJobs[name] && !meetingEventJobs[name]) || (s.c.AfterOnly && !meetingEventJobs[name]) {
			return
		}
		// With Config.Campaigns every open campaign's scheduler runs the
		// indicator jobs, this one none; a campaign's runs only those.
		if (s.c.Campaigns != nil && indicatorJobs[name]) || (s.c.CampaignOnly && !indicatorJobs[name]) {
			return
		}
		jobs = append(jobs, &job{name: s.jobName(name), occurrences: fn(spec)})
	}
	add(JobAgendaDayBefore, func(spec JobSpec) func(context.Context, *world, time.Time, time.Time) ([]occurrence, error) {
		return s.attendeeReminder(spec, "day_before")
	})
	add(JobAgendaMorning, func(spec JobSpec) func(context.Context, *world, time.Time, time.Time) ([]occurrence, error) {
		return s.attendeeReminder(spec, "morning")
	})
	add(JobSpeaker, s.speakerJob)
	add(JobAgendaChange, s.agendaChangeJob)
	add(JobRSVPChaser, s.chaserJob)
	add(JobStaffSummary, s.staffSummaryJob)
	add(JobIndicatorLadder, s.ladderJob)
	add(JobIndicatorEscalation, s.escalationJob)
	add(JobIndicatorDigest, s.digestJob)
	add(JobMeetingDocs, s.meetingDocsJob)
	if s.c.CampaignOnly {
		return jobs
	}
	// The plan's tasks and the feedback form run for every event, each its
	// own (another event's named after it: jobName).
	return append(jobs, s.meetingJobs()...)
}

// ---------------------------------------------------------------- the world

// world is what one evaluation reads, loaded once and lazily.
type world struct {
	s       *Scheduler
	dir     *domain.Directory
	rsvps   map[string]domain.RSVP
	unreach map[string]map[domain.Channel]sqlstore.Unreachable
	ulist   []sqlstore.Unreachable
	people  map[string]*recipient
	tasks   []FocalTask
	loaded  map[string]bool
	skipped map[string]int // job → messages recorded as skipped
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

type recipient struct {
	lang    domain.Lang
	channel domain.Channel
	chatID  string
	why     string // when no channel
}

func (s *Scheduler) newWorld() *world {
	dir := s.c.Directory()
	if dir == nil {
		dir = domain.NewDirectory(nil, nil)
	}
	return &world{s: s, dir: dir, people: map[string]*recipient{}, loaded: map[string]bool{}, skipped: map[string]int{}}
}

func (w *world) currentRSVPs(ctx context.Context) (map[string]domain.RSVP, error) {
	if !w.loaded["rsvps"] {
		read := w.s.c.Store.CurrentRSVPs
		if w.s.c.RSVPs != nil {
			read = w.s.c.RSVPs
		}
		m, err := read(ctx)
		if err != nil {
			return nil, err
		}
		w.rsvps, w.loaded["rsvps"] = m, true
	}
	return w.rsvps, nil
}

func (w *world) unreachables(ctx context.Context) ([]sqlstore.Unreachable, error) {
	if !w.loaded["unreach"] {
		list, err := w.s.c.Outbox.Unreachables(ctx)
		if err != nil {
			return nil, err
		}
		w.ulist = list
		w.unreach = map[string]map[domain.Channel]sqlstore.Unreachable{}
		for _, u := range list {
			if w.unreach[u.PersonID] == nil {
				w.unreach[u.PersonID] = map[domain.Channel]sqlstore.Unreachable{}
			}
			w.unreach[u.PersonID][u.Channel] = u
		}
		w.loaded["unreach"] = true
	}
	return w.ulist, nil
}

func (w *world) focalTasks(ctx context.Context) ([]FocalTask, error) {
	if w.s.c.Progress == nil {
		return nil, nil
	}
	if !w.loaded["tasks"] {
		tasks, err := w.s.c.Progress.Unfinished(ctx)
		if err != nil {
			return nil, fmt.Errorf("indicator progress: %w", err)
		}
		w.tasks, w.loaded["tasks"] = tasks, true
	}
	return w.tasks, nil
}

// channelOrder is the preference among a person's channels.
var channelOrder = []domain.Channel{domain.Telegram, domain.Zalo, domain.Web}

// recipient finds a person's language and the channel to reach them on:
// the first of Telegram, Zalo, web where they have an account, the channel
// has a sender and has not refused them.
func (w *world) recipient(ctx context.Context, personID string) (*recipient, error) {
	if r, ok := w.people[personID]; ok {
		return r, nil
	}
	if _, err := w.unreachables(ctx); err != nil {
		return nil, err
	}
	st, err := w.s.c.Store.PersonState(ctx, personID)
	if err != nil {
		return nil, fmt.Errorf("person %s: %w", personID, err)
	}
	r := &recipient{lang: st.Lang}
	if r.lang == "" {
		r.lang = domain.Vietnamese
	}
	ids, err := w.s.c.Store.Identities(ctx, personID)
	if err != nil {
		return nil, fmt.Errorf("person %s: %w", personID, err)
	}
	r.why = t(domain.Vietnamese, "skip_nochat")
	if len(ids) > 0 {
		var whys []string
		for _, ch := range channelOrder {
			if u, gone := w.unreach[personID][ch]; gone {
				whys = append(whys, string(ch)+": "+reasonText(domain.Vietnamese, u.Reason))
			}
		}
		r.why = t(domain.Vietnamese, "skip_unreach", strings.Join(whys, "; "))
	}
	var missing domain.Channel
	for _, ch := range channelOrder {
		for _, id := range ids {
			if id.Channel != ch || id.ChatID == "" || !bot.Private(id) {
				continue // reminders go to private chats only
			}
			if _, gone := w.unreach[personID][ch]; gone {
				continue
			}
			if w.s.c.Senders[ch] == nil {
				missing = ch
				continue
			}
			if r.channel == "" {
				r.channel, r.chatID, r.why = ch, id.ChatID, ""
			}
		}
	}
	if r.channel == "" && missing != "" {
		r.why = t(domain.Vietnamese, "skip_nosender", missing)
	}
	w.people[personID] = r
	return r, nil
}

func (w *world) status(personID string) domain.RSVPStatus {
	if r, ok := w.rsvps[personID]; ok {
		return r.Status
	}
	return domain.RSVPPending
}

func (w *world) withRole(role domain.Role) []domain.Person {
	var out []domain.Person
	for _, p := range w.dir.People() {
		// Staff hear about every event; others only about theirs.
		if p.Has(role) && (role == domain.RoleStaff || w.s.c.Invited == nil || w.s.c.Invited(p.ID)) {
			out = append(out, p)
		}
	}
	return out
}

func (w *world) personName(id string) string {
	if p, ok := w.dir.Person(id); ok {
		return p.FullName
	}
	return id
}

func (w *world) agencyName(code string, lang domain.Lang) string {
	if a, ok := w.dir.Agency(code); ok {
		return a.Name(lang)
	}
	return code
}

// attendees returns a delivery per delegate who will come (render gets the
// delegate) and one per substitute: sent when the substitute is a person
// with a chat (found by phone in the people list), else recorded skipped.
func (w *world) attendees(ctx context.Context, render func(p domain.Person, lang domain.Lang) []flows.Reply,
	renderSub func(sub domain.Person, delegate domain.Person, lang domain.Lang) []flows.Reply) ([]delivery, error) {
	rs, err := w.currentRSVPs(ctx)
	if err != nil {
		return nil, err
	}
	var out []delivery
	for _, p := range w.withRole(domain.RoleDelegate) {
		p := p
		r, ok := rs[p.ID]
		if !ok {
			continue
		}
		switch r.Status {
		case domain.RSVPAttend:
			out = append(out, delivery{personID: p.ID, render: func(lang domain.Lang) []flows.Reply { return render(p, lang) }})
		case domain.RSVPSubstitute:
			d := delivery{recipient: "sub:" + p.ID, personID: p.ID, skip: t(domain.Vietnamese, "skip_sub")}
			if r.Substitute != nil && renderSub != nil {
				if sp, ok := w.dir.ByPhone(r.Substitute.Phone); ok && sp.ID != p.ID {
					d = delivery{recipient: "sub:" + p.ID, personID: sp.ID, render: func(lang domain.Lang) []flows.Reply {
						return renderSub(sp, p, lang)
					}}
				}
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// unreachableLines lists the people channels refused, for staff.
func (w *world) unreachableLines(ctx context.Context, lang domain.Lang) ([]string, error) {
	list, err := w.unreachables(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range list {
		agency := ""
		if p, ok := w.dir.Person(u.PersonID); ok {
			agency = w.agencyName(p.AgencyCode, lang)
		}
		out = append(out, t(lang, "unreach_line", w.personName(u.PersonID), agency, u.Channel, reasonText(lang, u.Reason), shortDate(u.Since, w.s.loc)))
	}
	return out, nil
}

func joinLines(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, "\n")
}
