// Package zalo is the Zalo Official Account (OA) channel adapter: it receives
// the OA's webhook events, turns them into bot.Inbound events for a Handler
// and renders flows.Reply values as OA consultation messages
// (POST /v3.0/oa/message/cs).
//
// Zalo gives a webhook about two seconds and redelivers what is not answered
// 200 in time, so the webhook only verifies, de-duplicates and queues; a
// bounded in-process worker hands the events to the Handler, each user's in
// order, retrying those whose results could not be saved (bot.ErrNotSaved).
//
// The OA's access token lives about 25 hours and its refresh token is
// single-use: every refresh returns a new pair and spends the old refresh
// token. Tokens therefore live in a TokenStore shared by every process, and a
// refresh happens under a lease taken for the stored version, so that two
// processes never spend the same refresh token (the loser re-reads the
// winner's tokens). When Zalo refuses the refresh token the OA must be
// authorised again by a person: the adapter logs «Zalo cần cấp quyền lại»,
// returns ErrReauthorize and reports NeedsReauth; other channels keep
// running.
//
// Secrets (the app secret, the OA secret key, the tokens) never appear in a
// log line or a returned error.
//
// Zalo's rules this package follows, and where they come from:
//   - Webhook signature: header X-ZEvent-Signature is "mac=" followed by the
//     hex SHA-256 of app_id + raw body + the body's "timestamp" + the OA
//     secret key (not the app secret). Zalo developer docs, «Webhook / Xác
//     thực», as summarised in https://hainh.me/zalo-api-php-webhook-callback-official-account.html
//     and implemented by chatwoot (app/jobs/webhooks/zalo_events_job.rb).
//   - Webhook budget: answer 200 within about 2 s or Zalo retries for up to
//     12 hours and may disable the webhook (same article).
//   - Messaging window: an OA may reply to a user free of charge for 48 hours
//     after the user's last message (8 replies); later messages count as
//     proactive ("tin chủ động", verified OAs only, against a quota). Zalo OA
//     help centre, «Các loại tin của Zalo Official Account (OA)»,
//     https://zalooa.freshdesk.com/support/solutions/articles/64000261136 .
//     The consultation API itself refuses users who have not interacted for
//     7 days (error -230) or do not follow the OA (-213). Config.Window
//     (default 48 h) is what WithinWindow uses.
//   - Text messages carry at most 2000 characters; a template carries at most
//     5 buttons.
//   - Tokens: POST https://oauth.zaloapp.com/v4/oa/access_token, form app_id,
//     grant_type=refresh_token, refresh_token, header secret_key = the app
//     secret; the answer holds a new access_token and refresh_token, and
//     expires_in (seconds, about 90000, sent as a string). Failures come as
//     {"error":..., "error_name":..., "error_reason":...}, sometimes with
//     HTTP 200. Zalo developer docs, «Xác thực và ủy quyền cho ứng dụng»,
//     https://developers.zalo.me/docs/official-account/bat-dau/xac-thuc-va-uy-quyen-cho-ung-dung-new .
//   - Error codes (OA API appendix, «Mã lỗi»,
//     https://developers.zalo.me/docs/api/official-account-api/phu-luc/ma-loi-post-3234):
//     -216 and -124 invalid or expired access token; -213 user does not follow
//     the OA, -201 and -230 user outside the messaging window; -211 and -32
//     quota and rate limits.
package zalo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// Handler receives the events; *bot.Dispatcher is one.
type Handler interface {
	Handle(ctx context.Context, in bot.Inbound) error
}

// Tokens is the OA's token pair; see sqlstore.ZaloTokens. Printing or
// logging it shows neither token.
type Tokens = sqlstore.ZaloTokens

// TokenStore keeps the OA's tokens where every process sees them.
// *sqlstore.ZaloStore (postgres.Store.Zalo, sqlite.Store.Zalo) is one.
type TokenStore interface {
	// Get returns the stored tokens; an error wrapping storage.ErrNotFound
	// when there are none.
	Get(ctx context.Context) (Tokens, error)
	// CAS stores next (as version old.Version+1) when the stored version is
	// old.Version, releasing any lease; with old.Version 0 it stores the
	// first tokens when there are none. It reports whether it wrote.
	CAS(ctx context.Context, old, next Tokens) (bool, error)
	// Lease takes the refresh lease on version for owner until until, when
	// no other owner holds one unexpired at now.
	Lease(ctx context.Context, version int64, owner string, now, until time.Time) (bool, error)
	// Release gives up owner's lease.
	Release(ctx context.Context, owner string) error
}

