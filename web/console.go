// Package web is the staff console, served by the bot under /admin, and the
// door check-in.
//
// Staff sign in with a one-time link the bot sends them in chat (/dangnhap):
// the link's token lives 15 minutes and works once; only its SHA-256 is
// stored. Opening the link shows a button; pressing it (a POST, so that a
// chat app's link preview cannot use the link up) starts an 8-hour cookie
// session (HttpOnly, SameSite=Lax, Path=/admin, Secure over TLS or under an
// https public URL), again
// stored as a hash. Only people with the staff role in the current people
// list get or keep a session. Every form carries the session's CSRF token.
//
// Every page is Vietnamese, rendered by html/template, with its CSS and
// JavaScript embedded and a strict Content-Security-Policy (no inline script
// or style). Every action is written to the audit table.
//
// Changes to data go through the same paths as the chat: reviews through
// Config.Act (the lead's Store.Apply plus notices), people through
// Store.SyncDirectory, assignments through CampaignStore.SyncCatalog, then
// Config.Reload.
package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/export"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// ConsoleStore is what the console keeps of its own; *postgres.Store and
// *sqlite.Store implement it (storage/sqlstore/console.go).
type ConsoleStore interface {
	CreateSignIn(ctx context.Context, tokenHash, personID string, now, expires time.Time) error
	SignInStatus(ctx context.Context, tokenHash string, now time.Time) (string, error)
	UseSignIn(ctx context.Context, tokenHash string, now time.Time) (string, error)
	CreateConsoleSession(ctx context.Context, idHash string, s sqlstore.ConsoleSession) error
	ConsoleSession(ctx context.Context, idHash string, now time.Time) (sqlstore.ConsoleSession, error)
	ExtendConsoleSession(ctx context.Context, idHash string, expires time.Time) error
	DeleteConsoleSession(ctx context.Context, idHash string) error
	CheckIn(ctx context.Context, c sqlstore.CheckIn) (sqlstore.CheckIn, bool, error)
	CheckIns(ctx context.Context) (map[string]sqlstore.CheckIn, error)
	AddAudit(ctx context.Context, at time.Time, personID, action, detail string) error
	AddAuditFrom(ctx context.Context, at time.Time, personID, action, detail string, ch domain.Channel) error
	CreateEnrolment(ctx context.Context, tokenHash, personID, by string, from domain.Channel, now, expires time.Time) error
	RotateSecrets(ctx context.Context, personID, by string, from domain.Channel, now time.Time) error
	AuditLog(ctx context.Context, limit int) ([]sqlstore.AuditEntry, error)
	PutUpload(ctx context.Context, u sqlstore.Upload) error
	Upload(ctx context.Context, id, sessionHash string) (sqlstore.Upload, error)
	DeleteUpload(ctx context.Context, id, sessionHash string) (bool, error)
}

