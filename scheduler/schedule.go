package scheduler

import (
	"errors"
	"fmt"
	"github.com/robfig/cron/v3"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Job names, as in schedule.yaml and in the outbox keys.
const (
	JobAgendaDayBefore     = "agenda_day_before"
	JobAgendaMorning       = "agenda_morning"
	JobSpeaker             = "speaker"
	JobAgendaChange        = "agenda_change"
	JobRSVPChaser          = "rsvp_chaser"
	JobStaffSummary        = "staff_summary"
	JobIndicatorLadder     = "indicator_ladder"
	JobIndicatorEscalation = "indicator_escalation"
	JobIndicatorDigest     = "indicator_digest"
	JobManualChaser        = "manual_chaser"
	JobBroadcast           = "broadcast"
)

// DefaultGrace is how late a timed reminder may still go out after its
// moment passed while no process ran, unless the job says otherwise.
const DefaultGrace = 2 * time.Hour

// Offset is a moment relative to an anchor (the event's day, a deadline, an
// agenda item): "-1d 15:00" is 15:00 on the day before the anchor's day,
// "0d 06:30" 06:30 on its day, "-15m" fifteen minutes before the anchor
// itself, "+1d 09:00" 09:00 the day after.
type Offset struct {
	Days     int
	Clock    bool // a time of day is set: Hour:Minute on the anchor's day + Days
	Hour     int
	Minute   int
	Duration time.Duration // without Clock: added to the anchor (plus Days)
	text     string
}

func (o Offset) String() string { return o.text }

// From returns the moment for anchor, in loc.
func (o Offset) From(anchor time.Time, loc *time.Location) time.Time {
	a := anchor.In(loc)
	if o.Clock {
		return time.Date(a.Year(), a.Month(), a.Day()+o.Days, o.Hour, o.Minute, 0, 0, loc)
	}
	return a.AddDate(0, 0, o.Days).Add(o.Duration)
}

var (
	offsetRE = regexp.MustCompile(`^(?:([+-]?\d+)d)?\s*(?:(\d{1,2}):(\d{2}))?$`)
	durRE    = regexp.MustCompile(`^([+-])?(\d+)(m|h)$`)
)

// ParseOffset reads "-1d 15:00", "0d 06:30", "08:00" (the anchor's day),
// "-15m", "-2h" or "+1d 09:00".
func ParseOffset(s string) (Offset, error) {
	t := strings.TrimSpace(s)
	o := Offset{text: t}
	if m := durRE.FindStringSubmatch(t); m != nil {
		n, _ := strconv.Atoi(m[2])
		d := time.Duration(n) * time.Minute
		if m[3] == "h" {
			d = time.Duration(n) * time.Hour
		}
		if m[1] == "-" {
			d = -d
		}
		o.Duration = d
		return o, nil
	}
	m := offsetRE.FindStringSubmatch(t)
	if t == "" || m == nil || (m[1] == "" && m[2] == "") {
		return o, fmt.Errorf("%q is not an offset; write e.g. \"-1d 15:00\", \"0d 06:30\", \"-15m\"", s)
	}
	if m[1] != "" {
		o.Days, _ = strconv.Atoi(m[1])
	}
	if m[2] != "" {
		o.Clock = true
		o.Hour, _ = strconv.Atoi(m[2])
		o.Minute, _ = strconv.Atoi(m[3])
		if o.Hour > 23 || o.Minute > 59 {
			return o, fmt.Errorf("%q: %s:%s is not a time of day", s, m[2], m[3])
		}
	} else {
		o.Duration = 0
	}
	return o, nil
}

// JobSpec is one job's settings in schedule.yaml.
type JobSpec struct {
	Enabled bool
	At      []Offset // one-off moments relative to the job's anchor
	Cron    Spec     // recurring moments, nil when none
	// Grace is how late the job's messages may still be sent; negative
	// means the job's own default.
	Grace time.Duration
	// Overdue (indicator_ladder): the time of day of the daily reminder
	// after the deadline; nil for none.
	Overdue *Offset
	// Until (indicator_digest): how long after the last deadline the
	// digest keeps going; 0 means DefaultDigestUntil.
	Until time.Duration
}

// RateSpec bounds the sending pace on every channel.
type RateSpec struct {
	PerSecond        int // messages per second in all, default 30
	PerChatPerSecond int // messages per second to one chat, default 1
	MaxAttempts      int // tries for a message failing with a transient error, default 8
}

// Schedule is a parsed schedule.yaml.
type Schedule struct {
	Location *time.Location // nil: the event's
	Rate     RateSpec
	Jobs     map[string]JobSpec
	// Speakers maps agenda item numbers (1-based) to the person ids who
	// present them.
	Speakers map[int][]string
	// AgencyLeaders maps agency codes to the person id of the leader who is
	// told when the agency is late with its data.
	AgencyLeaders map[string]string

	name  string         // the file, for problems
	lines map[string]int // "speakers.6", "agency_leaders.STC" → line
}

// Check reports, naming file, line and field, the people, agencies and
// agenda items schedule.yaml names that the configuration does not have:
// a reminder to someone who does not exist would silently never go out.
func (s *Schedule) Check(dir *domain.Directory, agendaItems int) error {
	if s == nil || dir == nil {
		return nil
	}
	var probs []string
	bad := func(field, format string, args ...any) {
		where := s.name
		if where == "" {
			where = "schedule.yaml"
		}
		if l := s.lines[field]; l > 0 {
			where += ":" + strconv.Itoa(l)
		}
		probs = append(probs, where+": "+field+": "+fmt.Sprintf(format, args...))
	}
	nos := make([]int, 0, len(s.Speakers))
	for no := range s.Speakers {
		nos = append(nos, no)
	}
	sort.Ints(nos)
	for _, no := range nos {
		field := "speakers." + strconv.Itoa(no)
		if no > agendaItems {
			bad(field, "the agenda in event.yaml has no item %d (it has %d)", no, agendaItems)
		}
		for _, id := range s.Speakers[no] {
			if _, ok := dir.Person(id); !ok && strings.TrimSpace(id) != "" {
				bad(field, "«%s» is not in the people list", id)
			}
		}
	}
	codes := make([]string, 0, len(s.AgencyLeaders))
	for c := range s.AgencyLeaders {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, code := range codes {
		field := "agency_leaders." + code
		if _, ok := dir.Agency(code); !ok {
			bad(field, "«%s» is not in the agency list", code)
		}
		if id := s.AgencyLeaders[code]; strings.TrimSpace(id) != "" {
			if _, ok := dir.Person(id); !ok {
				bad(field, "«%s» is not in the people list", id)
			}
		}
	}
	if len(probs) > 0 {
		return errors.New(strings.Join(probs, "\n"))
	}
	return nil
}

// Job returns the settings of job, disabled when the schedule has none.
func (s *Schedule) Job(name string) JobSpec {
	if s == nil {
		return JobSpec{Grace: -1}
	}
	j, ok := s.Jobs[name]
	if !ok {
		return JobSpec{Grace: -1}
	}
	return j
}

var knownJobs = map[string]bool{
	JobAgendaDayBefore: true, JobAgendaMorning: true, JobSpeaker: true, JobAgendaChange: true,
	JobRSVPChaser: true, JobStaffSummary: true, JobIndicatorLadder: true, JobIndicatorEscalation: true,
	JobIndicatorDigest: true, JobMeetingDocs: true,
}

type rawJob struct {
	Enabled *bool    `yaml:"enabled"`
	At      []string `yaml:"at"`
	Cron    string   `yaml:"cron"`
	Grace   string   `yaml:"grace"`
	Overdue string   `yaml:"overdue"`
	Until   string   `yaml:"until"`
}

type rawSchedule struct {
	Timezone string `yaml:"timezone"`
	Send     struct {
		PerSecond        int `yaml:"per_second"`
		PerChatPerSecond int `yaml:"per_chat_per_second"`
		MaxAttempts      int `yaml:"max_attempts"`
	} `yaml:"send"`
	Jobs          map[string]rawJob `yaml:"jobs"`
	Speakers      map[int][]string  `yaml:"speakers"`
	AgencyLeaders map[string]string `yaml:"agency_leaders"`
}

// LoadSchedule reads and checks the schedule file name in fsys (e.g.
// configs.Example(), "schedule.yaml"). Every problem is reported at once.
func LoadSchedule(fsys fs.FS, name string) (*Schedule, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ParseSchedule(name, data)
}

// ParseSchedule is LoadSchedule on bytes.
func ParseSchedule(name string, data []byte) (*Schedule, error) {
	var raw rawSchedule
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, name+": "+fmt.Sprintf(format, args...)) }
	s := &Schedule{
		name: name, lines: nodeLines(data),
		Rate: RateSpec{PerSecond: raw.Send.PerSecond, PerChatPerSecond: raw.Send.PerChatPerSecond, MaxAttempts: raw.Send.MaxAttempts},
		Jobs: map[string]JobSpec{}, Speakers: map[int][]string{}, AgencyLeaders: map[string]string{},
	}
	if raw.Timezone != "" {
		loc, err := time.LoadLocation(raw.Timezone)
		if err != nil || raw.Timezone == "Local" {
			bad("timezone: %q is not a known IANA time zone (for Việt Nam: Asia/Ho_Chi_Minh)", raw.Timezone)
		} else {
			s.Location = loc
		}
	}
	if s.Rate.PerSecond < 0 || s.Rate.PerChatPerSecond < 0 || s.Rate.MaxAttempts < 0 {
		bad("send: values must not be negative")
	}
	names := make([]string, 0, len(raw.Jobs))
	for n := range raw.Jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := raw.Jobs[n]
		if !knownJobs[n] {
			bad("jobs.%s: unknown job; known: %s", n, strings.Join(sortedKeys(knownJobs), ", "))
			continue
		}
		j := JobSpec{Enabled: r.Enabled == nil || *r.Enabled, Grace: -1}
		for _, a := range r.At {
			o, err := ParseOffset(a)
			if err != nil {
				bad("jobs.%s.at: %v", n, err)
				continue
			}
			j.At = append(j.At, o)
		}
		if r.Cron != "" {
			spec, err := ParseSpec(r.Cron)
			if err != nil {
				bad("jobs.%s.cron: %v", n, err)
			}
			j.Cron = spec
		}
		if r.Grace != "" {
			g, err := parseDuration(r.Grace)
			if err != nil || g < 0 {
				bad("jobs.%s.grace: %q is not a duration; write e.g. 2h, 30m, 1d", n, r.Grace)
			}
			j.Grace = g
		}
		if r.Overdue != "" {
			o, err := ParseOffset(r.Overdue)
			if err != nil || !o.Clock {
				bad("jobs.%s.overdue: %q is not a time of day; write e.g. \"08:00\"", n, r.Overdue)
			} else {
				j.Overdue = &o
			}
		}
		if r.Until != "" {
			u, err := parseDuration(r.Until)
			if err != nil || u <= 0 || n != JobIndicatorDigest {
				bad("jobs.%s.until: %q: only indicator_digest takes until, a duration after the last deadline such as 14d", n, r.Until)
			}
			j.Until = u
		}
		s.Jobs[n] = j
	}
	for no, ids := range raw.Speakers {
		if no < 1 {
			bad("speakers: %d is not an agenda item number (1, 2, ...)", no)
			continue
		}
		for _, id := range ids {
			if strings.TrimSpace(id) == "" {
				bad("speakers.%d: empty person id", no)
			}
		}
		s.Speakers[no] = ids
	}
	for code, id := range raw.AgencyLeaders {
		if strings.TrimSpace(id) == "" {
			bad("agency_leaders.%s: empty person id", code)
		}
		s.AgencyLeaders[code] = id
	}
	if len(probs) > 0 {
		return nil, errors.New(strings.Join(probs, "\n"))
	}
	return s, nil
}

