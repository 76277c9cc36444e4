package scheduler

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// After the meeting, and the organisers' plan: the tasks' deadline ladder
// (the indicators' ladder: the same offsets, then daily while overdue), the
// conclusion notice sent once to each recipient, and the feedback form to
// attendees after the event.
const (
	JobTaskLadder = "task_ladder"
	JobConclusion = "conclusion"
	JobFeedback   = "feedback"
)

// PlanStore is what these jobs read: the tasks, conclusions and
// check-ins (*postgres.Store and *sqlite.Store implement it).
type PlanStore interface {
	storage.TaskStore
	EventCheckIns(ctx context.Context, eventID string) (map[string]sqlstore.CheckIn, error)
}

func init() {
	knownJobs[JobFeedback] = true
	jobLabels[JobTaskLadder] = "Nhắc hạn công việc (kế hoạch, kết luận)"
	jobLabels[JobConclusion] = "Thông báo kết luận"
	jobLabels[JobFeedback] = "Phiếu góp ý sau hội nghị"
	maps.Copy(catalogs[domain.Vietnamese], map[msg]string{
		"task_before":   "⏰ Còn %d ngày đến hạn công việc %s (hạn %s):\n%s\nTrạng thái: %s",
		"task_today":    "⏰ Hôm nay là hạn công việc %s (hạn %s):\n%s\nTrạng thái: %s",
		"task_overdue":  "🔴 Công việc %s đã quá hạn %d ngày (hạn %s):\n%s\nTrạng thái: %s",
		"task_followup": "Việc sau hội nghị giao %s.",
		"task_tail":     "Cập nhật tiến độ: /congviec.",
		"btn_task_open": "📌 Cập nhật công việc",
		"task_st_todo":  "chưa làm", "task_st_doing": "đang làm", "task_st_done": "đã xong", "task_st_blocked": "vướng mắc",
	})
	maps.Copy(catalogs[domain.English], map[msg]string{
		"task_before":   "⏰ %d days left for task %s (due %s):\n%s\nStatus: %s",
		"task_today":    "⏰ Task %s is due today (%s):\n%s\nStatus: %s",
		"task_overdue":  "🔴 Task %s is %d days overdue (due %s):\n%s\nStatus: %s",
		"task_followup": "A follow-up after the conference, assigned to %s.",
		"task_tail":     "Update your progress: /tasks.",
		"btn_task_open": "📌 Update the task",
		"task_st_todo":  "to do", "task_st_doing": "in progress", "task_st_done": "done", "task_st_blocked": "blocked",
	})
}

// meetingJobs adds the jobs when a PlanStore is configured.
func (s *Scheduler) meetingJobs() []*job {
	if s.c.Plan == nil {
		return nil
	}
	var jobs []*job
	// The tasks share the indicators' ladder: one schedule to explain and
	// to tune.
	if spec := s.sched.Job(JobIndicatorLadder); spec.Enabled {
		jobs = append(jobs, &job{name: s.jobName(JobTaskLadder), occurrences: s.taskLadderJob(spec)})
	}
	spec, ok := s.sched.Jobs[JobFeedback]
	if !ok {
		o, _ := ParseOffset("+1h")
		spec = JobSpec{Enabled: true, At: []Offset{o}, Grace: -1}
	}
	if spec.Enabled {
		jobs = append(jobs, &job{name: s.jobName(JobFeedback), occurrences: s.feedbackJob(spec)})
	}
	return jobs
}

