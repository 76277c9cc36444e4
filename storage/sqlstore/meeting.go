package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
)

// The meeting itself (issue 15): documents, questions and speaking requests,
// votes. Every query takes the event's ID.

// JobMeetingDocs is the scheduler job that delivers documents; its outbox
// keys are "meeting_documents|doc<id>|<person>", counted as received.
const JobMeetingDocs = "meeting_documents"

const docCols = `id, event_id, agenda_no, title, file_name, mime, sha256, size, internal, created_by, created_at`

func scanDoc(r interface{ Scan(...any) error }) (domain.MeetingDoc, error) {
	var d domain.MeetingDoc
	var at int64
	err := r.Scan(&d.ID, &d.EventID, &d.AgendaNo, &d.Title, &d.FileName, &d.MIME, &d.SHA256, &d.Size, &d.Internal, &d.CreatedBy, &at)
	d.CreatedAt = fromMS(at)
	return d, err
}

// AddMeetingDoc stores a document's record and returns its id.
func (q *Queries) AddMeetingDoc(ctx context.Context, d domain.MeetingDoc) (int64, error) {
	var id int64
	err := q.DB.QueryRow(ctx, `INSERT INTO meeting_documents (event_id, agenda_no, title, file_name, mime, sha256, size, internal, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		d.EventID, d.AgendaNo, d.Title, d.FileName, d.MIME, d.SHA256, d.Size, d.Internal, d.CreatedBy, ms(d.CreatedAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("add meeting document: %w", err)
	}
	return id, nil
}

// MeetingDocs returns an event's documents by agenda item, internal ones
// only when withInternal.
func (q *Queries) MeetingDocs(ctx context.Context, eventID string, withInternal bool) ([]domain.MeetingDoc, error) {
	rows, err := q.DB.Query(ctx, `SELECT `+docCols+` FROM meeting_documents WHERE event_id = $1 AND (internal = $2 OR $3)
		ORDER BY agenda_no, id`, eventID, false, withInternal)
	if err != nil {
		return nil, fmt.Errorf("meeting documents: %w", err)
	}
	defer rows.Close()
	var out []domain.MeetingDoc
	for rows.Next() {
		d, err := scanDoc(rows)
		if err != nil {
			return nil, fmt.Errorf("scan meeting document: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// MeetingDoc returns one document of an event.
func (q *Queries) MeetingDoc(ctx context.Context, eventID string, id int64) (domain.MeetingDoc, error) {
	d, err := scanDoc(q.DB.QueryRow(ctx, `SELECT `+docCols+` FROM meeting_documents WHERE event_id = $1 AND id = $2`, eventID, id))
	if err != nil {
		return d, fmt.Errorf("meeting document %d: %w", id, err)
	}
	return d, nil
}

// DeleteMeetingDoc removes a document (attached by mistake); what was
// already sent stays sent.
func (q *Queries) DeleteMeetingDoc(ctx context.Context, eventID string, id int64) error {
	if _, err := q.DB.Exec(ctx, `DELETE FROM meeting_documents WHERE event_id = $1 AND id = $2`, eventID, id); err != nil {
		return fmt.Errorf("delete meeting document: %w", err)
	}
	return nil
}

// MarkDocReceived records that person received document id in chat.
func (q *Queries) MarkDocReceived(ctx context.Context, eventID string, id int64, personID string, at time.Time) error {
	if _, err := q.DB.Exec(ctx, `INSERT INTO meeting_document_reads (event_id, document_id, person_id, received_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (document_id, person_id) DO UPDATE SET received_at = CASE WHEN meeting_document_reads.received_at = 0
			THEN excluded.received_at ELSE meeting_document_reads.received_at END`,
		eventID, id, personID, ms(at)); err != nil {
		return fmt.Errorf("record document received: %w", err)
	}
	return nil
}

// MarkDocOpened counts one opening of document id's web link by person.
func (q *Queries) MarkDocOpened(ctx context.Context, eventID string, id int64, personID string, at time.Time) error {
	if _, err := q.DB.Exec(ctx, `INSERT INTO meeting_document_reads (event_id, document_id, person_id, opened_at, opens) VALUES ($1, $2, $3, $4, 1)
		ON CONFLICT (document_id, person_id) DO UPDATE SET opens = meeting_document_reads.opens + 1,
			opened_at = CASE WHEN meeting_document_reads.opened_at = 0 THEN excluded.opened_at ELSE meeting_document_reads.opened_at END`,
		eventID, id, personID, ms(at)); err != nil {
		return fmt.Errorf("record document opened: %w", err)
	}
	return nil
}

// DocStats is how many people received a document (in chat: the scheduled
// delivery sent, or /tailieu) and how many opened its web link.
type DocStats struct {
	Received, Opened, Opens int
}

// MeetingDocStats returns the figures of an event's documents by id.
func (q *Queries) MeetingDocStats(ctx context.Context, eventID string) (map[int64]DocStats, error) {
	received := map[int64]map[string]bool{}
	add := func(id int64, person string) {
		if received[id] == nil {
			received[id] = map[string]bool{}
		}
		received[id][person] = true
	}
	out := map[int64]DocStats{}
	rows, err := q.DB.Query(ctx, `SELECT document_id, person_id, received_at, opened_at, opens FROM meeting_document_reads WHERE event_id = $1`, eventID)
	if err != nil {
		return nil, fmt.Errorf("document figures: %w", err)
	}
	for rows.Next() {
		var id, rec, op int64
		var person string
		var opens int
		if err := rows.Scan(&id, &person, &rec, &op, &opens); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan document figures: %w", err)
		}
		if rec > 0 {
			add(id, person)
		}
		s := out[id]
		if op > 0 {
			s.Opened++
			s.Opens += opens
		}
		out[id] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("document figures: %w", err)
	}
	// The scheduled deliveries count once sent (the outbox row's key names
	// the event, the document and the person).
	// Another event's scheduler names the job after the event
	// (scheduler.Config.EventKey, the event's id).
	scoped := eventID + "/" + JobMeetingDocs
	rows, err = q.DB.Query(ctx, `SELECT key FROM outbox WHERE (job = $1 OR job = $2) AND status = $3`, JobMeetingDocs, scoped, OutboxSent)
	if err != nil {
		return nil, fmt.Errorf("document deliveries: %w", err)
	}
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan document deliveries: %w", err)
		}
		_, rest, _ := strings.Cut(key, "|")
		rest, ok := strings.CutPrefix(rest, eventID+".doc")
		if !ok {
			continue
		}
		idText, person, ok := strings.Cut(rest, "|")
		if id, err := strconv.ParseInt(idText, 10, 64); ok && err == nil {
			add(id, person)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("document deliveries: %w", err)
	}
	for id, people := range received {
		s := out[id]
		s.Received = len(people)
		out[id] = s
	}
	return out, nil
}

// --- questions and speaking requests -------------------------------------------

const questionCols = `id, event_id, person_id, kind, agenda_no, document_id, body, anonymous, status, merged_into, answer, rank, created_at, done_at, done_by`

func scanQuestion(r interface{ Scan(...any) error }) (domain.Question, error) {
	var x domain.Question
	var at, done int64
	err := r.Scan(&x.ID, &x.EventID, &x.PersonID, &x.Kind, &x.AgendaNo, &x.DocumentID, &x.Body, &x.Anonymous, &x.Status,
		&x.MergedInto, &x.Answer, &x.Rank, &at, &done, &x.DoneBy)
	x.CreatedAt, x.DoneAt = fromMS(at), fromMS(done)
	return x, err
}

func applyQuestion(ctx context.Context, db DB, at time.Time, e domain.AskQuestion) error {
	x := e.Question
	if x.Kind != domain.QuestionAsk && x.Kind != domain.QuestionSpeak {
		return fmt.Errorf("save question: bad kind %q", x.Kind)
	}
	// Newest first: the rank is the arrival time, and staff moving an item
	// swap ranks.
	return execLater(ctx, db, "save question", `INSERT INTO meeting_questions (event_id, person_id, kind, agenda_no, document_id, body, anonymous, rank, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
		x.EventID, x.PersonID, x.Kind, x.AgendaNo, x.DocumentID, x.Body, x.Anonymous, ms(at))
}

// MeetingQuestions returns an event's questions and speaking requests, the
// queue's order (rank, newest first).
func (q *Queries) MeetingQuestions(ctx context.Context, eventID string) ([]domain.Question, error) {
	rows, err := q.DB.Query(ctx, `SELECT `+questionCols+` FROM meeting_questions WHERE event_id = $1 ORDER BY rank DESC, id DESC`, eventID)
	if err != nil {
		return nil, fmt.Errorf("questions: %w", err)
	}
	defer rows.Close()
	var out []domain.Question
	for rows.Next() {
		x, err := scanQuestion(rows)
		if err != nil {
			return nil, fmt.Errorf("scan question: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// MeetingQuestion returns one.
func (q *Queries) MeetingQuestion(ctx context.Context, eventID string, id int64) (domain.Question, error) {
	x, err := scanQuestion(q.DB.QueryRow(ctx, `SELECT `+questionCols+` FROM meeting_questions WHERE event_id = $1 AND id = $2`, eventID, id))
	if err != nil {
		return x, fmt.Errorf("question %d: %w", id, err)
	}
	return x, nil
}

// QuestionsSince counts what person sent since since (the per-person rate).
func (q *Queries) QuestionsSince(ctx context.Context, personID string, since time.Time) (int, error) {
	var n int
	if err := q.DB.QueryRow(ctx, `SELECT COUNT(*) FROM meeting_questions WHERE person_id = $1 AND created_at >= $2`, personID, ms(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count questions: %w", err)
	}
	return n, nil
}

// ErrQuestionDone is returned when a question was already answered or
// merged: the delegate was told once.
var ErrQuestionDone = errors.New("question already done")

// FinishQuestion marks an open (or called) item status ("called",
// "answered") with staff's answer, and returns it as it is now.
func (q *Queries) FinishQuestion(ctx context.Context, eventID string, id int64, status, answer, by string, at time.Time) (domain.Question, error) {
	from := []any{domain.QuestionOpen, domain.QuestionOpen}
	if status == domain.QuestionAnswered {
		from = []any{domain.QuestionOpen, domain.QuestionCalled}
	}
	n, err := q.DB.Exec(ctx, `UPDATE meeting_questions SET status = $1, answer = $2, done_by = $3, done_at = $4
		WHERE event_id = $5 AND id = $6 AND status IN ($7, $8)`, status, answer, by, ms(at), eventID, id, from[0], from[1])
	if err != nil {
		return domain.Question{}, fmt.Errorf("finish question: %w", err)
	}
	if n == 0 {
		return domain.Question{}, ErrQuestionDone
	}
	return q.MeetingQuestion(ctx, eventID, id)
}

// MergeQuestion folds a duplicate into another item of the same event.
func (q *Queries) MergeQuestion(ctx context.Context, eventID string, id, into int64, by string, at time.Time) error {
	if id == into {
		return ErrQuestionDone
	}
	if _, err := q.MeetingQuestion(ctx, eventID, into); err != nil {
		return err
	}
	n, err := q.DB.Exec(ctx, `UPDATE meeting_questions SET status = $1, merged_into = $2, done_by = $3, done_at = $4
		WHERE event_id = $5 AND id = $6 AND status = $7`, domain.QuestionMerged, into, by, ms(at), eventID, id, domain.QuestionOpen)
	if err != nil {
		return fmt.Errorf("merge question: %w", err)
	}
	if n == 0 {
		return ErrQuestionDone
	}
	return nil
}

// MoveQuestion swaps an item's place in the queue with its neighbour among
// the open ones (up: towards the top).
func (q *Queries) MoveQuestion(ctx context.Context, eventID string, id int64, up bool) error {
	return q.Tx(ctx, func(db DB) error {
		var rank int64
		if err := db.QueryRow(ctx, `SELECT rank FROM meeting_questions WHERE event_id = $1 AND id = $2`, eventID, id).Scan(&rank); err != nil {
			return fmt.Errorf("move question: %w", err)
		}
		cmp, order := ">", "ASC"
		if !up {
			cmp, order = "<", "DESC"
		}
		var other, otherRank int64
		err := db.QueryRow(ctx, `SELECT id, rank FROM meeting_questions WHERE event_id = $1 AND status IN ($2, $3) AND rank `+cmp+` $4
			ORDER BY rank `+order+` LIMIT 1`, eventID, domain.QuestionOpen, domain.QuestionCalled, rank).Scan(&other, &otherRank)
		if errors.Is(err, ErrNoRows) {
			return nil // already first (or last)
		}
		if err != nil {
			return fmt.Errorf("move question: %w", err)
		}
		if _, err := db.Exec(ctx, `UPDATE meeting_questions SET rank = $1 WHERE id = $2`, otherRank, id); err != nil {
			return fmt.Errorf("move question: %w", err)
		}
		if _, err := db.Exec(ctx, `UPDATE meeting_questions SET rank = $1 WHERE id = $2`, rank, other); err != nil {
			return fmt.Errorf("move question: %w", err)
		}
		return nil
	})
}

// AllowAnonymous says whether staff let delegates ask without their name.
func (q *Queries) AllowAnonymous(ctx context.Context, eventID string) (bool, error) {
	var ok bool
	err := q.DB.QueryRow(ctx, `SELECT allow_anonymous FROM meeting_settings WHERE event_id = $1`, eventID).Scan(&ok)
	if errors.Is(err, ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("meeting settings: %w", err)
	}
	return ok, nil
}

// SetAllowAnonymous turns anonymous questions on or off.
func (q *Queries) SetAllowAnonymous(ctx context.Context, eventID string, on bool) error {
	if _, err := q.DB.Exec(ctx, `INSERT INTO meeting_settings (event_id, allow_anonymous) VALUES ($1, $2)
		ON CONFLICT (event_id) DO UPDATE SET allow_anonymous = excluded.allow_anonymous`, eventID, on); err != nil {
		return fmt.Errorf("meeting settings: %w", err)
	}
	return nil
}

// --- votes ---------------------------------------------------------------------

const voteCols = `id, event_id, question, kind, options, status, created_by, opened_at, closed_at`

func scanVote(r interface{ Scan(...any) error }) (domain.Vote, error) {
	var v domain.Vote
	var opts string
	var op, cl int64
	err := r.Scan(&v.ID, &v.EventID, &v.Question, &v.Kind, &opts, &v.Status, &v.CreatedBy, &op, &cl)
	v.Options, v.OpenedAt, v.ClosedAt = domain.SplitOptions(opts), fromMS(op), fromMS(cl)
	return v, err
}

// OpenVote stores a new open vote and returns its id.
func (q *Queries) OpenVote(ctx context.Context, v domain.Vote) (int64, error) {
	var id int64
	err := q.DB.QueryRow(ctx, `INSERT INTO meeting_votes (event_id, question, kind, options, status, created_by, opened_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		v.EventID, v.Question, v.Kind, strings.Join(v.Options, "\n"), domain.VoteOpen, v.CreatedBy, ms(v.OpenedAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("open vote: %w", err)
	}
	return id, nil
}

// CloseVote closes a vote: later answers are refused.
func (q *Queries) CloseVote(ctx context.Context, eventID string, id int64, at time.Time) error {
	if _, err := q.DB.Exec(ctx, `UPDATE meeting_votes SET status = $1, closed_at = $2 WHERE event_id = $3 AND id = $4 AND status = $5`,
		domain.VoteClosed, ms(at), eventID, id, domain.VoteOpen); err != nil {
		return fmt.Errorf("close vote: %w", err)
	}
	return nil
}

// Votes returns an event's votes, newest first.
func (q *Queries) Votes(ctx context.Context, eventID string) ([]domain.Vote, error) {
	rows, err := q.DB.Query(ctx, `SELECT `+voteCols+` FROM meeting_votes WHERE event_id = $1 ORDER BY id DESC`, eventID)
	if err != nil {
		return nil, fmt.Errorf("votes: %w", err)
	}
	defer rows.Close()
	var out []domain.Vote
	for rows.Next() {
		v, err := scanVote(rows)
		if err != nil {
			return nil, fmt.Errorf("scan vote: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Vote returns one vote of an event.
func (q *Queries) Vote(ctx context.Context, eventID string, id int64) (domain.Vote, error) {
	v, err := scanVote(q.DB.QueryRow(ctx, `SELECT `+voteCols+` FROM meeting_votes WHERE event_id = $1 AND id = $2`, eventID, id))
	if err != nil {
		return v, fmt.Errorf("vote %d: %w", id, err)
	}
	return v, nil
}

// VoteAnswer is one person's answer.
type VoteAnswer struct {
	PersonID string
	Choice   int
	At       time.Time
	Changes  int
}

// VoteAnswers returns a vote's answers.
func (q *Queries) VoteAnswers(ctx context.Context, voteID int64) ([]VoteAnswer, error) {
	rows, err := q.DB.Query(ctx, `SELECT person_id, choice, at, changes FROM meeting_vote_answers WHERE vote_id = $1 ORDER BY at, person_id`, voteID)
	if err != nil {
		return nil, fmt.Errorf("vote answers: %w", err)
	}
	defer rows.Close()
	var out []VoteAnswer
	for rows.Next() {
		var a VoteAnswer
		var at int64
		if err := rows.Scan(&a.PersonID, &a.Choice, &at, &a.Changes); err != nil {
			return nil, fmt.Errorf("scan vote answer: %w", err)
		}
		a.At = fromMS(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// MyVote returns person's current choice in a vote, 0 when none.
func (q *Queries) MyVote(ctx context.Context, voteID int64, personID string) (int, error) {
	var c int
	err := q.DB.QueryRow(ctx, `SELECT choice FROM meeting_vote_answers WHERE vote_id = $1 AND person_id = $2`, voteID, personID).Scan(&c)
	if errors.Is(err, ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("vote answer: %w", err)
	}
	return c, nil
}

func applyVote(ctx context.Context, db DB, at time.Time, e domain.CastVote) error {
	// Touching the vote's row first takes its lock on PostgreSQL: a close
	// committed meanwhile is seen, and the answer is refused as stale
	// (SQLite has one writer at a time).
	n, err := db.Exec(ctx, `UPDATE meeting_votes SET status = status WHERE id = $1 AND event_id = $2 AND status = $3`, e.VoteID, e.EventID, domain.VoteOpen)
	if err != nil {
		return fmt.Errorf("save vote answer: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("vote %d is closed: %w", e.VoteID, storage.ErrConflict)
	}
	return execLater(ctx, db, "save vote answer", `INSERT INTO meeting_vote_answers (vote_id, event_id, person_id, choice, at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (vote_id, person_id) DO UPDATE SET choice = excluded.choice, at = excluded.at,
			changes = meeting_vote_answers.changes + CASE WHEN meeting_vote_answers.choice = excluded.choice THEN 0 ELSE 1 END`,
		e.VoteID, e.EventID, e.PersonID, e.Choice, ms(at))
}

// CheckedIn reports whether person checked in to the store's event (votes
// go to them).
func (q *Queries) CheckedIn(ctx context.Context, eventID, personID string) (bool, error) {
	if eventID == "" {
		eventID = q.EventID
	}
	var n int
	if err := q.DB.QueryRow(ctx, `SELECT COUNT(*) FROM checkins WHERE person_id = $1 AND event_id = $2`, personID, eventID).Scan(&n); err != nil {
		return false, fmt.Errorf("check-in: %w", err)
	}
	return n > 0, nil
}
