// Package configs loads and checks a campaign: the event (event.yaml), the
// invited agencies and the people list. Everything is checked at start-up and
// every problem is reported at once, each naming file, row and field, so that
// the office staff who keep the lists can fix them in one pass.
//
// event.yaml names the agency and people files; they may be CSV (UTF-8, with
// or without a byte-order mark, comma- or semicolon-separated) or XLSX (first
// sheet), chosen by file extension. The first row is the header; column names
// are matched case-insensitively, without diacritics, and Vietnamese names
// such as "Họ tên" or "Số điện thoại" are accepted. Columns the loader does
// not know are ignored.
//
// The example campaign in configs/example is embedded, so the binary runs
// without any files.
package configs

import (
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	// The event's time zone must load on minimal images without zoneinfo.
	_ "time/tzdata"

	"github.com/dieuphoi/dieuphoi/domain"
)

// EventFile is the name of the campaign file Load reads.
const EventFile = "event.yaml"

// MaxFileSize is the largest file the loader reads; anything bigger is
// surely not a people list.
const MaxFileSize = 10 << 20

// Campaign is a loaded and checked campaign.
type Campaign struct {
	Event    domain.Event
	Agencies []domain.Agency
	People   []domain.Person
	// The data campaign, when event.yaml has a campaign section: the
	// indicator catalog, who supplies each indicator by when (deadlines
	// resolved: the row's own, else the agency's, else Deadline), the
	// campaign's default deadline and whom focal points call for help.
	Indicators   []domain.Indicator
	Assignments  []domain.Assignment
	Deadline     time.Time
	StaffContact domain.Contact
	// Where the event and campaign stand among others: see Records.
	Code     string
	CodeLine int
	// ScheduleText is schedule.yaml as read beside event.yaml ("" when
	// absent), kept with the event record.
	ScheduleText string
	campaign     *campaignSpec
	// Tasks is the organisers' plan (tasks.csv beside event.yaml), when
	// there is one.
	Tasks []domain.Task
	// Documents are the meeting's documents (documents.csv beside
	// event.yaml and the files it lists), when there is one.
	Documents []Document
}

//go:embed example
var exampleFS embed.FS

// Example returns the embedded example campaign, the files in
// configs/example, so that the binary runs with no files.
func Example() fs.FS {
	sub, err := fs.Sub(exampleFS, "example")
	if err != nil {
		panic(err) // "example" is a valid, embedded directory
	}
	return sub
}

