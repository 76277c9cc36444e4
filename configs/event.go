package configs

import (
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/unicode/norm"

	"github.com/dieuphoi/dieuphoi/domain"
)

// listFiles are the list paths event.yaml names.
type listFiles struct {
	code     string // the event's short code ("" for one made from id)
	codeLine int
	agencies string
	people   string
	campaign *campaignSpec // nil without a campaign section
}

// yamlFile walks a parsed event.yaml, recording problems with lines.
type yamlFile struct {
	name  string
	probs *problems
}

// obj is one YAML mapping with its keys.
type obj struct {
	f    *yamlFile
	path string // "" for the top level, "organizer", "agenda[3]"
	line int
	keys map[string]*yaml.Node
	bad  bool // not a mapping, already reported: its keys are not checked
}

func (f *yamlFile) problem(line int, field, format string, args ...any) {
	f.probs.addf(f.name, line, field, format, args...)
}

// mapping reads n as a mapping with the allowed keys; unknown and repeated
// keys are problems.
func (f *yamlFile) mapping(n *yaml.Node, path string, allowed ...string) obj {
	o := obj{f: f, path: path, line: n.Line, keys: map[string]*yaml.Node{}}
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		f.problem(n.Line, path, "must be a mapping of keys to values")
		o.bad = true
		return o
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if !contains(allowed, name) {
			f.problem(k.Line, join(path, name), "unknown key (known keys: %s)", strings.Join(allowed, ", "))
			continue
		}
		if prev, dup := o.keys[name]; dup {
			f.problem(k.Line, join(path, name), "given twice (first on line %d)", prev.Line)
			continue
		}
		o.keys[name] = v
	}
	return o
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// field returns the field's full name and the line to blame.
func (o obj) field(key string) (string, int) {
	if n, ok := o.keys[key]; ok {
		return join(o.path, key), n.Line
	}
	return join(o.path, key), o.line
}

// str returns a scalar's trimmed, NFC-normalised text and its line. A
// missing, null or blank value is "" (and a problem if required).
func (o obj) str(key string, required bool) (string, int) {
	name, line := o.field(key)
	n, ok := o.keys[key]
	if ok {
		n = deref(n)
	}
	if !ok || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		if required && !o.bad {
			o.f.problem(line, name, "is required")
		}
		return "", line
	}
	if n.Kind != yaml.ScalarNode {
		o.f.problem(line, name, "must be a single value, not a list or mapping")
		return "", line
	}
	v := cleanText(n.Value)
	if v == "" && required {
		o.f.problem(line, name, "is required and must not be blank")
	}
	return v, line
}

// text reads a translated text: either {vi: ..., en: ...} or a plain string
// (Vietnamese only). Vietnamese is required when the text is.
func (o obj) text(key string, required bool) (vi, en string) {
	name, line := o.field(key)
	n, ok := o.keys[key]
	if ok && deref(n).Kind == yaml.MappingNode {
		t := o.f.mapping(n, name, "vi", "en")
		vi, _ = t.str("vi", required)
		en, _ = t.str("en", false)
		return vi, en
	}
	if ok && deref(n).Kind == yaml.SequenceNode {
		o.f.problem(line, name, "must be a text or {vi: ..., en: ...}")
		return "", ""
	}
	vi, _ = o.str(key, required)
	return vi, ""
}

// cleanText trims s, collapses inner runs of white space to one space and
// normalises it to NFC, so that names typed with combining accents (as some
// Vietnamese keyboards and macOS produce) match the precomposed form.
func cleanText(s string) string {
	return norm.NFC.String(strings.Join(strings.Fields(s), " "))
}

var (
	yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	idRE       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	clockRE    = regexp.MustCompile(`^(\d{1,2})[:hH](\d{2})'?$`)
)

