// Package export writes what staff hand on to the Ministry and to agencies:
// the campaign table as an Excel workbook or a CSV file, one agency's
// sign-off workbook, and a ZIP of every evidence document.
//
// Conventions shared by every export:
//   - Rows are one per (indicator, agency) pair: every assignment, plus any
//     submission that has no assignment (so no entered data is ever dropped).
//     They are ordered by the catalog order of the indicator, then by the
//     order of Data.Agencies; unknown indicators and agencies come last, by
//     code.
//   - A pair with no submission has status StatusEmpty ("Chưa nhập").
//   - A row is overdue ("Quá hạn") when its deadline is before GeneratedAt
//     and it is neither submitted nor approved.
//   - A percent value is kept as its number (12.5 means 12,5 %) in CSV, as
//     domain.Value does; in Excel it is a true percentage, the number 0.125
//     with the format `#,##0.0%`, so that sums, charts and the reader's
//     locale treat it as one; shares in the summary likewise.
//   - Dates (a document's date, a date value) are whole days: no hidden
//     time of day.
//   - Each row carries its review flags (Data.Flags) in "Cảnh báo".
//   - Text that a spreadsheet could take for a formula (starting with
//     = + - @ tab or CR) is prefixed with a single quote, in CSV and XLSX.
package export

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// Data is everything an export needs, as it stands at GeneratedAt.
type Data struct {
	Title       string                   // e.g. "Chỉ số đổi mới sáng tạo cấp địa phương (PII) năm 2024 — tỉnh Hưng Yên"
	Indicators  []domain.Indicator       // catalog order
	Agencies    []domain.Agency          // display order
	People      map[string]domain.Person // by id, for "submitted by" names
	Assignments []domain.Assignment
	Submissions []domain.Submission // current state per (indicator, agency); missing = not entered
	GeneratedAt time.Time           // shown in Location
	Location    *time.Location      // Asia/Ho_Chi_Minh; nil means that zone
	// Flags are the review flags of each (indicator, agency) pair
	// (flows.ReviewFlags; ReviewFlags computes them): the "Cảnh báo" column.
	Flags map[[2]string][]string
}

// statuses lists the statuses in the order the summary shows them.
var statuses = []domain.SubmissionStatus{
	domain.StatusEmpty,
	domain.StatusDraft,
	domain.StatusSubmitted,
	domain.StatusReturned,
	domain.StatusApproved,
}

// StatusLabel returns the Vietnamese label of a status ("Chưa nhập", "Nháp",
// "Đã gửi", "Bị trả lại", "Đã duyệt").
func StatusLabel(s domain.SubmissionStatus) string {
	return flows.StatusLabel(domain.Vietnamese, s, true)
}

// row is one (indicator, agency) line of the table.
type row struct {
	ind      domain.Indicator
	agency   domain.Agency
	deadline time.Time
	sub      *domain.Submission // nil when not entered
	status   domain.SubmissionStatus
	overdue  bool
	val      value
	by       string // name of who last changed the submission
	sentAt   time.Time
	flags    []string // review flags, flows.AllFlags order
}

// prepared is Data resolved into rows, shared by all the writers.
type prepared struct {
	d    Data
	loc  *time.Location
	now  time.Time // GeneratedAt in loc
	rows []row
}

func defaultLocation() *time.Location {
	if loc, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		return loc
	}
	return time.FixedZone("ICT", 7*60*60)
}

type pairKey struct{ ind, agency string }

