// Package telegram is the Telegram channel adapter: it turns Bot API updates
// (long polling or webhook) into bot.Inbound events for a Handler and renders
// flows.Reply values as Telegram messages.
//
// It uses github.com/go-telegram-bot-api/telegram-bot-api/v5 for the
// requests, but not its update loop: Poll is context-aware, honours
// retry_after, and advances the getUpdates offset only past updates the
// handler accepted. Updates are decoded into the adapter's own lean type
// (update.go), which reads what the library's would, at half the cost.
//
// The bot token is a credential: it never appears in a log line or a returned
// error (the library's transport errors embed the request URL, token
// included; every one passes through redact).
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/dieuphoi/dieuphoi/bot"
)

// Handler receives the updates; *bot.Dispatcher is one. A nil error means
// the update may be acknowledged to Telegram.
type Handler interface {
	Handle(ctx context.Context, in bot.Inbound) error
}

// DefaultAPIBase is the public Bot API server.
const DefaultAPIBase = "https://api.telegram.org"

// Config configures an Adapter.
type Config struct {
	Token      string
	APIBase    string       // default DefaultAPIBase; the library endpoint is APIBase+"/bot%s/%s"
	HTTPClient *http.Client // default: NewHTTPClient()
	Handler    Handler
	Log        *slog.Logger
	// PollTimeout is the getUpdates long-poll timeout, default 25s.
	PollTimeout time.Duration
	// WebhookURL is the public URL for setWebhook; set means webhook mode.
	WebhookURL string
	// WebhookSecret is the secret_token Telegram sends back in
	// X-Telegram-Bot-Api-Secret-Token; required with WebhookURL.
	WebhookSecret string
	// MaxAttempts bounds how often an update whose handling fails with an
	// error other than bot.ErrNotSaved (a reply that cannot be rendered, a
	// bug) is retried before it is dropped with an error log, so that one
	// poisoned update cannot stall every chat. Default 5. Updates failing
	// with bot.ErrNotSaved (the stores are down) are retried until they
	// succeed.
	MaxAttempts int
	// OnFlood, when set, is told of every 429 on a send with the moment
	// its retry_after ends, so that every process pauses (bot/pace).
	OnFlood func(until time.Time)
	// Admit, when set, is called right before every request that sends a
	// message (sendMessage, sendDocument, a retry after a 429 too) and
	// returns when it may go out, with the func to call once Telegram
	// answered: the shared budget (bot/pace) counts sends when they
	// happen. An error other than ctx's lets the send go (the platform's
	// 429 is the backstop).
	Admit func(ctx context.Context, chat string) (done func(), err error)
}

// ErrBlocked means Telegram refused to deliver to the chat (403): the user
// blocked the bot, deleted their account, or removed it from the group.
var ErrBlocked = fmt.Errorf("telegram: the user blocked the bot (403 Forbidden): %w", bot.ErrUnreachable)

// ErrTooLarge is returned by DownloadFile for files over the size limit.
var ErrTooLarge = bot.ErrTooLarge

// allowedUpdates are the update kinds the adapter handles; Telegram does not
// send the others.
var allowedUpdates = `["message","callback_query"]`

// Adapter is one bot on Telegram. Its methods are safe for concurrent use.
type Adapter struct {
	api     *tgbotapi.BotAPI // template: per-call copies carry the call's context
	client  *http.Client
	handler Handler
	log     *slog.Logger
	token   string
	apiBase string
	// methodURLs holds the URLs of hotMethods (read-only once made; nil in
	// an Adapter made without New, which makes each URL as it calls).
	methodURLs map[string]string
	replace    *strings.Replacer

	pollTimeout   time.Duration
	webhookURL    string
	webhookSecret string
	maxAttempts   int
	onFlood       func(until time.Time)
	admit         func(ctx context.Context, chat string) (func(), error)
	fileIDs       fileIDs // files uploaded, to send again by file_id

	// Backoff bounds and per-call timeout; tests shorten them.
	minBackoff  time.Duration
	maxBackoff  time.Duration
	callTimeout time.Duration
	maxSendWait time.Duration // longest retry_after Send sleeps through
	sendRetries int
}

var _ bot.Sender = (*Adapter)(nil)