// FileLinker issues a download link for a file (*filelink.Links).
type FileLinker interface {
	Link(f *flows.File) (string, error)
	TTL() time.Duration
}

// InteractionStore remembers when each user last interacted with the OA.
// *sqlstore.ZaloStore is one.
type InteractionStore interface {
	Touch(ctx context.Context, userID string, at time.Time) error
	// LastInteraction returns an error wrapping storage.ErrNotFound for a
	// user never seen.
	LastInteraction(ctx context.Context, userID string) (time.Time, error)
}

// Defaults.
const (
	DefaultAPIBase   = "https://openapi.zalo.me"
	DefaultOAuthBase = "https://oauth.zaloapp.com"
	// DefaultWindow is how long after a user's last interaction the OA may
	// message them free of charge (Zalo's reply window).
	DefaultWindow = 48 * time.Hour
)

// Config configures an Adapter.
type Config struct {
	AppID     string // the Zalo app linked to the OA
	OASecret  string // the OA secret key: signs webhook events
	AppSecret string // the app secret: the secret_key header of token refreshes
	OAID      string // the OA's id; the token store is keyed by it

	APIBase    string       // default DefaultAPIBase
	OAuthBase  string       // default DefaultOAuthBase
	HTTPClient *http.Client // default: a client without a global timeout (each call sets its own)

	Handler Handler
	Tokens  TokenStore
	// Interactions defaults to Tokens when that implements InteractionStore
	// (as *sqlstore.ZaloStore does).
	Interactions InteractionStore
	// Seed, when set, is stored when the store holds no tokens yet (the
	// first start: ZALO_ACCESS_TOKEN / ZALO_REFRESH_TOKEN). Tokens already
	// stored win: the seed's refresh token has usually been spent since.
	// ForceSeed replaces them anyway (after a re-authorisation).
	Seed      *Tokens
	ForceSeed bool

	Log *slog.Logger
	Now func() time.Time // default time.Now: token expiry and leases, real time
	// Clock is the bot's clock (a demo clock may run in the past): the
	// users' interactions are recorded and the messaging window checked in
	// it, so a demo shows the window as users will meet it. Default Now.
	Clock func() time.Time

	// Window is how long after a user's last interaction WithinWindow
	// reports true. Default DefaultWindow.
	Window time.Duration
	// RequestInfoImageURL is the picture Zalo requires on the «share your
	// phone number» (request_user_info) card shown for Reply.AskContact.
	// Without it the card is not sent (a warning is logged) and the user
	// types the number instead.
	RequestInfoImageURL string
	// RequestInfoTitle and RequestInfoSubtitle caption that card; defaults
	// in Vietnamese.
	RequestInfoTitle    string
	RequestInfoSubtitle string

	// Links hands out signed download links for files Zalo will not carry
	// (a calendar .ics, Excel, CSV, ZIP, or over the upload limits). Without
	// it such a file is replaced by a note saying it cannot be sent here.
	Links FileLinker

	// Sync handles each event before answering the webhook: 200 once its
	// results are saved, 500 when they could not be (Zalo then delivers it
	// again), so an event is never lost with the process. Handling takes
	// milliseconds, well inside Zalo's time budget. Without Sync events are
	// answered at once and handled from an in-memory queue.
	Sync bool
	// CheckWindow makes Send refuse (ErrOutsideWindow, without calling
	// Zalo) a message to a user whose last interaction is older than
	// Window: the scheduler then sends it through another channel.
	CheckWindow bool

	// MaxPending bounds the events queued and not yet handled; past it the
	// webhook answers 503 and Zalo delivers again later. Default 1000.
	MaxPending int
	// Workers bounds the events handled at once (each user's in order).
	// Default 8.
	Workers int
	// MaxAttempts bounds how often an event failing with an error other than
	// bot.ErrNotSaved is tried before it is dropped with an error log.
	// Default 5. Events failing with bot.ErrNotSaved are retried until Close.
	MaxAttempts int
	// DrainTimeout is how long Close waits for queued events. Default 10s.
	DrainTimeout time.Duration
	// RefreshCheck is how often the adapter looks whether the access token
	// is about to expire and refreshes it ahead. Default 1 minute; negative
	// disables the background check (tokens are then refreshed on use).
	RefreshCheck time.Duration
	// RefreshBefore is how long before expiry a token is refreshed. Default
	// 30 minutes.
	RefreshBefore time.Duration
}

