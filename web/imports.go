package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/dieuphoi/dieuphoi/configs"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// Import kinds.
const (
	kindPeople      = "people"
	kindAssignments = "assignments"
)

type importProblem struct {
	File  string
	Row   int
	Field string
	Msg   string
}

type importPerson struct {
	domain.Person
	Agency string
	New    bool
	Roles  string
	// Changes is what an update changes, old → new; empty: nothing.
	Changes []string
	// GeneratedID: the file gave no id; this one was made (or found by
	// name and phone).
	GeneratedID bool
}

type importAssignment struct {
	domain.Assignment
	Indicator string
	Agency    string
	Focal     string
	Deadline  string
	New       bool
	Changes   []string
}

// counts are how many rows an import adds, changes and leaves as they are
// (and, for assignments, removes).
type counts struct {
	New, Changed, Same, Removed int
}

// parsed is an uploaded file, checked.
type parsed struct {
	Kind        string
	FileName    string
	Problems    []importProblem
	People      []importPerson
	Assignments []importAssignment
	Counts      counts
	people      []domain.Person
	assignments []domain.Assignment
}

type importView struct {
	ID         string
	Parsed     *parsed
	NoCampaign bool
	Agencies   []domain.Agency
	// Done is what the confirmed import did.
	Done *counts
	Kind string
}

func (c *Console) serveImportForm(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, s, http.StatusOK, "import", "Nhập dữ liệu", c.importView(importView{}))
}

func (c *Console) importView(v importView) importView {
	v.NoCampaign = c.cfg.Catalog() == nil || c.cfg.Campaign == nil
	v.Agencies = c.agenciesByName()
	return v
}

// agenciesByName lists the agencies in Vietnamese alphabetical order of
// their names (diacritics folded), as people look for them.
func (c *Console) agenciesByName() []domain.Agency {
	as := c.cfg.Directory().Agencies()
	sortStable(as, func(a, b domain.Agency) bool { return fold(a.NameVI) < fold(b.NameVI) })
	return as
}

// agencyMatcher accepts an agency's code or its name, in any case and with
// or without diacritics ("so khoa hoc va cong nghe").
func (c *Console) agencyMatcher() configs.AgencyMatcher {
	byKey := map[string]string{}
	for _, a := range c.cfg.Directory().Agencies() {
		byKey[fold(a.Code)] = a.Code
	}
	for _, a := range c.cfg.Directory().Agencies() {
		for _, n := range []string{a.NameVI, a.NameEN} {
			if k := strings.Join(strings.Fields(fold(n)), " "); k != "" {
				if _, taken := byKey[k]; !taken {
					byKey[k] = a.Code
				}
			}
		}
	}
	return func(s string) (string, bool) {
		code, ok := byKey[strings.Join(strings.Fields(fold(s)), " ")]
		return code, ok
	}
}

// newIDs gives people without an id one: the id of the person already in
// the list with the same name and phone (so that re-importing a list
// without ids updates rather than duplicates), else the next free one in
// the list's own style (DB097, DB098…).
func newIDs(dir *domain.Directory) func(domain.Person) string {
	prefix, width, next := "DB", 3, 0
	counts := map[string]int{}
	taken := map[string]bool{}
	for _, p := range dir.People() {
		taken[strings.ToUpper(p.ID)] = true
		if m := idNumRE.FindStringSubmatch(p.ID); m != nil {
			counts[m[1]]++
		}
	}
	best := 0
	for pre, n := range counts {
		if n > best || (n == best && pre < prefix) {
			prefix, best = pre, n
		}
	}
	for _, p := range dir.People() {
		if m := idNumRE.FindStringSubmatch(p.ID); m != nil && m[1] == prefix {
			n, _ := strconv.Atoi(m[2])
			next = max(next, n)
			width = max(width, len(m[2]))
		}
	}
	return func(p domain.Person) string {
		for _, x := range dir.People() {
			if x.SubstituteFor == "" && x.Phone != "" && x.Phone == p.Phone && fold(x.FullName) == fold(p.FullName) && !taken["+"+x.ID] {
				taken["+"+x.ID] = true // one row per person
				return x.ID
			}
		}
		for {
			next++
			id := fmt.Sprintf("%s%0*d", prefix, width, next)
			if !taken[strings.ToUpper(id)] {
				taken[strings.ToUpper(id)] = true
				return id
			}
		}
	}
}

var idNumRE = regexp.MustCompile(`^([A-Za-z]*)(\d+)$`)

// personChanges lists what an import changes for a person already known.
func personChanges(dir *domain.Directory, a, b domain.Person) []string {
	var out []string
	add := func(what, x, y string) {
		if x != y {
			out = append(out, what+": “"+x+"” → “"+y+"”")
		}
	}
	add("Họ và tên", a.FullName, b.FullName)
	add("Chức vụ", a.Position, b.Position)
	an, _ := dir.Agency(a.AgencyCode)
	bn, _ := dir.Agency(b.AgencyCode)
	add("Đơn vị", an.NameVI, bn.NameVI)
	add("Điện thoại", a.Phone, b.Phone)
	add("Email", a.Email, b.Email)
	add("Vai trò", rolesText(a.Roles), rolesText(b.Roles))
	if b.InviteCode != "" {
		add("Mã thư mời", a.InviteCode, b.InviteCode)
	}
	return out
}

