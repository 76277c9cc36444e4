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

// RenderHeadcount writes the headcount for a chat.
func RenderHeadcount(lang domain.Lang, h Headcount, now time.Time) string {
	t0 := h.Total
	var b strings.Builder
	b.WriteString(t(lang, "hc_head", FormatClock(now)+" "+now.Format("02/01/2006"), t0.Invited, t0.Attend, t0.Decline, t0.Substitute, t0.Pending, t0.CheckedIn))
	for _, r := range h.ByAgency {
		b.WriteString("\n" + t(lang, "hc_line", r.Agency.Name(lang), r.Invited, r.Attend, r.Decline, r.Substitute, r.Pending, r.CheckedIn))
	}
	return b.String()
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

// RenderMissing writes the missing indicators for a chat, with deadlines
// and the focal points' names.
func RenderMissing(lang domain.Lang, dir *domain.Directory, items []MissingItem, total int, loc *time.Location) string {
	if len(items) == 0 {
		return t(lang, "miss_none")
	}
	var b strings.Builder
	b.WriteString(t(lang, "miss_head", len(items), total))
	for _, m := range items {
		agency := m.Assignment.Agency
		if a, ok := dir.Agency(agency); ok {
			agency = a.Name(lang)
		}
		var names []string
		for _, id := range m.Assignment.Focal {
			if p, ok := dir.Person(id); ok {
				names = append(names, p.FullName)
			}
		}
		b.WriteString("\n" + t(lang, "miss_line", agency, m.Indicator.Code, strings.Join(names, ", "),
			m.Assignment.Deadline.In(loc).Format("02/01/2006"), t(lang, msg("ist_"+string(m.Status)))))
	}
	return b.String()
}