// Config is what the console needs.
type Config struct {
	Store    storage.Store
	Campaign storage.CampaignStore // nil: no data campaign
	Console  ConsoleStore
	// Directory and Catalog return the current snapshots (they change after
	// an import); Catalog may return nil when there is no data campaign.
	Directory func() *domain.Directory
	Catalog   func() *domain.Catalog
	// ResendInvite sends a person the invitation again in their chat (the
	// scheduler's outbox); it returns how many messages were queued, 0 when
	// the person has no chat with the bot. Nil hides the button.
	ResendInvite func(ctx context.Context, personID, by string) (int, error)
	// ZaloOA is the Zalo Official Account's id when Zalo is configured: its
	// follow link goes on invitations (follow, then send the invite code).
	ZaloOA string
	Event  *domain.Event
	// Deadline is the campaign's default deadline, for the countdown and
	// for assignment rows without one; zero: the latest assignment deadline.
	Deadline time.Time
	Exporter *export.Source // its Catalog is replaced by Catalog() per export
	Blobs    interface {
		Open(sha256 string) (io.ReadCloser, error)
	}
	// Act applies effects for staff member by, through the same path as the
	// chat (Store.Apply with a fresh update key) and notifies those concerned.
	Act func(ctx context.Context, by string, effects []domain.Effect) error
	// Reload re-reads the people list and the catalog from the database
	// after the console changed them.
	Reload func(ctx context.Context) error
	// PublicURL is the bot's base URL for printed links, without a trailing /.
	PublicURL string
	// BotUsername returns the Telegram bot's username, "" when unknown.
	BotUsername func() string
	// Reminders returns the reminders of the coming days and what the
	// outbox sent or skipped; nil: the reminders page says none run.
	Reminders func(ctx context.Context, days int) ([]scheduler.Planned, []scheduler.Done, error)
	Now       func() time.Time
	Log       *slog.Logger
	// Events, when set, holds the deployment's events: the events pages
	// list, create, clone, open, close and archive them.
	Events EventStore
	// Campaigns, when set, holds the data campaigns: their pages list,
	// create, clone, open, close and archive them, and the switcher
	// chooses the one the review queue, progress and exports are about.
	// CampaignID is the one the chat serves (Campaign's).
	Campaigns  CampaignRecords
	CampaignID string
	// CampaignCatalog is the catalog of a campaign other than the served
	// one as the chat serves it: its assignments and deadlines, and last
	// year's values from its previous campaign's approved values (else the
	// catalog file's). A nil catalog (or a nil func): the current catalog
	// with the campaign's own assignments.
	CampaignCatalog func(ctx context.Context, id string) (*domain.Catalog, error)
	// Meeting is the meeting's pages (documents, questions, votes); nil
	// hides them.
	Meeting *MeetingConfig
	// Plan keeps the organisers' plan, conclusion notices and feedback
	// (nil: those pages say there is none).
	Plan storage.TaskStore
	// SendConclusion queues a sent notice for its recipients, once each,
	// with link to its text version; it returns how many were queued.
	// Nil: sending is not offered.
	SendConclusion func(ctx context.Context, c domain.Conclusion, link string) (int, error)
	// Attendees returns who attended the event (the notice's template
	// counts them).
	Attendees func(ctx context.Context, eventID string) ([]string, error)
	// EventsChanged, when set, is called after an event was created,
	// cloned, given invitees, opened, closed or archived (the scheduler
	// takes up its reminders at once).
	EventsChanged func()
}

// Lifetimes and limits.
const (
	SignInTTL      = 15 * time.Minute
	SessionTTL     = 8 * time.Hour
	sessionMaxAge  = 24 * time.Hour // sliding stops here
	MaxUploadSize  = 10 << 20
	cookieName     = "dieuphoi_admin"
	selfCookieName = "dieuphoi_checkin"
)

// ErrNotStaff is returned by IssueSignIn for anyone without the staff role.
var ErrNotStaff = errors.New("not a staff member")

//go:embed assets
var assets embed.FS

// Console is the staff console.
type Console struct {
	cfg   Config
	loc   *time.Location
	pages map[string]*template.Template
	flags flagCache // review flags already computed (web/flags.go)
}

// New returns a console.
func New(cfg Config) *Console {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Catalog == nil {
		cfg.Catalog = func() *domain.Catalog { return nil }
	}
	if cfg.BotUsername == nil {
		cfg.BotUsername = func() string { return "" }
	}
	if cfg.Event == nil {
		cfg.Event = &domain.Event{}
	}
	if cfg.Act == nil {
		cfg.Act = func(context.Context, string, []domain.Effect) error { return errors.New("no Act configured") }
	}
	if cfg.Reload == nil {
		cfg.Reload = func(context.Context) error { return nil }
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	loc := cfg.Event.Location
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation("Asia/Ho_Chi_Minh"); err != nil {
			loc = time.FixedZone("ICT", 7*3600)
		}
	}
	c := &Console{cfg: cfg, loc: loc, pages: map[string]*template.Template{}}
	names, err := fs.Glob(assets, "assets/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "assets/"), ".html")
		if base == "layout" {
			continue
		}
		c.pages[base] = template.Must(template.New("layout.html").Funcs(c.funcs()).ParseFS(assets, "assets/layout.html", n))
	}
	return c
}