// Errors.
var (
	// ErrOutsideWindow means Zalo refused the message because the user is
	// outside the messaging window or does not follow the OA. The scheduler
	// should reach them on another channel.
	ErrOutsideWindow = fmt.Errorf("zalo: user outside the 48-hour messaging window: %w", bot.ErrMessagingWindow)
	// ErrNotFollower means the user does not follow the OA (any more):
	// Zalo's «blocked the bot».
	ErrNotFollower = fmt.Errorf("zalo: user does not follow the OA: %w", bot.ErrUnreachable)
	// ErrQuota means the OA's message quota or rate limit is exhausted.
	ErrQuota = errors.New("zalo: message quota or rate limit exceeded")
	// ErrReauthorize means Zalo refused the refresh token: a person must
	// authorise the OA for the app again and seed the new tokens.
	ErrReauthorize = errors.New("zalo: the OA must be authorised again")
	// ErrTooLarge is returned by DownloadFile for files over the limit.
	ErrTooLarge = bot.ErrTooLarge
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("zalo: adapter closed")
)

// APIError is an error Zalo answered with.
type APIError struct {
	Op      string // the API path or "refresh"
	Code    int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("zalo: %s: error %d: %s", e.Op, e.Code, e.Message)
}

// Adapter is one OA on Zalo. Its methods are safe for concurrent use.
type Adapter struct {
	appID, oaSecret, appSecret, oaID string
	apiBase, oauthBase               string
	client                           *http.Client
	handler                          Handler
	tokens                           TokenStore
	interactions                     InteractionStore
	log                              *slog.Logger
	now                              func() time.Time
	clock                            func() time.Time
	links                            FileLinker
	window                           time.Duration
	infoImage, infoTitle, infoSub    string
	maxAttempts                      int
	sync                             bool
	checkWindow                      bool
	drainTimeout                     time.Duration
	refreshBefore                    time.Duration

	// Token state. tok is this process's copy of the stored tokens;
	// refreshMu makes one goroutine per process refresh at a time.
	owner       string
	tokMu       sync.Mutex
	tok         Tokens
	refreshMu   sync.Mutex
	needsReauth atomic.Bool
	lastReauth  time.Time // guarded by refreshMu

	seen  seenSet
	queue workQueue

	// Timings; tests shorten them.
	minBackoff      time.Duration
	maxBackoff      time.Duration
	callTimeout     time.Duration
	leaseTTL        time.Duration
	leasePoll       time.Duration
	reauthCooldown  time.Duration
	warnedInfoImage atomic.Bool

	stop      context.CancelFunc
	loopDone  chan struct{}
	closeOnce sync.Once
}

var _ bot.Sender = (*Adapter)(nil)

