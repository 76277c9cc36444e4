package bot

import (
	"context"
	"fmt"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
)

// Campaigns is what the dispatcher needs to serve several data campaigns
// in chat: which are open, which one is current (the store's default), and
// the data of another one.
type Campaigns interface {
	// Open lists the open campaigns, the current one first.
	Open(ctx context.Context) ([]domain.CampaignRecord, error)
	// Current is the id of the campaign the store and Config.Catalog are
	// about.
	Current() string
	// Data returns the submissions store and the catalog of campaign id
	// (its deadlines, and last year's values from its previous campaign).
	Data(ctx context.Context, id string) (storage.CampaignStore, *domain.Catalog, error)
}

// CampaignExporter builds an export of a campaign other than the current
// one (a staff member who chose it with /chiendich).
type CampaignExporter interface {
	ExportCampaign(ctx context.Context, campaignID, kind string) (*flows.File, error)
}

// campaignFacts offers a focal point (whose agency supplies indicators) or
// a staff member the open campaigns when there are several, and returns
// the store of the one the step is about (flows.CampaignFor), with
// f.Catalog made that campaign's. With one campaign or none it is the
// dispatcher's, as before.
func (d *Dispatcher) campaignFacts(ctx context.Context, f *flows.Facts, p domain.Person, s flows.Session, in flows.Input) (storage.CampaignStore, error) {
	focal := p.Has(domain.RoleFocal) && len(f.Catalog.ForAgency(p.AgencyCode)) > 0
	if d.camps == nil || !(focal || p.Has(domain.RoleStaff)) {
		return d.campaign, nil
	}
	list, err := d.camps.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("campaigns: %w", err)
	}
	if !p.Has(domain.RoleStaff) {
		// A focal point is offered, and a campaign button (a reminder's)
		// opens, only the campaigns their agency supplies.
		list = d.assignedCampaigns(ctx, list, p.AgencyCode, f.Catalog)
	}
	if len(list) < 2 {
		return d.campaign, nil
	}
	f.Campaigns = list
	id := flows.CampaignFor(s, in, list)
	if id == "" {
		id = d.camps.Current()
	}
	f.CampaignID = id
	if id == d.camps.Current() {
		return d.campaign, nil
	}
	cs, cat, err := d.camps.Data(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("campaign %s: %w", id, err)
	}
	f.Catalog = cat
	return cs, nil
}

// assignedCampaigns keeps the campaigns of list in which agency has
// indicators to supply (cur is the current campaign's catalog).
func (d *Dispatcher) assignedCampaigns(ctx context.Context, list []domain.CampaignRecord, agency string, cur *domain.Catalog) []domain.CampaignRecord {
	var out []domain.CampaignRecord
	for _, c := range list {
		cat := cur
		if c.ID != d.camps.Current() {
			var err error
			if _, cat, err = d.camps.Data(ctx, c.ID); err != nil {
				// One unreadable campaign does not stop the person's work
				// in the others.
				d.log.Warn("campaign data", "campaign", c.ID, "err", err)
				continue
			}
		}
		if cat != nil && len(cat.ForAgency(agency)) > 0 {
			out = append(out, c)
		}
	}
	return out
}
