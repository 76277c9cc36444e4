package web

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/export"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// CampaignRecords is what the data-campaign pages need: the campaigns as
// records, each read on its own.
type CampaignRecords interface {
	Campaigns(ctx context.Context) ([]domain.CampaignRecord, error)
	Campaign(ctx context.Context, id string) (domain.CampaignRecord, error)
	CreateCampaign(ctx context.Context, c domain.CampaignRecord, by string, at time.Time) error
	SetCampaignStatus(ctx context.Context, id string, s domain.Status, by string, at time.Time) error
	ForCampaign(id string) storage.CampaignStore
	CampaignHistory(ctx context.Context, campaignID string) ([]domain.SubmissionChange, error)
	ScopeAudit(ctx context.Context, scope string) ([]sqlstore.AuditEntry, error)
}

// campaignCookie remembers the campaign chosen in the console's switcher.
const campaignCookie = "dp_campaign"

// followsCampaign are the pages about the campaign chosen in the switcher.
var followsCampaign = map[string]bool{"overview": true, "indicators": true, "export": true}

// MaxArchiveFiles caps the evidence files put in a campaign archive
// (?files=1); files past it are listed in the manifest, not included.
const MaxArchiveFiles = 200 << 20

func init() {
	for k, v := range map[string]string{
		"campaign_created":  "Đã tạo chiến dịch dữ liệu.",
		"campaign_cloned":   "Đã nhân bản chiến dịch; xin xem lại các hạn nộp và bảng đổi mã chỉ số.",
		"campaign_open":     "Đã mở chiến dịch: đầu mối các đơn vị nhập được số liệu.",
		"campaign_closed":   "Đã đóng chiến dịch; số liệu đã duyệt được giữ làm số liệu năm trước cho chiến dịch sau.",
		"campaign_archived": "Đã lưu trữ chiến dịch; không dữ liệu nào bị xóa.",
	} {
		flashes[k] = v
	}
	for k, v := range map[string]string{
		"campaign.save":             "Nhập chiến dịch dữ liệu từ tệp",
		"campaign.create":           "Tạo chiến dịch dữ liệu",
		"campaign.clone":            "Nhân bản chiến dịch dữ liệu",
		"campaign.open":             "Mở chiến dịch dữ liệu",
		"campaign.closed":           "Đóng chiến dịch dữ liệu",
		"campaign.archived":         "Lưu trữ chiến dịch dữ liệu",
		"campaign.archive_download": "Tải hồ sơ lưu trữ chiến dịch",
	} {
		auditNames[k] = v
	}
}

func (c *Console) campaignRoutes(mux *http.ServeMux) {
	if c.cfg.Campaigns == nil {
		return
	}
	mux.Handle("GET /admin/campaigns", c.get(c.serveCampaigns))
	mux.Handle("POST /admin/campaigns", c.post(c.serveCampaignCreate))
	mux.Handle("GET /admin/campaigns/{id}", c.get(c.serveCampaign))
	mux.Handle("POST /admin/campaigns/{id}/status", c.post(c.serveCampaignStatus))
	mux.Handle("POST /admin/campaigns/{id}/clone", c.post(c.serveCampaignClone))
	mux.Handle("GET /admin/campaigns/{id}/archive.zip", c.get(c.serveCampaignArchive))
}

// chosenCampaign is the campaign a page is about, with its submissions'
// store and its catalog (the current indicators with its own
// assignments, or the served campaign's).
type chosenCampaign struct {
	Rec     domain.CampaignRecord
	Store   storage.CampaignStore
	Catalog *domain.Catalog
	// Served is true for the campaign the chat serves (its store and
	// catalog are the deployment's).
	Served bool
}

func (c *Console) servedCampaign() chosenCampaign {
	return chosenCampaign{Rec: domain.CampaignRecord{ID: c.cfg.CampaignID}, Store: c.cfg.Campaign, Catalog: c.cfg.Catalog(), Served: true}
}

// catalogOf is rec's catalog: the current indicators, with rec's own
// assignments when it has them.
func (c *Console) catalogOf(rec domain.CampaignRecord) *domain.Catalog {
	base := c.cfg.Catalog()
	if base == nil || rec.Assignments == nil {
		return base
	}
	return domain.NewCatalog(base.Indicators(), rec.Assignments)
}