// parseEvent reads event.yaml. Problems go to probs; the returned event is
// meaningful only when there are none.
func parseEvent(name string, data []byte, probs *problems) (domain.Event, listFiles) {
	var ev domain.Event
	var files listFiles
	f := &yamlFile{name: name, probs: probs}

	if !utf8.Valid(data) {
		f.problem(0, "", "is not UTF-8 text")
		return ev, files
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			f.problem(line, "", "YAML syntax: %s", m[2])
		} else {
			f.problem(0, "", "YAML syntax: %s", strings.TrimPrefix(msg, "yaml: "))
		}
		return ev, files
	}
	if len(doc.Content) == 0 {
		f.problem(0, "", "is empty")
		return ev, files
	}
	top := f.mapping(doc.Content[0], "",
		"id", "name", "timezone", "date", "doors_open", "start", "end",
		"venue", "address", "rsvp_cutoff", "organizer", "agencies", "people", "agenda", "campaign", "code", "invitation")
	top.line = 0 // a missing top-level key has no line to blame

	id, idLine := top.str("id", true)
	if id != "" && !idRE.MatchString(id) {
		f.problem(idLine, "id", "%s must be letters, digits, '.', '_' or '-' (up to 64)", quote(id))
	}
	ev.ID = id
	files.code, files.codeLine = top.str("code", false)
	if files.code != "" && !codeRE.MatchString(files.code) {
		f.problem(files.codeLine, "code", "%s must be 2 to 16 letters or digits, e.g. PII2024", quote(files.code))
	}
	ev.NameVI, ev.NameEN = top.text("name", true)
	ev.VenueVI, ev.VenueEN = top.text("venue", true)
	ev.Address, _ = top.str("address", true)

	// Time zone: when it is missing or unknown, times are still parsed (in
	// UTC) so that their own format problems are reported too.
	loc := time.UTC
	tz, tzLine := top.str("timezone", true)
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			f.problem(tzLine, "timezone", "%s is not a known IANA time zone (for Việt Nam: Asia/Ho_Chi_Minh)", quote(tz))
		} else {
			loc = l
		}
	}
	ev.Location = loc

	var day time.Time
	dateStr, dateLine := top.str("date", true)
	if dateStr != "" {
		d, err := time.ParseInLocation("2006-01-02", dateStr, loc)
		if err != nil {
			f.problem(dateLine, "date", "%s is not a date; write YYYY-MM-DD, e.g. 2024-08-02", quote(dateStr))
		} else {
			day = d
		}
	}
	// at parses a clock time on the event's day; ok is false if it is
	// missing, malformed or the day is unknown.
	at := func(o obj, key string, required bool) (time.Time, int, bool) {
		v, line := o.str(key, required)
		if v == "" {
			return time.Time{}, line, false
		}
		h, m, ok := parseClock(v)
		if !ok {
			name, _ := o.field(key)
			f.problem(line, name, "%s is not a time of day; write HH:MM, e.g. 08:00", quote(v))
			return time.Time{}, line, false
		}
		if day.IsZero() {
			return time.Time{}, line, false
		}
		return time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, loc), line, true
	}

	start, _, startOK := at(top, "start", true)
	end, endLine, endOK := at(top, "end", true)
	doors, doorsLine, doorsOK := at(top, "doors_open", false)
	ev.Start, ev.End = start, end
	if startOK && endOK && !end.After(start) {
		f.problem(endLine, "end", "%s is not after start %s", end.Format("15:04"), start.Format("15:04"))
	}
	if doorsOK && startOK && doors.After(start) {
		f.problem(doorsLine, "doors_open", "%s is after start %s", doors.Format("15:04"), start.Format("15:04"))
	}
	if !doorsOK {
		doors = start
		doorsOK = startOK
	}
	ev.DoorsOpen = doors

	if v, line := top.str("rsvp_cutoff", true); v != "" {
		c, ok := parseDateTime(v, loc)
		switch {
		case !ok:
			f.problem(line, "rsvp_cutoff", "%s is not a date and time; write YYYY-MM-DD HH:MM, e.g. 2024-07-31 17:00", quote(v))
		case startOK && c.After(start):
			f.problem(line, "rsvp_cutoff", "%s is after the event starts (%s)", c.Format("2006-01-02 15:04"), start.Format("2006-01-02 15:04"))
		default:
			ev.RSVPCutoff = c
		}
	}

	if n, ok := top.keys["organizer"]; ok {
		org := f.mapping(n, "organizer", "name", "phone", "email")
		ev.Organizer.Name, _ = org.str("name", true)
		phone, line := org.str("phone", true)
		if phone != "" && domain.NormalizePhone(phone) == "" {
			f.problem(line, "organizer.phone", "%s is not a Vietnamese phone number", quote(phone))
		}
		ev.Organizer.Phone = phone // kept as written: it is shown to people
		email, line := org.str("email", false)
		if email != "" && !validEmail(email) {
			f.problem(line, "organizer.email", "%s is not an e-mail address", quote(email))
		}
		ev.Organizer.Email = email
	} else if !top.bad {
		f.problem(top.line, "organizer", "is required: {name: ..., phone: ..., email: ...}")
	}

	files.agencies, _ = top.str("agencies", true)
	files.people, _ = top.str("people", true)
	files.campaign = parseCampaign(f, top, loc)

	ev.Agenda = parseAgenda(f, top, at, doors, doorsOK, end, endOK)
	ev.Issuer = parseIssuer(f, top, loc, start, startOK)
	return ev, files
}

