package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/files"
)

type indicatorRow struct {
	Indicator domain.Indicator
	Agency    domain.Agency
	Sub       domain.Submission // Status StatusEmpty when not entered
	Deadline  string
	By        string
	// Flags are the review flags (web/flags.go), FlagLabels their names.
	Flags, FlagLabels []string
}

type indicatorsView struct {
	Agency, Status, Q string
	Flag              string      // filter by review flag
	FlagOptions       []flagCount // the flags with how many items have each
	Agencies          []domain.Agency
	Rows              []indicatorRow
	NoCampaign        bool
}

// rows lists every assignment with its submission, plus submissions that
// have no assignment, in catalog order, and every submission; the rows'
// flags are left to the page, for the rows it shows (addFlags).
func (c *Console) indicatorRows(r *http.Request) ([]indicatorRow, []domain.Submission, *domain.Catalog, error) {
	ch, _, err := c.campaignFor(r) // the campaign chosen in the switcher
	if err != nil {
		return nil, nil, nil, err
	}
	cat := ch.Catalog
	subs, err := ch.Store.Submissions(r.Context(), "")
	if err != nil {
		return nil, nil, nil, err
	}
	dir := c.cfg.Directory()
	byKey := map[[2]string]domain.Submission{}
	for _, s := range subs {
		byKey[[2]string{s.Indicator, s.Agency}] = s
	}
	mk := func(ind, ag string, a *domain.Assignment) indicatorRow {
		i, ok := cat.Indicator(ind)
		if !ok {
			i = domain.Indicator{Code: ind, NameVI: ind}
		}
		agency, ok := dir.Agency(ag)
		if !ok {
			agency = domain.Agency{Code: ag, NameVI: ag}
		}
		row := indicatorRow{Indicator: i, Agency: agency, Sub: domain.Submission{Indicator: ind, Agency: ag, Status: domain.StatusEmpty}}
		if s, ok := byKey[[2]string{ind, ag}]; ok {
			row.Sub = s
			delete(byKey, [2]string{ind, ag})
			if p, ok := dir.Person(s.By); ok {
				row.By = p.FullName
			}
		}
		if a != nil {
			row.Deadline = c.fmtTime(a.Deadline)
		}
		return row
	}
	var rows []indicatorRow
	pos := map[string]int{}
	for i, ind := range cat.Indicators() {
		pos[ind.Code] = i
	}
	as := cat.Assignments()
	for i := range as {
		rows = append(rows, mk(as[i].Indicator, as[i].Agency, &as[i]))
	}
	for _, s := range subs {
		if _, left := byKey[[2]string{s.Indicator, s.Agency}]; left {
			rows = append(rows, mk(s.Indicator, s.Agency, nil))
		}
	}
	// Catalog order, then agency.
	sortStable(rows, func(a, b indicatorRow) bool {
		pa, oka := pos[a.Indicator.Code]
		pb, okb := pos[b.Indicator.Code]
		if oka != okb {
			return oka
		}
		if pa != pb {
			return pa < pb
		}
		return a.Agency.Code < b.Agency.Code
	})
	return rows, subs, cat, nil
}

func (c *Console) serveIndicators(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	v := indicatorsView{Agency: q.Get("agency"), Status: q.Get("status"), Q: strings.TrimSpace(q.Get("q")), Flag: q.Get("flag")}
	if c.cfg.Catalog() == nil || c.cfg.Campaign == nil {
		v.NoCampaign = true
		c.render(w, r, s, http.StatusOK, "indicators", "Chỉ số", v)
		return
	}
	rows, subs, cat, err := c.indicatorRows(r)
	if err != nil {
		c.oops(w, r, s, "indicators", err)
		return
	}
	hits, err := c.evidenceHits(r.Context(), v.Q) // the search also looks inside the evidence read
	if err != nil {
		c.oops(w, r, s, "indicators", err)
		return
	}
	// The agency, status and search filters first: flags (and the evidence
	// texts they read) are worked out for the rows the page can show only.
	var shown []indicatorRow
	seen := map[string]bool{}
	for _, row := range rows {
		if !seen[row.Agency.Code] {
			seen[row.Agency.Code] = true
			v.Agencies = append(v.Agencies, row.Agency)
		}
		if v.Agency != "" && row.Agency.Code != v.Agency {
			continue
		}
		if v.Status != "" && string(row.Sub.Status) != v.Status {
			continue
		}
		if !matches(v.Q, row.Indicator.Code, row.Indicator.NameVI, row.Indicator.Pillar, row.Agency.NameVI, row.Agency.Code) &&
			!hasEvidenceIn(row.Sub, hits) {
			continue
		}
		shown = append(shown, row)
	}
	if err := c.addFlags(r.Context(), cat, shown, subs); err != nil {
		c.oops(w, r, s, "indicators", err)
		return
	}
	flagged := map[[2]string][]string{}
	for _, row := range shown {
		flagged[[2]string{row.Indicator.Code, row.Agency.Code}] = row.Flags
	}
	v.FlagOptions = countFlags(flagged) // counted among the rows the other filters leave
	for _, row := range shown {
		if v.Flag != "" && !hasFlag(row.Flags, v.Flag) {
			continue
		}
		v.Rows = append(v.Rows, row)
	}
	c.render(w, r, s, http.StatusOK, "indicators", "Chỉ số", v)
}