func (c *Console) choose(ctx context.Context, rec domain.CampaignRecord) (chosenCampaign, error) {
	if rec.ID == c.cfg.CampaignID || c.cfg.Campaigns == nil {
		ch := c.servedCampaign()
		ch.Rec = rec
		return ch, nil
	}
	ch := chosenCampaign{Rec: rec, Store: c.cfg.Campaigns.ForCampaign(rec.ID), Catalog: c.catalogOf(rec)}
	if c.cfg.CampaignCatalog != nil && ch.Catalog != nil {
		// Its own last year's values: the served catalog's are the served
		// campaign's previous one's.
		cat, err := c.cfg.CampaignCatalog(ctx, rec.ID)
		if err != nil {
			return ch, fmt.Errorf("catalog of campaign %s: %w", rec.ID, err)
		}
		if cat != nil {
			ch.Catalog = cat
		}
	}
	return ch, nil
}

// campaignFor is the campaign chosen for r: ?campaign=ID, else the
// switcher's cookie, else the served one. list is every campaign (nil
// without campaign records).
func (c *Console) campaignFor(r *http.Request) (chosenCampaign, []domain.CampaignRecord, error) {
	if c.cfg.Campaigns == nil || c.cfg.Campaign == nil {
		return c.servedCampaign(), nil, nil
	}
	list, err := c.cfg.Campaigns.Campaigns(r.Context())
	if err != nil {
		return chosenCampaign{}, nil, err
	}
	want := r.URL.Query().Get("campaign")
	if want == "" {
		if ck, err := r.Cookie(campaignCookie); err == nil {
			want = ck.Value
		}
	}
	if want == "" {
		want = c.cfg.CampaignID
	}
	for _, rec := range list {
		if rec.ID == want {
			ch, err := c.choose(r.Context(), rec)
			return ch, list, err
		}
	}
	for _, rec := range list {
		if rec.ID == c.cfg.CampaignID {
			ch, err := c.choose(r.Context(), rec)
			return ch, list, err
		}
	}
	return c.servedCampaign(), list, nil
}

// campaignPick is a campaign in the switcher.
type campaignPick struct {
	ID, Name string
	Status   domain.Status
}

// campaignSwitcher puts the chosen campaign and the choices in v, and
// remembers a choice made with ?campaign=.
func (c *Console) campaignSwitcher(w http.ResponseWriter, r *http.Request, v *view) {
	ch, list, err := c.campaignFor(r)
	if err != nil {
		c.cfg.Log.Error("console: campaigns", "err", err)
		return
	}
	if q := r.URL.Query().Get("campaign"); q != "" && q == ch.Rec.ID && w != nil {
		http.SetCookie(w, &http.Cookie{Name: campaignCookie, Value: ch.Rec.ID, Path: "/admin", HttpOnly: true,
			Secure: c.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: 30 * 24 * 3600})
	}
	rec := ch.Rec
	v.Campaign = &rec
	if len(list) < 2 {
		return
	}
	for _, rec := range list {
		v.Campaigns = append(v.Campaigns, campaignPick{ID: rec.ID, Name: rec.NameVI, Status: rec.Status})
	}
}

// campaignRow is one campaign in the list, with what needs action.
type campaignRow struct {
	domain.CampaignRecord
	When      string // "running", "coming", "past"
	Items     int    // assigned items
	Waiting   int    // submitted, waiting for review
	Approved  int
	Late      []string // agencies past their deadline with items not sent
	Action    string
	Served    bool
	Assigned  int // agencies with assignments
	Deadlines string
}

// campaignWhen places a campaign on the calendar: running from its
// opening (or creation) to its deadline while open, coming before its
// opening, past after its deadline or once closed.
func campaignWhen(rec domain.CampaignRecord, now time.Time) string {
	switch {
	case rec.Status != domain.StatusOpen || (!rec.Deadline.IsZero() && rec.Deadline.Unix() > 0 && now.After(rec.Deadline)):
		return "past"
	case !rec.Opens.IsZero() && now.Before(rec.Opens):
		return "coming"
	default:
		return "running"
	}
}

// agencyDeadline is an assignment's deadline in rec: its own, else the
// agency's, else the campaign's.
func agencyDeadline(rec domain.CampaignRecord, a domain.Assignment) time.Time {
	if !a.Deadline.IsZero() {
		return a.Deadline
	}
	if d, ok := rec.AgencyDeadlines[a.Agency]; ok {
		return d
	}
	return rec.Deadline
}