func prepare(d Data) *prepared {
	p := &prepared{d: d, loc: d.Location}
	if p.loc == nil {
		p.loc = defaultLocation()
	}
	gen := d.GeneratedAt
	if gen.IsZero() {
		gen = time.Now()
	}
	p.now = gen.In(p.loc)

	indIdx := make(map[string]int, len(d.Indicators))
	for i, ind := range d.Indicators {
		if _, dup := indIdx[ind.Code]; !dup {
			indIdx[ind.Code] = i
		}
	}
	agIdx := make(map[string]int, len(d.Agencies))
	for i, a := range d.Agencies {
		if _, dup := agIdx[a.Code]; !dup {
			agIdx[a.Code] = i
		}
	}

	subs := make(map[pairKey]*domain.Submission, len(d.Submissions))
	for i := range d.Submissions {
		s := &d.Submissions[i]
		k := pairKey{s.Indicator, s.Agency}
		// Should the caller pass two states of one pair, keep the newest.
		if old, ok := subs[k]; !ok || s.Version > old.Version ||
			(s.Version == old.Version && s.At.After(old.At)) {
			subs[k] = s
		}
	}

	var keys []pairKey
	deadlines := map[pairKey]time.Time{}
	seen := map[pairKey]bool{}
	for _, a := range d.Assignments {
		k := pairKey{a.Indicator, a.Agency}
		if seen[k] {
			continue
		}
		seen[k] = true
		keys = append(keys, k)
		deadlines[k] = a.Deadline
	}
	for _, s := range d.Submissions {
		k := pairKey{s.Indicator, s.Agency}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}

	rank := func(idx map[string]int, code string) int {
		if i, ok := idx[code]; ok {
			return i
		}
		return len(idx)
	}
	slices.SortStableFunc(keys, func(a, b pairKey) int {
		if c := cmp.Compare(rank(indIdx, a.ind), rank(indIdx, b.ind)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ind, b.ind); c != 0 {
			return c
		}
		if c := cmp.Compare(rank(agIdx, a.agency), rank(agIdx, b.agency)); c != 0 {
			return c
		}
		return cmp.Compare(a.agency, b.agency)
	})

	for _, k := range keys {
		r := row{deadline: deadlines[k], status: domain.StatusEmpty}
		if i, ok := indIdx[k.ind]; ok {
			r.ind = d.Indicators[i]
		} else {
			r.ind = domain.Indicator{Code: k.ind, Type: domain.TypeText}
		}
		if i, ok := agIdx[k.agency]; ok {
			r.agency = d.Agencies[i]
		} else {
			r.agency = domain.Agency{Code: k.agency, NameVI: k.agency}
		}
		if s, ok := subs[k]; ok {
			r.sub = s
			if s.Status != "" {
				r.status = s.Status
			}
			r.val = parseValue(r.ind.Type, s.Value)
			if s.By != "" {
				r.by = s.By
				if person, ok := d.People[s.By]; ok && person.FullName != "" {
					r.by = person.FullName
				}
			}
			r.sentAt = s.SubmittedAt
			if r.sentAt.IsZero() && r.status != domain.StatusEmpty && r.status != domain.StatusDraft {
				r.sentAt = s.At
			}
		}
		r.flags = d.Flags[[2]string{k.ind, k.agency}]
		r.overdue = !r.deadline.IsZero() && p.now.After(r.deadline) &&
			r.status != domain.StatusSubmitted && r.status != domain.StatusApproved
		p.rows = append(p.rows, r)
	}
	return p
}

// agencyName is the Vietnamese name of an agency, its code when it has none.
func agencyName(a domain.Agency) string {
	if a.NameVI != "" {
		return a.NameVI
	}
	return a.Code
}

// evidenceCount is how many documents back a row: files and links.
func (r row) evidenceCount() int {
	if r.sub == nil {
		return 0
	}
	return len(r.sub.Evidence)
}

// counts tallies rows by status.
type counts struct {
	total   int
	by      map[domain.SubmissionStatus]int
	overdue int
}

func (c *counts) add(r row) {
	if c.by == nil {
		c.by = map[domain.SubmissionStatus]int{}
	}
	c.total++
	c.by[r.status]++
	if r.overdue {
		c.overdue++
	}
}

// done is the share (0..1) of rows submitted or approved.
func (c counts) done() float64 {
	if c.total == 0 {
		return 0
	}
	return float64(c.by[domain.StatusSubmitted]+c.by[domain.StatusApproved]) / float64(c.total)
}

// approved is the share (0..1) of rows approved.
func (c counts) approved() float64 {
	if c.total == 0 {
		return 0
	}
	return float64(c.by[domain.StatusApproved]) / float64(c.total)
}

// columns of the "Tất cả" sheet and the CSV (which adds a display column).
var tableHeaders = []string{
	"Mã chỉ số", "Tên chỉ số", "Trụ cột", "Đơn vị cung cấp", "Giá trị",
	"Đơn vị tính", "Năm số liệu", "Trạng thái", "Số minh chứng",
	"Số/ký hiệu văn bản", "Ngày ban hành", "Người gửi", "Thời điểm gửi",
	"Hạn nộp", "Ghi chú", "Ý kiến thẩm định", "Quá hạn", "Cảnh báo",
}

// flagText names a row's review flags for people ("thay đổi lớn; nộp muộn").
func (r row) flagText() string {
	labels := make([]string, len(r.flags))
	for i, f := range r.flags {
		labels[i] = flows.FlagLabel(domain.Vietnamese, f)
	}
	return strings.Join(labels, "; ")
}