// Routes registers the console under /admin and self check-in under /checkin.
func (c *Console) Routes(mux *http.ServeMux) {
	static, err := fs.Sub(assets, "assets/static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/admin/static/", http.FileServerFS(static))
	mux.Handle("GET /admin/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/", http.StatusFound)
	})
	mux.HandleFunc("GET /admin/signin/{token}", c.serveSignInPage)
	mux.HandleFunc("POST /admin/signin/{token}", c.serveSignIn)
	mux.Handle("POST /admin/signout", c.post(c.serveSignOut))

	mux.Handle("GET /admin/{$}", c.get(c.serveOverview))
	mux.Handle("GET /admin/delegates", c.get(c.serveDelegates))
	mux.Handle("GET /admin/delegates/{id}", c.get(c.serveDelegate))
	mux.Handle("POST /admin/delegates/{id}", c.post(c.serveDelegateSave))
	mux.Handle("POST /admin/delegates/{id}/rsvp", c.post(c.serveDelegateRSVP))
	mux.Handle("GET /admin/delegates/{id}/invite", c.get(c.serveInvite))
	mux.Handle("POST /admin/delegates/{id}/invite", c.post(c.serveInviteSend))
	mux.Handle("POST /admin/delegates/{id}/unlink", c.post(c.serveUnlink))
	mux.Handle("POST /admin/delegates/{id}/rotate", c.post(c.serveRotate))
	mux.Handle("POST /admin/delegates/{id}/enrol", c.post(c.serveEnrol))
	mux.Handle("GET /admin/indicators", c.get(c.serveIndicators))
	mux.Handle("GET /admin/indicators/{code}/{agency}", c.get(c.serveIndicator))
	mux.Handle("POST /admin/indicators/{code}/{agency}/review", c.post(c.serveReview))
	mux.Handle("GET /admin/evidence/{sha}", c.get(c.serveEvidence))
	mux.Handle("GET /admin/evidence/{sha}/view", c.get(c.serveEvidenceView))
	mux.Handle("GET /admin/import", c.get(c.serveImportForm))
	mux.Handle("GET /admin/import/template/{file}", c.get(c.serveImportTemplate))
	mux.Handle("POST /admin/import", c.post(c.serveImportUpload))
	mux.Handle("POST /admin/import/{id}/confirm", c.post(c.serveImportConfirm))
	mux.Handle("POST /admin/import/{id}/cancel", c.post(c.serveImportCancel))
	mux.Handle("GET /admin/export", c.get(c.serveExportPage))
	mux.Handle("GET /admin/export/{kind}", c.get(c.serveExport))
	mux.Handle("GET /admin/invitations", c.get(c.serveInvitations))
	mux.Handle("GET /admin/qr/{file}", c.get(c.serveQR))
	mux.Handle("GET /admin/papers/{kind}", c.get(c.servePaper))
	mux.Handle("GET /admin/seating", c.get(c.serveSeating))
	mux.Handle("GET /admin/checkin", c.get(c.serveDesk))
	mux.Handle("POST /admin/checkin", c.post(c.serveDeskCheckIn))
	mux.Handle("POST /admin/checkin/walkin", c.post(c.serveDeskWalkIn))
	mux.Handle("GET /admin/api/headcount", c.get(c.serveHeadcount))
	mux.Handle("GET /admin/schedule", c.get(c.serveSchedule))
	if c.cfg.Events != nil {
		mux.Handle("GET /admin/events", c.get(c.serveEvents))
		mux.Handle("POST /admin/events", c.post(c.serveEventCreate))
		mux.Handle("GET /admin/events/{id}", c.get(c.serveEvent))
		mux.Handle("POST /admin/events/{id}/invitees", c.post(c.serveEventInvitees))
		mux.Handle("POST /admin/events/{id}/status", c.post(c.serveEventStatus))
		mux.Handle("POST /admin/events/{id}/clone", c.post(c.serveEventClone))
		mux.Handle("GET /admin/events/{id}/archive.zip", c.get(c.serveEventArchive))
	}
	c.campaignRoutes(mux)
	c.meetingRoutes(mux)
	c.planRoutes(mux)
	mux.Handle("/admin/", c.get(func(w http.ResponseWriter, r *http.Request, s *session) {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy trang", "Trang này không có trong bảng điều khiển.")
	}))

	mux.HandleFunc("GET /checkin/{token}", c.serveSelfPage)
	mux.HandleFunc("POST /checkin/{token}", c.serveSelfCheckIn)
}

func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' mediastream: blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin") // "no-referrer" makes Chrome send "Origin: null" on our own forms
	h.Set("X-Frame-Options", "DENY")
}

// --- sessions and sign-in -------------------------------------------------------

