package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// ErrCodeTaken is returned when an event's code is already another event's.
var ErrCodeTaken = errors.New("the event code is already used by another event")

// eventJobList is the scheduler's jobs about one event (scheduler's
// eventJobs), as an SQL list.
const eventJobList = `'agenda_day_before', 'agenda_morning', 'speaker', 'agenda_change', 'rsvp_chaser', 'staff_summary'`

// ImportEvent creates or replaces the event r.Event.ID. An import whose
// SourceHash equals the stored one changes nothing (changed=false), so
// loading the same files at every start is harmless and edits made since in
// the console stay. The first event ever stored adopts the answers and
// check-ins made before events were records (an empty event_id), in the same
// transaction. Invitees are replaced; answers, check-ins and history are
// never removed.
func (q *Queries) ImportEvent(ctx context.Context, r domain.EventRecord, at time.Time) (changed bool, err error) {
	err = q.Tx(ctx, func(db DB) error {
		var err error
		changed, err = importEvent(ctx, db, r, at)
		return err
	})
	return changed, err
}

func importEvent(ctx context.Context, db DB, r domain.EventRecord, at time.Time) (changed bool, err error) {
	if r.Event.ID == "" || r.Code == "" {
		return false, errors.New("save event: an event needs an id and a code")
	}
	if r.Status == "" {
		r.Status = domain.StatusOpen
	}
	if !r.Status.Valid() {
		return false, fmt.Errorf("save event: unknown status %q", r.Status)
	}
	data, tz, err := encodeEvent(r.Event)
	if err != nil {
		return false, err
	}
	err = func() error {
		var owner string
		switch err := db.QueryRow(ctx, `SELECT id FROM events WHERE code = $1`, r.Code).Scan(&owner); {
		case err == nil && owner != r.Event.ID:
			return fmt.Errorf("%w: %s (%s)", ErrCodeTaken, r.Code, owner)
		case err != nil && !errors.Is(err, ErrNoRows):
			return fmt.Errorf("check event code: %w", err)
		}
		var hash string
		var count int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM events`).Scan(&count); err != nil {
			return fmt.Errorf("count events: %w", err)
		}
		err := db.QueryRow(ctx, `SELECT source_hash FROM events WHERE id = $1`, r.Event.ID).Scan(&hash)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrNoRows) {
			return fmt.Errorf("read event: %w", err)
		}
		if exists && r.SourceHash != "" && hash == r.SourceHash {
			return nil
		}
		changed = true
		ms := at.UnixMilli()
		if _, err := db.Exec(ctx, `INSERT INTO events (id, code, name_vi, name_en, timezone, start_at, end_at, rsvp_cutoff, status,
				campaign_id, schedule, data, source_hash, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
			ON CONFLICT (id) DO UPDATE SET code = excluded.code, name_vi = excluded.name_vi, name_en = excluded.name_en,
				timezone = excluded.timezone, start_at = excluded.start_at, end_at = excluded.end_at,
				rsvp_cutoff = excluded.rsvp_cutoff, status = excluded.status, campaign_id = excluded.campaign_id,
				schedule = excluded.schedule, data = excluded.data, source_hash = excluded.source_hash,
				updated_at = excluded.updated_at`,
			r.Event.ID, r.Code, r.Event.NameVI, r.Event.NameEN, tz, r.Event.Start.UnixMilli(), r.Event.End.UnixMilli(),
			r.Event.RSVPCutoff.UnixMilli(), string(r.Status), r.CampaignID, r.Schedule, data, r.SourceHash, ms); err != nil {
			return fmt.Errorf("save event %s: %w", r.Event.ID, err)
		}
		if _, err := db.Exec(ctx, `DELETE FROM event_invitees WHERE event_id = $1`, r.Event.ID); err != nil {
			return fmt.Errorf("save invitees: %w", err)
		}
		for _, inv := range r.Invitees {
			if _, err := db.Exec(ctx, `INSERT INTO event_invitees (event_id, person_id, role) VALUES ($1, $2, $3)
				ON CONFLICT (event_id, person_id) DO UPDATE SET role = excluded.role`, r.Event.ID, inv.PersonID, inv.Role); err != nil {
				return fmt.Errorf("save invitee %s: %w", inv.PersonID, err)
			}
		}
		if err := bumpVersion(ctx, db, "events"); err != nil {
			return err
		}
		if count == 0 || (count == 1 && exists) {
			for _, table := range []string{"rsvps", "checkins"} {
				if _, err := db.Exec(ctx, `UPDATE `+table+` SET event_id = $1 WHERE event_id = ''`, r.Event.ID); err != nil {
					return fmt.Errorf("adopt %s: %w", table, err)
				}
			}
			if _, err := db.Exec(ctx, `UPDATE scheduler_agenda SET event_id = $1 WHERE event_id = ''`, r.Event.ID); err != nil {
				return fmt.Errorf("adopt agenda: %w", err)
			}
			// The event's reminders already enqueued or evaluated keep
			// their keys under the event's name (scheduler.Config.EventKey),
			// so that none is sent twice after the upgrade.
			if _, err := db.Exec(ctx, `UPDATE outbox SET key = CAST($1 AS TEXT) || '/' || key, job = CAST($1 AS TEXT) || '/' || job
				WHERE job IN (`+eventJobList+`)`, r.Event.ID); err != nil {
				return fmt.Errorf("adopt reminders: %w", err)
			}
			if _, err := db.Exec(ctx, `UPDATE scheduler_runs SET job = CAST($1 AS TEXT) || '/' || job
				WHERE job IN (`+eventJobList+`) AND CAST($1 AS TEXT) || '/' || job NOT IN (SELECT job FROM scheduler_runs)`, r.Event.ID); err != nil {
				return fmt.Errorf("adopt reminder runs: %w", err)
			}
		}
		return insertAudit(ctx, db, at, "", "event.save", "event:"+r.Event.ID+" "+r.Code, "cli")
	}()
	return changed, err
}

// SetEventStatus opens, closes or archives an event.
func (q *Queries) SetEventStatus(ctx context.Context, id string, s domain.Status, by string, at time.Time) error {
	if !s.Valid() {
		return fmt.Errorf("event status: unknown %q", s)
	}
	return q.Tx(ctx, func(db DB) error {
		n, err := db.Exec(ctx, `UPDATE events SET status = $2, updated_at = $3 WHERE id = $1`, id, string(s), at.UnixMilli())
		if err != nil {
			return fmt.Errorf("event status: %w", err)
		}
		if n == 0 {
			return ErrNoRows
		}
		if err := bumpVersion(ctx, db, "events"); err != nil {
			return err
		}
		return insertAudit(ctx, db, at, by, "event."+string(s), "event:"+id, "console")
	})
}

// bumpVersion counts a change to the list name (data_versions), in the
// transaction that makes it.
func bumpVersion(ctx context.Context, db DB, name string) error {
	if _, err := db.Exec(ctx, `UPDATE data_versions SET version = version + 1 WHERE name = $1`, name); err != nil {
		return fmt.Errorf("count the change to %s: %w", name, err)
	}
	return nil
}

// EventsVersion is the count of changes to the events and their invitees:
// a process that keeps Events in memory reads them again only when it
// moved.
func (q *Queries) EventsVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := q.DB.QueryRow(ctx, `SELECT version FROM data_versions WHERE name = 'events'`).Scan(&v); err != nil {
		return 0, fmt.Errorf("events version: %w", err)
	}
	return v, nil
}

const eventSelect = `SELECT id, code, timezone, status, campaign_id, schedule, data, source_hash, created_at, updated_at FROM events`

// Events returns every event, archived ones included, by start time.
func (q *Queries) Events(ctx context.Context) ([]domain.EventRecord, error) {
	return q.queryEvents(ctx, eventSelect+` ORDER BY start_at, id`)
}

// Event returns one event with its invitees.
func (q *Queries) Event(ctx context.Context, id string) (domain.EventRecord, error) {
	list, err := q.queryEvents(ctx, eventSelect+` WHERE id = $1`, id)
	if err != nil {
		return domain.EventRecord{}, err
	}
	if len(list) == 0 {
		return domain.EventRecord{}, ErrNoRows
	}
	return list[0], nil
}

func (q *Queries) queryEvents(ctx context.Context, query string, args ...any) ([]domain.EventRecord, error) {
	rows, err := q.DB.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	var out []domain.EventRecord
	for rows.Next() {
		var r domain.EventRecord
		var tz, status, data string
		var created, updated int64
		if err := rows.Scan(&r.Event.ID, &r.Code, &tz, &status, &r.CampaignID, &r.Schedule, &data, &r.SourceHash, &created, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan event: %w", err)
		}
		id := r.Event.ID
		if r.Event, err = decodeEvent(data, tz); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read event %s: %w", id, err)
		}
		r.Event.ID = id
		r.Status = domain.Status(status)
		r.CreatedAt, r.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	inv, err := q.DB.Query(ctx, `SELECT event_id, person_id, role FROM event_invitees ORDER BY event_id, person_id`)
	if err != nil {
		return nil, fmt.Errorf("list invitees: %w", err)
	}
	defer inv.Close()
	byID := map[string]int{}
	for i, r := range out {
		byID[r.Event.ID] = i
	}
	for inv.Next() {
		var ev string
		var i domain.Invitee
		if err := inv.Scan(&ev, &i.PersonID, &i.Role); err != nil {
			return nil, fmt.Errorf("scan invitee: %w", err)
		}
		if k, ok := byID[ev]; ok {
			out[k].Invitees = append(out[k].Invitees, i)
		}
	}
	return out, inv.Err()
}

// encodeEvent keeps the event as JSON; its time zone goes in a column of
// its own (a *time.Location has no JSON form).
func encodeEvent(e domain.Event) (data, tz string, err error) {
	if e.Location == nil {
		return "", "", errors.New("save event: the event has no time zone")
	}
	tz = e.Location.String()
	e.Location = nil
	raw, err := json.Marshal(e)
	if err != nil {
		return "", "", fmt.Errorf("encode event: %w", err)
	}
	return string(raw), tz, nil
}

func decodeEvent(data, tz string) (domain.Event, error) {
	var e domain.Event
	if err := json.Unmarshal([]byte(data), &e); err != nil {
		return e, err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return e, fmt.Errorf("time zone %q: %w", tz, err)
	}
	e.Location = loc
	in := func(t *time.Time) {
		if !t.IsZero() {
			*t = t.In(loc)
		}
	}
	in(&e.DoorsOpen)
	in(&e.Start)
	in(&e.End)
	in(&e.RSVPCutoff)
	for i := range e.Agenda {
		in(&e.Agenda[i].Start)
		in(&e.Agenda[i].End)
	}
	return e, nil
}

// campaignData is what the data column of campaigns holds.
type campaignData struct {
	AgencyDeadlines map[string]time.Time `json:"agency_deadlines,omitempty"`
	StaffContact    domain.Contact       `json:"staff_contact"`
	Opens           time.Time            `json:"opens,omitzero"`
	Assignments     []assignmentData     `json:"assignments"` // null: the files' assignments
}

// ImportCampaign creates or replaces a campaign, as ImportEvent does for
// events; the first campaign adopts the assignments, submissions and
// history made before campaigns were records.
func (q *Queries) ImportCampaign(ctx context.Context, c domain.CampaignRecord, at time.Time) (changed bool, err error) {
	err = q.Tx(ctx, func(db DB) error {
		var err error
		changed, err = importCampaign(ctx, db, c, at)
		return err
	})
	return changed, err
}

func importCampaign(ctx context.Context, db DB, c domain.CampaignRecord, at time.Time) (changed bool, err error) {
	if c.ID == "" {
		return false, errors.New("save campaign: a campaign needs an id")
	}
	if c.Status == "" {
		c.Status = domain.StatusOpen
	}
	if !c.Status.Valid() {
		return false, fmt.Errorf("save campaign: unknown status %q", c.Status)
	}
	data, err := json.Marshal(campaignData{AgencyDeadlines: c.AgencyDeadlines, StaffContact: c.StaffContact,
		Opens: c.Opens, Assignments: encodeAssignments(c.Assignments)})
	if err != nil {
		return false, fmt.Errorf("encode campaign: %w", err)
	}
	codeMap := c.CodeMap
	if codeMap == nil {
		codeMap = map[string]string{}
	}
	cm, err := json.Marshal(codeMap)
	if err != nil {
		return false, fmt.Errorf("encode campaign: %w", err)
	}
	err = func() error {
		var count int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM campaigns`).Scan(&count); err != nil {
			return fmt.Errorf("count campaigns: %w", err)
		}
		var hash string
		err := db.QueryRow(ctx, `SELECT source_hash FROM campaigns WHERE id = $1`, c.ID).Scan(&hash)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrNoRows) {
			return fmt.Errorf("read campaign: %w", err)
		}
		if exists && c.SourceHash != "" && hash == c.SourceHash {
			return nil
		}
		changed = true
		ms := at.UnixMilli()
		if _, err := db.Exec(ctx, `INSERT INTO campaigns (id, name_vi, name_en, catalog_version, previous_id, code_map, deadline, status,
				data, source_hash, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
			ON CONFLICT (id) DO UPDATE SET name_vi = excluded.name_vi, name_en = excluded.name_en,
				catalog_version = excluded.catalog_version, previous_id = excluded.previous_id, code_map = excluded.code_map,
				deadline = excluded.deadline, status = excluded.status, data = excluded.data,
				source_hash = excluded.source_hash, updated_at = excluded.updated_at`,
			c.ID, c.NameVI, c.NameEN, c.CatalogVersion, c.PreviousID, string(cm), c.Deadline.UnixMilli(), string(c.Status),
			string(data), c.SourceHash, ms); err != nil {
			return fmt.Errorf("save campaign %s: %w", c.ID, err)
		}
		if count == 0 || (count == 1 && exists) {
			for _, table := range []string{"assignments", "submissions", "submission_history"} {
				if _, err := db.Exec(ctx, `UPDATE `+table+` SET campaign_id = $1 WHERE campaign_id = ''`, c.ID); err != nil {
					return fmt.Errorf("adopt %s: %w", table, err)
				}
			}
		}
		return insertAudit(ctx, db, at, "", "campaign.save", "campaign:"+c.ID, "cli")
	}()
	return changed, err
}

