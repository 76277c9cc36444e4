package domain

import "time"

// TaskStatus is where a task of the organisers' plan, or a follow-up task of
// a conclusion notice, stands.
type TaskStatus string

const (
	TaskTodo    TaskStatus = "todo"
	TaskDoing   TaskStatus = "doing"
	TaskDone    TaskStatus = "done"
	TaskBlocked TaskStatus = "blocked"
)

// Valid reports whether s is a known status.
func (s TaskStatus) Valid() bool {
	switch s {
	case TaskTodo, TaskDoing, TaskDone, TaskBlocked:
		return true
	}
	return false
}

// Task kinds: a task of the organisers' own plan (section III of the plan),
// or a follow-up task a conclusion notice gives an agency.
const (
	TaskKindPlan     = "plan"
	TaskKindFollowUp = "followup"
)

// Task is one task with an owner and a deadline. A plan task has a
// responsible unit (free text: a unit of the Sở) and a person; a follow-up
// task belongs to an agency (AgencyCode), whose focal points are its owners.
type Task struct {
	EventID    string
	ID         string
	Kind       string // TaskKindPlan or TaskKindFollowUp
	Title      string
	Unit       string // responsible unit, as written (plan tasks)
	AgencyCode string // the agency (follow-up tasks; plan tasks: optional)
	OwnerID    string // the person responsible ("" for a follow-up: the agency's focal points)
	Deadline   time.Time
	Status     TaskStatus
	Note       string // the latest note
	Conclusion string // the conclusion notice a follow-up belongs to
	Version    int
	UpdatedAt  time.Time
	UpdatedBy  string
}

// Late reports whether the task is past its deadline and not done.
func (t Task) Late(now time.Time) bool {
	return t.Status != TaskDone && !t.Deadline.IsZero() && now.After(t.Deadline)
}

// TaskChange is one entry of a task's history.
type TaskChange struct {
	TaskID  string
	At      time.Time
	By      string
	Status  TaskStatus
	Note    string
	File    *Evidence // a file sent when marking done (stored like evidence)
	Channel Channel
}

// UpdateTask changes a task's status and/or adds a note (and optionally a
// file), keeping the change in its history. By must be allowed to change it:
// the flow checks ownership, the store applies it only when the task exists
// in EventID.
type UpdateTask struct {
	EventID string
	TaskID  string
	Status  TaskStatus // "" keeps the status
	Note    string
	File    *Evidence
	By      string
	Channel Channel
}

// SaveFeedback records an attendee's rating (1–5) of an event, and optional
// comment; a later answer replaces the earlier one.
type SaveFeedback struct {
	EventID  string
	PersonID string
	Rating   int // 0 keeps the stored rating (a comment added afterwards)
	Comment  string
}

func (UpdateTask) isEffect()   {}
func (SaveFeedback) isEffect() {}

// Conclusion is a conclusion notice (thông báo kết luận) after a meeting.
type Conclusion struct {
	EventID   string
	ID        string
	Title     string
	Body      string
	FollowUps []Task
	CreatedBy string
	CreatedAt time.Time
	SentAt    time.Time // zero: a draft
	SentBy    string
	// LinkToken is the secret in the link to the text version its
	// recipients get ("" until sent).
	LinkToken string
}

// Feedback is one attendee's answer to the feedback form.
type Feedback struct {
	EventID  string
	PersonID string
	Rating   int
	Comment  string
	At       time.Time
}