// session is a signed-in staff member.
type session struct {
	Person domain.Person
	CSRF   string
	hash   string
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func randomSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// staffPerson returns the person with id when they hold the staff role now.
func (c *Console) staffPerson(id string) (domain.Person, bool) {
	p, ok := c.cfg.Directory().Person(id)
	if !ok || !p.Has(domain.RoleStaff) {
		return domain.Person{}, false
	}
	return p, true
}

// IssueSignIn returns a one-time sign-in link for a staff member, valid for
// 15 minutes. Anyone else gets ErrNotStaff.
func (c *Console) IssueSignIn(ctx context.Context, personID string) (string, error) {
	return c.IssueSignInFrom(ctx, personID, "console")
}

// IssueSignInFrom is IssueSignIn asked from a chat channel: the audit trail
// records where. The caller has checked the chat's link is verified.
func (c *Console) IssueSignInFrom(ctx context.Context, personID string, from domain.Channel) (string, error) {
	if _, ok := c.staffPerson(personID); !ok {
		return "", ErrNotStaff
	}
	token := randomSecret()
	now := c.cfg.Now()
	if err := c.cfg.Console.CreateSignIn(ctx, hashSecret(token), personID, now, now.Add(SignInTTL)); err != nil {
		return "", err
	}
	if err := c.cfg.Console.AddAuditFrom(ctx, now, personID, "signin.issue", "", from); err != nil {
		c.cfg.Log.Error("console: audit", "err", err, "action", "signin.issue")
	}
	return c.cfg.PublicURL + "/admin/signin/" + token, nil
}

// session returns the request's session, nil when there is none.
func (c *Console) session(r *http.Request) *session {
	ck, err := r.Cookie(cookieName)
	if err != nil || len(ck.Value) < 40 || len(ck.Value) > 64 {
		return nil
	}
	h := hashSecret(ck.Value)
	now := c.cfg.Now()
	st, err := c.cfg.Console.ConsoleSession(r.Context(), h, now)
	if err != nil {
		if !errors.Is(err, sqlstore.ErrNoRows) {
			c.cfg.Log.Error("console: read session", "err", err)
		}
		return nil
	}
	p, ok := c.staffPerson(st.PersonID)
	if !ok {
		return nil // no longer staff
	}
	// Sliding: an active session lives on, up to sessionMaxAge.
	if st.ExpiresAt.Sub(now) < SessionTTL/2 && now.Sub(st.CreatedAt) < sessionMaxAge {
		if err := c.cfg.Console.ExtendConsoleSession(r.Context(), h, now.Add(SessionTTL)); err != nil {
			c.cfg.Log.Warn("console: extend session", "err", err)
		}
	}
	return &session{Person: p, CSRF: st.CSRF, hash: h}
}

type handler func(w http.ResponseWriter, r *http.Request, s *session)

// get serves h to signed-in staff; everyone else gets the sign-in page.
func (c *Console) get(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		w.Header().Set("Cache-Control", "no-store")
		s := c.session(r)
		if s == nil {
			c.render(w, r, nil, http.StatusUnauthorized, "signin", "Đăng nhập", signinView{})
			return
		}
		h(w, r, s)
	})
}

// post is get plus the CSRF check.
func (c *Console) post(h handler) http.Handler { return c.postLimit(h, MaxUploadSize) }

// postLimit is post taking uploads of up to limit bytes.
func (c *Console) postLimit(h handler, limit int64) http.Handler {
	return c.get(func(w http.ResponseWriter, r *http.Request, s *session) {
		r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20)
		var err error
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			err = r.ParseMultipartForm(1 << 20)
		} else {
			err = r.ParseForm()
		}
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			c.fail(w, r, s, http.StatusRequestEntityTooLarge, "Tệp quá lớn", fmt.Sprintf("Chỉ nhận tệp đến %d MB.", limit>>20))
			return
		}
		if !sameOrigin(r) || !validCSRF(r, s.CSRF) {
			c.fail(w, r, s, http.StatusForbidden, "Yêu cầu bị từ chối",
				"Biểu mẫu đã hết hạn hoặc không hợp lệ. Xin tải lại trang rồi thử lại.")
			return
		}
		h(w, r, s)
	})
}

// CSRFHeader may carry the CSRF token instead of the form field.
const CSRFHeader = "X-CSRF-Token"