func (c *Console) campaignRow(ctx context.Context, rec domain.CampaignRecord) (campaignRow, error) {
	ch, err := c.choose(ctx, rec)
	if err != nil {
		return campaignRow{}, err
	}
	now := c.cfg.Now()
	row := campaignRow{CampaignRecord: rec, When: campaignWhen(rec, now), Served: ch.Served}
	if ch.Store == nil || ch.Catalog == nil {
		return row, nil
	}
	subs, err := ch.Store.Submissions(ctx, "")
	if err != nil {
		return row, err
	}
	status := map[[2]string]domain.SubmissionStatus{}
	for _, s := range subs {
		status[[2]string{s.Indicator, s.Agency}] = s.Status
		switch s.Status {
		case domain.StatusSubmitted:
			row.Waiting++
		case domain.StatusApproved:
			row.Approved++
		}
	}
	late := map[string]bool{}
	agencies := map[string]bool{}
	for _, a := range ch.Catalog.Assignments() {
		row.Items++
		agencies[a.Agency] = true
		st := status[[2]string{a.Indicator, a.Agency}]
		d := agencyDeadline(rec, a)
		if rec.Status == domain.StatusOpen && !d.IsZero() && now.After(d) && st != domain.StatusSubmitted && st != domain.StatusApproved {
			late[a.Agency] = true
		}
	}
	row.Assigned = len(agencies)
	dir := c.cfg.Directory()
	for code := range late {
		name := code
		if a, ok := dir.Agency(code); ok {
			name = a.NameVI
		}
		row.Late = append(row.Late, name)
	}
	slices.Sort(row.Late)
	var todo []string
	if row.Waiting > 0 && rec.Status != domain.StatusArchived {
		todo = append(todo, fmt.Sprintf("%d chỉ số chờ duyệt", row.Waiting))
	}
	if len(row.Late) > 0 {
		todo = append(todo, fmt.Sprintf("%d đơn vị trễ hạn: %s", len(row.Late), strings.Join(row.Late, ", ")))
	}
	if row.When == "past" && rec.Status == domain.StatusOpen {
		todo = append(todo, "Đã quá hạn: đóng hoặc lưu trữ chiến dịch")
	}
	if row.When == "coming" && row.Items == 0 {
		todo = append(todo, "Chưa giao chỉ số cho đơn vị nào")
	}
	row.Action = strings.Join(todo, "; ")
	return row, nil
}

func (c *Console) campaignRows(ctx context.Context) ([]campaignRow, error) {
	list, err := c.cfg.Campaigns.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	var rows []campaignRow
	for _, rec := range list {
		row, err := c.campaignRow(ctx, rec)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	order := map[string]int{"running": 0, "coming": 1, "past": 2}
	slices.SortStableFunc(rows, func(a, b campaignRow) int { return order[a.When] - order[b.When] })
	return rows, nil
}

// campaignForm is the create form as typed, shown again with the
// problems when it is refused.
type campaignForm struct {
	ID, NameVI, NameEN, Version, Previous, Opens, Deadline string
	Agencies                                               []string
	AgencyDeadlines                                        map[string]string
}

type campaignAgency struct {
	Code, Name string
	Items      int
	Checked    bool
	Deadline   string
}

type campaignsView struct {
	Rows     []campaignRow
	Form     campaignForm
	Errors   []string
	Agencies []campaignAgency
	Previous []domain.CampaignRecord
	Version  string
}

var campaignIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

func (c *Console) serveCampaigns(w http.ResponseWriter, r *http.Request, s *session) {
	f := campaignForm{AgencyDeadlines: map[string]string{}}
	if cat := c.cfg.Catalog(); cat != nil {
		for _, a := range c.cfg.Directory().Agencies() {
			if len(cat.ForAgency(a.Code)) > 0 {
				f.Agencies = append(f.Agencies, a.Code) // every agency with items, to begin with
			}
		}
	}
	c.showCampaigns(w, r, s, http.StatusOK, f, nil)
}

func (c *Console) showCampaigns(w http.ResponseWriter, r *http.Request, s *session, status int, f campaignForm, errs []string) {
	rows, err := c.campaignRows(r.Context())
	if err != nil {
		c.oops(w, r, s, "campaigns", err)
		return
	}
	v := campaignsView{Rows: rows, Form: f, Errors: errs}
	for _, row := range rows {
		v.Previous = append(v.Previous, row.CampaignRecord)
	}
	if cat := c.cfg.Catalog(); cat != nil {
		for _, a := range c.cfg.Directory().Agencies() {
			n := len(cat.ForAgency(a.Code))
			if n == 0 {
				continue
			}
			v.Agencies = append(v.Agencies, campaignAgency{Code: a.Code, Name: a.NameVI, Items: n,
				Checked: slices.Contains(f.Agencies, a.Code), Deadline: f.AgencyDeadlines[a.Code]})
		}
	}
	c.render(w, r, s, status, "campaigns", "Chiến dịch dữ liệu", v)
}

// serveCampaignCreate makes a campaign from the form: the current
// catalog's assignments of the chosen agencies, each due at its agency's
// deadline (else the campaign's). A form with problems changes nothing and
// comes back with every problem named.
func (c *Console) serveCampaignCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := campaignForm{ID: strings.ToLower(strings.TrimSpace(r.FormValue("id"))), NameVI: clean(r.FormValue("name_vi")),
		NameEN: clean(r.FormValue("name_en")), Version: clean(r.FormValue("catalog_version")), Previous: r.FormValue("previous"),
		Opens: strings.TrimSpace(r.FormValue("opens")), Deadline: strings.TrimSpace(r.FormValue("deadline")),
		Agencies: r.Form["agency"], AgencyDeadlines: map[string]string{}}
	for _, a := range c.cfg.Directory().Agencies() {
		if v := strings.TrimSpace(r.FormValue("deadline_" + a.Code)); v != "" {
			f.AgencyDeadlines[a.Code] = v
		}
	}
	rec, errs := c.campaignFromForm(r.Context(), f)
	if len(errs) == 0 {
		err := c.cfg.Campaigns.CreateCampaign(r.Context(), rec, s.Person.ID, c.cfg.Now())
		switch {
		case errors.Is(err, sqlstore.ErrCampaignTaken):
			errs = append(errs, fmt.Sprintf("Mã %s đã được dùng cho một chiến dịch khác.", f.ID))
		case errors.Is(err, storage.ErrNotFound):
			errs = append(errs, "Chiến dịch trước: không có chiến dịch này.")
		case err != nil:
			c.oops(w, r, s, "create campaign", err)
			return
		}
	}
	if len(errs) > 0 {
		c.showCampaigns(w, r, s, http.StatusUnprocessableEntity, f, errs)
		return
	}
	c.redirect(w, r, "/admin/campaigns/"+rec.ID, "campaign_created")
}

