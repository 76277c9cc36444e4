package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/export"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage"
)

// chatCampaigns serves the chat's choice of data campaign (bot.Campaigns):
// the open campaigns, read again at most every ttl, and the data of one
// other than the current campaign, kept for dataTTL (a focal point's every
// message reads it).
type chatCampaigns struct {
	es      eventStore
	current string
	ttl     time.Duration
	dataTTL time.Duration

	mu   sync.Mutex
	at   time.Time
	list []domain.CampaignRecord
	data map[string]campaignData
}

type campaignData struct {
	at  time.Time
	rec domain.CampaignRecord
	cs  storage.CampaignStore
	cat *domain.Catalog
}

func newChatCampaigns(es eventStore, current string) *chatCampaigns {
	return &chatCampaigns{es: es, current: current, ttl: 2 * time.Second, dataTTL: 30 * time.Second, data: map[string]campaignData{}}
}

// Current implements bot.Campaigns.
func (c *chatCampaigns) Current() string { return c.current }

// Open implements bot.Campaigns: the open campaigns, the current one first,
// the others as the store orders them (by creation).
func (c *chatCampaigns) Open(ctx context.Context) ([]domain.CampaignRecord, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.list != nil && time.Since(c.at) < c.ttl {
		return c.list, nil
	}
	all, err := c.es.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	list := []domain.CampaignRecord{}
	for _, r := range all {
		if r.Status != domain.StatusOpen {
			continue
		}
		if r.ID == c.current {
			list = append([]domain.CampaignRecord{r}, list...)
		} else {
			list = append(list, r)
		}
	}
	c.list, c.at = list, time.Now()
	return list, nil
}

// Data implements bot.Campaigns: campaign id's submissions, and the
// catalog with its deadlines and last year's values.
func (c *chatCampaigns) Data(ctx context.Context, id string) (storage.CampaignStore, *domain.Catalog, error) {
	d, err := c.load(ctx, id)
	return d.cs, d.cat, err
}

// consoleCatalog is the console's CampaignCatalog: a campaign's catalog as
// the chat serves it (its last year's values its previous campaign's),
// nil without campaigns to choose from.
func (c *chatCampaigns) consoleCatalog() func(ctx context.Context, id string) (*domain.Catalog, error) {
	if c == nil {
		return nil
	}
	return func(ctx context.Context, id string) (*domain.Catalog, error) {
		_, cat, err := c.Data(ctx, id)
		return cat, err
	}
}

func (c *chatCampaigns) load(ctx context.Context, id string) (campaignData, error) {
	c.mu.Lock()
	d, ok := c.data[id]
	c.mu.Unlock()
	if ok && time.Since(d.at) < c.dataTTL {
		return d, nil
	}
	scoped, ok := c.es.(interface {
		InCampaign(id string) storage.CampaignStore
	})
	if !ok {
		return d, errors.New("the database keeps one campaign only")
	}
	rec, err := c.es.Campaign(ctx, id)
	if err != nil {
		return d, err
	}
	var main domain.CampaignRecord
	if c.current != "" {
		if main, err = c.es.Campaign(ctx, c.current); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return d, err
		}
	}
	inds, as, err := c.es.LoadCatalog(ctx)
	if err != nil {
		return d, fmt.Errorf("read indicators: %w", err)
	}
	if rec.Assignments != nil {
		// A campaign made in the console has its own assignments, their
		// deadlines already its own.
		as = rec.Assignments
	} else {
		as = campaignDeadlines(as, rec, main)
	}
	if inds, err = withPreviousValues(ctx, c.es, &rec, inds); err != nil {
		return d, fmt.Errorf("last year's values: %w", err)
	}
	d = campaignData{at: time.Now(), rec: rec, cs: scoped.InCampaign(id), cat: domain.NewCatalog(inds, as)}
	c.mu.Lock()
	c.data[id] = d
	c.mu.Unlock()
	return d, nil
}

// campaignDeadlines gives the catalog's assignments (which the campaigns
// share) the deadlines of campaign rec: its deadline for the agency when it
// names one; else each assignment's deadline moved as rec's deadline is
// from the current campaign's (a campaign cloned a year on keeps an
// indicator's own deadline, a year on); else rec's deadline.
func campaignDeadlines(as []domain.Assignment, rec, main domain.CampaignRecord) []domain.Assignment {
	out := make([]domain.Assignment, len(as))
	for i, a := range as {
		switch d, ok := rec.AgencyDeadlines[a.Agency]; {
		case ok && !d.IsZero():
			a.Deadline = d
		case !rec.Deadline.IsZero() && !main.Deadline.IsZero() && !a.Deadline.IsZero():
			a.Deadline = a.Deadline.Add(rec.Deadline.Sub(main.Deadline))
		case !rec.Deadline.IsZero():
			a.Deadline = rec.Deadline
		}
		out[i] = a
	}
	return out
}

// campaignExporter is the chat's export (/xuat): the current campaign's,
// or, for a staff member who chose another with /chiendich, that one's,
// named by it in the workbook and the file name.
type campaignExporter struct {
	*export.Source
	camps *chatCampaigns
}

// ExportCampaign implements bot.CampaignExporter.
func (e campaignExporter) ExportCampaign(ctx context.Context, id, kind string) (*flows.File, error) {
	d, err := e.camps.load(ctx, id)
	if err != nil {
		return nil, err
	}
	src := *e.Source
	src.Campaign, src.Catalog, src.CurrentCatalog = d.cs, d.cat, nil
	src.Title, src.FileTag = d.rec.NameVI, d.rec.ID
	return src.Export(ctx, kind)
}

// scope returns the store and catalog of the campaign a chat task is
// about: campaign id, or the current one (cs, cat) for "".
func (c *chatCampaigns) scope(ctx context.Context, id string, cs storage.CampaignStore, cat *domain.Catalog) (storage.CampaignStore, *domain.Catalog, error) {
	if c == nil || id == "" || id == c.current {
		return cs, cat, nil
	}
	return c.Data(ctx, id)
}

// name is the name of campaign id when it is not the current one (what a
// chat task's reply names), "" otherwise or when it cannot be read.
func (c *chatCampaigns) name(ctx context.Context, id string, lang domain.Lang) string {
	if c == nil || id == "" || id == c.current {
		return ""
	}
	d, err := c.load(ctx, id)
	if err != nil {
		return ""
	}
	return d.rec.Name(lang)
}

// openCampaigns is the scheduler's Config.Campaigns: each open campaign's
// deadline reminders and staff alerts, with its own deadlines and
// submissions (the current one's from cs and the live catalog). nil with
// a single campaign (camps nil): the scheduler's own indicator jobs.
func openCampaigns(es eventStore, camps *chatCampaigns, cs storage.CampaignStore, catalog func() *domain.Catalog) func(context.Context, time.Time) ([]scheduler.Config, error) {
	if camps == nil {
		return nil
	}
	return scheduler.OpenCampaigns(es, camps.current, func(ctx context.Context, id string) (storage.CampaignStore, *domain.Catalog, error) {
		if id == camps.current {
			return cs, catalog(), nil
		}
		return camps.Data(ctx, id)
	})
}
