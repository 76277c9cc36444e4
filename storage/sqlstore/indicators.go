package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
)

// SyncCatalog upserts the indicator catalog and replaces the assignments with
// the config's, in one transaction. Submissions are never touched.
func (q *Queries) SyncCatalog(ctx context.Context, indicators []domain.Indicator, assignments []domain.Assignment) error {
	return q.Tx(ctx, func(db DB) error {
		if err := upsertIndicators(ctx, db, indicators); err != nil {
			return err
		}
		if _, err := db.Exec(ctx, `DELETE FROM assignments`); err != nil {
			return fmt.Errorf("clear assignments: %w", err)
		}
		for _, a := range assignments {
			if _, err := db.Exec(ctx, `INSERT INTO assignments (indicator_code, agency_code, focal_ids, deadline) VALUES ($1, $2, $3, $4)`,
				a.Indicator, a.Agency, strings.Join(a.Focal, ";"), a.Deadline.UTC()); err != nil {
				return fmt.Errorf("insert assignment %s/%s: %w", a.Indicator, a.Agency, err)
			}
		}
		return nil
	})
}

// upsertIndicators adds or updates the catalog's indicators; none is
// removed (submissions and other campaigns refer to them).
func upsertIndicators(ctx context.Context, db DB, indicators []domain.Indicator) error {
	{
		for i, ind := range indicators {
			if _, err := db.Exec(ctx, `INSERT INTO indicators (code, pillar, name_vi, name_en, guidance_vi, guidance_en, unit, value_type,
					min_value, max_value, ref_year, evidence_required, agency_code, last_year, list_order,
					change_limit, soft_min, soft_max, numerator, denominator)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
				ON CONFLICT (code) DO UPDATE SET pillar = excluded.pillar, name_vi = excluded.name_vi, name_en = excluded.name_en,
					guidance_vi = excluded.guidance_vi, guidance_en = excluded.guidance_en, unit = excluded.unit,
					value_type = excluded.value_type, min_value = excluded.min_value, max_value = excluded.max_value,
					ref_year = excluded.ref_year, evidence_required = excluded.evidence_required,
					agency_code = excluded.agency_code, last_year = excluded.last_year, list_order = excluded.list_order,
					change_limit = excluded.change_limit, soft_min = excluded.soft_min, soft_max = excluded.soft_max,
					numerator = excluded.numerator, denominator = excluded.denominator`,
				ind.Code, ind.Pillar, ind.NameVI, ind.NameEN, ind.GuidanceVI, ind.GuidanceEN, ind.Unit, string(ind.Type),
				ind.Min, ind.Max, ind.RefYear, ind.Evidence, ind.Agency, ind.LastYear, i,
				ind.ChangeLimit, ind.SoftMin, ind.SoftMax, ind.Numerator, ind.Denominator); err != nil {
				return fmt.Errorf("upsert indicator %s: %w", ind.Code, err)
			}
		}
		return nil
	}
}

const submissionSelect = `SELECT indicator_code, agency_code, status, value, note, doc_number, doc_date, evidence, by_person,
	updated_at, submitted_at, review_note, reviewed_by, reviewed_at, version FROM submissions`

// Submissions returns the stored submissions of one agency, or of every
// agency when agency is "".
func (q *Queries) Submissions(ctx context.Context, agency string) ([]domain.Submission, error) {
	query, args := submissionSelect+` WHERE campaign_id = $1 ORDER BY agency_code, indicator_code`, []any{q.CampaignID}
	if agency != "" {
		query, args = submissionSelect+` WHERE campaign_id = $1 AND agency_code = $2 ORDER BY indicator_code`, []any{q.CampaignID, agency}
	}
	return querySubmissions(ctx, q.DB, query, args...)
}

// ReviewQueue returns the submissions waiting for review, oldest first.
func (q *Queries) ReviewQueue(ctx context.Context) ([]domain.Submission, error) {
	return querySubmissions(ctx, q.DB, submissionSelect+` WHERE campaign_id = $1 AND status = 'submitted' ORDER BY submitted_at, indicator_code, agency_code`, q.CampaignID)
}

