package main

import (
	"context"
	"errors"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/web"
)

// meetingStore is what the meeting (issue 15) needs of the database: the
// chat's, the console's and the scheduler's parts.
type meetingStore interface {
	bot.MeetingStore
	web.MeetingStore
	scheduler.MeetingDocs
}

// meetingParts gives the meeting its store and the key of the documents'
// personal links (kept in the database, the same for every process).
func meetingParts(ctx context.Context, st storage.Store, keys interface {
	ServerKey(ctx context.Context, name string) ([]byte, error)
}, publicURL string) (meetingStore, *bot.DocLinks, error) {
	ms, ok := st.(meetingStore)
	if !ok {
		return nil, nil, errors.New("the database cannot keep the meeting's documents, questions and votes")
	}
	key, err := keys.ServerKey(ctx, "meeting-doc-links")
	if err != nil {
		return nil, nil, err
	}
	return ms, &bot.DocLinks{Key: key, Base: publicURL}, nil
}

// laterScheduler hands the console's meeting sends to the scheduler, which
// is made after the console (it needs every channel's sender).
type laterScheduler struct{ s **scheduler.Scheduler }

// of returns the scheduler of an event (its vote buttons carry its code).
func (l laterScheduler) of(eventID string) *scheduler.Scheduler {
	if s, ok := (*l.s).ForEvent(eventID); ok {
		return s
	}
	return *l.s
}

func (l laterScheduler) SendVote(ctx context.Context, v domain.Vote, ids []string) (int, error) {
	return l.of(v.EventID).SendVote(ctx, v, ids)
}

func (l laterScheduler) NotifyQuestion(ctx context.Context, q domain.Question) (int, error) {
	return l.of(q.EventID).NotifyQuestion(ctx, q)
}