func (c *Console) campaignFromForm(ctx context.Context, f campaignForm) (domain.CampaignRecord, []string) {
	var errs []string
	if !campaignIDRE.MatchString(f.ID) {
		errs = append(errs, "Mã chiến dịch: 2 đến 64 chữ thường, chữ số, dấu chấm, gạch nối, ví dụ pii-2025.")
	} else if _, err := c.cfg.Campaigns.Campaign(ctx, f.ID); err == nil {
		errs = append(errs, fmt.Sprintf("Mã %s đã được dùng cho một chiến dịch khác.", f.ID))
	}
	if f.NameVI == "" {
		errs = append(errs, "Tên chiến dịch: chưa nhập.")
	}
	if len([]rune(f.NameVI)) > 300 || len([]rune(f.NameEN)) > 300 || len([]rune(f.Version)) > 64 {
		errs = append(errs, "Tên hoặc phiên bản danh mục quá dài.")
	}
	if f.Previous != "" {
		if _, err := c.cfg.Campaigns.Campaign(ctx, f.Previous); err != nil {
			errs = append(errs, "Chiến dịch trước: không có chiến dịch này.")
		}
	}
	var opens time.Time
	if f.Opens != "" {
		t, err := time.ParseInLocation("2006-01-02", f.Opens, c.loc)
		if err != nil {
			errs = append(errs, "Ngày bắt đầu nhận số liệu: không đúng.")
		}
		opens = t
	}
	deadline, err := time.ParseInLocation("2006-01-02T15:04", f.Deadline, c.loc)
	switch {
	case err != nil:
		errs = append(errs, "Hạn nộp chung: chưa chọn hoặc không đúng.")
	case !opens.IsZero() && !deadline.After(opens):
		errs = append(errs, "Hạn nộp chung phải sau ngày bắt đầu nhận số liệu.")
	}
	rec := domain.CampaignRecord{ID: f.ID, NameVI: f.NameVI, NameEN: f.NameEN, CatalogVersion: f.Version, PreviousID: f.Previous,
		Opens: opens, Deadline: deadline, Status: domain.StatusOpen, AgencyDeadlines: map[string]time.Time{}}
	dir := c.cfg.Directory()
	var codes []string
	for code := range f.AgencyDeadlines {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		name := code
		if a, ok := dir.Agency(code); ok {
			name = a.NameVI
		}
		t, err := time.ParseInLocation("2006-01-02T15:04", f.AgencyDeadlines[code], c.loc)
		switch {
		case err != nil:
			errs = append(errs, "Hạn nộp của "+name+": không đúng.")
		case !deadline.IsZero() && t.After(deadline):
			errs = append(errs, "Hạn nộp của "+name+" sau hạn nộp chung.")
		case !opens.IsZero() && !t.After(opens):
			errs = append(errs, "Hạn nộp của "+name+" phải sau ngày bắt đầu nhận số liệu.")
		default:
			rec.AgencyDeadlines[code] = t
		}
	}
	cat := c.cfg.Catalog()
	if cat == nil {
		errs = append(errs, "Chưa có danh mục chỉ số: xin nhập danh mục trước (Nhập dữ liệu).")
		return rec, errs
	}
	rec.Assignments = []domain.Assignment{} // its own, even when none are chosen
	for _, code := range f.Agencies {
		if _, ok := dir.Agency(code); !ok {
			errs = append(errs, "Đơn vị "+code+": không có trong danh sách.")
			continue
		}
		for _, a := range cat.ForAgency(code) {
			a.Deadline = time.Time{}
			if d, ok := rec.AgencyDeadlines[code]; ok {
				a.Deadline = d
			} else {
				a.Deadline = deadline
			}
			rec.Assignments = append(rec.Assignments, a)
		}
	}
	if len(rec.Assignments) == 0 {
		errs = append(errs, "Giao chỉ số: chọn ít nhất một đơn vị có chỉ số trong danh mục.")
	}
	return rec, errs
}

