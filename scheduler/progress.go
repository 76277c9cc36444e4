package scheduler

import (
	"context"
	"fmt"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
)

// CampaignProgress is the Progress of the data campaign in the database:
// for each focal point and each deadline of their agency's assignments, the
// indicators due then not yet sent (empty, draft or returned). An agency
// whose items have different deadlines gets one task per deadline, so that
// each item is reminded of its own deadline.
func CampaignProgress(cat *domain.Catalog, cs storage.CampaignStore) Progress {
	return campaignProgress{cat: cat, cs: cs}
}

type campaignProgress struct {
	cat *domain.Catalog
	cs  storage.CampaignStore
}

func (p campaignProgress) Unfinished(ctx context.Context) ([]FocalTask, error) {
	subs, err := p.cs.Submissions(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("progress: %w", err)
	}
	missing, _ := flows.CountMissing(p.cat, subs)
	type key struct {
		person, agency string
		deadline       int64
	}
	byFocal := map[key]*FocalTask{}
	var order []key
	for _, m := range missing {
		for _, id := range m.Assignment.Focal {
			k := key{id, m.Assignment.Agency, m.Assignment.Deadline.UnixMilli()}
			t := byFocal[k]
			if t == nil {
				t = &FocalTask{PersonID: id, AgencyCode: m.Assignment.Agency, Deadline: m.Assignment.Deadline}
				byFocal[k] = t
				order = append(order, k)
			}
			t.Items = append(t.Items, TaskItem{Code: m.Indicator.Code, Name: m.Indicator.NameVI, NameEN: m.Indicator.NameEN, Status: m.Status})
		}
	}
	out := make([]FocalTask, 0, len(order))
	for _, k := range order {
		out = append(out, *byFocal[k])
	}
	return out, nil
}