// Load reads event.yaml from fsys and the agencies and people files it names
// (paths relative to fsys; CSV or XLSX by extension), checks them and returns
// the campaign. Any problem, including an unreadable file, is returned as a
// *ValidationError listing all problems found.
func Load(fsys fs.FS) (*Campaign, error) {
	var probs problems
	data, ok := readFile(fsys, EventFile, &probs)
	if !ok {
		return nil, probs.err()
	}
	ev, files := parseEvent(EventFile, data, &probs)

	var agencies []domain.Agency
	// When the agency list is broken, agency codes are not checked (codes
	// == nil), so that its problems are not repeated on every row of the
	// other lists. The same goes for people and indicators.
	var codes map[string]bool
	if files.agencies != "" {
		if b, ok := readFile(fsys, files.agencies, &probs); ok {
			var err error
			agencies, err = LoadAgencies(files.agencies, b)
			probs.addErr(err)
			if err == nil {
				codes = make(map[string]bool, len(agencies))
				for _, a := range agencies {
					codes[a.Code] = true
				}
			}
		}
	}

	var people []domain.Person
	var byID map[string]domain.Person
	if files.people != "" {
		if b, ok := readFile(fsys, files.people, &probs); ok {
			var err error
			people, err = LoadPeople(files.people, b, codes)
			probs.addErr(err)
			if err == nil {
				byID = make(map[string]domain.Person, len(people))
				for _, p := range people {
					byID[p.ID] = p
				}
			}
		}
	}

	c := &Campaign{Event: ev, Agencies: agencies, People: people, Code: files.code, CodeLine: files.codeLine}
	if spec := files.campaign; spec != nil {
		read := func(name string, probs *problems) ([]byte, bool) { return readFile(fsys, name, probs) }
		c.Indicators, c.Assignments = loadCampaignFiles(read, spec, codes, byID, ev.Location, &probs)
		c.Deadline, c.StaffContact = spec.deadline, spec.staff
		c.campaign = spec
	}
	c.Tasks = loadTasksFile(fsys, ev.ID, byID, ev.Location, &probs)
	c.Documents = loadDocumentsFile(fsys, ev.Agenda, &probs)

	if err := probs.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// readFile reads name from fsys, refusing files over MaxFileSize.
func readFile(fsys fs.FS, name string, probs *problems) ([]byte, bool) {
	if !fs.ValidPath(name) {
		probs.add(name, 0, "", "not a valid path: it must be relative to the campaign directory, use '/' and no '..'")
		return nil, false
	}
	f, err := fsys.Open(name)
	if err != nil {
		probs.add(name, 0, "", "cannot open: "+unwrapPathError(err))
		return nil, false
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		probs.add(name, 0, "", "is a directory, not a file")
		return nil, false
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		probs.add(name, 0, "", "cannot read: "+unwrapPathError(err))
		return nil, false
	}
	if len(data) > MaxFileSize {
		probs.add(name, 0, "", tooBig)
		return nil, false
	}
	return data, true
}

const tooBig = "file is larger than 10 MiB; this is not a campaign list"

func unwrapPathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Problem is one thing wrong in a campaign file. Row is the line of
// event.yaml or the row of a list as the user sees it (CSV line or
// spreadsheet row, the header being row 1); 0 means the whole file or an
// unknown line. Field names the YAML key (agenda items as "agenda[3].end",
// counted from 1) or the list column.
type Problem struct {
	File  string
	Row   int
	Field string
	Msg   string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Row > 0 {
		fmt.Fprintf(&b, ":%d", p.Row)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// ValidationError collects every problem found in a campaign, not just the
// first.
type ValidationError struct {
	Problems []Problem
}

// maxErrorLines caps Error's length; Problems keeps everything.
const maxErrorLines = 200

// Error returns one line per problem, such as
// "delegates.csv:12: phone: «abc» is not a Vietnamese phone number".
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i == maxErrorLines {
			fmt.Fprintf(&b, "\n… and %d more problems", len(e.Problems)-i)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// problems accumulates Problems.
type problems []Problem

func (ps *problems) add(file string, row int, field, msg string) {
	*ps = append(*ps, Problem{File: file, Row: row, Field: field, Msg: msg})
}

func (ps *problems) addf(file string, row int, field, format string, args ...any) {
	ps.add(file, row, field, fmt.Sprintf(format, args...))
}

// addErr merges the problems of a *ValidationError (or any error).
func (ps *problems) addErr(err error) {
	if err == nil {
		return
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		*ps = append(*ps, ve.Problems...)
		return
	}
	ps.add("", 0, "", err.Error())
}

// err returns the problems as a *ValidationError, or nil. Problems are
// grouped by file (in the order files were read) and sorted by row, so that
// they read top to bottom like the files.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	order := map[string]int{}
	for _, p := range ps {
		if _, ok := order[p.File]; !ok {
			order[p.File] = len(order)
		}
	}
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b Problem) int {
		if c := cmp.Compare(order[a.File], order[b.File]); c != 0 {
			return c
		}
		return cmp.Compare(a.Row, b.Row)
	})
	return &ValidationError{Problems: out}
}

// quote shows a user's value in a message, shortened if long.
func quote(s string) string {
	const max = 40
	r := []rune(s)
	if len(r) > max {
		s = string(r[:max]) + "…"
	}
	return "«" + s + "»"
}