// numberRE is a số/ký hiệu as Decree 30/2020/NĐ-CP writes it: an optional
// number (left out when the clerk writes it on registering the letter), a
// slash, and the symbol of the document kind and body, e.g. "125/GM-SKHCN".
var numberRE = regexp.MustCompile(`^[0-9]{0,6}/[\p{Lu}0-9&.]{1,20}(-[\p{Lu}0-9&.]{1,20}){0,4}$`)

// IssuerNumberOK reports whether v is a số/ký hiệu as the invitation
// section takes it (numberRE), for the console's event form.
func IssuerNumberOK(v string) bool { return numberRE.MatchString(v) }

// MaxPaperText is maxPaperText for the console's event form.
const MaxPaperText = maxPaperText

// maxPaperText bounds each printed line of the invitation: a longer one
// would not fit the letter's blocks.
const maxPaperText = 160

// parseIssuer reads the optional invitation section: who issues and signs
// the giấy mời (domain.Issuer).
func parseIssuer(f *yamlFile, top obj, loc *time.Location, start time.Time, startOK bool) domain.Issuer {
	var is domain.Issuer
	n, ok := top.keys["invitation"]
	if !ok {
		return is
	}
	o := f.mapping(n, "invitation", "parent_body", "issuing_body", "number", "place", "date", "signer", "recipients")
	if o.bad {
		return is
	}
	short := func(o obj, key string, required bool) string {
		v, line := o.str(key, required)
		if utf8.RuneCountInString(v) > maxPaperText {
			name, _ := o.field(key)
			f.problem(line, name, "is %d characters long; at most %d fit the letter", utf8.RuneCountInString(v), maxPaperText)
		}
		return v
	}
	is.Parent = short(o, "parent_body", false)
	is.Body = short(o, "issuing_body", true)
	is.Place = short(o, "place", true)
	if v, line := o.str("number", true); v != "" {
		if !numberRE.MatchString(v) {
			f.problem(line, "invitation.number", "%s is not a số/ký hiệu; write e.g. 125/GM-SKHCN (or /GM-SKHCN to leave the number for the clerk)", quote(v))
		} else {
			is.Number = v
		}
	}
	if v, line := o.str("date", false); v != "" {
		d, err := time.ParseInLocation("2006-01-02", v, loc)
		switch {
		case err != nil:
			f.problem(line, "invitation.date", "%s is not a date; write YYYY-MM-DD, e.g. 2024-07-26", quote(v))
		case startOK && d.After(start):
			f.problem(line, "invitation.date", "%s is after the event starts (%s)", v, start.Format("2006-01-02"))
		default:
			is.Date = d
		}
	}
	if sn, ok := o.keys["signer"]; ok {
		so := f.mapping(sn, "invitation.signer", "name", "title", "authority")
		is.SignerName = short(so, "name", true)
		is.SignerTitle = short(so, "title", true)
		is.SignerAuthority = short(so, "authority", false)
	} else {
		f.problem(o.line, "invitation.signer", "is required: {name: ..., title: ..., authority: ...}")
	}
	if rn, ok := o.keys["recipients"]; ok {
		rn = deref(rn)
		if rn.Kind != yaml.SequenceNode || len(rn.Content) > 20 {
			f.problem(rn.Line, "invitation.recipients", "must be a list of up to 20 lines, e.g. [\"Như trên\", \"Lưu: VT\"]")
		} else {
			for i, item := range rn.Content {
				item = deref(item)
				v := cleanText(item.Value)
				name := fmt.Sprintf("invitation.recipients[%d]", i+1)
				switch {
				case item.Kind != yaml.ScalarNode || v == "":
					f.problem(item.Line, name, "must be a line of text")
				case utf8.RuneCountInString(v) > maxPaperText:
					f.problem(item.Line, name, "is %d characters long; at most %d fit the letter", utf8.RuneCountInString(v), maxPaperText)
				default:
					is.Recipients = append(is.Recipients, v)
				}
			}
		}
	}
	return is
}

