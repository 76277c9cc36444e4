package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/export"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage/files"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
	"github.com/dieuphoi/dieuphoi/web"
)

var ict = time.FixedZone("ICT", 7*3600)

// world is a console on a real SQLite store, served over HTTP.
type world struct {
	store   *sqlite.Store
	blobs   *files.Store
	console *web.Console
	srv     *httptest.Server
	dir     atomic.Pointer[domain.Directory]
	cat     atomic.Pointer[domain.Catalog]
	ev      *domain.Event
	mu      sync.Mutex
	now     time.Time
	reloads atomic.Int32
	// resent records ResendInvite calls as "person by"; P001 has a chat.
	resent []string
	sched  *scheduler.Scheduler
	// told records the meeting's sends (votes, answers) as the scheduler
	// would get them.
	told meetingSends
	// campaignCatalog, when set, is the console's CampaignCatalog.
	campaignCatalog func(ctx context.Context, id string) (*domain.Catalog, error)
}

type meetingSends struct {
	mu     sync.Mutex
	votes  []string // "vote id: person ids"
	notify []domain.Question
}

func (m *meetingSends) SendVote(_ context.Context, v domain.Vote, ids []string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.votes = append(m.votes, strings.Join(ids, ","))
	return len(ids), nil
}

func (m *meetingSends) NotifyQuestion(_ context.Context, q domain.Question) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.notify = append(m.notify, q)
	return 1, nil
}

func (m *meetingSends) notices() []domain.Question {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]domain.Question(nil), m.notify...)
}

func (w *world) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *world) setClock(t time.Time) {
	w.mu.Lock()
	w.now = t
	w.mu.Unlock()
}

var (
	agencies = []domain.Agency{
		{Code: "SKHCN", NameVI: "Sở Khoa học và Công nghệ", Kind: "department"},
		{Code: "UBND-YM", NameVI: "UBND huyện Yên Mỹ", Kind: "district"},
		{Code: "SNV", NameVI: "Sở Nội vụ", Kind: "department"},
	}
	people = []domain.Person{
		{ID: "S001", FullName: "Đỗ Thu Hà", Position: "Chuyên viên Văn phòng Sở", AgencyCode: "SKHCN", Phone: "0911111111", Roles: []domain.Role{domain.RoleStaff}},
		{ID: "P001", FullName: "Nguyễn Văn An", Position: "Giám đốc", AgencyCode: "SKHCN", Phone: "0912345678", Roles: []domain.Role{domain.RoleDelegate}},
		{ID: "P002", FullName: "Trần Thị Bình", Position: "Phó Chủ tịch", AgencyCode: "UBND-YM", Phone: "0987654321", Roles: []domain.Role{domain.RoleDelegate}},
		{ID: "P003", FullName: "Lê Minh Cường", Position: "Chánh Văn phòng", AgencyCode: "UBND-YM", Phone: "0977000111", Roles: []domain.Role{domain.RoleDelegate, domain.RoleFocal}},
		{ID: "P004", FullName: "Phạm Đức Dũng", Position: "Trưởng phòng", AgencyCode: "SNV", Phone: "0966000222", Roles: []domain.Role{domain.RoleDelegate, domain.RoleFocal}},
	}
	indicators = []domain.Indicator{
		{Code: "1.1.1", Pillar: "1 Thể chế", NameVI: "Văn bản chính sách KH,CN&ĐMST", Unit: "văn bản", Type: domain.TypeInteger, RefYear: 2023, Evidence: true, Agency: "UBND-YM"},
		{Code: "2.1.1", Pillar: "2 Nguồn nhân lực", NameVI: "Tỷ lệ lao động qua đào tạo", Unit: "%", Type: domain.TypePercent, RefYear: 2023, Agency: "SNV"},
	}
)

// servedCampaign is the data campaign the world's chat serves.
const servedCampaign = "pii-2026"