// openTasks are the event's tasks still to do whose owners can be told: the
// plan's, and the follow-ups of notices already sent.
func (s *Scheduler) openTasks(ctx context.Context) ([]domain.Task, error) {
	all, err := s.c.Plan.Tasks(ctx, s.c.Event.ID)
	if err != nil {
		return nil, err
	}
	var sent map[string]bool
	var out []domain.Task
	for _, t := range all {
		if t.Status == domain.TaskDone || t.Deadline.IsZero() {
			continue
		}
		if t.Kind == domain.TaskKindFollowUp {
			if sent == nil {
				cs, err := s.c.Plan.Conclusions(ctx, s.c.Event.ID)
				if err != nil {
					return nil, err
				}
				sent = map[string]bool{}
				for _, c := range cs {
					sent[c.ID] = !c.SentAt.IsZero()
				}
			}
			if !sent[t.Conclusion] {
				continue
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// taskOwners are who answer for t: its owner, or its agency's focal points.
func (w *world) taskOwners(t domain.Task) []string {
	if t.OwnerID != "" {
		return []string{t.OwnerID}
	}
	var out []string
	for _, p := range w.dir.People() {
		if p.AgencyCode == t.AgencyCode && p.Has(domain.RoleFocal) {
			out = append(out, p.ID)
		}
	}
	return out
}

// taskLadderJob reminds each task's owners at the ladder's moments before
// its deadline, on the day and daily while overdue: one message per task,
// moment and person (key task_ladder|<task>@<moment>|<person>).
func (s *Scheduler) taskLadderJob(spec JobSpec) occFunc {
	return func(ctx context.Context, w *world, from, to time.Time) ([]occurrence, error) {
		tasks, err := s.openTasks(ctx)
		if err != nil {
			return nil, err
		}
		var out []occurrence
		for _, task := range tasks {
			task := task
			for _, at := range s.ladderMoments(spec, task.Deadline, from, to) {
				at := at
				out = append(out, occurrence{
					id: task.ID + "@" + s.occID(at), at: at, grace: s.grace(spec, DefaultGrace),
					build: func(ctx context.Context, w *world) ([]delivery, error) {
						var ds []delivery
						for _, pid := range w.taskOwners(task) {
							ds = append(ds, delivery{personID: pid, render: func(lang domain.Lang) []flows.Reply {
								return s.taskReminder(w, lang, task, at)
							}})
						}
						return ds, nil
					},
				})
			}
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
		return out, nil
	}
}

func (s *Scheduler) taskReminder(w *world, lang domain.Lang, task domain.Task, at time.Time) []flows.Reply {
	days := dayDiff(at, task.Deadline, s.loc)
	due := clock(task.Deadline, s.loc) + " " + shortDate(task.Deadline, s.loc)
	status := t(lang, msg("task_st_"+string(task.Status)))
	var head string
	switch {
	case days > 0:
		head = t(lang, "task_before", days, task.ID, due, task.Title, status)
	case days == 0:
		head = t(lang, "task_today", task.ID, due, task.Title, status)
	default:
		head = t(lang, "task_overdue", task.ID, -days, due, task.Title, status)
	}
	parts := []string{head}
	if task.Kind == domain.TaskKindFollowUp {
		parts = append(parts, t(lang, "task_followup", w.agencyName(task.AgencyCode, lang)))
	}
	parts = append(parts, "", t(lang, "task_tail"))
	return []flows.Reply{{Text: joinLines(parts...), Buttons: [][]flows.Button{{{Label: t(lang, "btn_task_open"), Data: "cv:o:" + s.taskRef(task)}}}}}
}

// taskRef names a task in its reminder's button (flows.TaskRef): another
// event's carry the event.
func (s *Scheduler) taskRef(t domain.Task) string {
	if s.c.EventOnly {
		t.EventID = s.c.Event.ID
		return flows.TaskRef(t, "")
	}
	return t.ID
}

// MeetingAttendees are who attended the event: those checked in, or, when
// nobody was checked in (no desk used), those who accepted and the
// substitutes who came in their place.
func (s *Scheduler) MeetingAttendees(ctx context.Context) ([]string, error) {
	if s.c.Plan == nil {
		return nil, fmt.Errorf("attendees: no meeting store")
	}
	return s.newWorld().meetingAttendees(ctx)
}

func (w *world) meetingAttendees(ctx context.Context) ([]string, error) {
	checks, err := w.s.c.Plan.EventCheckIns(ctx, w.s.c.Event.ID)
	if err != nil {
		return nil, fmt.Errorf("check-ins: %w", err)
	}
	var out []string
	if len(checks) > 0 {
		for _, p := range w.dir.People() {
			if _, ok := checks[p.ID]; ok {
				out = append(out, p.ID)
			}
		}
		return out, nil
	}
	rs, err := w.currentRSVPs(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, p := range w.withRole(domain.RoleDelegate) {
		r, ok := rs[p.ID]
		switch {
		case !ok:
		case r.Status == domain.RSVPAttend:
			out, seen[p.ID] = append(out, p.ID), true
		case r.Status == domain.RSVPSubstitute && r.Substitute != nil:
			if sp, ok := w.dir.ByPhone(r.Substitute.Phone); ok && !seen[sp.ID] {
				out, seen[sp.ID] = append(out, sp.ID), true
			}
		}
	}
	return out, nil
}

// feedbackJob sends the feedback form to the attendees after the event.
func (s *Scheduler) feedbackJob(spec JobSpec) occFunc {
	ev := s.c.Event
	return func(ctx context.Context, w *world, from, to time.Time) ([]occurrence, error) {
		var out []occurrence
		for _, at := range s.window(JobSpec{At: spec.At}, ev.End, from, to) {
			out = append(out, occurrence{
				id: s.occID(at), at: at, grace: s.grace(spec, 3*24*time.Hour),
				build: func(ctx context.Context, w *world) ([]delivery, error) {
					ids, err := w.meetingAttendees(ctx)
					if err != nil {
						return nil, err
					}
					ds := make([]delivery, 0, len(ids))
					for _, id := range ids {
						ds = append(ds, delivery{personID: id, render: func(lang domain.Lang) []flows.Reply {
							return []flows.Reply{flows.FeedbackRequest(lang, ev)}
						}})
					}
					return ds, nil
				},
			})
		}
		return out, nil
	}
}

// SendConclusion sends a conclusion notice to the attendees and to the
// focal points of every agency it gives a follow-up task, once per person
// however often it is asked (key conclusion|<event>/<id>|<person>). render
// writes the message in a language. It returns how many messages it
// enqueued.
func (s *Scheduler) SendConclusion(ctx context.Context, c domain.Conclusion, render func(lang domain.Lang) []flows.Reply) (int, error) {
	if s.c.Plan == nil {
		return 0, fmt.Errorf("send conclusion: no meeting store")
	}
	now := s.c.Now()
	w := s.newWorld()
	o := occurrence{
		id: c.EventID + "/" + c.ID, at: now, grace: forever,
		build: func(ctx context.Context, w *world) ([]delivery, error) {
			ids, err := w.meetingAttendees(ctx)
			if err != nil {
				return nil, err
			}
			agencies := map[string]bool{}
			for _, t := range c.FollowUps {
				agencies[t.AgencyCode] = true
			}
			seen := map[string]bool{}
			for _, id := range ids {
				seen[id] = true
			}
			for _, p := range w.dir.People() {
				if agencies[p.AgencyCode] && p.Has(domain.RoleFocal) && !seen[p.ID] {
					ids, seen[p.ID] = append(ids, p.ID), true
				}
			}
			ds := make([]delivery, 0, len(ids))
			for _, id := range ids {
				ds = append(ds, delivery{personID: id, render: render})
			}
			return ds, nil
		},
	}
	n, err := s.enqueueOccurrence(ctx, w, JobConclusion, o, now)
	if n > 0 {
		s.kick()
	}
	return n, err
}
