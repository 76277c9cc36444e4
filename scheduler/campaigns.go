package scheduler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
)

// indicatorJobs are the data campaign's jobs: with Config.Campaigns each
// open campaign runs its own (the current one's keep their plain names, so
// that the outbox keys already written stay valid; another's are named
// "cp:ID/job").
var indicatorJobs = map[string]bool{JobIndicatorLadder: true, JobIndicatorEscalation: true, JobIndicatorDigest: true}

// CampaignRecords is what OpenCampaigns reads: the deployment's campaigns.
type CampaignRecords interface {
	Campaigns(ctx context.Context) ([]domain.CampaignRecord, error)
}

// CampaignData returns a campaign's submissions and its catalog (its
// assignments with its own deadlines).
type CampaignData func(ctx context.Context, id string) (storage.CampaignStore, *domain.Catalog, error)

// OpenCampaigns is a Config.Campaigns: every open campaign in cr, each
// with its own deadlines and submissions (read through data at each
// evaluation). current is the deployment's current campaign: its jobs keep
// their plain names; when it is not in cr at all (a database without
// campaign records) it still runs. A closed or archived campaign is not
// listed, so its reminders stop.
func OpenCampaigns(cr CampaignRecords, current string, data CampaignData) func(ctx context.Context, now time.Time) ([]Config, error) {
	return func(ctx context.Context, now time.Time) ([]Config, error) {
		all, err := cr.Campaigns(ctx)
		if err != nil {
			return nil, fmt.Errorf("campaigns: %w", err)
		}
		known := slices.ContainsFunc(all, func(r domain.CampaignRecord) bool { return r.ID == current })
		if !known && current != "" {
			all = append(all, domain.CampaignRecord{ID: current, Status: domain.StatusOpen})
		}
		var out []Config
		for _, r := range all {
			if r.Status != domain.StatusOpen {
				continue
			}
			rec, key := r, "cp:"+r.ID
			if r.ID == current {
				key = ""
			}
			out = append(out, Config{Campaign: &rec, CampaignKey: key, Progress: campaignData{id: r.ID, data: data},
				CampaignVersion: strconv.FormatInt(r.UpdatedAt.UnixMilli(), 10) + "/" + r.SourceHash})
		}
		return out, nil
	}
}

// campaignData is the Progress of one campaign, its catalog read anew at
// each evaluation (the console may have changed its assignments).
type campaignData struct {
	id   string
	data CampaignData
}

func (p campaignData) Unfinished(ctx context.Context) ([]FocalTask, error) {
	cs, cat, err := p.data(ctx, p.id)
	if err != nil {
		return nil, fmt.Errorf("campaign %s: %w", p.id, err)
	}
	if cat == nil || cs == nil {
		return nil, nil
	}
	return CampaignProgress(cat, cs).Unfinished(ctx)
}

// campaignChild builds the scheduler of one campaign's indicator jobs.
func (s *Scheduler) campaignChild(c Config) (*Scheduler, error) {
	if c.Campaign == nil || c.Progress == nil {
		return nil, errors.New("scheduler: a campaign needs Campaign and Progress")
	}
	base := s.c
	base.Campaign, base.CampaignKey, base.CampaignVersion, base.Progress = c.Campaign, c.CampaignKey, c.CampaignVersion, c.Progress
	base.CampaignOnly, base.Campaigns, base.Events = true, nil, nil
	child, err := New(base)
	if err != nil {
		return nil, err
	}
	child.wake = s.wake
	return child, nil
}

// refreshCampaigns reads Config.Campaigns again: a campaign opened gets its
// jobs, one closed or archived loses them, one changed is built again.
func (s *Scheduler) refreshCampaigns(ctx context.Context, now time.Time) error {
	if s.c.Campaigns == nil {
		return nil
	}
	cs, err := s.c.Campaigns(ctx, now)
	if err != nil {
		return fmt.Errorf("campaigns: %w", err)
	}
	s.mu.Lock()
	have := map[string]*Scheduler{}
	for _, o := range s.camps {
		have[o.c.Campaign.ID] = o
	}
	s.mu.Unlock()
	var keep []*Scheduler
	var errs []error
	for _, c := range cs {
		if o, ok := have[c.Campaign.ID]; ok && o.c.CampaignVersion == c.CampaignVersion && o.c.CampaignKey == c.CampaignKey {
			keep = append(keep, o)
			continue
		}
		child, err := s.campaignChild(c)
		if err != nil {
			errs = append(errs, fmt.Errorf("campaign %s: %w", c.Campaign.ID, err))
			continue
		}
		keep = append(keep, child)
	}
	s.mu.Lock()
	s.camps = keep
	s.mu.Unlock()
	return errors.Join(errs...)
}

func (s *Scheduler) campaignSchedulers() []*Scheduler {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.camps)
}

// otherCampaign is the campaign this scheduler's indicator jobs are about
// when it is not the deployment's current one (nil otherwise): its
// messages name it and their button opens it in the chat.
func (s *Scheduler) otherCampaign() *domain.CampaignRecord {
	if s.c.CampaignOnly && s.c.CampaignKey != "" {
		return s.c.Campaign
	}
	return nil
}

// campaignHead is the line naming another campaign at the top of its
// messages ("" for the current one).
func (s *Scheduler) campaignHead(lang domain.Lang) string {
	if c := s.otherCampaign(); c != nil {
		name := c.Name(lang)
		if name == "" {
			name = c.ID
		}
		return t(lang, "campaign_head", name)
	}
	return ""
}

// campaignButtons open another campaign in the chat (the chat switches the
// person's campaign to it, once it checks it is open and theirs).
func (s *Scheduler) campaignButtons(lang domain.Lang) [][]flows.Button {
	if c := s.otherCampaign(); c != nil {
		return [][]flows.Button{{{Label: t(lang, "btn_campaign_open"), Data: flows.CampaignButton(c.ID)}}}
	}
	return nil
}

// campaignOpens is when another campaign starts (its Opens, else its
// creation); zero for the current one (which opens at the conference).
func (s *Scheduler) campaignOpens() time.Time {
	if c := s.otherCampaign(); c != nil {
		if !c.Opens.IsZero() {
			return c.Opens
		}
		return c.CreatedAt
	}
	return time.Time{}
}

// dataContact is whom a focal point or leader asks about the data: another
// campaign's staff contact when it names one, else the organiser.
func (s *Scheduler) dataContact() string {
	if c := s.otherCampaign(); c != nil && c.StaffContact != (domain.Contact{}) {
		return flows.ContactText(c.StaffContact)
	}
	return organizer(s.c.Event)
}

func init() {
	maps.Copy(catalogs[domain.Vietnamese], map[msg]string{
		"campaign_head":     "🗂 Đợt số liệu: %s",
		"btn_campaign_open": "🗂 Mở đợt số liệu này",
	})
	maps.Copy(catalogs[domain.English], map[msg]string{
		"campaign_head":     "🗂 Data campaign: %s",
		"btn_campaign_open": "🗂 Open this campaign",
	})
}
