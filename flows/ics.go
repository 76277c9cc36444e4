package flows

import (
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
)

// ICS renders ev as an RFC 5545 calendar with one event, for a delegate to
// add to their calendar after accepting: times in the event's time zone
// (with its VTIMEZONE), the agenda in the description, CRLF line endings,
// lines folded at 75 octets without splitting a UTF-8 character. The UID is
// stable, so importing it again updates the same entry.
func ICS(ev domain.Event, lang domain.Lang) []byte {
	loc := ev.Location
	if loc == nil {
		loc = time.UTC
	}
	tzid := loc.String()
	local := func(t time.Time) string { return t.In(loc).Format("20060102T150405") }
	_, off := ev.Start.In(loc).Zone()
	name, _ := ev.Start.In(loc).Zone()
	offset := fmt.Sprintf("%+03d%02d", off/3600, abs(off%3600)/60)

	var desc []string
	if !ev.DoorsOpen.IsZero() && !ev.DoorsOpen.Equal(ev.Start) {
		if lang == domain.English {
			desc = append(desc, "Registration from "+FormatClock(ev.DoorsOpen.In(loc))+".")
		} else {
			desc = append(desc, "Đón tiếp đại biểu từ "+FormatClock(ev.DoorsOpen.In(loc))+".")
		}
	}
	if len(ev.Agenda) > 0 {
		if lang == domain.English {
			desc = append(desc, "", "Agenda:")
		} else {
			desc = append(desc, "", "Chương trình:")
		}
		for _, it := range ev.Agenda {
			line := fmt.Sprintf("%d. %s–%s %s", it.No, FormatClock(it.Start.In(loc)), FormatClock(it.End.In(loc)), it.Title(lang))
			if sp := it.Speaker(lang); sp != "" {
				line += " (" + sp + ")"
			}
			desc = append(desc, line)
		}
	}
	if o := ContactText(ev.Organizer); o != "" {
		if lang == domain.English {
			desc = append(desc, "", "Organisers: "+o)
		} else {
			desc = append(desc, "", "Ban tổ chức: "+o)
		}
	}
	location := ev.Venue(lang)
	if ev.Address != "" {
		location += ", " + ev.Address
	}
	stamp := ev.Start
	if !ev.RSVPCutoff.IsZero() {
		stamp = ev.RSVPCutoff
	}

	lines := []string{
		"BEGIN:VCALENDAR",
		"VERSION:2.0",
		"PRODID:-//dieuphoi//dieuphoi " + string(lang) + "//" + strings.ToUpper(string(lang)),
		"CALSCALE:GREGORIAN",
		"METHOD:PUBLISH",
		"BEGIN:VTIMEZONE",
		"TZID:" + tzid,
		"BEGIN:STANDARD",
		"DTSTART:19700101T000000",
		"TZOFFSETFROM:" + offset,
		"TZOFFSETTO:" + offset,
		"TZNAME:" + icsText(name),
		"END:STANDARD",
		"END:VTIMEZONE",
		"BEGIN:VEVENT",
		"UID:" + icsText(ev.ID) + "@dieuphoi",
		"DTSTAMP:" + stamp.UTC().Format("20060102T150405Z"),
		"DTSTART;TZID=" + tzid + ":" + local(ev.Start),
		"DTEND;TZID=" + tzid + ":" + local(ev.End),
		"SUMMARY:" + icsText(ev.Name(lang)),
		"LOCATION:" + icsText(location),
		"DESCRIPTION:" + icsText(strings.Join(desc, "\n")),
	}
	if ev.Organizer.Email != "" {
		lines = append(lines, "ORGANIZER;CN=\""+strings.NewReplacer("\"", "'", "\n", " ").Replace(ev.Organizer.Name)+"\":mailto:"+ev.Organizer.Email)
	}
	lines = append(lines, "STATUS:CONFIRMED", "TRANSP:OPAQUE", "END:VEVENT", "END:VCALENDAR")
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(fold(l))
	}
	return []byte(b.String())
}

// icsMemo keeps the calendar file of the events answered lately, per
// language: it depends on the event alone, and an event is not changed once
// built (a changed event is read anew: another *domain.Event), so «Tham dự»
// does not render it again each time (~145 allocations). At most icsMemoMax
// files are kept; the callers only read the bytes.
var icsMemo struct {
	sync.Mutex
	m map[icsKey][]byte
}

type icsKey struct {
	ev   *domain.Event
	lang domain.Lang
}

const icsMemoMax = 64

// icsOf is ICS(*ev, lang), rendered once per event and language.
func icsOf(ev *domain.Event, lang domain.Lang) []byte {
	k := icsKey{ev, lang}
	icsMemo.Lock()
	defer icsMemo.Unlock()
	if b, ok := icsMemo.m[k]; ok {
		return b
	}
	if icsMemo.m == nil || len(icsMemo.m) >= icsMemoMax {
		icsMemo.m = make(map[icsKey][]byte)
	}
	b := ICS(*ev, lang)
	icsMemo.m[k] = b
	return b
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// icsText escapes a TEXT value: backslash, semicolon, comma and newlines.
func icsText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace(s)
}

// fold writes one content line, CRLF-terminated, folded so that no line is
// longer than 75 octets; a continuation line starts with a space and a
// UTF-8 character is never split.
func fold(line string) string {
	var b strings.Builder
	limit := 75
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(line)
	b.WriteString("\r\n")
	return b.String()
}