// validCSRF reads the token from the form body or the header only, never
// from the URL: a token in a query string ends up in logs and Referer
// headers.
func validCSRF(r *http.Request, want string) bool {
	got := r.PostFormValue("csrf")
	if got == "" {
		got = r.Header.Get(CSRFHeader)
	}
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sameOrigin refuses a POST whose Origin header names another site.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func (c *Console) secure(r *http.Request) bool {
	// Served under an https public URL, cookies are Secure whatever the
	// request looks like here. Behind a TLS-terminating proxy the request
	// itself is plain HTTP; a forged header can only make the cookie
	// stricter.
	return strings.HasPrefix(strings.ToLower(c.cfg.PublicURL), "https://") || r.TLS != nil ||
		strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

type signinView struct {
	State  string // "", "ok", "used", "expired", "unknown", "notstaff"
	Name   string
	Action string
}

func (c *Console) signInState(ctx context.Context, token string, use bool) (domain.Person, string) {
	if len(token) < 40 || len(token) > 64 {
		return domain.Person{}, "unknown"
	}
	var id string
	var err error
	if use {
		id, err = c.cfg.Console.UseSignIn(ctx, hashSecret(token), c.cfg.Now())
	} else {
		id, err = c.cfg.Console.SignInStatus(ctx, hashSecret(token), c.cfg.Now())
	}
	switch {
	case errors.Is(err, sqlstore.ErrSignInUsed):
		return domain.Person{}, "used"
	case errors.Is(err, sqlstore.ErrSignInExpired):
		return domain.Person{}, "expired"
	case errors.Is(err, sqlstore.ErrNoRows):
		return domain.Person{}, "unknown"
	case err != nil:
		c.cfg.Log.Error("console: sign-in link", "err", err)
		return domain.Person{}, "error"
	}
	p, ok := c.staffPerson(id)
	if !ok {
		return domain.Person{}, "notstaff"
	}
	return p, "ok"
}

// serveSignInPage shows the link's state and, when valid, the button that
// signs in. Opening the link does not use it up.
func (c *Console) serveSignInPage(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	w.Header().Set("Cache-Control", "no-store")
	tok := r.PathValue("token")
	p, state := c.signInState(r.Context(), tok, false)
	status := http.StatusOK
	if state != "ok" {
		status = http.StatusForbidden
	}
	c.render(w, r, nil, status, "signin", "Đăng nhập", signinView{State: state, Name: p.FullName, Action: "/admin/signin/" + tok})
}

func (c *Console) serveSignIn(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	w.Header().Set("Cache-Control", "no-store")
	if !sameOrigin(r) {
		c.render(w, r, nil, http.StatusForbidden, "signin", "Đăng nhập", signinView{State: "unknown"})
		return
	}
	p, state := c.signInState(r.Context(), r.PathValue("token"), true)
	if state != "ok" {
		c.render(w, r, nil, http.StatusForbidden, "signin", "Đăng nhập", signinView{State: state})
		return
	}
	id := randomSecret()
	now := c.cfg.Now()
	if err := c.cfg.Console.CreateConsoleSession(r.Context(), hashSecret(id), sqlstore.ConsoleSession{
		PersonID: p.ID, CSRF: randomSecret(), CreatedAt: now, ExpiresAt: now.Add(SessionTTL),
	}); err != nil {
		c.cfg.Log.Error("console: create session", "err", err)
		c.render(w, r, nil, http.StatusInternalServerError, "signin", "Đăng nhập", signinView{State: "error"})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/admin", HttpOnly: true,
		Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
	c.audit(r.Context(), p.ID, "signin", "")
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

func (c *Console) serveSignOut(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.cfg.Console.DeleteConsoleSession(r.Context(), s.hash); err != nil {
		c.cfg.Log.Error("console: sign out", "err", err)
	}
	c.audit(r.Context(), s.Person.ID, "signout", "")
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/admin", HttpOnly: true, MaxAge: -1,
		Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
	c.render(w, r, nil, http.StatusOK, "signin", "Đã đăng xuất", signinView{State: "out"})
}

// --- audit, rendering -------------------------------------------------------------

func (c *Console) audit(ctx context.Context, who, action, detail string) {
	if err := c.cfg.Console.AddAudit(ctx, c.cfg.Now(), who, action, detail); err != nil {
		c.cfg.Log.Error("console: audit", "err", err, "action", action)
	}
}

// view is what every page template gets.
type view struct {
	Title string
	Nav   string
	Staff *domain.Person
	CSRF  string
	Flash string
	Error string
	Event *domain.Event
	Data  any
	// Events are the events the switcher offers (shown with two or
	// more); Event is then the one chosen.
	Events []deskEvent
	// Campaign is the data campaign chosen in its switcher, Campaigns
	// the choices (shown with two or more).
	Campaign  *domain.CampaignRecord
	Campaigns []campaignPick
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, page, title string, data any) {
	v := view{Title: title, Data: data, Flash: flash(r.URL.Query().Get("msg"))}
	if s != nil && followsEvent[page] {
		c.switcher(w, r, &v)
	} else {
		c.eventView(r.Context(), &v) // the meeting's and plan's pages
	}
	if s != nil && followsCampaign[page] {
		c.campaignSwitcher(w, r, &v)
	}
	c.renderView(w, s, status, page, v)
}

func (c *Console) renderView(w http.ResponseWriter, s *session, status int, page string, v view) {
	t, ok := c.pages[page]
	if !ok {
		panic("web: no page " + page)
	}
	if v.Event == nil {
		v.Event = c.cfg.Event
	}
	if v.Nav == "" {
		v.Nav = page
	}
	if s != nil {
		p := s.Person
		v.Staff, v.CSRF = &p, s.CSRF
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		c.cfg.Log.Error("console: render", "page", page, "err", err)
		http.Error(w, "Lỗi hiển thị trang.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b.String())
}

// fail shows an error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, status int, title, msg string) {
	c.renderView(w, s, status, "error", view{Title: title, Nav: "-", Data: msg})
}

// oops logs an internal error and shows a polite page.
func (c *Console) oops(w http.ResponseWriter, r *http.Request, s *session, what string, err error) {
	c.cfg.Log.Error("console: "+what, "err", err, "path", r.URL.Path)
	c.fail(w, r, s, http.StatusInternalServerError, "Có lỗi xảy ra",
		"Hệ thống chưa thực hiện được yêu cầu. Xin thử lại sau ít phút; nếu vẫn lỗi, xin báo bộ phận kỹ thuật.")
}

// flashes are the messages a redirect may ask the next page to show, by key,
// so that no text from the URL reaches the page.
var flashes = map[string]string{
	"saved":          "Đã lưu thông tin đại biểu.",
	"approved":       "Đã duyệt chỉ số.",
	"returned":       "Đã trả lại chỉ số kèm góp ý.",
	"stale":          "Chỉ số vừa được người khác thay đổi, chưa thực hiện. Xin xem lại trạng thái mới rồi thao tác lại.",
	"imported":       "Đã nhập dữ liệu.",
	"cancelled":      "Đã hủy, không có gì thay đổi.",
	"invite_sent":    "Đã xếp lịch gửi lại lời mời qua trò chuyện của đại biểu.",
	"unlinked":       "Đã hủy liên kết. Tài khoản trò chuyện đó không còn thay mặt người này.",
	"unlink_gone":    "Liên kết này đã được hủy trước đó.",
	"rotated":        "Đã đổi mã thư mời, đường dẫn mời và mã QR điểm danh. Giấy mời và đường dẫn cũ không còn dùng được; xin in và gửi lại.",
	"rsvp_saved":     "Đã ghi nhận câu trả lời; lịch sử giữ lại người ghi nhận.",
	"rsvp_same":      "Câu trả lời không đổi nên không ghi thêm.",
	"event_created":  "Đã tạo sự kiện.",
	"event_cloned":   "Đã nhân bản sự kiện; xin xem lại giờ giấc, hạn xác nhận và người được mời.",
	"invitees_added": "Đã mời thêm.",
	"event_open":     "Đã mở lại việc nhận xác nhận.",
	"event_closed":   "Đã đóng việc nhận xác nhận; các câu trả lời vẫn được giữ.",
	"event_archived": "Đã lưu trữ sự kiện; không dữ liệu nào bị xóa.",
	"invite_nochat":  "Đại biểu chưa mở trò chuyện với trợ lý nên không gửi qua chat được; xin gửi các đường dẫn dưới đây qua điện thoại, Zalo hoặc thư.",
}

func flash(key string) string { return flashes[key] }

func (c *Console) redirect(w http.ResponseWriter, r *http.Request, path, msg string) {
	if msg != "" {
		path += "?msg=" + url.QueryEscape(msg)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

func (c *Console) now() time.Time { return c.cfg.Now().In(c.loc) }

func (c *Console) fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(c.loc).Format("15:04 02/01/2006")
}

func errf(format string, args ...any) error { return fmt.Errorf(format, args...) }