type campaignView struct {
	Row        campaignRow
	Previous   string // its name
	CodeMap    string // "new = old" lines
	Deadlines  []campaignAgency
	Clone      cloneForm
	Errors     []string
	Archivable bool
}

// cloneForm is the clone form as typed.
type cloneForm struct {
	ID, NameVI, NameEN, Years, CodeMap string
}

func codeMapText(m map[string]string) string {
	var lines []string
	for k, v := range m {
		lines = append(lines, k+" = "+v)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func (c *Console) serveCampaign(w http.ResponseWriter, r *http.Request, s *session) {
	c.showCampaign(w, r, s, http.StatusOK, nil, nil)
}

func (c *Console) showCampaign(w http.ResponseWriter, r *http.Request, s *session, status int, clone *cloneForm, errs []string) {
	rec, err := c.cfg.Campaigns.Campaign(r.Context(), r.PathValue("id"))
	if errors.Is(err, storage.ErrNotFound) {
		c.fail(w, r, s, http.StatusNotFound, "Không có chiến dịch này", "Không tìm thấy chiến dịch. Xin chọn lại trong danh sách chiến dịch.")
		return
	}
	if err != nil {
		c.oops(w, r, s, "campaign", err)
		return
	}
	row, err := c.campaignRow(r.Context(), rec)
	if err != nil {
		c.oops(w, r, s, "campaign", err)
		return
	}
	v := campaignView{Row: row, CodeMap: codeMapText(rec.CodeMap), Errors: errs, Archivable: rec.Status != domain.StatusOpen}
	if rec.PreviousID != "" {
		v.Previous = rec.PreviousID
		if p, err := c.cfg.Campaigns.Campaign(r.Context(), rec.PreviousID); err == nil {
			v.Previous = p.NameVI
		}
	}
	dir := c.cfg.Directory()
	var codes []string
	for code := range rec.AgencyDeadlines {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		name := code
		if a, ok := dir.Agency(code); ok {
			name = a.NameVI
		}
		v.Deadlines = append(v.Deadlines, campaignAgency{Code: code, Name: name, Deadline: c.fmtTime(rec.AgencyDeadlines[code])})
	}
	if clone != nil {
		v.Clone = *clone
	} else {
		v.Clone = cloneForm{Years: "1", CodeMap: v.CodeMap}
		if y := yearIn(rec.ID); y > 0 {
			v.Clone.ID = strings.Replace(rec.ID, strconv.Itoa(y), strconv.Itoa(y+1), 1)
			v.Clone.NameVI = strings.Replace(rec.NameVI, strconv.Itoa(y), strconv.Itoa(y+1), 1)
			v.Clone.NameEN = strings.Replace(rec.NameEN, strconv.Itoa(y), strconv.Itoa(y+1), 1)
		}
	}
	c.render(w, r, s, status, "campaign", rec.NameVI, v)
}

var yearRE = regexp.MustCompile(`(19|20)\d\d`)

// yearIn is the last year written in s (0 when none): a clone of "PII
// 2024" is offered as "PII 2025".
func yearIn(s string) int {
	all := yearRE.FindAllString(s, -1)
	if len(all) == 0 {
		return 0
	}
	y, _ := strconv.Atoi(all[len(all)-1])
	return y
}

func (c *Console) serveCampaignStatus(w http.ResponseWriter, r *http.Request, s *session) {
	st := domain.Status(r.FormValue("status"))
	if !st.Valid() {
		c.fail(w, r, s, http.StatusBadRequest, "Yêu cầu không hợp lệ", "Trạng thái không hợp lệ.")
		return
	}
	id := r.PathValue("id")
	if err := c.cfg.Campaigns.SetCampaignStatus(r.Context(), id, st, s.Person.ID, c.cfg.Now()); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			c.fail(w, r, s, http.StatusNotFound, "Không có chiến dịch này", "Không tìm thấy chiến dịch.")
			return
		}
		c.oops(w, r, s, "campaign status", err)
		return
	}
	c.redirect(w, r, "/admin/campaigns/"+id, "campaign_"+string(st))
}