func rolesText(rs []domain.Role) string {
	var out []string
	for _, r := range rs {
		out = append(out, roleLabels[r])
	}
	return strings.Join(out, ", ")
}

// parse checks an upload against the current lists.
func (c *Console) parse(kind, name string, data []byte) *parsed {
	p := &parsed{Kind: kind, FileName: name}
	dir := c.cfg.Directory()
	var err error
	switch kind {
	case kindPeople:
		gen := newIDs(dir)
		generated := map[string]bool{}
		p.people, err = configs.LoadPeopleWith(name, data, configs.PeopleOptions{Agency: c.agencyMatcher(),
			NewID: func(x domain.Person) string { id := gen(x); generated[id] = true; return id }})
		for _, x := range p.people {
			a, _ := dir.Agency(x.AgencyCode)
			old, exists := dir.Person(x.ID)
			row := importPerson{Person: x, Agency: a.NameVI, New: !exists, Roles: rolesText(x.Roles), GeneratedID: generated[x.ID]}
			switch {
			case !exists:
				p.Counts.New++
			default:
				if row.Changes = personChanges(dir, old, x); len(row.Changes) > 0 {
					p.Counts.Changed++
				} else {
					p.Counts.Same++
				}
			}
			p.People = append(p.People, row)
		}
	case kindAssignments:
		cat := c.cfg.Catalog()
		if cat == nil {
			err = errors.New("chưa có đợt thu thập chỉ số")
			break
		}
		inds := map[string]domain.Indicator{}
		for _, i := range cat.Indicators() {
			inds[i.Code] = i
		}
		people := map[string]domain.Person{}
		for _, x := range dir.People() {
			people[x.ID] = x
		}
		p.assignments, err = configs.LoadAssignmentsMatching(name, data, inds, c.agencyMatcher(), people, c.deadline(), c.loc)
		current := map[[2]string]domain.Assignment{}
		for _, a := range cat.Assignments() {
			current[[2]string{a.Indicator, a.Agency}] = a
		}
		names := func(ids []string) string {
			var out []string
			for _, id := range ids {
				if x, ok := dir.Person(id); ok {
					out = append(out, x.FullName)
				} else {
					out = append(out, id)
				}
			}
			return strings.Join(out, ", ")
		}
		for _, a := range p.assignments {
			ag, _ := dir.Agency(a.Agency)
			ind, _ := cat.Indicator(a.Indicator)
			var focal []string
			for _, id := range a.Focal {
				if x, ok := dir.Person(id); ok {
					focal = append(focal, x.FullName)
				} else {
					focal = append(focal, id)
				}
			}
			row := importAssignment{Assignment: a, Indicator: a.Indicator + " " + ind.NameVI,
				Agency: ag.NameVI, Focal: strings.Join(focal, ", "), Deadline: c.fmtTime(a.Deadline)}
			key := [2]string{a.Indicator, a.Agency}
			if old, ok := current[key]; ok {
				delete(current, key)
				if x, y := names(old.Focal), names(a.Focal); x != y {
					row.Changes = append(row.Changes, "Đầu mối: “"+x+"” → “"+y+"”")
				}
				if !old.Deadline.Equal(a.Deadline) {
					row.Changes = append(row.Changes, "Hạn: "+c.fmtTime(old.Deadline)+" → "+c.fmtTime(a.Deadline))
				}
				if len(row.Changes) > 0 {
					p.Counts.Changed++
				} else {
					p.Counts.Same++
				}
			} else {
				row.New = true
				p.Counts.New++
			}
			p.Assignments = append(p.Assignments, row)
		}
		p.Counts.Removed = len(current)
	default:
		err = errors.New("loại dữ liệu không hợp lệ")
	}
	if err != nil {
		p.People, p.Assignments, p.people, p.assignments = nil, nil, nil, nil
		var ve *configs.ValidationError
		p.Counts = counts{}
		if errors.As(err, &ve) {
			for _, pr := range ve.Problems {
				p.Problems = append(p.Problems, importProblem{File: pr.File, Row: pr.Row, Field: fieldVI(pr.Field), Msg: problemVI(pr.Msg)})
			}
		} else {
			p.Problems = append(p.Problems, importProblem{File: name, Msg: err.Error()})
		}
	}
	return p
}