// New loads the tokens (storing Config.Seed on the first start), starts the
// background refresh check and returns the adapter. It calls no Zalo API.
func New(ctx context.Context, c Config) (*Adapter, error) {
	switch {
	case c.AppID == "":
		return nil, errors.New("zalo: no app id")
	case c.OASecret == "":
		return nil, errors.New("zalo: no OA secret key (webhook signatures cannot be checked)")
	case c.AppSecret == "":
		return nil, errors.New("zalo: no app secret")
	case c.OAID == "":
		return nil, errors.New("zalo: no OA id")
	case c.Handler == nil:
		return nil, errors.New("zalo: no handler")
	case c.Tokens == nil:
		return nil, errors.New("zalo: no token store")
	}
	a := &Adapter{
		appID: c.AppID, oaSecret: c.OASecret, appSecret: c.AppSecret, oaID: c.OAID,
		apiBase:        strings.TrimRight(c.APIBase, "/"),
		oauthBase:      strings.TrimRight(c.OAuthBase, "/"),
		client:         c.HTTPClient,
		handler:        c.Handler,
		tokens:         c.Tokens,
		interactions:   c.Interactions,
		log:            c.Log,
		now:            c.Now,
		clock:          c.Clock,
		links:          c.Links,
		window:         c.Window,
		infoImage:      c.RequestInfoImageURL,
		infoTitle:      c.RequestInfoTitle,
		infoSub:        c.RequestInfoSubtitle,
		maxAttempts:    c.MaxAttempts,
		sync:           c.Sync,
		checkWindow:    c.CheckWindow,
		drainTimeout:   c.DrainTimeout,
		refreshBefore:  c.RefreshBefore,
		owner:          randomID(),
		minBackoff:     time.Second,
		maxBackoff:     time.Minute,
		callTimeout:    20 * time.Second,
		leaseTTL:       time.Minute,
		leasePoll:      200 * time.Millisecond,
		reauthCooldown: time.Minute,
	}
	if a.interactions == nil {
		is, ok := c.Tokens.(InteractionStore)
		if !ok {
			return nil, errors.New("zalo: no interaction store")
		}
		a.interactions = is
	}
	if a.apiBase == "" {
		a.apiBase = DefaultAPIBase
	}
	if a.oauthBase == "" {
		a.oauthBase = DefaultOAuthBase
	}
	if a.client == nil {
		a.client = &http.Client{}
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.log = a.log.With("channel", "zalo")
	if a.now == nil {
		a.now = time.Now
	}
	if a.clock == nil {
		a.clock = a.now
	}
	if a.window <= 0 {
		a.window = DefaultWindow
	}
	if a.infoTitle == "" {
		a.infoTitle = "Chia sẻ số điện thoại"
	}
	if a.infoSub == "" {
		a.infoSub = "Bấm vào đây để gửi số điện thoại Zalo của bạn cho Ban tổ chức."
	}
	if a.maxAttempts <= 0 {
		a.maxAttempts = 5
	}
	if a.drainTimeout <= 0 {
		a.drainTimeout = 10 * time.Second
	}
	if a.refreshBefore <= 0 {
		a.refreshBefore = 30 * time.Minute
	}
	maxPending, workers := c.MaxPending, c.Workers
	if maxPending <= 0 {
		maxPending = 1000
	}
	if workers <= 0 {
		workers = 8
	}
	a.seen.init(10000)

	if err := a.loadTokens(ctx, c.Seed, c.ForceSeed); err != nil {
		return nil, err
	}
	var loopCtx context.Context
	loopCtx, a.stop = context.WithCancel(context.WithoutCancel(ctx))
	a.queue.init(loopCtx, maxPending, workers)
	a.loopDone = make(chan struct{})
	every := c.RefreshCheck
	if every == 0 {
		every = time.Minute
	}
	go a.refreshLoop(loopCtx, every)
	a.log.Info("zalo OA ready", "oa", a.oaID, "token_version", a.current().Version)
	return a, nil
}

// Close stops taking events, waits up to Config.DrainTimeout for the queued
// ones, then abandons the rest (logged) and stops the background refresh.
func (a *Adapter) Close() error {
	a.closeOnce.Do(func() {
		left := a.queue.close(a.drainTimeout)
		if left > 0 {
			a.log.Error("zalo events abandoned at shutdown", "count", left)
		}
		a.stop()
		<-a.loopDone
	})
	return nil
}

// NeedsReauth reports whether Zalo refused the refresh token: staff must
// authorise the OA again. It turns false once new tokens work.
func (a *Adapter) NeedsReauth() bool { return a.needsReauth.Load() }

// WithinWindow reports whether userID interacted with the OA within
// Config.Window before now, so that a message sent now is a free reply. A
// user never seen is outside it.
func (a *Adapter) WithinWindow(ctx context.Context, userID string, now time.Time) (bool, error) {
	last, err := a.interactions.LastInteraction(ctx, userID)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("zalo: last interaction: %w", err)
	}
	return now.Sub(last) < a.window, nil
}

// redactedError replaces an error whose text held a secret.
type redactedError struct {
	msg string
}

func (e *redactedError) Error() string { return e.msg }

// redact removes the secrets from err's text. An error that held one is
// replaced entirely (its chain too), so nothing reachable through
// errors.Unwrap carries it either. Sentinels are kept by the callers, which
// wrap the redacted error.
func (a *Adapter) redact(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := a.scrub(msg)
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean}
}

// scrub replaces every secret in s.
func (a *Adapter) scrub(s string) string {
	t := a.current()
	for _, secret := range []string{a.appSecret, a.oaSecret, t.AccessToken, t.RefreshToken} {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "<redacted>")
		}
	}
	return s
}

func sleep(ctx context.Context, d time.Duration) bool { return bot.Sleep(ctx, d) }

// backoff returns the delay after n consecutive failures.
func (a *Adapter) backoff(n int) time.Duration { return bot.Backoff(a.minBackoff, a.maxBackoff, n) }

func randomID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// Fetch implements bot.Fetcher: the attachment a user sent (its URL is in
// FileRef.Download; Zalo's attachment URLs carry no secret).
func (a *Adapter) Fetch(ctx context.Context, f flows.FileRef, maxBytes int64) ([]byte, error) {
	return a.DownloadFile(ctx, f.Download, maxBytes)
}

var _ bot.Fetcher = (*Adapter)(nil)
