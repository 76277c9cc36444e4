package export

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// csvHeaders are the "Tất cả" columns with the value both canonical and as
// a Vietnamese reader writes it.
var csvHeaders = func() []string {
	var h []string
	for _, x := range tableHeaders {
		h = append(h, x)
		if x == "Giá trị" {
			h = append(h, "Giá trị (hiển thị)")
		}
	}
	return h
}()

// csvFile writes UTF-8 with a byte order mark, comma separated, CRLF line
// ends: what Excel opens as Unicode.
type csvFile struct {
	bw *bufio.Writer
	cw *csv.Writer
}

func newCSV(w io.Writer) (*csvFile, error) {
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("\uFEFF"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	return &csvFile{bw: bw, cw: cw}, nil
}

func (c *csvFile) write(rec []string) error { return c.cw.Write(rec) }

func (c *csvFile) close() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

// WriteCSV writes the "Tất cả" table as CSV: UTF-8 with BOM, commas, CRLF.
// "Giá trị" holds the canonical value (dot decimal, ISO date, yes/no) and
// "Giá trị (hiển thị)" the Vietnamese form ("1.234,5", "12,5%",
// "02/08/2024", "Có"). Dates and times in other columns are ISO 8601
// ("2024-08-30", "2024-08-30 17:00") in Data.Location, which Excel reads in
// any locale. Text that could run as a formula starts with a single quote.
func WriteCSV(w io.Writer, d Data) error {
	p := prepare(d)
	c, err := newCSV(w)
	if err != nil {
		return err
	}
	if err := c.write(csvHeaders); err != nil {
		return err
	}
	for _, r := range p.rows {
		if err := c.write(p.csvRecord(r)); err != nil {
			return err
		}
	}
	return c.close()
}

func (p *prepared) csvRecord(r row) []string {
	at := func(t time.Time, layout string) string {
		if t.IsZero() {
			return ""
		}
		return t.In(p.loc).Format(layout)
	}
	var canon, shown string
	switch r.val.kind {
	case kindNumber:
		canon, shown = r.val.canonical(), r.val.display() // a plain number never needs guarding
	case kindNone:
	default:
		canon, shown = cleanText(r.val.canonical()), cleanText(r.val.display())
	}
	year := ""
	if r.ind.RefYear > 0 {
		year = strconv.Itoa(r.ind.RefYear)
	}
	overdue := ""
	if r.overdue {
		overdue = "Có"
	}
	var evidence, docNo, docDate, note, review string
	if s := r.sub; s != nil {
		evidence = strconv.Itoa(len(s.Evidence))
		docNo, note, review = s.DocNumber, s.Note, s.ReviewNote
		if !s.DocDate.IsZero() {
			docDate = s.DocDate.Format(isoDate) // a whole day, kept at midnight UTC
		}
	}
	return []string{
		cleanText(r.ind.Code),
		cleanText(r.ind.NameVI),
		cleanText(r.ind.Pillar),
		cleanText(agencyName(r.agency)),
		canon,
		shown,
		cleanText(r.ind.Unit),
		year,
		StatusLabel(r.status),
		evidence,
		cleanText(docNo),
		docDate,
		cleanText(r.by),
		at(r.sentAt, isoMinute),
		at(r.deadline, isoMinute),
		cleanText(note),
		cleanText(review),
		overdue,
		cleanText(r.flagText()),
	}
}