const campaignSelect = `SELECT id, name_vi, name_en, catalog_version, previous_id, code_map, deadline, status, data, source_hash,
	created_at, updated_at FROM campaigns`

// Campaigns returns every campaign: open ones first, then by creation.
func (q *Queries) Campaigns(ctx context.Context) ([]domain.CampaignRecord, error) {
	return q.queryCampaigns(ctx, campaignSelect+` ORDER BY CASE status WHEN 'open' THEN 0 WHEN 'closed' THEN 1 ELSE 2 END, created_at, id`)
}

// Campaign returns one campaign.
func (q *Queries) Campaign(ctx context.Context, id string) (domain.CampaignRecord, error) {
	list, err := q.queryCampaigns(ctx, campaignSelect+` WHERE id = $1`, id)
	if err != nil {
		return domain.CampaignRecord{}, err
	}
	if len(list) == 0 {
		return domain.CampaignRecord{}, ErrNoRows
	}
	return list[0], nil
}

func (q *Queries) queryCampaigns(ctx context.Context, query string, args ...any) ([]domain.CampaignRecord, error) {
	rows, err := q.DB.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	defer rows.Close()
	var out []domain.CampaignRecord
	for rows.Next() {
		var c domain.CampaignRecord
		var cm, status, data string
		var deadline, created, updated int64
		if err := rows.Scan(&c.ID, &c.NameVI, &c.NameEN, &c.CatalogVersion, &c.PreviousID, &cm, &deadline, &status, &data,
			&c.SourceHash, &created, &updated); err != nil {
			return nil, fmt.Errorf("scan campaign: %w", err)
		}
		var d campaignData
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			return nil, fmt.Errorf("read campaign %s: %w", c.ID, err)
		}
		if err := json.Unmarshal([]byte(cm), &c.CodeMap); err != nil {
			return nil, fmt.Errorf("read campaign %s: %w", c.ID, err)
		}
		c.AgencyDeadlines, c.StaffContact, c.Assignments = d.AgencyDeadlines, d.StaffContact, decodeAssignments(d.Assignments)
		if !d.Opens.IsZero() {
			c.Opens = d.Opens.UTC()
		}
		c.Status = domain.Status(status)
		c.Deadline = time.UnixMilli(deadline).UTC()
		c.CreatedAt, c.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetCampaignStatus opens, closes or archives a campaign. Closing it keeps
// its approved values in campaign_values, where the next campaign finds
// last year's values even after the catalog and submissions move on.
func (q *Queries) SetCampaignStatus(ctx context.Context, id string, s domain.Status, by string, at time.Time) error {
	if !s.Valid() {
		return fmt.Errorf("campaign status: unknown %q", s)
	}
	return q.Tx(ctx, func(db DB) error {
		n, err := db.Exec(ctx, `UPDATE campaigns SET status = $2, updated_at = $3 WHERE id = $1`, id, string(s), at.UnixMilli())
		if err != nil {
			return fmt.Errorf("campaign status: %w", err)
		}
		if n == 0 {
			return ErrNoRows
		}
		if s != domain.StatusOpen {
			if err := snapshotApproved(ctx, db, id, at); err != nil {
				return err
			}
		}
		return insertAudit(ctx, db, at, by, "campaign."+string(s), "campaign:"+id, "console")
	})
}

func snapshotApproved(ctx context.Context, db DB, id string, at time.Time) error {
	_, err := db.Exec(ctx, `INSERT INTO campaign_values (campaign_id, indicator_code, agency_code, value, approved_at)
		SELECT campaign_id, indicator_code, agency_code, value, $2 FROM submissions WHERE campaign_id = $1 AND status = 'approved'
		ON CONFLICT (campaign_id, indicator_code, agency_code) DO UPDATE SET value = excluded.value, approved_at = excluded.approved_at`,
		id, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("keep approved values of %s: %w", id, err)
	}
	return nil
}

// ApprovedValues returns the approved values of a campaign by indicator
// code and agency: those kept when it closed, and those approved in its
// submissions since (which win).
func (q *Queries) ApprovedValues(ctx context.Context, campaignID string) (map[[2]string]string, error) {
	out := map[[2]string]string{}
	for _, query := range []string{
		`SELECT indicator_code, agency_code, value FROM campaign_values WHERE campaign_id = $1`,
		`SELECT indicator_code, agency_code, value FROM submissions WHERE campaign_id = $1 AND status = 'approved'`,
	} {
		rows, err := q.DB.Query(ctx, query, campaignID)
		if err != nil {
			return nil, fmt.Errorf("approved values of %s: %w", campaignID, err)
		}
		for rows.Next() {
			var code, agency, value string
			if err := rows.Scan(&code, &agency, &value); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scan approved value: %w", err)
			}
			out[[2]string{code, agency}] = value
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("approved values of %s: %w", campaignID, err)
		}
	}
	return out, nil
}

