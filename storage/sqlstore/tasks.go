package sqlstore

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
)

// Tasks of the organisers' plan and follow-up tasks of conclusion notices
// (migration 0018). Every query takes the event: several events may run at
// once.

const taskSelect = `SELECT event_id, id, kind, title, unit, agency_code, owner_id, deadline, status, note, conclusion,
	version, updated_at, updated_by FROM tasks`

func queryTasks(ctx context.Context, db DB, q string, args ...any) ([]domain.Task, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	defer rows.Close()
	var out []domain.Task
	for rows.Next() {
		var t domain.Task
		var status string
		if err := rows.Scan(&t.EventID, &t.ID, &t.Kind, &t.Title, &t.Unit, &t.AgencyCode, &t.OwnerID, &t.Deadline, &status,
			&t.Note, &t.Conclusion, &t.Version, &t.UpdatedAt, &t.UpdatedBy); err != nil {
			return nil, fmt.Errorf("scan task: %w", err)
		}
		t.Status = domain.TaskStatus(status)
		t.Deadline, t.UpdatedAt = t.Deadline.UTC(), t.UpdatedAt.UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}

// Tasks returns the event's tasks (plan and follow-ups), earliest deadline
// first.
func (q *Queries) Tasks(ctx context.Context, eventID string) ([]domain.Task, error) {
	return queryTasks(ctx, q.DB, taskSelect+` WHERE event_id = $1 ORDER BY deadline, id`, eventID)
}

// Task returns one task.
func (q *Queries) Task(ctx context.Context, eventID, id string) (domain.Task, error) {
	list, err := queryTasks(ctx, q.DB, taskSelect+` WHERE event_id = $1 AND id = $2`, eventID, id)
	if err != nil {
		return domain.Task{}, err
	}
	if len(list) == 0 {
		return domain.Task{}, ErrNoRows
	}
	return list[0], nil
}

// TasksOf returns the tasks a person answers for in the event: the plan
// tasks they own, and the sent follow-up tasks of their agency when they
// are one of its focal points (focal).
func (q *Queries) TasksOf(ctx context.Context, eventID, personID, agency string, focal bool) ([]domain.Task, error) {
	if !focal {
		agency = "" // follow-ups always have an agency: matches none
	}
	return queryTasks(ctx, q.DB, taskSelect+` WHERE event_id = $1 AND (owner_id = $2 OR (kind = 'followup' AND agency_code = $3 AND agency_code <> ''
		AND conclusion IN (SELECT id FROM conclusions WHERE event_id = $1 AND sent_at IS NOT NULL)))
		ORDER BY deadline, id`, eventID, personID, agency)
}

// SyncPlanTasks loads the plan's tasks from the campaign files: new tasks
// are added; a task the files gave before gets the files' title, unit,
// owner and deadline again, and keeps its status and notes (progress is
// made in chat and the console, never in the files).
func (q *Queries) SyncPlanTasks(ctx context.Context, eventID string, tasks []domain.Task, at time.Time) error {
	return q.Tx(ctx, func(db DB) error {
		for _, t := range tasks {
			if _, err := db.Exec(ctx, `INSERT INTO tasks (event_id, id, kind, title, unit, agency_code, owner_id, deadline, status, note,
					from_config, updated_at, updated_by)
				VALUES ($1, $2, 'plan', $3, $4, $5, $6, $7, $8, $9, TRUE, $10, '')
				ON CONFLICT (event_id, id) DO UPDATE SET title = excluded.title, unit = excluded.unit, agency_code = excluded.agency_code,
					owner_id = excluded.owner_id, deadline = excluded.deadline
				WHERE tasks.from_config AND (tasks.title <> excluded.title OR tasks.unit <> excluded.unit
					OR tasks.agency_code <> excluded.agency_code OR tasks.owner_id <> excluded.owner_id OR tasks.deadline <> excluded.deadline)`,
				eventID, t.ID, t.Title, t.Unit, t.AgencyCode, t.OwnerID, t.Deadline.UTC(), string(orTodo(t.Status)), t.Note, at.UTC()); err != nil {
				return fmt.Errorf("sync task %s: %w", t.ID, err)
			}
		}
		return nil
	})
}

func orTodo(s domain.TaskStatus) domain.TaskStatus {
	if s == "" {
		return domain.TaskTodo
	}
	return s
}

// SaveTask creates or edits a plan task from the console. expectVersion is
// the version the staff member saw (0: a new task); a task changed meanwhile
// is not overwritten (storage.ErrConflict).
func (q *Queries) SaveTask(ctx context.Context, t domain.Task, expectVersion int, by string, at time.Time) error {
	if !orTodo(t.Status).Valid() {
		return fmt.Errorf("save task: invalid status %q", t.Status)
	}
	return q.Tx(ctx, func(db DB) error {
		cur, err := (&Queries{DB: db}).Task(ctx, t.EventID, t.ID)
		switch {
		case errors.Is(err, ErrNoRows):
			if expectVersion != 0 {
				return errTaskStale
			}
			if _, err := db.Exec(ctx, `INSERT INTO tasks (event_id, id, kind, title, unit, agency_code, owner_id, deadline, status, note,
					updated_at, updated_by)
				VALUES ($1, $2, 'plan', $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
				t.EventID, t.ID, t.Title, t.Unit, t.AgencyCode, t.OwnerID, t.Deadline.UTC(), string(orTodo(t.Status)), t.Note, at.UTC(), by); err != nil {
				return fmt.Errorf("add task: %w", err)
			}
			return addTaskHistory(ctx, db, t.EventID, domain.TaskChange{TaskID: t.ID, At: at, By: by, Status: orTodo(t.Status), Note: t.Note, Channel: "console"})
		case err != nil:
			return err
		}
		if cur.Version != expectVersion {
			return errTaskStale
		}
		n, err := db.Exec(ctx, `UPDATE tasks SET title = $3, unit = $4, agency_code = $5, owner_id = $6, deadline = $7, status = $8,
				note = $9, version = version + 1, updated_at = $10, updated_by = $11, from_config = FALSE
			WHERE event_id = $1 AND id = $2 AND version = $12`,
			t.EventID, t.ID, t.Title, t.Unit, t.AgencyCode, t.OwnerID, t.Deadline.UTC(), string(orTodo(t.Status)), t.Note, at.UTC(), by, expectVersion)
		if err != nil {
			return fmt.Errorf("edit task: %w", err)
		}
		if n == 0 {
			return errTaskStale
		}
		ch := domain.TaskChange{TaskID: t.ID, At: at, By: by, Channel: "console"}
		if cur.Status != orTodo(t.Status) {
			ch.Status = orTodo(t.Status)
		}
		if cur.Note != t.Note {
			ch.Note = t.Note
		}
		if ch.Status == "" && ch.Note == "" && cur.Deadline.Equal(t.Deadline) && cur.OwnerID == t.OwnerID && cur.Title == t.Title {
			return nil
		}
		return addTaskHistory(ctx, db, t.EventID, ch)
	})
}

var errTaskStale = fmt.Errorf("task: %w", storage.ErrConflict)

func addTaskHistory(ctx context.Context, db DB, eventID string, c domain.TaskChange) error {
	ev := "[]"
	if c.File != nil {
		b, err := json.Marshal([]domain.Evidence{*c.File})
		if err != nil {
			return fmt.Errorf("encode task file: %w", err)
		}
		ev = string(b)
	}
	return execLater(ctx, db, "task history", `INSERT INTO task_history (event_id, task_id, at, by_person, status, note, evidence, channel)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		eventID, c.TaskID, c.At.UTC(), c.By, string(c.Status), c.Note, ev, string(c.Channel))
}

// TaskHistory returns a task's changes, oldest first.
func (q *Queries) TaskHistory(ctx context.Context, eventID, id string) ([]domain.TaskChange, error) {
	rows, err := q.DB.Query(ctx, `SELECT task_id, at, by_person, status, note, evidence, channel FROM task_history
		WHERE event_id = $1 AND task_id = $2 ORDER BY id`, eventID, id)
	if err != nil {
		return nil, fmt.Errorf("task history: %w", err)
	}
	defer rows.Close()
	var out []domain.TaskChange
	for rows.Next() {
		var c domain.TaskChange
		var status, ev, ch string
		if err := rows.Scan(&c.TaskID, &c.At, &c.By, &status, &c.Note, &ev, &ch); err != nil {
			return nil, fmt.Errorf("scan task history: %w", err)
		}
		c.At, c.Status, c.Channel = c.At.UTC(), domain.TaskStatus(status), domain.Channel(ch)
		var files []domain.Evidence
		if err := json.Unmarshal([]byte(ev), &files); err == nil && len(files) > 0 {
			c.File = &files[0]
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// applyUpdateTask changes a task's status and note from a chat (the flow
// checked that the person answers for it).
func applyUpdateTask(ctx context.Context, db DB, at time.Time, e domain.UpdateTask) error {
	if e.Status != "" && !e.Status.Valid() {
		return fmt.Errorf("update task: invalid status %q", e.Status)
	}
	n, err := db.Exec(ctx, `UPDATE tasks SET status = CASE WHEN $3 = '' THEN status ELSE $3 END,
			note = CASE WHEN $4 = '' THEN note ELSE $4 END, version = version + 1, updated_at = $5, updated_by = $6
		WHERE event_id = $1 AND id = $2`,
		e.EventID, e.TaskID, string(e.Status), e.Note, at.UTC(), e.By)
	if err != nil {
		return fmt.Errorf("update task: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("update task %s: %w", e.TaskID, ErrNoRows)
	}
	return addTaskHistory(ctx, db, e.EventID, domain.TaskChange{TaskID: e.TaskID, At: at, By: e.By, Status: e.Status, Note: e.Note,
		File: e.File, Channel: e.Channel})
}

func applyFeedback(ctx context.Context, db DB, at time.Time, e domain.SaveFeedback) error {
	if e.Rating < 0 || e.Rating > 5 {
		return fmt.Errorf("save feedback: rating %d", e.Rating)
	}
	if e.Rating == 0 {
		n, err := db.Exec(ctx, `UPDATE feedback SET comment = $3, at = $4 WHERE event_id = $1 AND person_id = $2`,
			e.EventID, e.PersonID, e.Comment, at.UTC())
		if err != nil {
			return fmt.Errorf("save feedback comment: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("save feedback comment: %w", ErrNoRows)
		}
		return nil
	}
	return execLater(ctx, db, "save feedback", `INSERT INTO feedback (event_id, person_id, rating, comment, at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (event_id, person_id) DO UPDATE SET rating = excluded.rating,
			comment = CASE WHEN excluded.comment = '' THEN feedback.comment ELSE excluded.comment END, at = excluded.at`,
		e.EventID, e.PersonID, e.Rating, e.Comment, at.UTC())
}

// Feedback returns the event's feedback answers, newest first.
func (q *Queries) Feedback(ctx context.Context, eventID string) ([]domain.Feedback, error) {
	rows, err := q.DB.Query(ctx, `SELECT event_id, person_id, rating, comment, at FROM feedback WHERE event_id = $1 ORDER BY at DESC, person_id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("feedback: %w", err)
	}
	defer rows.Close()
	var out []domain.Feedback
	for rows.Next() {
		var f domain.Feedback
		if err := rows.Scan(&f.EventID, &f.PersonID, &f.Rating, &f.Comment, &f.At); err != nil {
			return nil, fmt.Errorf("scan feedback: %w", err)
		}
		f.At = f.At.UTC()
		out = append(out, f)
	}
	return out, rows.Err()
}

// SaveConclusion stores a conclusion notice while it is a draft, with its
// follow-up tasks (replacing the draft's earlier ones). A notice already
// sent is not changed (storage.ErrConflict).
func (q *Queries) SaveConclusion(ctx context.Context, c domain.Conclusion, at time.Time) error {
	return q.Tx(ctx, func(db DB) error {
		var sent *time.Time
		err := db.QueryRow(ctx, `SELECT sent_at FROM conclusions WHERE event_id = $1 AND id = $2`, c.EventID, c.ID).Scan(&sent)
		switch {
		case errors.Is(err, ErrNoRows):
			if _, err := db.Exec(ctx, `INSERT INTO conclusions (event_id, id, title, body, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				c.EventID, c.ID, c.Title, c.Body, c.CreatedBy, at.UTC()); err != nil {
				return fmt.Errorf("add conclusion: %w", err)
			}
		case err != nil:
			return fmt.Errorf("read conclusion: %w", err)
		case sent != nil:
			return errTaskStale
		default:
			if _, err := db.Exec(ctx, `UPDATE conclusions SET title = $3, body = $4 WHERE event_id = $1 AND id = $2`,
				c.EventID, c.ID, c.Title, c.Body); err != nil {
				return fmt.Errorf("edit conclusion: %w", err)
			}
		}
		if _, err := db.Exec(ctx, `DELETE FROM tasks WHERE event_id = $1 AND conclusion = $2 AND kind = 'followup'`, c.EventID, c.ID); err != nil {
			return fmt.Errorf("replace follow-up tasks: %w", err)
		}
		for _, t := range c.FollowUps {
			if _, err := db.Exec(ctx, `INSERT INTO tasks (event_id, id, kind, title, unit, agency_code, owner_id, deadline, status, note,
					conclusion, updated_at, updated_by)
				VALUES ($1, $2, 'followup', $3, '', $4, '', $5, 'todo', '', $6, $7, $8)`,
				c.EventID, t.ID, t.Title, t.AgencyCode, t.Deadline.UTC(), c.ID, at.UTC(), c.CreatedBy); err != nil {
				return fmt.Errorf("add follow-up task: %w", err)
			}
		}
		return nil
	})
}

// Conclusions returns the event's conclusion notices with their follow-up
// tasks, newest first.
func (q *Queries) Conclusions(ctx context.Context, eventID string) ([]domain.Conclusion, error) {
	rows, err := q.DB.Query(ctx, `SELECT event_id, id, title, body, created_by, created_at, sent_at, sent_by, link_token FROM conclusions
		WHERE event_id = $1 ORDER BY created_at DESC, id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("conclusions: %w", err)
	}
	var out []domain.Conclusion
	for rows.Next() {
		var c domain.Conclusion
		var sent *time.Time
		if err := rows.Scan(&c.EventID, &c.ID, &c.Title, &c.Body, &c.CreatedBy, &c.CreatedAt, &sent, &c.SentBy, &c.LinkToken); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan conclusion: %w", err)
		}
		c.CreatedAt = c.CreatedAt.UTC()
		if sent != nil {
			c.SentAt = sent.UTC()
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		fu, err := queryTasks(ctx, q.DB, taskSelect+` WHERE event_id = $1 AND conclusion = $2 AND kind = 'followup' ORDER BY deadline, id`,
			eventID, out[i].ID)
		if err != nil {
			return nil, err
		}
		out[i].FollowUps = fu
	}
	return out, nil
}

// ConclusionByToken returns the sent notice whose text-version link carries
// token (compared again in constant time after the indexed look-up).
func (q *Queries) ConclusionByToken(ctx context.Context, token string) (domain.Conclusion, error) {
	if len(token) < 32 || len(token) > 64 {
		return domain.Conclusion{}, ErrNoRows
	}
	var eventID, id, stored string
	if err := q.DB.QueryRow(ctx, `SELECT event_id, id, link_token FROM conclusions WHERE link_token = $1 AND sent_at IS NOT NULL`, token).
		Scan(&eventID, &id, &stored); err != nil {
		return domain.Conclusion{}, err
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(token)) != 1 {
		return domain.Conclusion{}, ErrNoRows
	}
	return q.Conclusion(ctx, eventID, id)
}

// Conclusion returns one conclusion notice.
func (q *Queries) Conclusion(ctx context.Context, eventID, id string) (domain.Conclusion, error) {
	all, err := q.Conclusions(ctx, eventID)
	if err != nil {
		return domain.Conclusion{}, err
	}
	for _, c := range all {
		if c.ID == id {
			return c, nil
		}
	}
	return domain.Conclusion{}, ErrNoRows
}

// MarkConclusionSent records that the notice was sent; it reports false when
// it had been already (a second press sends nothing).
// token is the secret of the link to its text version.
func (q *Queries) MarkConclusionSent(ctx context.Context, eventID, id, by, token string, at time.Time) (bool, error) {
	n, err := q.DB.Exec(ctx, `UPDATE conclusions SET sent_at = $3, sent_by = $4, link_token = $5
		WHERE event_id = $1 AND id = $2 AND sent_at IS NULL`,
		eventID, id, at.UTC(), by, token)
	if err != nil {
		return false, fmt.Errorf("mark conclusion sent: %w", err)
	}
	return n > 0, nil
}