// New checks the token with getMe and returns the adapter.
func New(ctx context.Context, c Config) (*Adapter, error) {
	if c.Token == "" {
		return nil, errors.New("telegram: no bot token")
	}
	if c.Handler == nil {
		return nil, errors.New("telegram: no handler")
	}
	if c.WebhookURL != "" {
		if err := validSecret(c.WebhookSecret); err != nil {
			return nil, err
		}
	}
	a := &Adapter{
		client:        c.HTTPClient,
		handler:       c.Handler,
		log:           c.Log,
		token:         c.Token,
		apiBase:       strings.TrimRight(c.APIBase, "/"),
		pollTimeout:   c.PollTimeout,
		webhookURL:    c.WebhookURL,
		webhookSecret: c.WebhookSecret,
		maxAttempts:   c.MaxAttempts,
		onFlood:       c.OnFlood,
		admit:         c.Admit,
		minBackoff:    time.Second,
		maxBackoff:    time.Minute,
		callTimeout:   30 * time.Second,
		maxSendWait:   30 * time.Second,
		sendRetries:   3,
	}
	if a.client == nil {
		a.client = NewHTTPClient()
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.log = a.log.With("channel", "telegram")
	if a.apiBase == "" {
		a.apiBase = DefaultAPIBase
	}
	a.methodURLs = make(map[string]string, len(hotMethods))
	for _, m := range hotMethods {
		a.methodURLs[m] = a.methodURL(m)
	}
	if a.pollTimeout <= 0 {
		a.pollTimeout = 25 * time.Second
	}
	if a.maxAttempts <= 0 {
		a.maxAttempts = 5
	}
	a.replace = strings.NewReplacer(c.Token, "<redacted>", url.PathEscape(c.Token), "<redacted>")

	ctx, cancel := context.WithTimeout(ctx, a.callTimeout)
	defer cancel()
	api, err := tgbotapi.NewBotAPIWithClient(c.Token, a.apiBase+"/bot%s/%s", ctxClient{ctx, a.client})
	if err != nil {
		return nil, fmt.Errorf("telegram: getMe: %w", a.redact(err))
	}
	a.api = api
	a.log.Info("telegram bot ready", "bot", api.Self.UserName)
	return a, nil
}

// NewHTTPClient returns the client for the Bot API: no global timeout
// (each call sets its own), and enough idle connections kept per host for
// the replies going out at once — the default transport keeps 2, so under
// concurrency almost every message would dial (and, against the real API,
// shake hands for TLS) anew. The worker runs up to 512 updates at once.
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost, tr.IdleConnTimeout = 512, 512, 90*time.Second
	return &http.Client{Transport: tr}
}

func validSecret(s string) error {
	if s == "" || len(s) > 256 {
		return errors.New("telegram: WebhookSecret must be 1-256 characters")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return errors.New("telegram: WebhookSecret may only contain A-Z, a-z, 0-9, _ and -")
		}
	}
	return nil
}

// Username returns the bot's @username, without the @.
func (a *Adapter) Username() string { return a.api.Self.UserName }

// ctxClient makes the library's requests carry a context, so that calls end
// when it does. The library builds its requests without one.
type ctxClient struct {
	ctx context.Context
	c   *http.Client
}

func (c ctxClient) Do(req *http.Request) (*http.Response, error) {
	return c.c.Do(req.WithContext(c.ctx))
}

// bot returns a copy of the library client whose requests carry ctx.
func (a *Adapter) bot(ctx context.Context) *tgbotapi.BotAPI {
	b := *a.api
	b.Client = ctxClient{ctx, a.client}
	return &b
}

// request calls method with params, bounded by the call timeout, and
// returns the result or a redacted error.
func (a *Adapter) request(ctx context.Context, method string, params tgbotapi.Params, timeout time.Duration) (*tgbotapi.APIResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := a.bot(ctx).MakeRequest(method, params)
	if err != nil {
		return nil, a.redact(err)
	}
	return resp, nil
}

// redactedError replaces an error whose text held the token.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with the token removed from its text. A *url.Error
// (the library's transport errors) is rebuilt with a redacted URL so that
// nothing reachable through errors.Unwrap/As carries the token either.
func (a *Adapter) redact(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		clean := &url.Error{Op: ue.Op, URL: a.replace.Replace(ue.URL), Err: ue.Err}
		if strings.Contains(ue.Err.Error(), a.token) {
			clean.Err = &redactedError{msg: a.replace.Replace(ue.Err.Error()), err: nil}
		}
		if err == error(ue) {
			return clean
		}
		return &redactedError{msg: a.replace.Replace(err.Error()), err: clean}
	}
	msg := err.Error()
	if !strings.Contains(msg, a.token) && !strings.Contains(msg, url.PathEscape(a.token)) {
		return err
	}
	return &redactedError{msg: a.replace.Replace(msg), err: nil}
}

// apiError returns the Bot API error in err, if it is one.
func apiError(err error) (*tgbotapi.Error, bool) {
	var pe *tgbotapi.Error
	if errors.As(err, &pe) {
		return pe, true
	}
	var ve tgbotapi.Error
	if errors.As(err, &ve) {
		return &ve, true
	}
	return nil, false
}

func sleep(ctx context.Context, d time.Duration) bool { return bot.Sleep(ctx, d) }

// backoff returns the delay after n consecutive failures: minBackoff
// doubling, capped at maxBackoff.
func (a *Adapter) backoff(n int) time.Duration { return bot.Backoff(a.minBackoff, a.maxBackoff, n) }