// cloneCampaign is from made again for a later round: names and id as
// given, every date moved by years, from as its previous campaign (where
// last year's values come from), codeMap for indicators renamed since,
// open and without a source file.
func cloneCampaign(from domain.CampaignRecord, id, nameVI, nameEN string, years int, codeMap map[string]string) domain.CampaignRecord {
	move := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.AddDate(years, 0, 0)
	}
	c := from
	c.ID, c.NameVI, c.NameEN, c.PreviousID, c.CodeMap = id, nameVI, nameEN, from.ID, codeMap
	c.Status, c.SourceHash, c.CreatedAt, c.UpdatedAt = domain.StatusOpen, "", time.Time{}, time.Time{}
	c.Opens, c.Deadline = move(from.Opens), move(from.Deadline)
	c.AgencyDeadlines = map[string]time.Time{}
	for k, d := range from.AgencyDeadlines {
		c.AgencyDeadlines[k] = move(d)
	}
	if from.Assignments != nil {
		c.Assignments = make([]domain.Assignment, len(from.Assignments))
		for i, a := range from.Assignments {
			a.Deadline = move(a.Deadline)
			a.Focal = slices.Clone(a.Focal)
			c.Assignments[i] = a
		}
	}
	return c
}

// parseCodeMap reads "new = old" lines (a line may also use → or :).
func parseCodeMap(text string, known func(code string) bool) (map[string]string, []string) {
	out := map[string]string{}
	var errs []string
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var k, v string
		ok := false
		for _, sep := range []string{"=", "→", ":"} {
			if k, v, ok = strings.Cut(line, sep); ok {
				break
			}
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "" || v == "" || len(k) > 32 || len(v) > 32:
			errs = append(errs, fmt.Sprintf("Đổi mã chỉ số, dòng %d: viết «mã mới = mã cũ», ví dụ 2.2.2b = 2.2.2.", i+1))
		case out[k] != "":
			errs = append(errs, fmt.Sprintf("Đổi mã chỉ số, dòng %d: mã %s đã có ở dòng trên.", i+1, k))
		case known != nil && !known(k):
			errs = append(errs, fmt.Sprintf("Đổi mã chỉ số, dòng %d: mã mới %s không có trong danh mục hiện tại.", i+1, k))
		default:
			out[k] = v
		}
	}
	return out, errs
}

// serveCampaignClone makes next year's campaign from this one.
func (c *Console) serveCampaignClone(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	from, err := c.cfg.Campaigns.Campaign(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, http.StatusNotFound, "Không có chiến dịch này", "Không tìm thấy chiến dịch.")
		return
	}
	f := cloneForm{ID: strings.ToLower(strings.TrimSpace(r.FormValue("id"))), NameVI: clean(r.FormValue("name_vi")),
		NameEN: clean(r.FormValue("name_en")), Years: strings.TrimSpace(r.FormValue("years")), CodeMap: r.FormValue("code_map")}
	var errs []string
	if !campaignIDRE.MatchString(f.ID) {
		errs = append(errs, "Mã chiến dịch mới: 2 đến 64 chữ thường, chữ số, dấu chấm, gạch nối, ví dụ pii-2025.")
	} else if _, err := c.cfg.Campaigns.Campaign(ctx, f.ID); err == nil {
		errs = append(errs, fmt.Sprintf("Mã %s đã được dùng cho một chiến dịch khác.", f.ID))
	}
	if f.NameVI == "" || len([]rune(f.NameVI)) > 300 || len([]rune(f.NameEN)) > 300 {
		errs = append(errs, "Tên chiến dịch mới: chưa nhập hoặc quá dài.")
	}
	years, err := strconv.Atoi(f.Years)
	if err != nil || years < 0 || years > 10 {
		errs = append(errs, "Dời các hạn: số năm từ 0 đến 10.")
	}
	var known func(string) bool
	if cat := c.cfg.Catalog(); cat != nil {
		known = func(code string) bool { _, ok := cat.Indicator(code); return ok }
	}
	codeMap, cerrs := parseCodeMap(f.CodeMap, known)
	errs = append(errs, cerrs...)
	if len(errs) == 0 {
		if from.Assignments == nil {
			if cat := c.catalogOf(from); cat != nil {
				from.Assignments = cat.Assignments() // the files' assignments it ran with, moved with the rest
			}
		}
		next := cloneCampaign(from, f.ID, f.NameVI, f.NameEN, years, codeMap)
		err := c.cfg.Campaigns.CreateCampaign(ctx, next, s.Person.ID, c.cfg.Now())
		switch {
		case errors.Is(err, sqlstore.ErrCampaignTaken):
			errs = append(errs, fmt.Sprintf("Mã %s đã được dùng cho một chiến dịch khác.", f.ID))
		case err != nil:
			c.oops(w, r, s, "clone campaign", err)
			return
		default:
			c.audit(ctx, s.Person.ID, "campaign.clone", "campaign:"+next.ID+" from campaign:"+from.ID)
			c.redirect(w, r, "/admin/campaigns/"+next.ID, "campaign_cloned")
			return
		}
	}
	c.showCampaign(w, r, s, http.StatusUnprocessableEntity, &f, errs)
}

