package storage

import (
	"context"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// TaskStore keeps the organisers' plan, the conclusion notices with their
// follow-up tasks, and the feedback of attendees, per event
// (storage/sqlstore/tasks.go). Status changes from chat go through
// Store.Apply (UpdateTask, SaveFeedback effects).
type TaskStore interface {
	Tasks(ctx context.Context, eventID string) ([]domain.Task, error)
	Task(ctx context.Context, eventID, id string) (domain.Task, error)
	TasksOf(ctx context.Context, eventID, personID, agency string, focal bool) ([]domain.Task, error)
	TaskHistory(ctx context.Context, eventID, id string) ([]domain.TaskChange, error)
	SyncPlanTasks(ctx context.Context, eventID string, tasks []domain.Task, at time.Time) error
	SaveTask(ctx context.Context, t domain.Task, expectVersion int, by string, at time.Time) error
	SaveConclusion(ctx context.Context, c domain.Conclusion, at time.Time) error
	Conclusions(ctx context.Context, eventID string) ([]domain.Conclusion, error)
	Conclusion(ctx context.Context, eventID, id string) (domain.Conclusion, error)
	MarkConclusionSent(ctx context.Context, eventID, id, by, token string, at time.Time) (bool, error)
	ConclusionByToken(ctx context.Context, token string) (domain.Conclusion, error)
	Feedback(ctx context.Context, eventID string) ([]domain.Feedback, error)
}