type atFunc func(o obj, key string, required bool) (time.Time, int, bool)

func parseAgenda(f *yamlFile, top obj, at atFunc, doors time.Time, doorsOK bool, end time.Time, endOK bool) []domain.AgendaItem {
	n, ok := top.keys["agenda"]
	if !ok {
		if top.bad {
			return nil
		}
		f.problem(top.line, "agenda", "is required: a list of {start, end, title, speaker}")
		return nil
	}
	n = deref(n)
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		f.problem(n.Line, "agenda", "must be a non-empty list of {start, end, title, speaker}")
		return nil
	}
	var items []domain.AgendaItem
	var prev domain.AgendaItem
	prevOK := false
	for i, in := range n.Content {
		no := i + 1
		path := fmt.Sprintf("agenda[%d]", no)
		o := f.mapping(in, path, "start", "end", "title", "speaker")
		it := domain.AgendaItem{No: no}
		it.TitleVI, it.TitleEN = o.text("title", true)
		it.SpeakerVI, it.SpeakerEN = o.text("speaker", false)
		s, sLine, sOK := at(o, "start", true)
		e, eLine, eOK := at(o, "end", true)
		it.Start, it.End = s, e
		items = append(items, it)

		if sOK && eOK && !e.After(s) {
			f.problem(eLine, path+".end", "%s is not after the item's start %s", e.Format("15:04"), s.Format("15:04"))
			eOK = false
		}
		if sOK && doorsOK && s.Before(doors) {
			f.problem(sLine, path+".start", "%s is before doors open (%s)", s.Format("15:04"), doors.Format("15:04"))
		}
		if eOK && endOK && e.After(end) {
			f.problem(eLine, path+".end", "%s is after the event ends (%s)", e.Format("15:04"), end.Format("15:04"))
		}
		if sOK && prevOK {
			switch {
			case s.Before(prev.Start):
				f.problem(sLine, path+".start", "%s is before item %d's start %s; list items in time order", s.Format("15:04"), prev.No, prev.Start.Format("15:04"))
			case s.Before(prev.End):
				f.problem(sLine, path+".start", "%s overlaps item %d, which ends at %s", s.Format("15:04"), prev.No, prev.End.Format("15:04"))
			}
		}
		if sOK && eOK {
			prev, prevOK = it, true
		}
	}
	return items
}

// parseClock reads "08:00", "8:00" or "8h00" into hours and minutes.
func parseClock(s string) (h, m int, ok bool) {
	sm := clockRE.FindStringSubmatch(s)
	if sm == nil {
		return 0, 0, false
	}
	h, _ = strconv.Atoi(sm[1])
	m, _ = strconv.Atoi(sm[2])
	if h > 23 || m > 59 {
		return 0, 0, false
	}
	return h, m, true
}

// parseDateTime reads "2024-07-31 17:00" in loc, or an RFC 3339 time with
// its own offset.
func parseDateTime(s string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.In(loc), true
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// validEmail accepts a bare address such as "a.b@example.vn".
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
}