// CloneCampaign makes a new open campaign id from campaign from: the same
// catalog version and staff contact, deadlines a year later, and from as
// its previous campaign (where last year's values come from).
func (q *Queries) CloneCampaign(ctx context.Context, from, id, nameVI, nameEN string, at time.Time) (domain.CampaignRecord, error) {
	c, err := q.Campaign(ctx, from)
	if err != nil {
		return c, fmt.Errorf("clone campaign %s: %w", from, err)
	}
	if _, err := q.Campaign(ctx, id); err == nil {
		return c, fmt.Errorf("clone campaign: %q is already a campaign", id)
	}
	c.ID, c.NameVI, c.NameEN, c.PreviousID, c.Status, c.SourceHash = id, nameVI, nameEN, from, domain.StatusOpen, ""
	c.CodeMap = nil
	c.Deadline = c.Deadline.AddDate(1, 0, 0)
	for k, d := range c.AgencyDeadlines {
		c.AgencyDeadlines[k] = d.AddDate(1, 0, 0)
	}
	if _, err := q.ImportCampaign(ctx, c, at); err != nil {
		return c, err
	}
	return c, nil
}

// CloneEvent makes a new open event id (code) from event from on day: the
// same venue, agenda, speakers, invitees and reminders, every time moved
// by whole days.
func (q *Queries) CloneEvent(ctx context.Context, from, id, code string, day time.Time, at time.Time) (domain.EventRecord, error) {
	r, err := q.Event(ctx, from)
	if err != nil {
		return r, fmt.Errorf("clone event %s: %w", from, err)
	}
	if _, err := q.Event(ctx, id); err == nil {
		return r, fmt.Errorf("clone event: %q is already an event", id)
	}
	loc := r.Event.Location
	y, m, d := r.Event.Start.In(loc).Date()
	ny, nm, nd := day.Date()
	days := int(time.Date(ny, nm, nd, 12, 0, 0, 0, time.UTC).Sub(time.Date(y, m, d, 12, 0, 0, 0, time.UTC)).Hours() / 24)
	move := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.In(loc).AddDate(0, 0, days)
	}
	e := r.Event
	e.ID = id
	e.DoorsOpen, e.Start, e.End, e.RSVPCutoff = move(e.DoorsOpen), move(e.Start), move(e.End), move(e.RSVPCutoff)
	e.Agenda = append([]domain.AgendaItem(nil), e.Agenda...)
	for i := range e.Agenda {
		e.Agenda[i].Start, e.Agenda[i].End = move(e.Agenda[i].Start), move(e.Agenda[i].End)
	}
	// The same issuer and signer; the letter's number is the clerk's to
	// give again, its date moves with the event.
	e.Issuer.Number, e.Issuer.Date = e.Issuer.Symbol(), move(e.Issuer.Date)
	e.Issuer.Recipients = append([]string(nil), e.Issuer.Recipients...)
	r.Event, r.Code, r.Status, r.SourceHash = e, code, domain.StatusOpen, ""
	if _, err := q.ImportEvent(ctx, r, at); err != nil {
		return r, err
	}
	return r, nil
}

