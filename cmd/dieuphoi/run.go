package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/inbox"
	"github.com/dieuphoi/dieuphoi/bot/pace"
	"github.com/dieuphoi/dieuphoi/bot/telegram"
	"github.com/dieuphoi/dieuphoi/bot/webchat"
	"github.com/dieuphoi/dieuphoi/bot/zalo"
	"github.com/dieuphoi/dieuphoi/configs"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/export"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/files"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/redis"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
	"github.com/dieuphoi/dieuphoi/web"
)

const usage = `dieuphoi — trợ lý điều phối hội nghị và thu thập dữ liệu

Usage:
  dieuphoi [serve]      run the bot (web chat, and Telegram when TELEGRAM_BOT_TOKEN is set)
  dieuphoi check        load and validate the configuration, then exit
  dieuphoi invites      print each person's invite link and code
  dieuphoi enrol ID     issue a single-use verification link (72 h) for a focal point or staff
                        member; hand it to that person privately (SECURITY.md)
  dieuphoi migrate      apply database migrations, then exit
  dieuphoi import DIR   import events and campaigns from DIR (event.yaml, or one folder per
                        event): all of them or, at the first problem, none
  dieuphoi export-config DIR
                        write every event and campaign in the database as files import reads
  dieuphoi export xlsx|csv|pdf|zip [file]
                        write the indicator data (the PDF report, or the evidence files) to file, or to stdout
  dieuphoi export agency CODE [file]
                        write one agency's sign-off workbook
  dieuphoi export invitation PERSON_ID [file] | invitations AGENCY [file]
                        write a person's giấy mời, or an agency's, as PDF
  dieuphoi export badges|seating [file]
                        write the badges, or the seating list in protocol order, as PDF
  dieuphoi schedule [days]
                        list the reminders of the coming days (default 14) and
                        what was sent or skipped, and why

Environment: see README.md (DATABASE_URL, REDIS_URL, TELEGRAM_BOT_TOKEN, DIEUPHOI_*).
`

// run is the whole program; main only wires it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	rest := args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		cmd, rest = rest[0], rest[1:]
	}
	fl := flag.NewFlagSet("dieuphoi "+cmd, flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, usage) }
	if err := fl.Parse(rest); err != nil {
		return err
	}
	cfg, err := loadSettings(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg)

	switch cmd {
	case "serve":
		if cfg.Picker && cfg.DatabaseURL != "" {
			log.Warn("DIEUPHOI_WEBCHAT_PICKER=force: the web chat's person picker is on with DATABASE_URL set; anyone who can open /chat can act as any person, staff included. Never run this way for real users.")
		}
		return serve(ctx, cfg, log, stdout)
	case "check":
		c, err := loadCampaign(cfg) // with schedule.yaml
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Cấu hình hợp lệ: %s — %d mục chương trình, %d đơn vị, %d người.\n",
			c.Event.NameVI, len(c.Event.Agenda), len(c.Agencies), len(c.People))
		return nil
	case "migrate":
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		fmt.Fprintln(stdout, "Migrations applied.")
		return nil
	case "invites":
		return printInvites(ctx, cfg, stdout)
	case "enrol", "enroll":
		return runEnrol(ctx, cfg, fl.Args(), stdout)
	case "export":
		return runExport(ctx, cfg, fl.Args(), stdout)
	case "import":
		return runImport(ctx, cfg, fl.Args(), stdout)
	case "export-config":
		return runExportConfig(ctx, cfg, fl.Args(), stdout)
	case "schedule":
		return runSchedule(ctx, cfg, fl.Args(), stdout, log)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

type zaloSettings struct {
	AppID, AppSecret, OASecret, OAID string
	AccessToken, RefreshToken        string
	APIBase, OAuthBase               string
	ForceSeed                        bool
	InfoImageURL                     string
}

// settings are read from the environment once, at start-up.
type settings struct {
	Addr           string
	PublicURL      string
	DataDir        string
	ConfigDir      string
	DatabaseURL    string
	RedisURL       string
	RedisPrefix    string
	TelegramToken  string
	TelegramAPI    string
	WebhookURL     string
	WebhookSecret  string
	Picker         bool
	ClockStart     time.Time
	Zalo           zaloSettings
	LogLevel       slog.Level
	LogFormat      string // "json", "text", or "" (text on a terminal, else JSON)
	Pprof          bool
	MetricsAddr    string
	FloodRate      float64
	FloodBurst     float64
	QuotaPersonMB  float64
	QuotaTotalMB   float64
	ReadEvidence   bool
	SessionTTL     time.Duration
	ShutdownWindow time.Duration
	InboxLease     time.Duration
	// Inbox is where the inbox is kept: "" in the database (PostgreSQL or
	// SQLite), "redis" in Redis (InboxRedisURL, else RedisURL).
	Inbox         string
	InboxRedisURL string
}

