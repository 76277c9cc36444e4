package scheduler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
)

type occFunc = func(context.Context, *world, time.Time, time.Time) ([]occurrence, error)

// attendeeReminder is the day-before and the morning-of reminder to the
// delegates who accepted (and their substitutes).
func (s *Scheduler) attendeeReminder(spec JobSpec, kind msg) occFunc {
	ev := s.c.Event
	return func(ctx context.Context, w *world, from, to time.Time) ([]occurrence, error) {
		var out []occurrence
		for _, at := range s.window(JobSpec{At: spec.At}, ev.Start, from, to) {
			if !at.Before(ev.Start) {
				continue
			}
			out = append(out, occurrence{
				id: s.occID(at), at: at, grace: s.grace(spec, DefaultGrace), expires: minTime(at.Add(s.grace(spec, DefaultGrace)), ev.Start),
				build: func(ctx context.Context, w *world) ([]delivery, error) {
					return w.attendees(ctx, func(p domain.Person, lang domain.Lang) []flows.Reply {
						return s.eventReminder(kind, lang, "")
					}, func(sub, delegate domain.Person, lang domain.Lang) []flows.Reply {
						return s.eventReminder(kind, lang, delegate.FullName)
					})
				},
			})
		}
		return out, nil
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// eventReminder renders the day-before or morning reminder; inPlaceOf is the
// delegate's name for a substitute.
func (s *Scheduler) eventReminder(kind msg, lang domain.Lang, inPlaceOf string) []flows.Reply {
	ev, loc := s.c.Event, s.loc
	day := date(lang, ev.Start, loc)
	switch {
	case kind == "morning":
		return []flows.Reply{{Text: t(lang, "morning", day, ev.Name(lang), clock(ev.DoorsOpen, loc), clock(ev.Start, loc),
			ev.Venue(lang), ev.Address, agendaLines(lang, ev, loc))}}
	case inPlaceOf != "":
		return []flows.Reply{{Text: t(lang, "sub_day_before", day, ev.Name(lang), inPlaceOf, clock(ev.DoorsOpen, loc), clock(ev.Start, loc),
			ev.Venue(lang), ev.Address), Buttons: agendaButton(lang)}}
	}
	return []flows.Reply{{Text: t(lang, "day_before", day, ev.Name(lang), clock(ev.DoorsOpen, loc), clock(ev.Start, loc),
		ev.Venue(lang), ev.Address), Buttons: agendaButton(lang)}}
}

// speakerJob reminds each agenda item's speakers a lead time before it; a
// reminder not sent by the time the item starts is skipped.
func (s *Scheduler) speakerJob(spec JobSpec) occFunc {
	ev := s.c.Event
	offsets := spec.At
	if len(offsets) == 0 {
		o, _ := ParseOffset("-15m")
		offsets = []Offset{o}
	}
	return func(ctx context.Context, w *world, from, to time.Time) ([]occurrence, error) {
		var out []occurrence
		for _, it := range ev.Agenda {
			it := it
			ids := s.sched.Speakers[it.No]
			if len(ids) == 0 {
				continue
			}
			for _, o := range offsets {
				at := o.From(it.Start, s.loc)
				if !at.After(from) || at.After(to) || !at.Before(it.Start) {
					continue
				}
				grace := it.Start.Sub(at)
				if spec.Grace >= 0 && spec.Grace < grace {
					grace = spec.Grace
				}
				lead := int(it.Start.Sub(at).Round(time.Minute).Minutes())
				out = append(out, occurrence{
					id: fmt.Sprintf("item%d@%s", it.No, s.occID(it.Start)) + "-" + o.String(), at: at, grace: grace, expires: it.Start,
					build: func(ctx context.Context, w *world) ([]delivery, error) {
						var ds []delivery
						for _, id := range ids {
							ds = append(ds, delivery{personID: id, render: func(lang domain.Lang) []flows.Reply {
								return []flows.Reply{{Text: t(lang, "speaker", lead, it.No, it.Title(lang),
									clock(it.Start, s.loc), clock(it.End, s.loc), ev.Venue(lang))}}
							}})
						}
						return ds, nil
					},
				})
			}
		}
		return out, nil
	}
}

// agendaItem is the part of an agenda item a change notice is about.
type agendaItem struct {
	No      int       `json:"no"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	TitleVI string    `json:"title_vi"`
	TitleEN string    `json:"title_en"`
}

func (a agendaItem) title(lang domain.Lang) string {
	if lang == domain.English && a.TitleEN != "" {
		return a.TitleEN
	}
	return a.TitleVI
}

func snapshotAgenda(ev *domain.Event) ([]agendaItem, []byte, string) {
	items := make([]agendaItem, 0, len(ev.Agenda))
	for _, it := range ev.Agenda {
		items = append(items, agendaItem{No: it.No, Start: it.Start.UTC(), End: it.End.UTC(), TitleVI: it.TitleVI, TitleEN: it.TitleEN})
	}
	b, _ := json.Marshal(items)
	sum := sha256.Sum256(b)
	return items, b, hex.EncodeToString(sum[:8])
}

// agendaChangeJob announces, once, a change of the agenda against the one
// last announced (stored in the database) to those who will attend.
func (s *Scheduler) agendaChangeJob(spec JobSpec) occFunc {
	ev := s.c.Event
	return func(ctx context.Context, w *world, from, to time.Time) ([]occurrence, error) {
		items, snap, hash := snapshotAgenda(ev)
		version, oldHash, oldSnap, err := s.c.Outbox.AgendaSnapshot(ctx, ev.ID)
		if errors.Is(err, storage.ErrNotFound) {
			// The first agenda seen is the one the invitations carried.
			return nil, s.c.Outbox.SetAgendaSnapshot(ctx, ev.ID, 1, hash, snap, to)
		}
		if err != nil {
			return nil, err
		}
		if oldHash == hash {
			return nil, nil
		}
		var old []agendaItem
		if err := json.Unmarshal(oldSnap, &old); err != nil {
			s.log.Warn("unreadable agenda snapshot; announcing nothing", "err", err)
			return nil, s.c.Outbox.SetAgendaSnapshot(ctx, ev.ID, version+1, hash, snap, to)
		}
		next := version + 1
		store := func(ctx context.Context) error { return s.c.Outbox.SetAgendaSnapshot(ctx, ev.ID, next, hash, snap, to) }
		if !to.Before(ev.End) {
			return nil, store(ctx) // the event is over: nobody to tell
		}
		render := func(lang domain.Lang) []flows.Reply {
			lines := []string{t(lang, "change_head", ev.Name(lang))}
			lines = append(lines, s.agendaDiff(lang, old, items)...)
			lines = append(lines, "", t(lang, "change_tail"))
			return []flows.Reply{{Text: strings.Join(lines, "\n"), Buttons: agendaButton(lang)}}
		}
		return []occurrence{{
			id: fmt.Sprintf("v%d-%s", next, hash), at: to, grace: ev.End.Sub(to), expires: ev.End,
			build: func(ctx context.Context, w *world) ([]delivery, error) {
				return w.attendees(ctx, func(p domain.Person, lang domain.Lang) []flows.Reply { return render(lang) },
					func(sub, delegate domain.Person, lang domain.Lang) []flows.Reply { return render(lang) })
			},
			after: store,
		}}, nil
	}
}

// agendaDiff describes what changed from old to cur, an item per line:
// items are matched by title, then by number.
func (s *Scheduler) agendaDiff(lang domain.Lang, old, cur []agendaItem) []string {
	span := func(a agendaItem) string { return clock(a.Start, s.loc) + "–" + clock(a.End, s.loc) }
	byTitle := map[string]int{}
	for i, a := range old {
		byTitle[a.TitleVI] = i
	}
	used := map[int]bool{}
	var lines []string
	for _, c := range cur {
		i, ok := byTitle[c.TitleVI]
		if ok && !used[i] {
			used[i] = true
			if o := old[i]; !o.Start.Equal(c.Start) || !o.End.Equal(c.End) {
				lines = append(lines, t(lang, "change_time", c.No, c.title(lang), span(o), span(c)))
			}
			continue
		}
		// Same number, new title: a renamed item.
		j := -1
		for k, o := range old {
			if o.No == c.No && !used[k] {
				if _, kept := titleIn(cur, o.TitleVI); !kept {
					j = k
				}
			}
		}
		if j >= 0 {
			used[j] = true
			o := old[j]
			lines = append(lines, t(lang, "change_title", c.No, o.title(lang), c.title(lang)))
			if !o.Start.Equal(c.Start) || !o.End.Equal(c.End) {
				lines = append(lines, t(lang, "change_time", c.No, c.title(lang), span(o), span(c)))
			}
			continue
		}
		lines = append(lines, t(lang, "change_added", c.No, c.title(lang), clock(c.Start, s.loc), clock(c.End, s.loc)))
	}
	for i, o := range old {
		if !used[i] {
			lines = append(lines, t(lang, "change_removed", o.title(lang), span(o)))
		}
	}
	return lines
}

func titleIn(items []agendaItem, title string) (int, bool) {
	for i, a := range items {
		if a.TitleVI == title {
			return i, true
		}
	}
	return -1, false
}

// chaserJob reminds delegates who have not answered, at offsets before the
// event; moments after the RSVP cut-off are dropped (answers are closed).
func (s *Scheduler) chaserJob(spec JobSpec) occFunc {
	ev := s.c.Event
	return func(ctx context.Context, w *world, from, to time.Time) ([]occurrence, error) {
		var out []occurrence
		for _, at := range s.window(JobSpec{At: spec.At}, ev.Start, from, to) {
			if !ev.RSVPCutoff.IsZero() && !at.Before(ev.RSVPCutoff) {
				s.log.Debug("RSVP chaser after the cut-off: not sent", "at", at)
				continue
			}
			grace := s.grace(spec, DefaultGrace)
			exp := at.Add(grace)
			if !ev.RSVPCutoff.IsZero() {
				exp = minTime(exp, ev.RSVPCutoff)
			}
			out = append(out, occurrence{id: s.occID(at), at: at, grace: grace, expires: exp, build: s.pendingDeliveries})
		}
		return out, nil
	}
}

// pendingDeliveries is a chaser to every delegate without an answer.
func (s *Scheduler) pendingDeliveries(ctx context.Context, w *world) ([]delivery, error) {
	if _, err := w.currentRSVPs(ctx); err != nil {
		return nil, err
	}
	var out []delivery
	for _, p := range w.withRole(domain.RoleDelegate) {
		if w.status(p.ID) != domain.RSVPPending {
			continue
		}
		out = append(out, delivery{personID: p.ID, render: s.chaserText})
	}
	return out, nil
}

func (s *Scheduler) chaserText(lang domain.Lang) []flows.Reply {
	ev, loc := s.c.Event, s.loc
	cutoff := ev.RSVPCutoff
	if cutoff.IsZero() {
		cutoff = ev.Start
	}
	by := clock(cutoff, loc) + " " + date(lang, cutoff, loc)
	return []flows.Reply{{
		Text:    t(lang, "chaser", ev.Name(lang), clock(ev.Start, loc), date(lang, ev.Start, loc), ev.Venue(lang), by),
		Buttons: rsvpButtons(lang, s.c.EventCode),
	}}
}

// staffSummaryJob sends staff, daily until the event, who has not answered,
// by agency, and who cannot be reached.
func (s *Scheduler) staffSummaryJob(spec JobSpec) occFunc {
	ev := s.c.Event
	return func(ctx context.Context, w *world, from, to time.Time) ([]occurrence, error) {
		var out []occurrence
		for _, at := range s.window(spec, ev.Start, from, to) {
			if !at.Before(ev.Start) {
				continue
			}
			at := at
			grace := s.grace(spec, DefaultGrace)
			out = append(out, occurrence{id: s.occID(at), at: at, grace: grace, build: func(ctx context.Context, w *world) ([]delivery, error) {
				return s.toStaff(ctx, w, func(lang domain.Lang) ([]flows.Reply, error) { return s.summaryText(ctx, w, lang, at) })
			}})
		}
		return out, nil
	}
}

// toStaff renders one message per staff member.
func (s *Scheduler) toStaff(ctx context.Context, w *world, render func(lang domain.Lang) ([]flows.Reply, error)) ([]delivery, error) {
	var out []delivery
	for _, p := range w.withRole(domain.RoleStaff) {
		r, err := w.recipient(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		replies, err := render(r.lang)
		if err != nil {
			return nil, err
		}
		out = append(out, delivery{personID: p.ID, render: func(domain.Lang) []flows.Reply { return replies }})
	}
	return out, nil
}

func (s *Scheduler) summaryText(ctx context.Context, w *world, lang domain.Lang, at time.Time) ([]flows.Reply, error) {
	if _, err := w.currentRSVPs(ctx); err != nil {
		return nil, err
	}
	counts := map[domain.RSVPStatus]int{}
	pending := map[string][]string{}
	delegates := w.withRole(domain.RoleDelegate)
	for _, p := range delegates {
		st := w.status(p.ID)
		counts[st]++
		if st == domain.RSVPPending {
			pending[p.AgencyCode] = append(pending[p.AgencyCode], p.FullName)
		}
	}
	lines := []string{t(lang, "summary_head", date(lang, at, s.loc), counts[domain.RSVPAttend], counts[domain.RSVPSubstitute],
		counts[domain.RSVPDecline], counts[domain.RSVPPending], len(delegates))}
	if len(pending) == 0 {
		lines = append(lines, "", t(lang, "summary_none"))
	} else {
		lines = append(lines, "", t(lang, "pending_head"))
		codes := make([]string, 0, len(pending))
		for c := range pending {
			codes = append(codes, c)
		}
		sort.Slice(codes, func(i, j int) bool { return w.agencyName(codes[i], lang) < w.agencyName(codes[j], lang) })
		for _, c := range codes {
			lines = append(lines, fmt.Sprintf("• %s (%d): %s", w.agencyName(c, lang), len(pending[c]), strings.Join(pending[c], ", ")))
		}
	}
	un, err := w.unreachableLines(ctx, lang)
	if err != nil {
		return nil, err
	}
	if len(un) > 0 {
		lines = append(lines, "", t(lang, "unreach_head"))
		lines = append(lines, un...)
	}
	return []flows.Reply{{Text: strings.Join(lines, "\n")}}, nil
}

// dayDiff is the number of calendar days from a to b in loc.
func dayDiff(a, b time.Time, loc *time.Location) int {
	return domain.DaysUntil(a, b, loc) // the one countdown rule, shared with the chat and the console
}

// ladderJob reminds each focal point of what is missing at offsets before
// each deadline, on the day, then daily while it is overdue. Every deadline
// has its own ladder: an item due on 30/08 is reminded at 30/08's T-7, T-3…
// and never called overdue because another item was due earlier. Moments of
// different deadlines that coincide make one message with a part per
// deadline (the key stays agency@moment per focal point).
func (s *Scheduler) ladderJob(spec JobSpec) occFunc {
	return func(ctx context.Context, w *world, from, to time.Time) ([]occurrence, error) {
		tasks, err := w.focalTasks(ctx)
		if err != nil || len(tasks) == 0 {
			return nil, err
		}
		type slot struct {
			person, agency string
			at             time.Time
		}
		bySlot := map[slot][]FocalTask{}
		var order []slot
		for _, task := range tasks {
			if len(task.Items) == 0 || task.Deadline.IsZero() {
				continue
			}
			for _, at := range s.ladderMoments(spec, task.Deadline, from, to) {
				k := slot{task.PersonID, task.AgencyCode, at}
				if bySlot[k] == nil {
					order = append(order, k)
				}
				bySlot[k] = append(bySlot[k], task)
			}
		}
		out := make([]occurrence, 0, len(order))
		for _, k := range order {
			k, group := k, bySlot[k]
			sort.SliceStable(group, func(i, j int) bool { return group[i].Deadline.Before(group[j].Deadline) })
			out = append(out, occurrence{
				id: k.agency + "@" + s.occID(k.at), at: k.at, grace: s.grace(spec, DefaultGrace),
				build: func(ctx context.Context, w *world) ([]delivery, error) {
					return []delivery{{personID: k.person, render: func(lang domain.Lang) []flows.Reply {
						return s.ladderText(w, lang, group, k.at)
					}}}, nil
				},
			})
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
		return out, nil
	}
}

// ladderMoments are the ladder's moments for one deadline in (from, to]:
// the offsets, then the daily overdue reminder.
func (s *Scheduler) ladderMoments(spec JobSpec, deadline, from, to time.Time) []time.Time {
	times := s.window(JobSpec{At: spec.At}, deadline, from, to)
	if spec.Overdue != nil {
		first := max(dayDiff(deadline, from, s.loc), 1)
		last := dayDiff(deadline, to, s.loc)
		for d := first; d <= last && d-first < 400; d++ {
			at := Offset{Days: d, Clock: true, Hour: spec.Overdue.Hour, Minute: spec.Overdue.Minute}.From(deadline, s.loc)
			if at.After(from) && !at.After(to) {
				times = append(times, at)
			}
		}
	}
	return times
}

func (s *Scheduler) itemLines(lang domain.Lang, items []TaskItem) string {
	var lines []string
	for _, it := range items {
		lines = append(lines, t(lang, "task_item", it.Code, it.name(lang), statusLabel(lang, it.Status)))
	}
	return strings.Join(lines, "\n")
}

// ladderText is one focal point's reminder at a moment: a part per
// deadline, each with its own countdown and items.
func (s *Scheduler) ladderText(w *world, lang domain.Lang, tasks []FocalTask, at time.Time) []flows.Reply {
	parts := []string{s.campaignHead(lang)}
	for i, task := range tasks {
		days := dayDiff(at, task.Deadline, s.loc)
		deadline := shortDate(task.Deadline, s.loc)
		agency := w.agencyName(task.AgencyCode, lang)
		var head string
		switch {
		case days > 0:
			head = t(lang, "ladder_before", days, deadline, agency, len(task.Items))
		case days == 0:
			head = t(lang, "ladder_today", deadline, agency, len(task.Items))
		default:
			head = t(lang, "ladder_overdue", -days, deadline, agency, len(task.Items))
		}
		if i > 0 {
			parts = append(parts, "")
		}
		parts = append(parts, head, s.itemLines(lang, task.Items))
	}
	parts = append(parts, "", t(lang, "ladder_tail", s.dataContact()))
	return []flows.Reply{{Text: joinLines(parts...), Buttons: s.campaignButtons(lang)}}
}

// agencyTask is what one agency owes by one deadline, its focal points'
// tasks merged.
type agencyTask struct {
	code     string
	deadline time.Time
	focal    []string
	items    []TaskItem
}

// mergeByAgency merges the focal points' tasks per agency and deadline,
// ordered by agency code, then deadline.
func mergeByAgency(tasks []FocalTask) []*agencyTask {
	type key struct {
		code     string
		deadline int64
	}
	by := map[key]*agencyTask{}
	var order []key
	for _, ft := range tasks {
		k := key{ft.AgencyCode, ft.Deadline.UnixMilli()}
		a := by[k]
		if a == nil {
			a = &agencyTask{code: ft.AgencyCode, deadline: ft.Deadline}
			by[k] = a
			order = append(order, k)
		}
		if !slices.Contains(a.focal, ft.PersonID) {
			a.focal = append(a.focal, ft.PersonID)
		}
		seen := map[string]bool{}
		for _, it := range a.items {
			seen[it.Code] = true
		}
		for _, it := range ft.Items {
			if !seen[it.Code] {
				a.items = append(a.items, it)
				seen[it.Code] = true
			}
		}
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].code != order[j].code {
			return order[i].code < order[j].code
		}
		return order[i].deadline < order[j].deadline
	})
	out := make([]*agencyTask, 0, len(order))
	for _, k := range order {
		out = append(out, by[k])
	}
	return out
}

// escalationJob tells staff (one message per moment, every late agency and
// deadline in it) and the agency's leader, when the schedule names one, that
// an agency is late, at offsets after each of its deadlines.
func (s *Scheduler) escalationJob(spec JobSpec) occFunc {
	return func(ctx context.Context, w *world, from, to time.Time) ([]occurrence, error) {
		tasks, err := w.focalTasks(ctx)
		if err != nil || len(tasks) == 0 {
			return nil, err
		}
		type leaderSlot struct {
			code string
			at   time.Time
		}
		byTime := map[time.Time][]*agencyTask{}
		byLeader := map[leaderSlot][]*agencyTask{}
		var leaderOrder []leaderSlot
		for _, a := range mergeByAgency(tasks) {
			if len(a.items) == 0 || a.deadline.IsZero() {
				continue
			}
			for _, at := range s.window(JobSpec{At: spec.At}, a.deadline, from, to) {
				if !at.After(a.deadline) {
					continue
				}
				byTime[at] = append(byTime[at], a)
				if s.sched.AgencyLeaders[a.code] != "" {
					k := leaderSlot{a.code, at}
					if byLeader[k] == nil {
						leaderOrder = append(leaderOrder, k)
					}
					byLeader[k] = append(byLeader[k], a)
				}
			}
		}
		var out []occurrence
		for _, k := range leaderOrder {
			k, group, leader := k, byLeader[k], s.sched.AgencyLeaders[k.code]
			out = append(out, occurrence{
				id: k.code + "@" + s.occID(k.at), at: k.at, grace: s.grace(spec, DefaultGrace),
				build: func(ctx context.Context, w *world) ([]delivery, error) {
					return []delivery{{personID: leader, recipient: "leader:" + leader, render: func(lang domain.Lang) []flows.Reply {
						return s.leaderText(w, lang, leader, group, k.at)
					}}}, nil
				},
			})
		}
		for at, agencies := range byTime {
			at, agencies := at, agencies
			out = append(out, occurrence{
				id: s.occID(at), at: at, grace: s.grace(spec, DefaultGrace),
				build: func(ctx context.Context, w *world) ([]delivery, error) {
					return s.toStaff(ctx, w, func(lang domain.Lang) ([]flows.Reply, error) {
						lines := []string{joinLines(s.campaignHead(lang), t(lang, "esc_staff_head"))}
						for _, a := range agencies {
							lines = append(lines, t(lang, "esc_staff_line", w.agencyName(a.code, lang), shortDate(a.deadline, s.loc),
								dayDiff(a.deadline, at, s.loc), len(a.items), s.focalNames(w, a.focal)))
						}
						return []flows.Reply{{Text: strings.Join(lines, "\n"), Buttons: s.campaignButtons(lang)}}, nil
					})
				},
			})
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
		return out, nil
	}
}

func (s *Scheduler) focalNames(w *world, ids []string) string {
	var names []string
	for _, id := range ids {
		name := w.personName(id)
		if p, ok := w.dir.Person(id); ok && p.Phone != "" {
			name += " " + flows.FormatPhone(p.Phone)
		}
		names = append(names, name)
	}
	return strings.Join(names, "; ")
}

// leaderText tells an agency's leader what is late, a part per deadline.
func (s *Scheduler) leaderText(w *world, lang domain.Lang, leader string, group []*agencyTask, at time.Time) []flows.Reply {
	a := group[0]
	if len(group) == 1 {
		return []flows.Reply{{Text: joinLines(s.campaignHead(lang), t(lang, "esc_leader", w.personName(leader), w.agencyName(a.code, lang), dayDiff(a.deadline, at, s.loc),
			shortDate(a.deadline, s.loc), len(a.items), s.itemLines(lang, a.items), s.focalNames(w, a.focal), s.dataContact()))}}
	}
	var parts, focal []string
	for _, g := range group {
		parts = append(parts, t(lang, "esc_leader_part", shortDate(g.deadline, s.loc), dayDiff(g.deadline, at, s.loc), len(g.items)), s.itemLines(lang, g.items))
		for _, id := range g.focal {
			if !slices.Contains(focal, id) {
				focal = append(focal, id)
			}
		}
	}
	return []flows.Reply{{Text: joinLines(s.campaignHead(lang), t(lang, "esc_leader_multi", w.personName(leader), w.agencyName(a.code, lang), strings.Join(parts, "\n"),
		s.focalNames(w, focal), s.dataContact()))}}
}

// digestJob sends staff the indicator progress by agency and deadline, and
// who cannot be reached, only while the campaign runs: from the conference,
// which launches it, until the last deadline plus the digest's «until»
// (default DefaultDigestUntil) — not in the weeks before the campaign opens.
func (s *Scheduler) digestJob(spec JobSpec) occFunc {
	return func(ctx context.Context, w *world, from, to time.Time) ([]occurrence, error) {
		if s.c.Progress == nil {
			return nil, nil
		}
		opens, closes, err := s.campaignSpan(ctx, w, spec)
		if err != nil || closes.IsZero() {
			return nil, err
		}
		var out []occurrence
		for _, at := range s.window(JobSpec{Cron: spec.Cron}, to, from, to) {
			if at.Before(opens) || at.After(closes) {
				continue
			}
			at := at
			out = append(out, occurrence{id: s.occID(at), at: at, grace: s.grace(spec, DefaultGrace), build: func(ctx context.Context, w *world) ([]delivery, error) {
				tasks, err := w.focalTasks(ctx)
				if err != nil || len(tasks) == 0 {
					return nil, err
				}
				return s.toStaff(ctx, w, func(lang domain.Lang) ([]flows.Reply, error) {
					lines := []string{joinLines(s.campaignHead(lang), t(lang, "digest_head", date(lang, at, s.loc)))}
					for _, a := range mergeByAgency(tasks) {
						late := ""
						if d := dayDiff(a.deadline, at, s.loc); d > 0 {
							late = t(lang, "digest_late", d)
						}
						lines = append(lines, t(lang, "digest_line", w.agencyName(a.code, lang), len(a.items), shortDate(a.deadline, s.loc), late))
					}
					un, err := w.unreachableLines(ctx, lang)
					if err != nil {
						return nil, err
					}
					if len(un) > 0 {
						lines = append(lines, "", t(lang, "unreach_head"))
						lines = append(lines, un...)
					}
					return []flows.Reply{{Text: strings.Join(lines, "\n"), Buttons: s.campaignButtons(lang)}}, nil
				})
			}})
		}
		return out, nil
	}
}

// DefaultDigestUntil is how long after the last deadline the indicator
// digest keeps going when schedule.yaml does not say (until: 14d).
const DefaultDigestUntil = 14 * 24 * time.Hour

// campaignSpan is when the data campaign runs: it opens at the conference
// and closes «until» after the last deadline still owed; zero closes when
// nothing is owed.
func (s *Scheduler) campaignSpan(ctx context.Context, w *world, spec JobSpec) (opens, closes time.Time, err error) {
	tasks, err := w.focalTasks(ctx)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	var last time.Time
	for _, ft := range tasks {
		if len(ft.Items) > 0 && ft.Deadline.After(last) {
			last = ft.Deadline
		}
	}
	if last.IsZero() {
		return time.Time{}, time.Time{}, nil
	}
	until := spec.Until
	if until <= 0 {
		until = DefaultDigestUntil
	}
	opens = s.c.Event.Start
	if o := s.campaignOpens(); !o.IsZero() {
		opens = o // another campaign runs from its own opening
	}
	return opens, last.Add(until), nil
}