// PersonRSVPs returns a person's current answer to every event, by event
// id.
func (q *Queries) PersonRSVPs(ctx context.Context, personID string) (map[string]domain.RSVP, error) {
	rows, err := q.DB.Query(ctx, rsvpSelect+` WHERE id IN (SELECT MAX(id) FROM rsvps WHERE person_id = $1 GROUP BY event_id)`, personID)
	if err != nil {
		return nil, fmt.Errorf("answers of %s: %w", personID, err)
	}
	list, err := scanRSVPs(rows)
	if err != nil {
		return nil, fmt.Errorf("answers of %s: %w", personID, err)
	}
	out := make(map[string]domain.RSVP, len(list))
	for _, r := range list {
		out[r.EventID] = r
	}
	return out, nil
}

// SetCurrent makes eventID and campaignID the ones this store answers for
// by default, and records them as the deployment's current ones: every
// store opened on the database later starts with them (LoadCurrent), so
// that subcommands and other processes read what the server serves.
func (q *Queries) SetCurrent(ctx context.Context, eventID, campaignID string, at time.Time) error {
	for name, id := range map[string]string{"current:event": eventID, "current:campaign": campaignID} {
		if err := q.SetConfigHash(ctx, name, id, at); err != nil {
			return fmt.Errorf("current event: %w", err)
		}
	}
	q.EventID, q.CampaignID = eventID, campaignID
	return nil
}

