package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
)

// ErrCampaignTaken is returned when a new campaign's id is already a
// campaign's.
var ErrCampaignTaken = errors.New("the campaign id is already used by another campaign")

// assignmentData is one of a campaign's own assignments in its data
// column.
type assignmentData struct {
	Indicator string    `json:"indicator"`
	Agency    string    `json:"agency"`
	Focal     []string  `json:"focal,omitempty"`
	Deadline  time.Time `json:"deadline"`
}

// encodeAssignments keeps nil (the files' assignments) apart from an
// empty list (a campaign of its own with none).
func encodeAssignments(as []domain.Assignment) []assignmentData {
	if as == nil {
		return nil
	}
	out := make([]assignmentData, 0, len(as))
	for _, a := range as {
		out = append(out, assignmentData{Indicator: a.Indicator, Agency: a.Agency, Focal: a.Focal, Deadline: a.Deadline.UTC()})
	}
	return out
}

func decodeAssignments(as []assignmentData) []domain.Assignment {
	if as == nil {
		return nil
	}
	out := make([]domain.Assignment, 0, len(as))
	for _, a := range as {
		out = append(out, domain.Assignment{Indicator: a.Indicator, Agency: a.Agency, Focal: a.Focal, Deadline: a.Deadline.UTC()})
	}
	return out
}

// ForCampaign returns the campaign queries (submissions, review queue,
// history) about campaign id instead of the store's current one: what the
// console shows when staff choose another campaign. It shares the store's
// connections.
func (q *Queries) ForCampaign(id string) storage.CampaignStore {
	c := *q
	c.CampaignID = id
	return &c
}

// CreateCampaign stores a new campaign made in the console (or cloned):
// an id already used is refused with ErrCampaignTaken, and a previous
// campaign must exist. The audit entry names the staff member.
func (q *Queries) CreateCampaign(ctx context.Context, c domain.CampaignRecord, by string, at time.Time) error {
	return q.Tx(ctx, func(db DB) error {
		var n int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM campaigns WHERE id = $1`, c.ID).Scan(&n); err != nil {
			return fmt.Errorf("check campaign id: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("%w: %s", ErrCampaignTaken, c.ID)
		}
		if c.PreviousID != "" {
			if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM campaigns WHERE id = $1`, c.PreviousID).Scan(&n); err != nil {
				return fmt.Errorf("check previous campaign: %w", err)
			}
			if n == 0 {
				return fmt.Errorf("create campaign: previous campaign %s: %w", c.PreviousID, ErrNoRows)
			}
		}
		c.SourceHash = ""
		if _, err := importCampaign(ctx, db, c, at); err != nil {
			return err
		}
		return insertAudit(ctx, db, at, by, "campaign.create", "campaign:"+c.ID+" "+c.NameVI, "console")
	})
}

// CampaignHistory returns every change of every submission of a campaign,
// oldest first (the archive of a finished campaign).
func (q *Queries) CampaignHistory(ctx context.Context, campaignID string) ([]domain.SubmissionChange, error) {
	rows, err := q.DB.Query(ctx, `SELECT indicator_code, agency_code, by_person, at, action, old_value, new_value, evidence, comment
		FROM submission_history WHERE campaign_id = $1 ORDER BY id`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", campaignID, err)
	}
	return scanHistory(rows)
}

// Bundle is one import of configuration files: the people and agencies,
// the indicator catalog, and the campaigns and events, written together.
type Bundle struct {
	Agencies []domain.Agency
	People   []domain.Person
	// Indicators are added or updated (none removed); nil leaves the
	// catalog as it is.
	Indicators []domain.Indicator
	Campaigns  []domain.CampaignRecord
	Events     []domain.EventRecord
}

// ImportBundle writes b in one transaction: a failure part-way (an event
// code another event took meanwhile, a broken row, a lost connection)
// leaves nothing of it. changed names the events and campaigns that
// changed ("event:ID", "campaign:ID"); one whose files did not change
// since the last import is left as it is.
func (q *Queries) ImportBundle(ctx context.Context, b Bundle, at time.Time) (changed map[string]bool, err error) {
	err = q.Tx(ctx, func(db DB) error {
		changed = map[string]bool{}
		if len(b.Agencies) > 0 || len(b.People) > 0 {
			if err := syncDirectory(ctx, db, b.Agencies, b.People); err != nil {
				return err
			}
		}
		if b.Indicators != nil {
			if err := upsertIndicators(ctx, db, b.Indicators); err != nil {
				return err
			}
		}
		for _, c := range b.Campaigns {
			ch, err := importCampaign(ctx, db, c, at)
			if err != nil {
				return fmt.Errorf("import campaign %s: %w", c.ID, err)
			}
			changed["campaign:"+c.ID] = ch
		}
		for _, r := range b.Events {
			ch, err := importEvent(ctx, db, r, at)
			if err != nil {
				return fmt.Errorf("import event %s: %w", r.Event.ID, err)
			}
			changed["event:"+r.Event.ID] = ch
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}