// serveCampaignArchive downloads one campaign as a ZIP: the campaign
// (chien-dich.json), its data with status and reviewer, the evidence
// manifest (file names, SHA-256, sizes, who sent them and when), every
// change of every submission, and the audit entries naming it. With
// ?files=1 the evidence files themselves go in too, up to
// MaxArchiveFiles in all (the rest are marked in the manifest). It reads
// only; nothing is removed. The ZIP is streamed: memory stays bounded
// whatever the campaign's size.
func (c *Console) serveCampaignArchive(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	rec, err := c.cfg.Campaigns.Campaign(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, http.StatusNotFound, "Không có chiến dịch này", "Không tìm thấy chiến dịch.")
		return
	}
	ch, err := c.choose(ctx, rec)
	if err != nil {
		c.oops(w, r, s, "campaign archive", err)
		return
	}
	if ch.Store == nil {
		c.fail(w, r, s, http.StatusNotFound, "Không có dữ liệu", "Chưa có đợt thu thập chỉ số.")
		return
	}
	subs, err := ch.Store.Submissions(ctx, "")
	if err != nil {
		c.oops(w, r, s, "campaign archive", err)
		return
	}
	history, err := c.cfg.Campaigns.CampaignHistory(ctx, rec.ID)
	if err != nil {
		c.oops(w, r, s, "campaign archive", err)
		return
	}
	audit, err := c.cfg.Campaigns.ScopeAudit(ctx, "campaign:"+rec.ID)
	if err != nil {
		c.oops(w, r, s, "campaign archive", err)
		return
	}
	withFiles := r.URL.Query().Get("files") == "1" && c.cfg.Blobs != nil
	meta, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		c.oops(w, r, s, "campaign archive", err)
		return
	}
	dir := c.cfg.Directory()
	name := func(pid string) string {
		if p, ok := dir.Person(pid); ok {
			return p.FullName
		}
		return pid
	}
	indName := func(code string) string {
		if ch.Catalog != nil {
			if i, ok := ch.Catalog.Indicator(code); ok {
				return i.NameVI
			}
		}
		return ""
	}
	data := [][]string{{"Mã chỉ số", "Tên chỉ số", "Đơn vị", "Trạng thái", "Giá trị", "Ghi chú", "Số/ký hiệu", "Ngày văn bản",
		"Người nhập", "Lúc nộp", "Người duyệt", "Lúc duyệt", "Góp ý", "Phiên bản"}}
	manifest := [][]string{{"Mã chỉ số", "Đơn vị", "Tên tệp", "SHA-256", "Kích thước (byte)", "Loại", "Đường dẫn", "Người gửi", "Lúc", "Trong hồ sơ"}}
	type file struct{ sha, path string }
	var files []file
	var total int64
	seen := map[string]string{}
	for _, sub := range subs {
		docDate := ""
		if !sub.DocDate.IsZero() {
			docDate = sub.DocDate.Format("02/01/2006")
		}
		data = append(data, []string{sub.Indicator, indName(sub.Indicator), sub.Agency, export.StatusLabel(sub.Status), sub.Value, sub.Note,
			sub.DocNumber, docDate, name(sub.By), c.fmtTime(sub.SubmittedAt), name(sub.ReviewedBy), c.fmtTime(sub.ReviewedAt),
			sub.ReviewNote, strconv.Itoa(sub.Version)})
		for _, e := range sub.Evidence {
			in := ""
			if e.SHA256 != "" && withFiles {
				if p, ok := seen[e.SHA256]; ok {
					in = p
				} else if total+e.Size <= MaxArchiveFiles {
					p := "minh-chung/" + e.SHA256[:12] + "-" + archiveName(e.Name)
					files = append(files, file{e.SHA256, p})
					seen[e.SHA256], in = p, p
					total += e.Size
				} else {
					in = "không kèm: vượt giới hạn dung lượng hồ sơ"
				}
			}
			manifest = append(manifest, []string{sub.Indicator, sub.Agency, e.Name, e.SHA256, strconv.FormatInt(e.Size, 10), e.MIME, e.Link,
				name(sub.By), c.fmtTime(sub.At), in})
		}
	}
	hist := [][]string{{"Mã chỉ số", "Đơn vị", "Người", "Lúc", "Việc", "Giá trị cũ", "Giá trị mới", "Số minh chứng", "Góp ý"}}
	for _, h := range history {
		hist = append(hist, []string{h.Indicator, h.Agency, name(h.By), c.fmtTime(h.At), h.Action, h.OldValue, h.NewValue,
			strconv.Itoa(h.Evidence), h.Comment})
	}
	log := [][]string{{"Lúc", "Người", "Việc", "Chi tiết", "Kênh"}}
	for _, e := range audit {
		log = append(log, []string{c.fmtTime(e.At), e.PersonID, e.Action, e.Detail, e.Channel})
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="chien-dich-`+fileSafe(rec.ID)+`.zip"`)
	zw := zip.NewWriter(w)
	add := func(name string, data []byte) error {
		f, err := zw.Create(name)
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		return err
	}
	err = add("chien-dich.json", meta)
	for _, t := range []struct {
		name string
		rows [][]string
	}{{"so-lieu.csv", data}, {"minh-chung.csv", manifest}, {"lich-su.csv", hist}, {"nhat-ky.csv", log}} {
		if err != nil {
			break
		}
		var b bytes.Buffer // cells typed by focal points: guarded against formula injection
		if err = export.WriteTableCSV(&b, t.rows[0], t.rows[1:]); err == nil {
			err = add(t.name, b.Bytes())
		}
	}
	for _, f := range files {
		if err != nil {
			break
		}
		err = func() error {
			src, err := c.cfg.Blobs.Open(f.sha)
			if err != nil {
				return fmt.Errorf("open evidence %s: %w", f.sha, err)
			}
			defer src.Close()
			dst, err := zw.Create(f.path)
			if err != nil {
				return err
			}
			_, err = io.Copy(dst, io.LimitReader(src, MaxArchiveFiles))
			return err
		}()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		c.cfg.Log.Error("console: campaign archive", "err", err, "campaign", rec.ID)
		return
	}
	c.audit(ctx, s.Person.ID, "campaign.archive_download", "campaign:"+rec.ID)
}

// archiveName is a file name safe in a ZIP on every system, keeping the
// extension (the SHA-256 prefix before it keeps names apart).
func archiveName(name string) string {
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		name, ext = name[:i], fileSafe(name[i+1:])
	}
	base := fileSafe(name)
	if base == "" {
		base = "tep"
	}
	if ext != "" {
		return base + "." + ext
	}
	return base
}

// calendarRow is one event or campaign on the overview's calendar.
type calendarRow struct {
	Kind, Name, Link, When, Action string
}

// calendar is what is running, coming and needing action across every
// event and campaign (archived ones left out), running first.
func (c *Console) calendar(ctx context.Context) ([]calendarRow, error) {
	var out []calendarRow
	if c.cfg.Events != nil {
		rows, err := c.eventRows(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range rows {
			if e.Status == domain.StatusArchived || (e.When == "past" && e.Action == "") {
				continue
			}
			out = append(out, calendarRow{Kind: "Sự kiện", Name: e.Event.NameVI, Link: "/admin/events/" + e.Event.ID, When: e.When, Action: e.Action})
		}
	}
	if c.cfg.Campaigns != nil {
		rows, err := c.campaignRows(ctx)
		if err != nil {
			return nil, err
		}
		for _, cp := range rows {
			if cp.Status == domain.StatusArchived || (cp.When == "past" && cp.Action == "") {
				continue
			}
			out = append(out, calendarRow{Kind: "Chiến dịch dữ liệu", Name: cp.NameVI, Link: "/admin/campaigns/" + cp.ID, When: cp.When, Action: cp.Action})
		}
	}
	order := map[string]int{"running": 0, "coming": 1, "past": 2}
	slices.SortStableFunc(out, func(a, b calendarRow) int { return order[a.When] - order[b.When] })
	return out, nil
}