// nodeLines finds the lines of the speakers' and agency leaders' entries,
// for problems; an undecodable file gives none (its error is reported
// elsewhere).
func nodeLines(data []byte) map[string]int {
	out := map[string]int{}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return out
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if (k.Value != "speakers" && k.Value != "agency_leaders") || v.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			out[k.Value+"."+v.Content[j].Value] = v.Content[j].Line
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// parseDuration is time.ParseDuration plus whole days ("1d").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// ---------------------------------------------------------------- cron specs

// Spec is a recurring schedule: Next returns the first moment after t. It
// has the method set of github.com/robfig/cron/v3's Schedule, so a spec
// parsed by that library fits too.
type Spec interface {
	Next(t time.Time) time.Time
}

// ParseSpec reads a standard five-field cron expression (minute hour
// day-of-month month day-of-week) or a descriptor like @daily, with
// robfig/cron, in Asia/Ho_Chi_Minh unless the spec names a zone
// (CRON_TZ=...).
func ParseSpec(s string) (Spec, error) {
	text := strings.TrimSpace(s)
	if !strings.HasPrefix(text, "CRON_TZ=") && !strings.HasPrefix(text, "TZ=") {
		// Without a zone robfig/cron uses the machine's (often UTC);
		// campaign times are Vietnamese.
		text = "CRON_TZ=Asia/Ho_Chi_Minh " + text
	}
	sched, err := cron.ParseStandard(text)
	if err != nil {
		return nil, fmt.Errorf("%q: %v", s, err)
	}
	return sched, nil
}