func loadSettings(getenv func(string) string) (settings, error) {
	s := settings{
		Addr:           or(getenv("DIEUPHOI_ADDR"), "127.0.0.1:8080"),
		PublicURL:      strings.TrimRight(getenv("DIEUPHOI_PUBLIC_URL"), "/"),
		DataDir:        or(getenv("DIEUPHOI_DATA_DIR"), "data"),
		ConfigDir:      getenv("DIEUPHOI_CONFIG_DIR"),
		DatabaseURL:    getenv("DATABASE_URL"),
		RedisURL:       getenv("REDIS_URL"),
		RedisPrefix:    getenv("DIEUPHOI_REDIS_PREFIX"),
		TelegramToken:  getenv("TELEGRAM_BOT_TOKEN"),
		TelegramAPI:    or(getenv("TELEGRAM_API_BASE"), "https://api.telegram.org"),
		WebhookURL:     getenv("TELEGRAM_WEBHOOK_URL"),
		WebhookSecret:  getenv("TELEGRAM_WEBHOOK_SECRET"),
		LogFormat:      strings.ToLower(getenv("DIEUPHOI_LOG_FORMAT")),
		Pprof:          getenv("DIEUPHOI_PPROF") == "1",
		MetricsAddr:    or(getenv("DIEUPHOI_METRICS_ADDR"), "127.0.0.1:9090"),
		ReadEvidence:   !slices.Contains([]string{"0", "false", "off", "no"}, strings.ToLower(getenv("DIEUPHOI_READ_EVIDENCE"))),
		SessionTTL:     30 * 24 * time.Hour,
		ShutdownWindow: 15 * time.Second,
	}
	s.Zalo = zaloSettings{
		AppID: getenv("ZALO_APP_ID"), AppSecret: getenv("ZALO_APP_SECRET"), OASecret: getenv("ZALO_OA_SECRET"),
		OAID: getenv("ZALO_OA_ID"), AccessToken: getenv("ZALO_ACCESS_TOKEN"), RefreshToken: getenv("ZALO_REFRESH_TOKEN"),
		APIBase: or(getenv("ZALO_API_BASE"), zalo.DefaultAPIBase), OAuthBase: or(getenv("ZALO_OAUTH_BASE"), zalo.DefaultOAuthBase),
		ForceSeed: getenv("ZALO_FORCE_SEED") == "1", InfoImageURL: getenv("ZALO_REQUEST_INFO_IMAGE_URL"),
	}
	if s.Zalo.AppID != "" && (s.Zalo.OASecret == "" || s.Zalo.AppSecret == "" || s.Zalo.OAID == "") {
		return s, errors.New("with ZALO_APP_ID set, ZALO_APP_SECRET, ZALO_OA_SECRET and ZALO_OA_ID are needed too")
	}
	if s.PublicURL == "" {
		host := s.Addr
		if strings.HasPrefix(host, ":") {
			host = "localhost" + host
		}
		s.PublicURL = "http://" + host
	}
	// The person picker lets anyone act as anyone: right for trying the bot
	// on one's own machine, wrong for a shared deployment. With a production
	// database it takes the word "force", and is warned about at every start.
	switch v := strings.ToLower(getenv("DIEUPHOI_WEBCHAT_PICKER")); v {
	case "force":
		s.Picker = true
	case "1", "true", "on", "yes":
		if s.DatabaseURL != "" {
			return s, fmt.Errorf("DIEUPHOI_WEBCHAT_PICKER=%s with DATABASE_URL set: the person picker lets anyone act as anyone; "+
				"set DIEUPHOI_WEBCHAT_PICKER=force to run it on this database anyway, or leave it unset", v)
		}
		s.Picker = true
	case "0", "false", "off", "no":
		s.Picker = false
	default:
		s.Picker = s.DatabaseURL == ""
	}
	for _, f := range []struct {
		name string
		dst  *float64
	}{{"DIEUPHOI_FLOOD_RATE", &s.FloodRate}, {"DIEUPHOI_FLOOD_BURST", &s.FloodBurst},
		{"DIEUPHOI_QUOTA_PERSON_MB", &s.QuotaPersonMB}, {"DIEUPHOI_QUOTA_TOTAL_MB", &s.QuotaTotalMB}} {
		if v := getenv(f.name); v != "" {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || n <= 0 {
				return s, fmt.Errorf("%s: want a positive number, got %q", f.name, v)
			}
			*f.dst = n
		}
	}
	if v := getenv("DIEUPHOI_INBOX_LEASE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond {
			return s, fmt.Errorf("DIEUPHOI_INBOX_LEASE: want a duration like 10s, got %q", v)
		}
		s.InboxLease = d
	}
	switch v := strings.ToLower(getenv("DIEUPHOI_INBOX")); v {
	case "", "database", "postgres", "sqlite":
	case "redis":
		s.Inbox, s.InboxRedisURL = v, or(getenv("DIEUPHOI_INBOX_REDIS_URL"), s.RedisURL)
		if s.InboxRedisURL == "" {
			return s, errors.New("DIEUPHOI_INBOX=redis needs a Redis: set DIEUPHOI_INBOX_REDIS_URL or REDIS_URL")
		}
	default:
		return s, fmt.Errorf("DIEUPHOI_INBOX: want database or redis, got %q", v)
	}
	if v := getenv("DIEUPHOI_CLOCK_START"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return s, fmt.Errorf("DIEUPHOI_CLOCK_START: want a time like 2024-07-25T09:00:00+07:00, got %q", v)
		}
		s.ClockStart = t
	}
	if f := s.LogFormat; f != "" && f != "json" && f != "text" {
		return s, fmt.Errorf("DIEUPHOI_LOG_FORMAT: want json or text, got %q", f)
	}
	if v := getenv("DIEUPHOI_LOG_LEVEL"); v != "" {
		if err := s.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return s, fmt.Errorf("DIEUPHOI_LOG_LEVEL: want debug, info, warn or error, got %q", v)
		}
	}
	if s.WebhookURL != "" && len(s.WebhookSecret) < 16 {
		return s, errors.New("TELEGRAM_WEBHOOK_SECRET must be set (at least 16 characters of A-Z, a-z, 0-9, _ and -) when TELEGRAM_WEBHOOK_URL is set")
	}
	return s, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func newLogger(w io.Writer, s settings) *slog.Logger {
	return slog.New(logHandler(w, s))
}

func loadCampaign(s settings) (*configs.Campaign, error) {
	c, _, err := loadConfig(s)
	return c, err
}

// loadConfig loads the campaign and the reminder schedule (schedule.yaml,
// defaults when the file is absent) from the config directory.
func loadConfig(s settings) (*configs.Campaign, *scheduler.Schedule, error) {
	var fsys fs.FS = configs.Example()
	where := "the built-in example"
	if s.ConfigDir != "" {
		fsys, where = os.DirFS(s.ConfigDir), s.ConfigDir
	}
	c, err := configs.Load(fsys)
	if err != nil {
		return nil, nil, fmt.Errorf("configuration in %s:\n%w", where, err)
	}
	if _, err := fs.Stat(fsys, "schedule.yaml"); err != nil {
		return c, nil, nil
	}
	if raw, err := fs.ReadFile(fsys, "schedule.yaml"); err == nil {
		c.ScheduleText = string(raw)
	}
	sc, err := scheduler.LoadSchedule(fsys, "schedule.yaml")
	if err == nil {
		// Names in schedule.yaml must exist: check and serve refuse them
		// alike, as any other configuration error.
		err = sc.Check(domain.NewDirectory(c.People, c.Agencies), len(c.Event.Agenda))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("configuration in %s:\n%w", where, err)
	}
	return c, sc, nil
}

func openStore(ctx context.Context, s settings) (storage.Store, error) {
	if s.DatabaseURL != "" {
		return postgres.Open(ctx, s.DatabaseURL)
	}
	return sqlite.Open(ctx, filepath.Join(s.DataDir, "dieuphoi.db"))
}