func (c *Console) serveImportUpload(w http.ResponseWriter, r *http.Request, s *session) {
	kind := r.FormValue("kind")
	if kind != kindPeople && kind != kindAssignments {
		c.fail(w, r, s, http.StatusBadRequest, "Yêu cầu không hợp lệ", "Xin chọn loại dữ liệu cần nhập.")
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		c.renderView(w, s, http.StatusBadRequest, "import", view{Title: "Nhập dữ liệu", Error: "Xin chọn một tệp CSV hoặc XLSX.", Data: c.importView(importView{})})
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxUploadSize+1))
	if err != nil {
		c.oops(w, r, s, "read upload", err)
		return
	}
	if len(data) > MaxUploadSize {
		c.renderView(w, s, http.StatusRequestEntityTooLarge, "import", view{Title: "Nhập dữ liệu", Error: "Tệp quá lớn: tối đa 10 MB.", Data: c.importView(importView{})})
		return
	}
	name := path.Base(strings.ReplaceAll(hdr.Filename, "\\", "/"))
	p := c.parse(kind, name, data)
	v := c.importView(importView{Parsed: p})
	if len(p.Problems) == 0 {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		v.ID = hex.EncodeToString(b)
		if err := c.cfg.Console.PutUpload(r.Context(), sqlstore.Upload{ID: v.ID, SessionHash: s.hash, Kind: kind, FileName: name,
			Data: data, CreatedAt: c.cfg.Now()}); err != nil {
			c.oops(w, r, s, "keep upload", err)
			return
		}
	}
	c.audit(r.Context(), s.Person.ID, "import.preview", kind+" "+name+" "+itoa(len(p.People)+len(p.Assignments))+" dòng, "+itoa(len(p.Problems))+" lỗi")
	status := http.StatusOK
	if len(p.Problems) > 0 {
		status = http.StatusUnprocessableEntity
	}
	c.renderView(w, s, status, "import", view{Title: "Xem trước dữ liệu nhập", Nav: "import", Data: v})
}

func (c *Console) serveImportConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id := r.PathValue("id")
	u, err := c.cfg.Console.Upload(ctx, id, s.hash)
	if errors.Is(err, sqlstore.ErrNoRows) {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy tệp",
			"Tệp tải lên đã hết hạn hoặc đã được nhập. Xin tải tệp lên lại.")
		return
	}
	if err != nil {
		c.oops(w, r, s, "read upload", err)
		return
	}
	// Checked again against the lists as they are now.
	p := c.parse(u.Kind, u.FileName, u.Data)
	if len(p.Problems) > 0 {
		c.renderView(w, s, http.StatusUnprocessableEntity, "import", view{Title: "Xem trước dữ liệu nhập", Nav: "import",
			Error: "Tệp có lỗi nên chưa nhập được gì.", Data: c.importView(importView{Parsed: p})})
		return
	}
	if ok, err := c.cfg.Console.DeleteUpload(ctx, id, s.hash); err != nil || !ok {
		if err != nil {
			c.oops(w, r, s, "delete upload", err)
			return
		}
		c.redirect(w, r, "/admin/import", "imported") // a double click: already done
		return
	}
	if err := c.apply(ctx, p); err != nil {
		c.oops(w, r, s, "import", err)
		return
	}
	if err := c.cfg.Reload(ctx); err != nil {
		c.oops(w, r, s, "reload", err)
		return
	}
	n := p.Counts
	c.audit(ctx, s.Person.ID, "import.confirm", u.Kind+" "+u.FileName+": "+itoa(n.New)+" mới, "+itoa(n.Changed)+" cập nhật, "+
		itoa(n.Same)+" không đổi"+map[bool]string{true: ", " + itoa(n.Removed) + " bỏ", false: ""}[u.Kind == kindAssignments])
	// The counts are shown on this page rather than after a redirect: no
	// text reaches a page from its URL. Reloading it cannot import twice
	// (the upload is gone).
	c.renderView(w, s, http.StatusOK, "import", view{Title: "Đã nhập dữ liệu", Nav: "import", Flash: "Đã nhập dữ liệu.",
		Data: c.importView(importView{Done: &n, Kind: u.Kind})})
}

func (c *Console) apply(ctx context.Context, p *parsed) error {
	dir := c.cfg.Directory()
	switch p.Kind {
	case kindPeople:
		// Everyone already known keeps their token and code unless the
		// file gives new ones.
		return c.cfg.Store.SyncDirectory(ctx, dir.Agencies(), p.people)
	case kindAssignments:
		return c.cfg.Campaign.SyncCatalog(ctx, c.cfg.Catalog().Indicators(), p.assignments)
	}
	return errf("import: unknown kind %q", p.Kind)
}

func (c *Console) serveImportCancel(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := c.cfg.Console.DeleteUpload(r.Context(), r.PathValue("id"), s.hash); err != nil {
		c.oops(w, r, s, "cancel import", err)
		return
	}
	c.audit(r.Context(), s.Person.ID, "import.cancel", "")
	c.redirect(w, r, "/admin/import", "cancelled")
}

func itoa(n int) string { return strconv.Itoa(n) }
