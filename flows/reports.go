package flows

import (
	"sort"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Headcount counts delegates by answer, in total and by agency. Chat
// (/tonghop) and the web console show the same numbers from this.
type Headcount struct {
	Total    HeadcountRow
	ByAgency []HeadcountRow // agencies with invited delegates, by code
}

// HeadcountRow is one line of the headcount.
type HeadcountRow struct {
	Agency                                                   domain.Agency
	Invited, Attend, Decline, Substitute, Pending, CheckedIn int
}

// CountHeadcount counts the delegates of dir by their current answer and
// whether they checked in.
func CountHeadcount(dir *domain.Directory, answers map[string]domain.RSVP, checkedIn map[string]bool) Headcount {
	rows := map[string]*HeadcountRow{}
	var h Headcount
	for _, p := range dir.People() {
		if !p.Has(domain.RoleDelegate) {
			continue
		}
		row := rows[p.AgencyCode]
		if row == nil {
			a, _ := dir.Agency(p.AgencyCode)
			if a.Code == "" {
				a = domain.Agency{Code: p.AgencyCode, NameVI: p.AgencyCode}
			}
			row = &HeadcountRow{Agency: a}
			rows[p.AgencyCode] = row
		}
		for _, r := range []*HeadcountRow{row, &h.Total} {
			r.Invited++
			switch answers[p.ID].Status {
			case domain.RSVPAttend:
				r.Attend++
			case domain.RSVPDecline:
				r.Decline++
			case domain.RSVPSubstitute:
				r.Substitute++
			default:
				r.Pending++
			}
			// A substitute checks in under their own record and counts
			// for the delegate they replace.
			if checkedIn[p.ID] || checkedIn[domain.SubstituteID(p.ID)] {
				r.CheckedIn++
			}
		}
	}
	for _, r := range rows {
		h.ByAgency = append(h.ByAgency, *r)
	}
	sort.Slice(h.ByAgency, func(i, j int) bool { return h.ByAgency[i].Agency.Code < h.ByAgency[j].Agency.Code })
	return h
}

// RenderHeadcount writes the headcount for a chat, leading with what needs
// action: the totals, then the agencies with delegates who have not
// answered (most first), then one line for the agencies that are complete.
func RenderHeadcount(lang domain.Lang, h Headcount, now time.Time) string {
	t0 := h.Total
	var b strings.Builder
	b.WriteString(t(lang, "hc_head", FormatClock(now)+" "+now.Format("02/01/2006"), t0.Invited, t0.Attend, t0.Decline, t0.Substitute, t0.Pending, t0.CheckedIn))
	var todo []HeadcountRow
	done := HeadcountRow{}
	agencies := 0
	for _, r := range h.ByAgency {
		if r.Pending > 0 {
			todo = append(todo, r)
			continue
		}
		agencies++
		done.Invited += r.Invited
		done.Attend += r.Attend
		done.Decline += r.Decline
		done.Substitute += r.Substitute
	}
	sort.SliceStable(todo, func(i, j int) bool {
		if todo[i].Pending != todo[j].Pending {
			return todo[i].Pending > todo[j].Pending
		}
		return Collate(todo[i].Agency.Name(lang), todo[j].Agency.Name(lang))
	})
	if len(todo) > 0 {
		b.WriteString("\n\n" + t(lang, "hc_todo_head", len(todo)))
		for _, r := range todo {
			b.WriteString("\n" + t(lang, "hc_line", r.Agency.Name(lang), r.Pending, r.Invited, r.Attend, r.Decline, r.Substitute, r.CheckedIn))
		}
	}
	if agencies > 0 {
		b.WriteString("\n\n" + t(lang, "hc_done", agencies, done.Invited, done.Attend, done.Decline, done.Substitute))
	}
	return b.String()
}

// Collate orders two names the way a Vietnamese reader expects: by their
// letters without diacritics first ("Đ" with "D"), then as written.
func Collate(a, b string) bool {
	fa, fb := valFold(a), valFold(b)
	if fa != fb {
		return fa < fb
	}
	return a < b
}

// MissingItem is one assignment not yet sent.
type MissingItem struct {
	Assignment domain.Assignment
	Indicator  domain.Indicator
	Status     domain.SubmissionStatus
}

// CountMissing lists the assignments whose indicator is not sent (nor
// approved), by agency code then catalog order; it also returns how many
// assignments there are.
func CountMissing(cat *domain.Catalog, subs []domain.Submission) ([]MissingItem, int) {
	status := map[[2]string]domain.SubmissionStatus{}
	for _, s := range subs {
		status[[2]string{s.Indicator, s.Agency}] = s.Status
	}
	var out []MissingItem
	all := cat.Assignments()
	for _, a := range all {
		st, ok := status[[2]string{a.Indicator, a.Agency}]
		if !ok {
			st = domain.StatusEmpty
		}
		if st == domain.StatusSubmitted || st == domain.StatusApproved {
			continue
		}
		ind, _ := cat.Indicator(a.Indicator)
		out = append(out, MissingItem{Assignment: a, Indicator: ind, Status: st})
	}
	return out, len(all)
}

// RenderMissing writes the missing indicators for a chat by deadline, the
// earliest first, each with its agency's and indicator's names, the focal
// points and the status.
func RenderMissing(lang domain.Lang, dir *domain.Directory, items []MissingItem, total int, loc *time.Location) string {
	if len(items) == 0 {
		return t(lang, "miss_none")
	}
	agencyName := func(code string) string {
		if a, ok := dir.Agency(code); ok && a.Name(lang) != "" {
			return a.Name(lang)
		}
		return code
	}
	sorted := append([]MissingItem(nil), items...)
	sort.SliceStable(sorted, func(i, j int) bool {
		di, dj := sorted[i].Assignment.Deadline, sorted[j].Assignment.Deadline
		if !di.Equal(dj) {
			return di.Before(dj)
		}
		return Collate(agencyName(sorted[i].Assignment.Agency), agencyName(sorted[j].Assignment.Agency))
	})
	var b strings.Builder
	b.WriteString(t(lang, "miss_head", len(items), total))
	var last time.Time
	for i, m := range sorted {
		if d := m.Assignment.Deadline; i == 0 || !d.Equal(last) {
			last = d
			b.WriteString("\n\n" + t(lang, "miss_deadline", d.In(loc).Format("02/01/2006")))
		}
		var names []string
		for _, id := range m.Assignment.Focal {
			if p, ok := dir.Person(id); ok {
				names = append(names, p.FullName)
			}
		}
		b.WriteString("\n" + t(lang, "miss_line", agencyName(m.Assignment.Agency), m.Indicator.Code, clip(m.Indicator.Name(lang), 60),
			orDash(strings.Join(names, ", ")), t(lang, msg("ist_"+string(m.Status)))))
	}
	return b.String()
}