// openSessions returns Redis when configured; otherwise the embedded store
// (which must then be the SQLite results store) keeps sessions too.
func openSessions(ctx context.Context, s settings, st storage.Store) (storage.SessionStore, error) {
	if s.RedisURL != "" {
		return redis.Open(ctx, redis.Options{URL: s.RedisURL, Prefix: s.RedisPrefix, SessionTTL: s.SessionTTL, LockTTL: 10 * time.Second})
	}
	if ss, ok := st.(storage.SessionStore); ok {
		return ss, nil
	}
	return nil, errors.New("REDIS_URL must be set when DATABASE_URL is: sessions and per-chat locks live in Redis in production")
}

// openInbox returns the inbox's store: the database's, or Redis's
// (DIEUPHOI_INBOX=redis) once that Redis is seen to keep the promise of the
// acknowledgement (every command synced to its append-only file before
// it answers); the session store's own connection when it is the same
// Redis.
func openInbox(ctx context.Context, s settings, st storage.Store, sessions storage.SessionStore) (inbox.Store, func(), error) {
	if s.Inbox != "redis" {
		ib, ok := st.(inbox.Store)
		if !ok {
			return nil, nil, errors.New("the database cannot keep the inbox")
		}
		return ib, func() {}, nil
	}
	rs, ok := sessions.(*redis.Store)
	closeIt := func() {}
	if !ok || s.InboxRedisURL != s.RedisURL {
		var err error
		o := redis.Options{URL: s.InboxRedisURL, Prefix: s.RedisPrefix}
		if ok {
			o.Traffic = rs.Traffic() // one set of counters (metrics) for both Redis
		}
		rs, err = redis.Open(ctx, o)
		if err != nil {
			return nil, nil, fmt.Errorf("DIEUPHOI_INBOX=redis: %w", err)
		}
		closeIt = func() { _ = rs.Close() }
	}
	ib := rs.Inbox()
	if err := ib.CheckDurable(ctx); err != nil {
		closeIt()
		return nil, nil, fmt.Errorf("DIEUPHOI_INBOX=redis: %w", err)
	}
	return ib, closeIt, nil
}

// synced is the configuration loaded into the database, for the
// subcommands that read it without serving.
type synced struct {
	campaign *configs.Campaign
	store    storage.Store
	dir      *domain.Directory
	cs       storage.CampaignStore
	catalog  *domain.Catalog
}

func openSynced(ctx context.Context, s settings) (*synced, error) {
	c, err := loadCampaign(s)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, s)
	if err != nil {
		return nil, err
	}
	dir, cs, catalog, err := syncConfig(ctx, st, c, time.Now())
	if err != nil {
		st.Close()
		return nil, err
	}
	return &synced{campaign: c, store: st, dir: dir, cs: cs, catalog: catalog}, nil
}

func printInvites(ctx context.Context, s settings, stdout io.Writer) error {
	sy, err := openSynced(ctx, s)
	if err != nil {
		return err
	}
	defer sy.store.Close()
	dir := sy.dir
	fmt.Fprintln(stdout, "id\tfull_name\tinvite_code\tweb_link")
	for _, p := range dir.People() {
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s/chat/i/%s\n", p.ID, p.FullName, p.InviteCode, s.PublicURL, p.InviteToken)
	}
	return nil
}

// runEnrol issues an enrolment link from the command line (audited as
// "cli"), for the operator to hand over privately.
func runEnrol(ctx context.Context, s settings, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: dieuphoi enrol PERSON_ID")
	}
	sy, err := openSynced(ctx, s)
	if err != nil {
		return err
	}
	defer sy.store.Close()
	p, ok := sy.dir.Person(args[0])
	if !ok {
		return fmt.Errorf("no person with id %q in the list", args[0])
	}
	cs, ok := sy.store.(web.ConsoleStore)
	if !ok {
		return errors.New("the database cannot keep enrolment links")
	}
	secret, exp, err := web.IssueEnrolment(ctx, cs, p.ID, "cli", "cli", time.Now())
	if err != nil {
		return err
	}
	webURL, _, command := web.EnrolURLs(s.PublicURL, "", secret)
	fmt.Fprintf(stdout, "Liên kết xác thực cho %s (%s), dùng một lần, hết hạn %s:\n", p.FullName, p.ID, exp.Format(time.RFC3339))
	fmt.Fprintf(stdout, "  web:              %s\n", webURL)
	fmt.Fprintf(stdout, "  Telegram, Zalo:   gửi cho bot tin nhắn  %s\n", command)
	fmt.Fprintln(stdout, "Chỉ gửi riêng cho đúng người này (gọi điện, tin nhắn riêng), không gửi vào nhóm.")
	return nil
}

