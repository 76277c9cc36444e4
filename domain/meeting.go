package domain

import (
	"strings"
	"time"
)

// The meeting itself (issue 15): documents sent before, questions and
// speaking requests during, votes. Every record carries the event's ID.

// MeetingDoc is a document staff attached to an event (AgendaNo 0) or to one
// of its agenda items. Internal documents are for staff only.
type MeetingDoc struct {
	ID        int64
	EventID   string
	AgendaNo  int
	Title     string
	FileName  string
	MIME      string
	SHA256    string
	Size      int64
	Internal  bool
	CreatedBy string
	CreatedAt time.Time
}

// Question kinds and statuses.
const (
	QuestionAsk   = "question"
	QuestionSpeak = "speak"

	QuestionOpen     = "open"
	QuestionCalled   = "called"
	QuestionAnswered = "answered"
	QuestionMerged   = "merged"
)

// Question is a question or comment, or a request to speak (Kind), on an
// agenda item or a document.
type Question struct {
	ID         int64
	EventID    string
	PersonID   string
	Kind       string
	AgendaNo   int
	DocumentID int64
	Body       string
	Anonymous  bool
	Status     string
	MergedInto int64
	Answer     string
	Rank       int64
	CreatedAt  time.Time
	DoneAt     time.Time
	DoneBy     string
}

// Vote kinds and statuses.
const (
	VoteOptions = "options"
	VoteRating  = "rating"

	VoteOpen   = "open"
	VoteClosed = "closed"
)

// Vote is a question staff put to the delegates who checked in: a choice
// among Options, or a 1–5 rating.
type Vote struct {
	ID        int64
	EventID   string
	Question  string
	Kind      string
	Options   []string
	Status    string
	CreatedBy string
	OpenedAt  time.Time
	ClosedAt  time.Time
}

// Choices returns the answers a delegate can give, numbered from 1.
func (v Vote) Choices() []string {
	if v.Kind == VoteRating {
		return []string{"1", "2", "3", "4", "5"}
	}
	return v.Options
}

// SplitOptions reads a vote's options, one per line, blanks dropped.
func SplitOptions(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// AskQuestion stores a delegate's question or speaking request.
type AskQuestion struct{ Question Question }

// CastVote stores (or changes) a person's answer to an open vote. It
// applies only while the vote is open: a vote closed meanwhile makes the
// update stale (storage.ErrConflict), so the flow says it is closed.
type CastVote struct {
	EventID  string
	VoteID   int64
	PersonID string
	Choice   int
}

func (AskQuestion) isEffect() {}
func (CastVote) isEffect()    {}
