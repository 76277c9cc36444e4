package configs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// codeRE is what an event's short code may be.
var codeRE = regexp.MustCompile(`^[A-Za-z0-9]{2,16}$`)

// EventCode returns the event's short code: the code in event.yaml, else
// the id's letters and digits, upper-case (pii-2024 → PII2024).
func (c *Campaign) EventCode() string {
	if c.Code != "" {
		return strings.ToUpper(c.Code)
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(c.Event.ID) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Records turns loaded files into the event and campaign records the
// database keeps (hasCampaign is false when event.yaml has no campaign
// section). schedule is schedule.yaml's text ("" for the defaults). Every
// person in the people list is invited. SourceHash covers everything
// imported, so that importing unchanged files changes nothing.
func (c *Campaign) Records(schedule string) (ev domain.EventRecord, cp domain.CampaignRecord, hasCampaign bool, err error) {
	ev = domain.EventRecord{Event: c.Event, Code: c.EventCode(), Status: domain.StatusOpen, Schedule: schedule}
	for _, p := range c.People {
		ev.Invitees = append(ev.Invitees, domain.Invitee{PersonID: p.ID})
	}
	if s := c.campaign; s != nil {
		hasCampaign = true
		cp = domain.CampaignRecord{ID: s.id, NameVI: s.nameVI, NameEN: s.nameEN, CatalogVersion: s.version, PreviousID: s.previous,
			CodeMap: s.renamed, Deadline: s.deadline, StaffContact: s.staff, Status: domain.StatusOpen}
		if cp.ID == "" {
			cp.ID = c.Event.ID
		}
		if cp.NameVI == "" {
			cp.NameVI, cp.NameEN = c.Event.NameVI, c.Event.NameEN
		}
		if len(s.byAgency) > 0 {
			cp.AgencyDeadlines = map[string]time.Time{}
			for code, t := range s.byAgency {
				cp.AgencyDeadlines[strings.ToUpper(code)] = t
			}
		}
		ev.CampaignID = cp.ID
	}
	evCopy := ev.Event
	evCopy.Location = nil
	raw, err := json.Marshal([]any{evCopy, c.Event.Location.String(), ev.Code, ev.CampaignID, schedule, ev.Invitees})
	if err != nil {
		return ev, cp, false, fmt.Errorf("hash event: %w", err)
	}
	ev.SourceHash = hashOf(raw)
	if hasCampaign {
		raw, err := json.Marshal(cp)
		if err != nil {
			return ev, cp, false, fmt.Errorf("hash campaign: %w", err)
		}
		cp.SourceHash = hashOf(raw)
	}
	return ev, cp, hasCampaign, nil
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Loaded is one event directory of an import.
type Loaded struct {
	Dir      string // "." for event.yaml at the top
	Campaign *Campaign
}

// LoadMany reads an import directory: event.yaml at its top, or one
// sub-directory per event, each with its event.yaml (and optionally
// schedule.yaml). Every problem of every file is reported at once, files
// named by their path in the directory; two events with the same id or
// code are a problem too. Nothing is returned unless everything is right:
// an import is all or nothing.
func LoadMany(fsys fs.FS, check func(fsys fs.FS, c *Campaign) error) ([]Loaded, error) {
	var dirs []string
	if _, err := fs.Stat(fsys, EventFile); err == nil {
		dirs = []string{"."}
	} else {
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			return nil, fmt.Errorf("read the import directory: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() {
				if _, err := fs.Stat(fsys, path.Join(e.Name(), EventFile)); err == nil {
					dirs = append(dirs, e.Name())
				}
			}
		}
	}
	var probs problems
	if len(dirs) == 0 {
		probs.add(EventFile, 0, "", "not found: put event.yaml in the directory, or one folder per event each with its event.yaml")
		return nil, probs.err()
	}
	slices.Sort(dirs)
	var out []Loaded
	ids, codes := map[string]string{}, map[string]string{}
	for _, dir := range dirs {
		sub := fsys
		prefix := ""
		if dir != "." {
			var err error
			if sub, err = fs.Sub(fsys, dir); err != nil {
				return nil, fmt.Errorf("read %s: %w", dir, err)
			}
			prefix = dir + "/"
		}
		c, err := Load(sub)
		if err == nil {
			if b, rerr := fs.ReadFile(sub, "schedule.yaml"); rerr == nil {
				c.ScheduleText = string(b)
			}
			if check != nil {
				err = check(sub, c)
			}
		}
		if err == nil {
			out = append(out, Loaded{Dir: dir, Campaign: c})
		}
		if err != nil {
			var inner problems
			inner.addErr(err)
			for _, p := range inner {
				if p.File != "" {
					p.File = prefix + p.File
				}
				probs = append(probs, p)
			}
			continue
		}
		file := prefix + EventFile
		if other, dup := ids[c.Event.ID]; dup {
			probs.addf(file, 0, "id", "%s is also the id of %s", quote(c.Event.ID), other)
		}
		ids[c.Event.ID] = file
		code := c.EventCode()
		if other, dup := codes[code]; dup {
			probs.addf(file, c.CodeLine, "code", "%s is also the code of %s: two events cannot share a code", quote(code), other)
		}
		codes[code] = file
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	return out, nil
}