func serve(ctx context.Context, s settings, log *slog.Logger, stdout io.Writer) error {
	campaign, schedule, err := loadConfig(s)
	if err != nil {
		return err
	}
	if s.ClockStart.IsZero() && s.ConfigDir == "" && time.Now().After(campaign.Event.RSVPCutoff) {
		// The built-in example is a real 2024 conference: run its clock from
		// a week before, so a newcomer can still answer the invitation.
		s.ClockStart = campaign.Event.Start.AddDate(0, 0, -7)
	}

	st, err := openStore(ctx, s)
	if err != nil {
		return err
	}
	defer st.Close()
	now := demoClock(ctx, st, s.ClockStart, log)
	sessions, err := openSessions(ctx, s, st)
	if err != nil {
		return err
	}
	if s.RedisURL != "" {
		defer sessions.Close()
	}
	dir, cs, catalog, err := syncConfig(ctx, st, campaign, time.Now())
	if err != nil {
		return err
	}
	blobs, err := files.New(filepath.Join(s.DataDir, "evidence"))
	if err != nil {
		return err
	}
	ev := campaign.Event
	var d *bot.Dispatcher
	title, tag := exportNames(campaign)
	exporter := &export.Source{Title: title, FileTag: tag, Campaign: cs, Directory: func() *domain.Directory { return d.Directory() },
		Catalog: catalog, CurrentCatalog: func() *domain.Catalog { return d.Catalog() }, Open: blobs.Open, Now: now, Location: ev.Location}
	// Background evidence reading ends with the server; the stores close
	// only after the readings in flight have stopped (defers run last first).
	readCtx, stopReads := context.WithCancel(ctx)
	defer stopReads()
	var reader bot.EvidenceReader
	if s.ReadEvidence {
		var checked <-chan struct{}
		reader, checked = newEvidenceReader(st, blobs, now, log)
		defer func() { <-checked }()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(goroutinesStarted)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerPoolMetrics(reg, st, sessions)
	limits, ok := st.(storeLimits)
	if !ok {
		return errors.New("the database cannot keep the evidence quotas")
	}
	es, err := asEventStore(st)
	if err != nil {
		return err
	}
	events := &eventsCache{es: es, ttl: 2 * time.Second}
	// Warm before serving, so the first updates after a start do not pay
	// for it all at once: the database's connections (storage/postgres
	// Warm) and the events with their invitees, read on every update.
	if w, ok := st.(interface {
		Warm(context.Context, int) error
	}); ok {
		if err := w.Warm(ctx, 0); err != nil {
			log.Warn("warm the database connections", "err", err)
		}
	}
	if err := events.Warm(ctx); err != nil {
		log.Warn("read the events", "err", err)
	}
	// A focal point or staff member with several open campaigns chooses in
	// chat which one they work on (/chiendich).
	var camps *chatCampaigns
	var chatCamps bot.Campaigns
	var chatExporter bot.Exporter = exporter
	if tag != "" && catalog != nil {
		camps = newChatCampaigns(es, tag)
		chatCamps, chatExporter = camps, campaignExporter{Source: exporter, camps: camps}
	}
	d = bot.NewDispatcher(bot.Config{Store: st, Sessions: sessions, Event: &ev, Directory: dir, Now: now, Log: log, Events: events.Events,
		Campaigns: chatCamps,
		Campaign:  cs, Catalog: catalog, Helpdesk: campaign.StaffContact, Blobs: blobs, Exporter: chatExporter, PublicURL: s.PublicURL,
		Quota: limits, PersonQuota: int64(s.QuotaPersonMB * (1 << 20)), TotalQuota: int64(s.QuotaTotalMB * (1 << 20)),
		Limiter: limiterOf(sessions), Tasks: taskReader(st),
		Metrics: bot.NewMetrics(reg), FloodRate: s.FloodRate, FloodBurst: s.FloodBurst,
		Reader: reader, Background: readCtx})
	defer func() { stopReads(); d.WaitReads(); d.WaitAfter() }() // readings and notices in flight end before the stores close
	// People changed through another process reach this one's console and
	// reminders within 30 s (chats find them at once: bot/directory.go).
	go d.KeepPeople(readCtx, 30*time.Second)

	// Every update goes through the inbox: stored, then acknowledged, then
	// handled by the worker of the process leasing its chat's partition.
	ib, closeInbox, err := openInbox(ctx, s, st, sessions)
	if err != nil {
		return err
	}
	defer closeInbox()
	worker := inbox.NewWorker(inbox.WorkerConfig{Store: ib, Handler: d, Log: log, LeaseTTL: s.InboxLease})
	intake := inbox.NewIntake(ib, worker, log)
	defer intake.Close()
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	working := make(chan struct{})
	go func() {
		defer close(working)
		if err := worker.Run(workCtx); err != nil {
			log.Error("inbox worker stopped", "err", err)
		}
	}()

	cookieKey, err := limits.ServerKey(ctx, "webchat-cookie")
	if err != nil {
		return err
	}
	meeting, docLinks, err := meetingParts(ctx, st, limits, s.PublicURL)
	if err != nil {
		return err
	}
	d.SetMeeting(&bot.Meeting{Store: meeting, Files: blobs, Links: docLinks})
	if err := importDocuments(ctx, st, meeting, blobs, ev.ID, campaign.Documents, now()); err != nil {
		return err
	}
	uploads := filepath.Join(s.DataDir, "uploads")
	if err := os.MkdirAll(uploads, 0o700); err != nil {
		return fmt.Errorf("uploads directory: %w", err)
	}
	sweepUploads(uploads, log)
	mux := http.NewServeMux()
	exporter.TempDir = uploads
	sentDir := filepath.Join(s.DataDir, "webchat-files")
	if err := os.MkdirAll(sentDir, 0o700); err != nil {
		return fmt.Errorf("web chat files directory: %w", err)
	}
	chat := webchat.New(webchat.Config{Handler: intake.Waiting(), Directory: d.Directory, Picker: s.Picker, Log: log, Secure: s.httpsURL(),
		CookieKey: cookieKey, UploadDir: uploads, FileDir: sentDir, History: limits, Who: webchatWho(st)})
	d.SetSender(domain.Web, chat)
	d.SetFetcher(domain.Web, chat)
	chat.Routes(mux)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/chat", http.StatusFound)
	})
	// /metrics and pprof are served on their own listener (serveOps below).
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /readyz", &readiness{now: time.Now, check: func(ctx context.Context) []string {
		var problems []string
		if err := st.Ping(ctx); err != nil {
			problems = append(problems, "database unreachable")
		}
		if err := sessions.Ping(ctx); err != nil {
			problems = append(problems, "session store unreachable")
		}
		if len(problems) > 0 {
			log.Warn("not ready", "problems", problems)
		}
		return problems
	}})

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	polling := make(chan struct{})

	// Telegram's limits hold for all processes together: in Redis when
	// there are several, in memory for the embedded default.
	var tgPace pace.Limiter = pace.NewLocal(pace.Telegram)
	if rs, ok := sessions.(*redis.Store); ok {
		// Its scripts ride in the session store's pipelines.
		tgPace = pace.NewRedis(rs.Scripts(), rs.Prefix()+"pace:telegram:", pace.Telegram)
	}
	schedSenders := map[domain.Channel]bot.Sender{}
	botName := ""
	if s.TelegramToken != "" {
		// Replies to many chats go out at once: telegram.NewHTTPClient
		// keeps enough connections to the Bot API alive.
		tg, err := telegram.New(runCtx, telegram.Config{
			Token: s.TelegramToken, APIBase: s.TelegramAPI, Handler: intake, Log: log, HTTPClient: telegram.NewHTTPClient(),
			WebhookURL: s.WebhookURL, WebhookSecret: s.WebhookSecret,
			OnFlood: func(until time.Time) {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				if err := tgPace.Pause(ctx, until); err != nil {
					log.Warn("telegram: pausing the other processes failed", "err", err)
				}
			},
			// Every send request, a retry after a 429 too, is admitted by
			// the shared budget at the moment it goes out.
			Admit: tgPace.Admit,
		})
		if err != nil {
			return fmt.Errorf("telegram: %w", err)
		}
		// Replies take from the shared budget; the scheduler waits for it.
		d.SetSender(domain.Telegram, pace.Sender{Next: tg, Limiter: tgPace})
		schedSenders[domain.Telegram] = tg
		d.SetFetcher(domain.Telegram, tg)
		botName = tg.Username()
		if s.WebhookURL != "" {
			mux.Handle("POST /telegram/webhook", tg.WebhookHandler())
			if err := tg.SetWebhook(runCtx); err != nil {
				return fmt.Errorf("telegram: %w", err)
			}
			log.Info("telegram: webhook mode", "bot", tg.Username())
		} else {
			log.Info("telegram: long polling", "bot", tg.Username())
			go func() {
				defer close(polling)
				if err := tg.Poll(runCtx); err != nil && !errors.Is(err, context.Canceled) {
					errc <- fmt.Errorf("telegram polling: %w", err)
				}
			}()
		}
	}
	if s.TelegramToken == "" || s.WebhookURL != "" {
		close(polling)
	}

	if s.Zalo.AppID != "" {
		links, err := fileLinks(runCtx, st, s, mux, log)
		if err != nil {
			return err
		}
		za, err := startZalo(runCtx, s.Zalo, st, intake, now, links, log)
		if err != nil {
			return err
		}
		defer za.Close()
		d.SetSender(domain.Zalo, za)
		d.SetFetcher(domain.Zalo, za)
		mux.Handle("POST /zalo/webhook", za.WebhookHandler())
		log.Info("zalo: webhook at /zalo/webhook", "oa", s.Zalo.OAID)
	}

	consoleStore, ok := st.(web.ConsoleStore)
	if !ok {
		return errors.New("the database cannot keep the staff console's data")
	}
	var sch *scheduler.Scheduler // made below, once every channel's sender is known
	console := web.New(web.Config{
		Store: st, Campaign: cs, Console: consoleStore, Directory: d.Directory, Catalog: d.Catalog, Event: &ev, Events: es,
		Campaigns: campaignRecords(st), CampaignID: tag, CampaignCatalog: camps.consoleCatalog(),
		Deadline: campaign.Deadline, Exporter: exporter, Blobs: blobs, PublicURL: s.PublicURL,
		BotUsername: func() string { return botName }, ZaloOA: zaloOA(s), Now: now, Log: log,
		EventsChanged: func() {
			if sch != nil {
				sch.Refresh() // the changed event's reminders at once, not at the next tick
			}
		},
		ResendInvite: func(ctx context.Context, personID, by string) (int, error) {
			return sch.ResendInvite(ctx, personID, by)
		},
		Meeting: &web.MeetingConfig{Store: meeting, Files: blobs, Links: docLinks, Sender: laterScheduler{&sch}},
		Plan:    taskStore(st),
		SendConclusion: func(ctx context.Context, c domain.Conclusion, link string) (int, error) {
			es, ok := sch.ForEvent(ctx, c.EventID)
			if !ok {
				return 0, fmt.Errorf("send conclusion: event %s has no reminders running", c.EventID)
			}
			return es.SendConclusion(ctx, c, func(lang domain.Lang) []flows.Reply {
				return flows.ConclusionMessage(lang, es.Event(), d.Directory(), c, link)
			})
		},
		Attendees: func(ctx context.Context, eventID string) ([]string, error) {
			es, ok := sch.ForEvent(ctx, eventID)
			if !ok {
				return nil, fmt.Errorf("attendees: event %s has no reminders running", eventID)
			}
			return es.MeetingAttendees(ctx)
		},
		Reminders: func(ctx context.Context, days int) ([]scheduler.Planned, []scheduler.Done, error) {
			t := now()
			plan, err := sch.Upcoming(ctx, t, t.AddDate(0, 0, days))
			if err != nil {
				return nil, nil, err
			}
			done, err := sch.History(ctx, 100)
			return plan, done, err
		},
		Act: func(ctx context.Context, by string, effects []domain.Effect) error {
			return d.Act(ctx, domain.UpdateKey{Channel: "console", UpdateID: by + "-" + domain.NewInviteToken()}, effects)
		},
		Reload: func(ctx context.Context) error {
			dir, _, catalog, err := syncConfig(ctx, st, campaign, now())
			if err != nil {
				return err
			}
			d.SetDirectory(dir)
			d.SetCatalog(catalog)
			return nil
		},
	})
	console.Routes(mux)
	d.SetTask("signin", func(ctx context.Context, tc bot.TaskContext) ([]flows.Reply, error) {
		if !tc.Verified {
			// The flows never ask from an unverified chat; kept as a
			// second lock on the console's door.
			return []flows.Reply{{Text: flows.Text(tc.Lang, "staff_only")}}, nil
		}
		link, err := console.IssueSignInFrom(ctx, tc.PersonID, tc.Channel)
		if errors.Is(err, web.ErrNotStaff) {
			return []flows.Reply{{Text: flows.Text(tc.Lang, "staff_only")}}, nil
		}
		if err != nil {
			return nil, err
		}
		return []flows.Reply{flows.SignInReply(tc.Lang, link)}, nil
	})

	outbox, ok := st.(scheduler.Outbox)
	if !ok {
		return errors.New("the database cannot keep the outbox")
	}
	var progress scheduler.Progress
	if catalog != nil {
		progress = scheduler.CampaignProgress(catalog, cs)
	}
	for ch, snd := range d.Senders() {
		if schedSenders[ch] == nil {
			schedSenders[ch] = snd
		}
	}
	others, err := otherEvents(st, ev.ID)
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	sch, err = scheduler.New(scheduler.Config{Store: st, Outbox: outbox, Senders: schedSenders, Event: &ev,
		Pace:      map[domain.Channel]scheduler.Pacer{domain.Telegram: tgPace},
		Directory: d.Directory, Schedule: schedule, Progress: progress, Now: now, Log: log, EventKey: ev.ID,
		EventCode: campaign.EventCode(), // its reminders' answer buttons name it, as other events' do
		Meeting:   meeting, Files: blobs, DocLinks: docLinks, Plan: planStore(st), Events: others,
		Campaigns: openCampaigns(es, camps, cs, d.Catalog)})
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	registerStaffTasks(d, sch, st, cs, catalog, camps, &ev, now)
	gauges := &outboxGauges{read: sch.Stats, now: now, log: log}
	gauges.register(reg)
	gauges.refresh(runCtx)
	go gauges.run(runCtx, gaugeRefresh)
	go pruneLoop(runCtx, st, sessions, now, pruneEvery, log)
	stopOps := serveOps(s.MetricsAddr, opsHandler(reg, s.Pprof), log)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopOps(ctx)
	}()
	clockKept := make(chan struct{})
	go func() {
		defer close(clockKept)
		if !s.ClockStart.IsZero() {
			keepClock(runCtx, st, now, 30*time.Second, log)
		}
	}()
	defer func() { cancel(); <-clockKept }() // saved before the store closes
	scheduling := make(chan struct{})
	go func() {
		defer close(scheduling)
		if err := sch.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("scheduler stopped", "err", err)
		}
	}()

	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.Addr, err)
	}
	go collectEvidence(runCtx, blobs, limits, now, log)
	srv := newServer(hsts(mux, s.httpsURL()))
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "dieuphoi đang chạy — mở %s/chat để trò chuyện với bot (Ctrl+C để dừng).\n", publicBase(s, ln))
	log.Info("serving", "addr", ln.Addr().String(), "picker", s.Picker, "postgres", s.DatabaseURL != "", "redis", s.RedisURL != "")

	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, context.Canceled) {
			cancel()
			return err
		}
	}
	log.Info("shutting down: finishing updates in flight")
	cancel()
	shutCtx, done := context.WithTimeout(context.Background(), s.ShutdownWindow)
	defer done()
	err = srv.Shutdown(shutCtx)
	select {
	case <-polling:
	case <-shutCtx.Done():
		log.Warn("telegram polling did not stop in time")
	}
	select {
	case <-scheduling:
	case <-shutCtx.Done():
		log.Warn("the scheduler did not stop in time")
	}
	// Nothing takes updates any more: the worker finishes those in hand
	// and leaves the rest in the inbox for the next holder.
	intake.Close()
	stopWork()
	select {
	case <-working:
	case <-shutCtx.Done():
		log.Warn("the inbox worker did not stop in time")
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// publicBase is the URL to print: the configured one, or the real address
// when the port was chosen by the system (":0" in tests).
func publicBase(s settings, ln net.Listener) string {
	if strings.HasSuffix(s.Addr, ":0") {
		return "http://" + ln.Addr().String()
	}
	return s.PublicURL
}

// syncConfig loads the config's people and catalog into the database when
// they changed since the last start (so that edits and imports made in the
// staff console survive a restart with the same files), then reads both
// back from the database: the database is what the bot serves.
func syncConfig(ctx context.Context, st storage.Store, c *configs.Campaign, now time.Time) (*domain.Directory, storage.CampaignStore, *domain.Catalog, error) {
	cs, ok1 := st.(storage.CampaignStore)
	sync, ok2 := st.(interface {
		ConfigHash(ctx context.Context, name string) (string, error)
		SetConfigHash(ctx context.Context, name, hash string, at time.Time) error
		LoadCatalog(ctx context.Context) ([]domain.Indicator, []domain.Assignment, error)
	})
	if !ok1 || !ok2 {
		return nil, nil, nil, errors.New("the database does not support the campaign")
	}
	changed := func(name string, v ...any) (string, bool, error) {
		raw, err := json.Marshal(v)
		if err != nil {
			return "", false, err
		}
		sum := sha256.Sum256(raw)
		h := hex.EncodeToString(sum[:])
		old, err := sync.ConfigHash(ctx, name)
		return h, old != h, err
	}
	h, ch, err := changed("people", c.Agencies, c.People)
	if err != nil {
		return nil, nil, nil, err
	}
	if ch {
		if err := st.SyncDirectory(ctx, c.Agencies, c.People); err != nil {
			return nil, nil, nil, fmt.Errorf("load people into the database: %w", err)
		}
		if err := sync.SetConfigHash(ctx, "people", h, now); err != nil {
			return nil, nil, nil, err
		}
	}
	if h, ch, err = changed("catalog", c.Indicators, c.Assignments); err != nil {
		return nil, nil, nil, err
	}
	if ch && len(c.Indicators) > 0 {
		if err := cs.SyncCatalog(ctx, c.Indicators, c.Assignments); err != nil {
			return nil, nil, nil, fmt.Errorf("load indicators into the database: %w", err)
		}
		if err := sync.SetConfigHash(ctx, "catalog", h, now); err != nil {
			return nil, nil, nil, err
		}
	}
	// The files' event and campaign are records like any other; the store
	// answers for them unless told otherwise.
	current, err := importConfigEvent(ctx, st, c, now)
	if err != nil {
		return nil, nil, nil, err
	}
	if ts, ok := st.(storage.TaskStore); ok && len(c.Tasks) > 0 {
		if h, ch, err = changed("tasks:"+c.Event.ID, c.Tasks); err != nil {
			return nil, nil, nil, err
		}
		if ch {
			if err := ts.SyncPlanTasks(ctx, c.Event.ID, c.Tasks, now); err != nil {
				return nil, nil, nil, fmt.Errorf("load the organisers' plan into the database: %w", err)
			}
			if err := sync.SetConfigHash(ctx, "tasks:"+c.Event.ID, h, now); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	dir, err := st.Directory(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read people: %w", err)
	}
	inds, as, err := sync.LoadCatalog(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read indicators: %w", err)
	}
	if inds, err = withPreviousValues(ctx, st, current, inds); err != nil {
		return nil, nil, nil, fmt.Errorf("last year's values: %w", err)
	}
	var catalog *domain.Catalog
	if len(inds) > 0 {
		catalog = domain.NewCatalog(inds, as)
	}
	return dir, cs, catalog, nil
}

func runExport(ctx context.Context, s settings, args []string, stdout io.Writer) error {
	const usage = "usage: dieuphoi export xlsx|csv|pdf|zip [file], dieuphoi export agency CODE [file], or a paper: invitation PERSON_ID, invitations AGENCY, badges, seating [file]"
	if len(args) == 0 {
		return errors.New(usage)
	}
	kind, agency, rest := args[0], "", args[1:]
	if _, ok := paperKinds[kind]; ok {
		return runPapers(ctx, s, kind, rest, stdout)
	}
	if kind == "agency" {
		if len(rest) == 0 {
			return errors.New(usage)
		}
		agency, rest = rest[0], rest[1:]
	}
	if len(rest) > 1 {
		return errors.New(usage)
	}
	sy, err := openSynced(ctx, s)
	if err != nil {
		return err
	}
	defer sy.store.Close()
	if sy.catalog == nil {
		return errors.New("the configuration has no data campaign (campaign: in event.yaml)")
	}
	blobs, err := files.New(filepath.Join(s.DataDir, "evidence"))
	if err != nil {
		return err
	}
	dir := sy.dir
	title, tag := exportNames(sy.campaign)
	src := &export.Source{Title: title, FileTag: tag, Campaign: sy.cs, Directory: func() *domain.Directory { return dir },
		Catalog: sy.catalog, Open: blobs.Open, Location: sy.campaign.Event.Location}
	if kind == "zip" {
		// Streamed into the file (or stdout): memory stays flat.
		return exportZIP(ctx, src, rest, stdout)
	}
	var f *flows.File
	if agency != "" {
		if _, ok := dir.Agency(agency); !ok {
			return fmt.Errorf("no agency %q in the configuration", agency)
		}
		f, err = src.ExportAgency(ctx, agency)
	} else {
		f, err = src.Export(ctx, kind)
	}
	if err != nil {
		return err
	}
	return writeOut(f.Data, rest, stdout)
}

// startZalo builds the Zalo OA adapter; its tokens live in the results
// database so that every replica shares (and serialises) their refresh.
func startZalo(ctx context.Context, z zaloSettings, st storage.Store, h zalo.Handler, now func() time.Time, links zalo.FileLinker, log *slog.Logger) (*zalo.Adapter, error) {
	zs, ok := st.(interface {
		Zalo(oaID string) *sqlstore.ZaloStore
	})
	if !ok {
		return nil, errors.New("zalo: the database cannot keep Zalo tokens")
	}
	var seed *zalo.Tokens
	if z.AccessToken != "" && z.RefreshToken != "" {
		seed = &zalo.Tokens{AccessToken: z.AccessToken, RefreshToken: z.RefreshToken}
	}
	za, err := zalo.New(ctx, zalo.Config{
		AppID: z.AppID, AppSecret: z.AppSecret, OASecret: z.OASecret, OAID: z.OAID,
		APIBase: z.APIBase, OAuthBase: z.OAuthBase, Handler: h, Tokens: zs.Zalo(z.OAID),
		Seed: seed, ForceSeed: z.ForceSeed, RequestInfoImageURL: z.InfoImageURL, Log: log, Sync: true, CheckWindow: true,
		Clock: now, // the messaging window on the bot's (demo) clock
		Links: links,
	})
	if err != nil {
		return nil, fmt.Errorf("zalo: %w", err)
	}
	return za, nil
}

// registerStaffTasks wires the staff commands that need the stores or the
// scheduler: headcount, missing indicators, reminders and broadcasts.
func registerStaffTasks(d *bot.Dispatcher, sch *scheduler.Scheduler, st storage.Store, cs storage.CampaignStore, cat *domain.Catalog, camps *chatCampaigns, ev *domain.Event, now func() time.Time) {
	text := func(lang domain.Lang, key string, args ...any) []flows.Reply {
		return []flows.Reply{{Text: flows.Text(lang, key, args...)}}
	}
	mainCount := func(ctx context.Context) (flows.Headcount, error) {
		answers, err := st.CurrentRSVPs(ctx)
		if err != nil {
			return flows.Headcount{}, err
		}
		checkedIn := map[string]bool{}
		if ci, ok := st.(web.ConsoleStore); ok {
			all, err := ci.CheckIns(ctx)
			if err != nil {
				return flows.Headcount{}, err
			}
			for id := range all {
				checkedIn[id] = true
			}
		}
		return flows.CountHeadcount(d.Directory(), answers, checkedIn), nil
	}
	d.SetTask("headcount", func(ctx context.Context, tc bot.TaskContext) ([]flows.Reply, error) {
		if tc.Task.Arg != "" { // another event, chosen with /sukien
			return eventHeadcount(ctx, st, d.Directory(), tc.Task.Arg, tc.Lang, now())
		}
		h, err := mainCount(ctx)
		if err != nil {
			return nil, err
		}
		return []flows.Reply{{Text: flows.RenderHeadcount(tc.Lang, h, now().In(ev.Location))}}, nil
	})
	// /diemdanh: who is in, for the event chosen with /sukien.
	d.SetTask("attendance", func(ctx context.Context, tc bot.TaskContext) ([]flows.Reply, error) {
		if tc.Task.Arg != "" && tc.Task.Arg != ev.ID {
			h, rec, err := eventCount(ctx, st, d.Directory(), tc.Task.Arg)
			if err != nil {
				return nil, err
			}
			return []flows.Reply{{Text: flows.RenderAttendance(tc.Lang, h, rec.Event.Name(tc.Lang), now().In(rec.Event.Location))}}, nil
		}
		h, err := mainCount(ctx)
		if err != nil {
			return nil, err
		}
		return []flows.Reply{{Text: flows.RenderAttendance(tc.Lang, h, "", now().In(ev.Location))}}, nil
	})
	d.SetTask("missing", func(ctx context.Context, tc bot.TaskContext) ([]flows.Reply, error) {
		if cat == nil {
			return text(tc.Lang, "miss_none"), nil
		}
		cs, cat, err := camps.scope(ctx, tc.Campaign, cs, cat) // the campaign chosen with /chiendich
		if err != nil {
			return nil, err
		}
		subs, err := cs.Submissions(ctx, "")
		if err != nil {
			return nil, err
		}
		items, total := flows.CountMissing(cat, subs)
		out := flows.RenderMissing(tc.Lang, d.Directory(), items, total, ev.Location)
		if name := camps.name(ctx, tc.Campaign, tc.Lang); name != "" {
			out = flows.Text(tc.Lang, "campaign_line", name) + "\n" + out
		}
		return []flows.Reply{{Text: out}}, nil
	})
	d.SetTask("history", func(ctx context.Context, tc bot.TaskContext) ([]flows.Reply, error) {
		cs, cat, err := camps.scope(ctx, tc.Campaign, cs, cat)
		if err != nil {
			return nil, err
		}
		code, agency, _ := strings.Cut(tc.Task.Arg, "|")
		ind, ok := cat.Indicator(code)
		_, assigned := cat.Assignment(code, agency)
		p, known := d.Directory().Person(tc.PersonID)
		// The flow checked this already; a task is checked again where it
		// reads the data: staff, or a focal point of that very agency.
		if !ok || !assigned || !known || !(p.Has(domain.RoleStaff) || (p.Has(domain.RoleFocal) && p.AgencyCode == agency)) {
			return text(tc.Lang, "staff_only"), nil
		}
		changes, err := cs.SubmissionHistory(ctx, code, agency)
		if err != nil {
			return nil, err
		}
		name := agency
		if a, ok := d.Directory().Agency(agency); ok {
			name = a.Name(tc.Lang)
		}
		entries := flows.History(tc.Lang, ind, changes, d.Directory())
		return []flows.Reply{{Text: flows.RenderHistory(tc.Lang, ind, name, entries, ev.Location, 10)}}, nil
	})
	// RSVP reminders go to the event chosen with /sukien: its scheduler,
	// its invitees; the preview names it when it is not the served one.
	remindSched := func(ctx context.Context, id string, lang domain.Lang) (*scheduler.Scheduler, string, error) {
		if id == "" || id == ev.ID {
			return sch, "", nil
		}
		o, ok := sch.ForEvent(ctx, id)
		if !ok || o.AfterOnly() {
			return nil, "", nil // no longer open or over: nothing to remind
		}
		return o, "📅 " + o.Event().Name(lang) + "\n", nil
	}
	d.SetTask("remind_preview", func(ctx context.Context, tc bot.TaskContext) ([]flows.Reply, error) {
		token, id := flows.SplitRemindArg(tc.Task.Arg)
		es, head, err := remindSched(ctx, id, tc.Lang)
		if err != nil {
			return nil, err
		}
		if es == nil {
			return text(tc.Lang, "event_gone"), nil
		}
		n, missed, err := es.Reach(ctx, scheduler.AudiencePending)
		if err != nil {
			return nil, err
		}
		if n == 0 && missed == 0 {
			return []flows.Reply{{Text: head + flows.Text(tc.Lang, "remind_none")}}, nil
		}
		p := flows.RemindPreview(tc.Lang, token, n, missed)
		p.Text = head + p.Text
		return []flows.Reply{p}, nil
	})
	// A confirmation sends once: the preview's id, stored durably with the
	// staff member, makes a double tap or a stale button send nothing more.
	at := func(t time.Time) string {
		return flows.FormatClock(t.In(ev.Location)) + " " + flows.FormatDate(domain.Vietnamese, t.In(ev.Location))
	}
	d.SetTask("remind", func(ctx context.Context, tc bot.TaskContext) ([]flows.Reply, error) {
		token, id := flows.SplitRemindArg(tc.Task.Arg)
		es, _, err := remindSched(ctx, id, tc.Lang)
		if err != nil {
			return nil, err
		}
		if es == nil {
			return text(tc.Lang, "event_gone"), nil
		}
		c, err := es.RemindPendingOnce(ctx, token, tc.PersonID)
		if err != nil {
			return nil, err
		}
		if c.Already {
			return text(tc.Lang, "remind_already", at(c.At), c.Sent), nil
		}
		return text(tc.Lang, "remind_sent", c.Sent), nil
	})
	// An announcement's confirmation id names the event chosen with
	// /sukien by its code ("moment:CODE"): its audiences are that event's.
	bcSched := func(ctx context.Context, id string, lang domain.Lang) (*scheduler.Scheduler, string, error) {
		_, code, _ := strings.Cut(id, ":")
		if code == "" {
			return sch, "", nil
		}
		es, err := asEventStore(st)
		if err != nil {
			return nil, "", err
		}
		list, err := es.Events(ctx)
		if err != nil {
			return nil, "", err
		}
		for _, r := range list {
			if r.Code == code {
				return remindSched(ctx, r.Event.ID, lang)
			}
		}
		return nil, "", nil
	}
	d.SetTask("broadcast_preview", func(ctx context.Context, tc bot.TaskContext) ([]flows.Reply, error) {
		id, aud, msg := flows.SplitBroadcastArg(tc.Task.Arg)
		es, head, err := bcSched(ctx, id, tc.Lang)
		if err != nil {
			return nil, err
		}
		if es == nil {
			return text(tc.Lang, "event_gone"), nil
		}
		n, missed, err := es.Reach(ctx, scheduler.Audience(aud))
		if err != nil {
			return nil, err
		}
		p := flows.BroadcastPreview(tc.Lang, id, n, missed, msg)
		p.Text = head + p.Text
		return []flows.Reply{p}, nil
	})
	d.SetTask("broadcast", func(ctx context.Context, tc bot.TaskContext) ([]flows.Reply, error) {
		id, aud, msg := flows.SplitBroadcastArg(tc.Task.Arg)
		es, _, err := bcSched(ctx, id, tc.Lang)
		if err != nil {
			return nil, err
		}
		if es == nil {
			return text(tc.Lang, "event_gone"), nil
		}
		c, err := es.BroadcastOnce(ctx, id, tc.PersonID, msg, scheduler.Audience(aud))
		if err != nil {
			return nil, err
		}
		if c.Already {
			return text(tc.Lang, "bc_already", at(c.At), c.Sent), nil
		}
		return text(tc.Lang, "bc_sent", c.Sent), nil
	})
}

func zaloOA(s settings) string {
	if s.Zalo.AppID == "" {
		return ""
	}
	return s.Zalo.OAID
}

// taskReader is the store's reading of tasks for /congviec, nil when it
// has none.
func taskReader(st storage.Store) bot.TaskReader {
	if r, ok := st.(bot.TaskReader); ok {
		return r
	}
	return nil
}

// planStore is the store's tasks, conclusions and check-ins for the
// scheduler, nil when it has none.
func planStore(st storage.Store) scheduler.PlanStore {
	if m, ok := st.(scheduler.PlanStore); ok {
		return m
	}
	return nil
}

// taskStore is the store's organisers' plan and conclusions, nil when it
// has none.
func taskStore(st storage.Store) storage.TaskStore {
	if t, ok := st.(storage.TaskStore); ok {
		return t
	}
	return nil
}
