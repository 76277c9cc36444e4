package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"path"
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
}

type importAssignment struct {
	domain.Assignment
	Indicator string
	Agency    string
	Focal     string
	Deadline  string
}

// parsed is an uploaded file, checked.
type parsed struct {
	Kind        string
	FileName    string
	Problems    []importProblem
	People      []importPerson
	Assignments []importAssignment
	people      []domain.Person
	assignments []domain.Assignment
}

type importView struct {
	ID         string
	Parsed     *parsed
	NoCampaign bool
}

func (c *Console) serveImportForm(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, s, http.StatusOK, "import", "Nhập dữ liệu", importView{NoCampaign: c.cfg.Catalog() == nil || c.cfg.Campaign == nil})
}

// parse checks an upload against the current lists.
func (c *Console) parse(kind, name string, data []byte) *parsed {
	p := &parsed{Kind: kind, FileName: name}
	dir := c.cfg.Directory()
	agencies := map[string]bool{}
	for _, a := range dir.Agencies() {
		agencies[a.Code] = true
	}
	var err error
	switch kind {
	case kindPeople:
		p.people, err = configs.LoadPeople(name, data, agencies)
		for _, x := range p.people {
			a, _ := dir.Agency(x.AgencyCode)
			_, exists := dir.Person(x.ID)
			var roles []string
			for _, rl := range x.Roles {
				roles = append(roles, roleLabels[rl])
			}
			p.People = append(p.People, importPerson{Person: x, Agency: a.NameVI, New: !exists, Roles: strings.Join(roles, ", ")})
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
		p.assignments, err = configs.LoadAssignments(name, data, inds, agencies, people, c.deadline(), c.loc)
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
			p.Assignments = append(p.Assignments, importAssignment{Assignment: a, Indicator: a.Indicator + " " + ind.NameVI,
				Agency: ag.NameVI, Focal: strings.Join(focal, ", "), Deadline: c.fmtTime(a.Deadline)})
		}
	default:
		err = errors.New("loại dữ liệu không hợp lệ")
	}
	if err != nil {
		p.People, p.Assignments, p.people, p.assignments = nil, nil, nil, nil
		var ve *configs.ValidationError
		if errors.As(err, &ve) {
			for _, pr := range ve.Problems {
				p.Problems = append(p.Problems, importProblem{File: pr.File, Row: pr.Row, Field: pr.Field, Msg: pr.Msg})
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
		c.renderView(w, s, http.StatusBadRequest, "import", view{Title: "Nhập dữ liệu", Error: "Xin chọn một tệp CSV hoặc XLSX.", Data: importView{}})
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxUploadSize+1))
	if err != nil {
		c.oops(w, r, s, "read upload", err)
		return
	}
	if len(data) > MaxUploadSize {
		c.renderView(w, s, http.StatusRequestEntityTooLarge, "import", view{Title: "Nhập dữ liệu", Error: "Tệp quá lớn: tối đa 10 MB.", Data: importView{}})
		return
	}
	name := path.Base(strings.ReplaceAll(hdr.Filename, "\\", "/"))
	p := c.parse(kind, name, data)
	v := importView{Parsed: p}
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
			Error: "Tệp có lỗi nên chưa nhập được gì.", Data: importView{Parsed: p}})
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
	c.audit(ctx, s.Person.ID, "import.confirm", u.Kind+" "+u.FileName+" "+itoa(len(p.people)+len(p.assignments))+" dòng")
	c.redirect(w, r, "/admin/import", "imported")
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
