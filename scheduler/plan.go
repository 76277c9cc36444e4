package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// Planned is one upcoming moment of a job: when, to how many, and what
// the message says (the Vietnamese text of the first recipient's).
type Planned struct {
	Job        string
	Label      string // the job in words
	At         time.Time
	Recipients int    // messages the moment makes
	Reachable  int    // of which have a channel to go through
	Preview    string // shortened
}

// Done is a group of messages already handled: sent, skipped (with why),
// failed or unreachable.
type Done struct {
	Job, Label string
	At         time.Time
	Status     string // sent, skipped, failed, unreachable, pending, sending
	Reason     string
	Count      int
}

// PreviewLen bounds a planned message's preview, in characters.
const PreviewLen = 280

// Upcoming lists the jobs' moments in (from, to], soonest first, as RunDue
// would enqueue them then with what is known now (answers and indicators
// may change until then). It writes nothing: the agenda-change notice,
// which depends on an edit nobody has made yet, is not planned.
func (s *Scheduler) Upcoming(ctx context.Context, from, to time.Time) ([]Planned, error) {
	w := s.newWorld()
	var out []Planned
	for _, j := range s.jobs {
		if strings.HasSuffix(j.name, JobAgendaChange) {
			continue
		}
		occs, err := j.occurrences(ctx, w, from, to)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", j.name, err)
		}
		for _, o := range occs {
			ds, err := o.build(ctx, w)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", j.name, err)
			}
			p := Planned{Job: j.name, Label: JobLabel(j.name), At: o.at, Recipients: len(ds)}
			for _, d := range ds {
				if d.skip != "" || d.render == nil {
					continue
				}
				r, err := w.recipient(ctx, d.personID)
				if err != nil {
					return nil, err
				}
				if r.channel != "" {
					p.Reachable++
				}
				if p.Preview == "" {
					var texts []string
					for _, rep := range d.render(domain.Vietnamese) {
						texts = append(texts, rep.Text)
					}
					p.Preview = clip(strings.Join(texts, "\n"), PreviewLen)
				}
			}
			if p.Recipients > 0 {
				out = append(out, p)
			}
		}
	}
	if err := s.refreshEvents(ctx, from); err != nil {
		return nil, err
	}
	for _, o := range s.otherEvents() {
		more, err := o.Upcoming(ctx, from, to)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", o.c.EventKey, err)
		}
		out = append(out, more...)
	}
	if err := s.refreshCampaigns(ctx, from); err != nil {
		return nil, err
	}
	for _, o := range s.campaignSchedulers() {
		more, err := o.Upcoming(ctx, from, to)
		if err != nil {
			return nil, fmt.Errorf("campaign %s: %w", o.c.Campaign.ID, err)
		}
		out = append(out, more...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// History lists what the outbox holds, latest moments first, at most limit
// groups.
func (s *Scheduler) History(ctx context.Context, limit int) ([]Done, error) {
	h, ok := s.c.Outbox.(interface {
		OutboxHistory(ctx context.Context, limit int) ([]sqlstore.OutboxGroup, error)
	})
	if !ok {
		return nil, errors.New("scheduler: the outbox cannot list its history")
	}
	groups, err := h.OutboxHistory(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Done, 0, len(groups))
	for _, g := range groups {
		reason := g.Reason
		switch g.Status {
		case sqlstore.OutboxUnreachable:
			reason = reasonText(domain.Vietnamese, reason)
		case sqlstore.OutboxSent:
			reason = ""
		}
		out = append(out, Done{Job: g.Job, Label: JobLabel(g.Job), At: g.DueAt, Status: g.Status, Reason: clip(reason, 160), Count: g.Count})
	}
	return out, nil
}

// Location is the schedule's time zone.
func (s *Scheduler) Location() *time.Location { return s.loc }

// JobLabel names a job for staff.
func JobLabel(job string) string {
	// An event's job is "event/job"; the messages name their event.
	if i := strings.LastIndex(job, "/"); i >= 0 {
		job = job[i+1:]
	}
	if l, ok := jobLabels[job]; ok {
		return l
	}
	return job
}

var jobLabels = map[string]string{
	JobAgendaDayBefore:     "Nhắc lịch hôm trước",
	JobAgendaMorning:       "Nhắc lịch sáng hội nghị",
	JobSpeaker:             "Nhắc người trình bày",
	JobAgendaChange:        "Báo thay đổi chương trình",
	JobRSVPChaser:          "Nhắc xác nhận tham dự",
	JobStaffSummary:        "Tổng hợp xác nhận cho cán bộ",
	JobIndicatorLadder:     "Nhắc hạn số liệu (đầu mối)",
	JobIndicatorEscalation: "Báo đơn vị quá hạn",
	JobIndicatorDigest:     "Tiến độ số liệu cho cán bộ",
	JobManualChaser:        "Nhắc xác nhận (cán bộ gửi)",
	JobBroadcast:           "Thông báo",
	JobMeetingDocs:         "Tài liệu Hội nghị",
	JobMeetingVote:         "Biểu quyết",
	JobMeetingNotice:       "Trả lời câu hỏi, mời phát biểu",
}

// clip shortens s to n characters, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// StatusText names an outbox status for staff.
func StatusText(status string) string {
	switch status {
	case sqlstore.OutboxSent:
		return "đã gửi"
	case sqlstore.OutboxSkipped:
		return "bỏ qua"
	case sqlstore.OutboxFailed:
		return "lỗi, không gửi được"
	case sqlstore.OutboxUnreachable:
		return "người nhận không nhận được"
	case sqlstore.OutboxPending:
		return "đang chờ gửi"
	}
	return "đang gửi"
}