// LoadCurrent sets the store's default event and campaign to the
// deployment's current ones (none before any was imported).
func (q *Queries) LoadCurrent(ctx context.Context) error {
	ev, err := q.ConfigHash(ctx, "current:event")
	if err != nil {
		return err
	}
	cp, err := q.ConfigHash(ctx, "current:campaign")
	if err != nil {
		return err
	}
	q.EventID, q.CampaignID = ev, cp
	return nil
}

// EventAnswerHistory returns every answer ever given to an event, oldest
// first (the archive of a finished event).
func (q *Queries) EventAnswerHistory(ctx context.Context, eventID string) ([]domain.RSVP, error) {
	rows, err := q.DB.Query(ctx, rsvpSelect+` WHERE event_id = $1 ORDER BY id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("answers to %s: %w", eventID, err)
	}
	list, err := scanRSVPs(rows)
	if err != nil {
		return nil, fmt.Errorf("answers to %s: %w", eventID, err)
	}
	return list, nil
}

// ScopeAudit returns the audit entries about one event or campaign (scope
// "event:ID" or "campaign:ID": their detail starts with it), oldest first.
func (q *Queries) ScopeAudit(ctx context.Context, scope string) ([]AuditEntry, error) {
	rows, err := q.DB.Query(ctx, `SELECT id, at, person_id, action, detail, channel FROM audit
		WHERE detail = CAST($1 AS TEXT) OR substr(detail, 1, length(CAST($1 AS TEXT)) + 1) = CAST($1 AS TEXT) || ' ' ORDER BY id`, scope)
	if err != nil {
		return nil, fmt.Errorf("audit of %s: %w", scope, err)
	}
	return scanAudit(rows)
}