type indicatorView struct {
	Row     indicatorRow
	History []flows.HistoryEntry // formatted as the chat shows it
	CanAct  bool
}

func (c *Console) serveIndicator(w http.ResponseWriter, r *http.Request, s *session) {
	c.showIndicator(w, r, s, http.StatusOK, "")
}

func (c *Console) showIndicator(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg string) {
	if c.cfg.Catalog() == nil || c.cfg.Campaign == nil {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Chưa có đợt thu thập chỉ số.")
		return
	}
	code, agency := r.PathValue("code"), r.PathValue("agency")
	rows, subs, cat, err := c.indicatorRows(r)
	if err != nil {
		c.oops(w, r, s, "indicator", err)
		return
	}
	var v indicatorView
	found := false
	for _, row := range rows {
		if row.Indicator.Code == code && row.Agency.Code == agency {
			v.Row, found = row, true
		}
	}
	if !found {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có chỉ số này cho đơn vị này.")
		return
	}
	one := []indicatorRow{v.Row} // only this item's evidence is read for its flags
	if err := c.addFlags(r.Context(), cat, one, subs); err != nil {
		c.oops(w, r, s, "indicator", err)
		return
	}
	v.Row = one[0]
	ch, _, err := c.campaignFor(r)
	if err != nil {
		c.oops(w, r, s, "history", err)
		return
	}
	hist, err := ch.Store.SubmissionHistory(r.Context(), code, agency)
	if err != nil {
		c.oops(w, r, s, "history", err)
		return
	}
	v.History = flows.History(domain.Vietnamese, v.Row.Indicator, hist, c.cfg.Directory())
	v.CanAct = v.Row.Sub.Status == domain.StatusSubmitted && ch.Rec.Status != domain.StatusArchived
	title := v.Row.Indicator.Code + " — " + v.Row.Agency.NameVI
	if !ch.Served {
		title += " (" + ch.Rec.NameVI + ")" // another campaign than the chat's: say which
	}
	c.renderView(w, s, status, "indicator", view{Title: title, Nav: "indicators",
		Data: v, Error: errMsg, Flash: flash(r.URL.Query().Get("msg"))})
}

// serveReview approves or returns a submission with the same effect the
// chat's review flow emits, through Config.Act.
func (c *Console) serveReview(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	if c.cfg.Campaign == nil {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Chưa có đợt thu thập chỉ số.")
		return
	}
	code, agency := r.PathValue("code"), r.PathValue("agency")
	back := "/admin/indicators/" + code + "/" + agency
	version, err := strconv.Atoi(r.FormValue("version"))
	if err != nil || version < 1 {
		c.fail(w, r, s, http.StatusBadRequest, "Yêu cầu không hợp lệ", "Thiếu phiên bản của chỉ số. Xin tải lại trang.")
		return
	}
	approve := r.FormValue("decision") == "approve"
	if !approve && r.FormValue("decision") != "return" {
		c.fail(w, r, s, http.StatusBadRequest, "Yêu cầu không hợp lệ", "Xin chọn Duyệt hoặc Trả lại.")
		return
	}
	comment := strings.TrimSpace(r.FormValue("comment"))
	if !approve && comment == "" {
		c.showIndicator(w, r, s, http.StatusUnprocessableEntity, "Khi trả lại, xin ghi rõ cần sửa gì để đơn vị biết.")
		return
	}
	if utf8.RuneCountInString(comment) > 2000 {
		c.showIndicator(w, r, s, http.StatusUnprocessableEntity, "Góp ý quá dài (tối đa 2000 ký tự).")
		return
	}
	ch, _, err := c.campaignFor(r)
	if err != nil {
		c.oops(w, r, s, "review", err)
		return
	}
	if ch.Rec.Status == domain.StatusArchived {
		c.showIndicator(w, r, s, http.StatusConflict, "Chiến dịch đã lưu trữ: không duyệt được nữa.")
		return
	}
	before, err := ch.Store.Submission(ctx, code, agency)
	if errors.Is(err, storage.ErrNotFound) {
		c.redirect(w, r, back, "stale")
		return
	}
	if err != nil {
		c.oops(w, r, s, "review", err)
		return
	}
	if before.Version != version || before.Status != domain.StatusSubmitted {
		c.redirect(w, r, back, "stale")
		return
	}
	eff := domain.ReviewSubmission{Indicator: code, Agency: agency, Approve: approve, Comment: comment, By: s.Person.ID, ExpectVersion: version}
	scope := ""
	if !ch.Served {
		eff.CampaignID, scope = ch.Rec.ID, "campaign:"+ch.Rec.ID+" " // the audit names a campaign other than the served one
	}
	if err := c.cfg.Act(ctx, s.Person.ID, []domain.Effect{eff}); errors.Is(err, storage.ErrConflict) {
		c.redirect(w, r, back, "stale") // changed between the check above and the write
		return
	} else if err != nil {
		c.oops(w, r, s, "review", err)
		return
	}
	after, err := ch.Store.Submission(ctx, code, agency)
	if err != nil {
		c.oops(w, r, s, "review", err)
		return
	}
	want, action, msg := domain.StatusApproved, "review.approve", "approved"
	if !approve {
		want, action, msg = domain.StatusReturned, "review.return", "returned"
	}
	if after.Status != want || after.Version != version+1 || after.ReviewedBy != s.Person.ID {
		c.redirect(w, r, back, "stale")
		return
	}
	c.audit(ctx, s.Person.ID, action, scope+code+"/"+agency+" v"+strconv.Itoa(version)+" "+comment)
	c.redirect(w, r, back, msg)
}

var shaRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// findEvidence returns the evidence file sha of a submission, nil when no
// submission has it: only evidence is served, never another blob. The same
// content may be evidence of several submissions (two agencies sent one
// circular): the link names the submission (?i=indicator&a=agency), whose
// name for the file and whose sender are the ones shown and audited.
func (c *Console) findEvidence(r *http.Request, sha string) (*domain.Evidence, domain.Submission, error) {
	if !shaRe.MatchString(sha) || c.cfg.Campaign == nil || c.cfg.Blobs == nil {
		return nil, domain.Submission{}, nil
	}
	ch, _, err := c.campaignFor(r)
	if err != nil {
		return nil, domain.Submission{}, err
	}
	subs, err := ch.Store.Submissions(r.Context(), "")
	if err != nil {
		return nil, domain.Submission{}, err
	}
	ind, agency := r.URL.Query().Get("i"), r.URL.Query().Get("a")
	for _, sub := range subs {
		if ind != "" && (sub.Indicator != ind || sub.Agency != agency) {
			continue
		}
		for i := range sub.Evidence {
			if sub.Evidence[i].SHA256 == sha {
				return &sub.Evidence[i], sub, nil
			}
		}
	}
	return nil, domain.Submission{}, nil
}

// evidenceQuery names the submission a link to its evidence is for.
func evidenceQuery(sub domain.Submission) string {
	return "?" + url.Values{"i": {sub.Indicator}, "a": {sub.Agency}}.Encode()
}

// serveEvidence sends an evidence file, only one that belongs to a
// submission, as a download.
func (c *Console) serveEvidence(w http.ResponseWriter, r *http.Request, s *session) {
	c.sendEvidence(w, r, s, false)
}

// serveEvidenceView shows a PDF or a picture in the browser. The file is
// served on its own path with "Content-Security-Policy: sandbox" (no script,
// no access to the console's origin, even if the file carries HTML or SVG
// tricks), nosniff, and the type detected from its content, never the one
// the sender claimed. Anything else is sent as a download.
func (c *Console) serveEvidenceView(w http.ResponseWriter, r *http.Request, s *session) {
	c.sendEvidence(w, r, s, true)
}

// inlineTypes are the detected types the browser may show itself.
var inlineTypes = map[string]bool{
	"application/pdf": true, "image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
}

// EvidenceViewable reports whether evidence of this (stored) type can be
// opened in the browser rather than downloaded.
func EvidenceViewable(mimeType string) bool {
	mt, _, _ := mime.ParseMediaType(mimeType)
	return inlineTypes[mt]
}

func (c *Console) sendEvidence(w http.ResponseWriter, r *http.Request, s *session, view bool) {
	sha := r.PathValue("sha")
	notFound := func() {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy tệp", "Không có tệp minh chứng này.")
	}
	ev, owner, err := c.findEvidence(r, sha)
	if err != nil {
		c.oops(w, r, s, "evidence", err)
		return
	}
	if ev == nil {
		notFound()
		return
	}
	f, err := c.cfg.Blobs.Open(sha)
	if err != nil {
		c.cfg.Log.Warn("console: evidence file missing", "sha256", sha, "err", err)
		notFound()
		return
	}
	defer f.Close()
	name := files.SafeName(ev.Name, ev.MIME)
	if name == "" {
		name = "minh-chung-" + sha[:12]
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		c.oops(w, r, s, "read evidence", err)
		return
	}
	head = head[:n]
	detected, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	disposition, ctype, action := "attachment", "application/octet-stream", "evidence.download"
	if view && inlineTypes[detected] {
		disposition, ctype, action = "inline", detected, "evidence.view"
		h := w.Header()
		h.Set("Content-Security-Policy", "sandbox")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "private, no-store")
	} else if view {
		// Word, Excel, archives: the browser could not show them anyway.
		http.Redirect(w, r, "/admin/evidence/"+sha+evidenceQuery(owner), http.StatusSeeOther)
		return
	}
	c.audit(r.Context(), s.Person.ID, action, owner.Indicator+"/"+owner.Agency+" "+name+" (gửi bởi "+owner.By+")")
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": name}))
	if _, err := w.Write(head); err != nil {
		return
	}
	if _, err := io.Copy(w, f); err != nil {
		c.cfg.Log.Warn("console: send evidence", "err", err)
	}
}