func deadline() time.Time { return time.Date(2026, 8, 20, 17, 0, 0, 0, ict) }

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dieuphoi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	blobs, err := files.New(filepath.Join(t.TempDir(), "evidence"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SyncDirectory(ctx, agencies, people); err != nil {
		t.Fatal(err)
	}
	assignments := []domain.Assignment{
		{Indicator: "1.1.1", Agency: "UBND-YM", Focal: []string{"P003"}, Deadline: deadline()},
		{Indicator: "2.1.1", Agency: "SNV", Focal: []string{"P004"}, Deadline: deadline()},
	}
	if err := store.SyncCatalog(ctx, indicators, assignments); err != nil {
		t.Fatal(err)
	}
	w := &world{store: store, blobs: blobs, now: time.Date(2026, 7, 20, 9, 0, 0, 0, ict)}
	// The served data campaign is a record, as the config files' is.
	if _, err := store.ImportCampaign(ctx, domain.CampaignRecord{ID: servedCampaign, NameVI: "PII 2026", Deadline: deadline()}, w.now); err != nil {
		t.Fatal(err)
	}
	store.SetCampaign(servedCampaign)
	w.ev = &domain.Event{
		ID: "hn2026", NameVI: "Hội nghị công bố Chỉ số đổi mới sáng tạo tỉnh 2026", Location: ict,
		DoorsOpen: time.Date(2026, 8, 7, 7, 30, 0, 0, ict), Start: time.Date(2026, 8, 7, 8, 0, 0, 0, ict),
		End: time.Date(2026, 8, 7, 11, 30, 0, 0, ict), VenueVI: "Hội trường A, Trung tâm Hội nghị tỉnh", Address: "1 Đường Chính",
		RSVPCutoff: time.Date(2026, 8, 3, 17, 0, 0, 0, ict),
	}
	if err := w.reload(ctx); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	exporter := &export.Source{Title: w.ev.NameVI, Campaign: store, Directory: w.dir.Load, Open: blobs.Open, Now: w.clock, Location: ict}
	w.console = web.New(web.Config{
		Store: store, Campaign: store, Console: store, Events: store, Campaigns: store, CampaignID: servedCampaign,
		CampaignCatalog: func(ctx context.Context, id string) (*domain.Catalog, error) {
			if w.campaignCatalog == nil {
				return nil, nil
			}
			return w.campaignCatalog(ctx, id)
		},
		Directory: w.dir.Load, Catalog: w.cat.Load, Event: w.ev, Deadline: deadline(),
		Exporter: exporter, Blobs: blobs,
		Act: func(ctx context.Context, by string, effects []domain.Effect) error {
			if _, err := store.Apply(ctx, domain.UpdateKey{Channel: "console", UpdateID: testenv.RandomHex(8)}, w.clock(), effects); err != nil {
				return err
			}
			return w.reload(ctx) // as the dispatcher's Act does after an answer (a substitute is a new person)
		},
		Reload:      func(ctx context.Context) error { w.reloads.Add(1); return w.reload(ctx) },
		PublicURL:   "https://hoinghi.example.vn",
		BotUsername: func() string { return "dieuphoi_bot" },
		ResendInvite: func(ctx context.Context, personID, by string) (int, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.resent = append(w.resent, personID+" "+by)
			if personID == "P001" {
				return 1, nil
			}
			return 0, nil
		},
		Reminders: func(ctx context.Context, days int) ([]scheduler.Planned, []scheduler.Done, error) {
			plan, err := w.sched.Upcoming(ctx, w.clock(), w.clock().AddDate(0, 0, days))
			if err != nil {
				return nil, nil, err
			}
			done, err := w.sched.History(ctx, 100)
			return plan, done, err
		},
		Now: w.clock, Log: log,
		Meeting: &web.MeetingConfig{Store: store, Files: blobs, Sender: &w.told,
			Links: &bot.DocLinks{Key: []byte("meeting-links-key-for-the-tests!"), Base: "https://hoinghi.example.vn"}},
	})
	w.sched, err = scheduler.New(scheduler.Config{Store: store, Outbox: store, Senders: map[domain.Channel]bot.Sender{}, Event: w.ev,
		Directory: w.dir.Load, Progress: scheduler.CampaignProgress(w.cat.Load(), store), Now: w.clock, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	w.console.Routes(mux)
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)
	return w
}

// reload is what the lead's Reload does: read people and catalog back.
func (w *world) reload(ctx context.Context) error {
	dir, err := w.store.Directory(ctx)
	if err != nil {
		return err
	}
	inds, as, err := w.store.LoadCatalog(ctx)
	if err != nil {
		return err
	}
	w.dir.Store(dir)
	w.cat.Store(domain.NewCatalog(inds, as))
	return nil
}

func (w *world) apply(t *testing.T, effects ...domain.Effect) {
	t.Helper()
	if _, err := w.store.Apply(context.Background(), domain.UpdateKey{Channel: domain.Web, UpdateID: testenv.RandomHex(8)}, w.clock(), effects); err != nil {
		t.Fatal(err)
	}
	if err := w.reload(context.Background()); err != nil { // as the dispatcher does after an answer
		t.Fatal(err)
	}
}

func (w *world) rsvp(t *testing.T, id string, st domain.RSVPStatus, at time.Time, sub *domain.Substitute) {
	t.Helper()
	w.mu.Lock()
	saved := w.now
	w.now = at
	w.mu.Unlock()
	w.apply(t, domain.SaveRSVP{RSVP: domain.RSVP{PersonID: id, Status: st, Substitute: sub, Channel: domain.Web}})
	w.setClock(saved)
}

func (w *world) person(id string) domain.Person {
	p, _ := w.dir.Load().Person(id)
	return p
}

// client is a browser-like HTTP client that does not follow redirects.
type client struct {
	t    *testing.T
	w    *world
	http *http.Client
	csrf string
}

func (w *world) anon(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, w: w, http: &http.Client{Jar: proxiedJar{jar}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// proxiedJar is a cookie jar that sees the test server as the https site
// it stands for (TLS ends at a proxy in front): its Secure cookies are kept
// and sent back over the plain test connection.
type proxiedJar struct{ http.CookieJar }

func (j proxiedJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	v := *u
	v.Scheme = "https"
	j.CookieJar.SetCookies(&v, cs)
}

func (j proxiedJar) Cookies(u *url.URL) []*http.Cookie {
	v := *u
	v.Scheme = "https"
	return j.CookieJar.Cookies(&v)
}

// signIn signs in as staff member id with a fresh link.
func (w *world) signIn(t *testing.T, id string) *client {
	t.Helper()
	link, err := w.console.IssueSignIn(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	c := w.anon(t)
	path := strings.TrimPrefix(link, "https://hoinghi.example.vn")
	if code, body := c.get(path); code != 200 || !strings.Contains(body, "Đăng nhập") {
		t.Fatalf("sign-in page: %d\n%s", code, body)
	}
	resp := c.do("POST", path, nil, "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/" {
		t.Fatalf("sign in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	ck := resp.Header.Get("Set-Cookie")
	// Secure: the public URL is https, though this request is plain HTTP.
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/admin", "Secure"} {
		if !strings.Contains(ck, want) {
			t.Errorf("cookie %q lacks %s", ck, want)
		}
	}
	_, body := c.get("/admin/")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf token on the overview:\n%s", body)
	}
	c.csrf = m[1]
	return c
}

func (c *client) do(method, path string, body io.Reader, ctype string) *http.Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.w.srv.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp
}

func read(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	resp := c.do("GET", path, nil, "")
	return resp.StatusCode, read(c.t, resp)
}

// post sends a form with the session's CSRF token (unless form sets one).
func (c *client) post(path string, form url.Values) *http.Response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	}
	return c.do("POST", path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", body)
	}
}

func mustNotContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if strings.Contains(body, w) {
			t.Errorf("page has %q", w)
		}
	}
}

func (w *world) putEvidence(t *testing.T, content string) string {
	t.Helper()
	sum, _, err := w.blobs.Put(bytes.NewReader([]byte(content)), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// submit seeds a submitted indicator, as the chat flow stores one.
func (w *world) submit(t *testing.T, ind, agency, by, value string, ev ...domain.Evidence) {
	t.Helper()
	w.apply(t, domain.SaveSubmission{Action: "submit", ExpectVersion: 0, Submission: domain.Submission{
		Indicator: ind, Agency: agency, Value: value, By: by, DocNumber: "12/QĐ-UBND", DocDate: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		Evidence: ev,
	}})
}