// Submission returns one stored submission.
func (q *Queries) Submission(ctx context.Context, indicator, agency string) (domain.Submission, error) {
	return getSubmission(ctx, q.DB, q.CampaignID, indicator, agency)
}

func getSubmission(ctx context.Context, db DB, campaign, indicator, agency string) (domain.Submission, error) {
	list, err := querySubmissions(ctx, db, submissionSelect+` WHERE campaign_id = $3 AND indicator_code = $1 AND agency_code = $2`, indicator, agency, campaign)
	if err != nil {
		return domain.Submission{}, err
	}
	if len(list) == 0 {
		return domain.Submission{}, ErrNoRows
	}
	return list[0], nil
}

func querySubmissions(ctx context.Context, db DB, query string, args ...any) ([]domain.Submission, error) {
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list submissions: %w", err)
	}
	defer rows.Close()
	var out []domain.Submission
	for rows.Next() {
		var s domain.Submission
		var status, docDate, evidence string
		var submitted, reviewed *time.Time
		if err := rows.Scan(&s.Indicator, &s.Agency, &status, &s.Value, &s.Note, &s.DocNumber, &docDate, &evidence, &s.By,
			&s.At, &submitted, &s.ReviewNote, &s.ReviewedBy, &reviewed, &s.Version); err != nil {
			return nil, fmt.Errorf("scan submission: %w", err)
		}
		s.Status = domain.SubmissionStatus(status)
		s.At = s.At.UTC()
		if submitted != nil {
			s.SubmittedAt = submitted.UTC()
		}
		if reviewed != nil {
			s.ReviewedAt = reviewed.UTC()
		}
		if docDate != "" {
			if d, err := time.Parse("2006-01-02", docDate); err == nil {
				s.DocDate = d
			}
		}
		if err := json.Unmarshal([]byte(evidence), &s.Evidence); err != nil {
			return nil, fmt.Errorf("read evidence of %s/%s: %w", s.Indicator, s.Agency, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// SubmissionHistory returns every change of one submission, oldest first.
func (q *Queries) SubmissionHistory(ctx context.Context, indicator, agency string) ([]domain.SubmissionChange, error) {
	rows, err := q.DB.Query(ctx, `SELECT indicator_code, agency_code, by_person, at, action, old_value, new_value, evidence, comment
		FROM submission_history WHERE campaign_id = $3 AND indicator_code = $1 AND agency_code = $2 ORDER BY id`, indicator, agency, q.CampaignID)
	if err != nil {
		return nil, fmt.Errorf("submission history: %w", err)
	}
	return scanHistory(rows)
}

// scanHistory reads submission_history rows (the columns SubmissionHistory
// selects).
func scanHistory(rows Rows) ([]domain.SubmissionChange, error) {
	defer rows.Close()
	var out []domain.SubmissionChange
	for rows.Next() {
		var c domain.SubmissionChange
		var ev string
		if err := rows.Scan(&c.Indicator, &c.Agency, &c.By, &c.At, &c.Action, &c.OldValue, &c.NewValue, &ev, &c.Comment); err != nil {
			return nil, fmt.Errorf("scan history: %w", err)
		}
		var list []domain.Evidence
		_ = json.Unmarshal([]byte(ev), &list)
		c.Evidence = len(list)
		c.At = c.At.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// errStale marks an effect that no longer applies because someone changed
// the item since the user saw it.
var errStale = fmt.Errorf("submission: %w", storage.ErrConflict)

func applySubmission(ctx context.Context, db DB, at time.Time, e domain.SaveSubmission, campaign string) error {
	s := e.Submission
	if e.Action != "draft" && e.Action != "submit" {
		return fmt.Errorf("save submission: unknown action %q", e.Action)
	}
	cur, err := getSubmission(ctx, db, campaign, s.Indicator, s.Agency)
	switch {
	case errors.Is(err, ErrNoRows):
		cur = domain.Submission{}
	case err != nil:
		return err
	}
	if cur.Version != e.ExpectVersion || cur.Status == domain.StatusApproved {
		return errStale
	}
	status := domain.StatusDraft
	var submitted any
	if e.Action == "submit" {
		status, submitted = domain.StatusSubmitted, at.UTC()
	} else if !cur.SubmittedAt.IsZero() {
		submitted = cur.SubmittedAt
	}
	if cur.Status == domain.StatusReturned && e.Action == "draft" {
		status = domain.StatusReturned // fixing a returned item keeps it visibly returned until resent
	}
	ev, err := json.Marshal(evidenceOrEmpty(s.Evidence))
	if err != nil {
		return fmt.Errorf("encode evidence: %w", err)
	}
	docDate := ""
	if !s.DocDate.IsZero() {
		docDate = s.DocDate.Format("2006-01-02")
	}
	// The version is checked again by the write itself: two transactions
	// that both read version n (PostgreSQL, read committed) cannot both
	// write; the second finds no row to change and is stale.
	var n int64
	if cur.Version == 0 {
		n, err = db.Exec(ctx, `INSERT INTO submissions (indicator_code, agency_code, status, value, note, doc_number, doc_date, evidence,
				by_person, updated_at, submitted_at, version, campaign_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12)
			ON CONFLICT (campaign_id, indicator_code, agency_code) DO NOTHING`,
			s.Indicator, s.Agency, string(status), s.Value, s.Note, s.DocNumber, docDate, string(ev), s.By, at.UTC(), submitted, campaign)
	} else {
		n, err = db.Exec(ctx, `UPDATE submissions SET status = $3, value = $4, note = $5, doc_number = $6, doc_date = $7, evidence = $8,
				by_person = $9, updated_at = $10, submitted_at = $11, version = version + 1
			WHERE indicator_code = $1 AND agency_code = $2 AND version = $12 AND status <> 'approved' AND campaign_id = $13`,
			s.Indicator, s.Agency, string(status), s.Value, s.Note, s.DocNumber, docDate, string(ev), s.By, at.UTC(), submitted, cur.Version, campaign)
	}
	if err != nil {
		return fmt.Errorf("save submission: %w", err)
	}
	if n == 0 {
		return errStale
	}
	return addHistory(ctx, db, at, domain.SubmissionChange{Indicator: s.Indicator, Agency: s.Agency, By: s.By, Action: e.Action,
		OldValue: cur.Value, NewValue: s.Value}, string(ev), campaign)
}

func applyReview(ctx context.Context, db DB, at time.Time, e domain.ReviewSubmission, campaign string) error {
	cur, err := getSubmission(ctx, db, campaign, e.Indicator, e.Agency)
	if errors.Is(err, ErrNoRows) {
		return errStale
	}
	if err != nil {
		return err
	}
	if cur.Version != e.ExpectVersion || cur.Status != domain.StatusSubmitted {
		return errStale
	}
	status, action := domain.StatusApproved, "approve"
	if !e.Approve {
		status, action = domain.StatusReturned, "return"
	}
	n, err := db.Exec(ctx, `UPDATE submissions SET status = $3, review_note = $4, reviewed_by = $5, reviewed_at = $6, version = version + 1
		WHERE indicator_code = $1 AND agency_code = $2 AND version = $7 AND status = 'submitted' AND campaign_id = $8`,
		e.Indicator, e.Agency, string(status), e.Comment, e.By, at.UTC(), cur.Version, campaign)
	if err != nil {
		return fmt.Errorf("review: %w", err)
	}
	if n == 0 {
		return errStale
	}
	ev, _ := json.Marshal(evidenceOrEmpty(cur.Evidence))
	return addHistory(ctx, db, at, domain.SubmissionChange{Indicator: e.Indicator, Agency: e.Agency, By: e.By, Action: action,
		OldValue: cur.Value, NewValue: cur.Value, Comment: e.Comment}, string(ev), campaign)
}

func addHistory(ctx context.Context, db DB, at time.Time, c domain.SubmissionChange, evidence, campaign string) error {
	return execLater(ctx, db, "record history", `INSERT INTO submission_history (indicator_code, agency_code, by_person, at, action, old_value, new_value, evidence, comment, campaign_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.Indicator, c.Agency, c.By, at.UTC(), c.Action, c.OldValue, c.NewValue, evidence, c.Comment, campaign)
}

func evidenceOrEmpty(e []domain.Evidence) []domain.Evidence {
	if e == nil {
		return []domain.Evidence{}
	}
	return e
}
