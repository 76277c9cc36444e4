package export

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
)

// Source gathers an export's data from the stores: what the chat command,
// the web console and `dieuphoi export` all hand on.
type Source struct {
	// Title names the campaign in the workbooks; FileTag, when set, names
	// it in the file names too ("PII-<tag>-…"), so that two campaigns'
	// downloads are told apart.
	Title     string
	FileTag   string
	Campaign  storage.CampaignStore
	Directory func() *domain.Directory
	Catalog   *domain.Catalog
	// CurrentCatalog, when set, is used instead of Catalog: the catalog
	// changes when staff import new assignments.
	CurrentCatalog func() *domain.Catalog
	Open           func(sha256 string) (io.ReadCloser, error) // evidence files
	Now            func() time.Time
	Location       *time.Location
	// TempDir holds the evidence ZIP while it is sent; "" means the
	// system's temporary directory.
	TempDir string
}

// Data reads the current state of the campaign.
func (s *Source) Data(ctx context.Context) (Data, error) {
	subs, err := s.Campaign.Submissions(ctx, "")
	if err != nil {
		return Data{}, fmt.Errorf("read submissions: %w", err)
	}
	dir := s.Directory()
	people := map[string]domain.Person{}
	for _, p := range dir.People() {
		people[p.ID] = p
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	cat := s.Catalog
	if s.CurrentCatalog != nil {
		cat = s.CurrentCatalog()
	}
	ts, _ := s.Campaign.(storage.EvidenceTextStore)
	flags, err := ReviewFlags(ctx, ts, cat, subs, nil)
	if err != nil {
		return Data{}, err
	}
	return Data{
		Title: s.Title, Indicators: cat.Indicators(), Agencies: dir.Agencies(), People: people,
		Assignments: cat.Assignments(), Submissions: subs, GeneratedAt: now(), Location: s.Location,
		Flags: flags,
	}, nil
}

// Export builds one export as a file to send: "xlsx", "csv", "pdf" (the
// report) or "zip". The
// evidence ZIP, whatever its size, is written to a temporary file
// (flows.File.Path, which the receiver removes), not held in memory.
func (s *Source) Export(ctx context.Context, kind string) (*flows.File, error) {
	if kind == "zip" {
		tmp, err := os.CreateTemp(s.TempDir, "dieuphoi-export-*.zip")
		if err != nil {
			return nil, fmt.Errorf("export zip: %w", err)
		}
		f, err := s.WriteZIP(ctx, tmp)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(tmp.Name())
			return nil, err
		}
		f.Path = tmp.Name()
		return f, nil
	}
	d, err := s.Data(ctx)
	if err != nil {
		return nil, err
	}
	stamp := s.stamp(d)
	var buf bytes.Buffer
	f := &flows.File{}
	switch kind {
	case "xlsx":
		err = WriteXLSX(&buf, d)
		f.Name, f.MIME = s.prefix()+stamp+".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case "csv":
		err = WriteCSV(&buf, d)
		f.Name, f.MIME = s.prefix()+stamp+".csv", "text/csv; charset=utf-8"
	case "pdf":
		err = WritePDF(&buf, d)
		f.Name, f.MIME = s.prefix()+stamp+".pdf", "application/pdf"
	default:
		return nil, fmt.Errorf("export: unknown kind %q", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", kind, err)
	}
	f.Data = buf.Bytes()
	return f, nil
}

// WriteZIP streams the evidence ZIP to w (an HTTP response, a file): memory
// stays flat whatever the evidence weighs. The File returned names it; its
// content is what went to w.
func (s *Source) WriteZIP(ctx context.Context, w io.Writer) (*flows.File, error) {
	if s.Open == nil {
		return nil, fmt.Errorf("export zip: no evidence store")
	}
	d, err := s.Data(ctx)
	if err != nil {
		return nil, err
	}
	if err := WriteEvidenceZIP(w, d, s.Open); err != nil {
		return nil, fmt.Errorf("export zip: %w", err)
	}
	return &flows.File{Name: s.prefix() + "minh-chung-" + s.stamp(d) + ".zip", MIME: "application/zip"}, nil
}

// prefix begins the file names: "PII-", with the campaign's tag.
func (s *Source) prefix() string {
	var b strings.Builder
	for _, r := range s.FileTag {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		}
		if b.Len() >= 40 {
			break
		}
	}
	if b.Len() == 0 {
		return "PII-"
	}
	return "PII-" + b.String() + "-"
}

func (s *Source) stamp(d Data) string {
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	return d.GeneratedAt.In(loc).Format("20060102-1504")
}

// ExportAgency builds one agency's sign-off workbook.
func (s *Source) ExportAgency(ctx context.Context, agency string) (*flows.File, error) {
	d, err := s.Data(ctx)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := WriteAgencyXLSX(&buf, d, agency); err != nil {
		return nil, fmt.Errorf("export agency %s: %w", agency, err)
	}
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	return &flows.File{
		Name: s.prefix() + agency + "-" + d.GeneratedAt.In(loc).Format("20060102-1504") + ".xlsx",
		MIME: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: buf.Bytes(),
	}, nil
}
