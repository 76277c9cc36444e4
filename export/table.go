package export

import "io"

// WriteTableCSV writes a simple table (a header and rows) as CSV the way the
// other exports are written: UTF-8 with BOM, CRLF, every cell cleaned and
// guarded against formula injection (feedback comments are typed by anyone).
func WriteTableCSV(w io.Writer, header []string, rows [][]string) error {
	c, err := newCSV(w)
	if err != nil {
		return err
	}
	if err := c.write(header); err != nil {
		return err
	}
	for _, r := range rows {
		rec := make([]string, len(r))
		for i, s := range r {
			rec[i] = cleanText(s)
		}
		if err := c.write(rec); err != nil {
			return err
		}
	}
	return c.close()
}
