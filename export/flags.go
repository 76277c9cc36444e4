package export

import (
	"context"
	"fmt"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
)

// ReviewFlags computes the review flags (flows.ReviewFlags) of subs, by
// (indicator, agency), from what was read in their evidence: only the
// texts of subs' own files are loaded. siblings are the submissions the
// ratio checks may look at (an agency's other values), nil for subs
// themselves. texts is the store of evidence texts, nil when it keeps none.
func ReviewFlags(ctx context.Context, texts storage.EvidenceTextStore, cat *domain.Catalog, subs, siblings []domain.Submission) (map[[2]string][]string, error) {
	if cat == nil || len(subs) == 0 {
		return nil, nil
	}
	var read map[string]domain.EvidenceText
	if texts != nil {
		var shas []string
		seen := map[string]bool{}
		for _, s := range subs {
			for _, e := range s.Evidence {
				if e.SHA256 != "" && !seen[e.SHA256] {
					seen[e.SHA256] = true
					shas = append(shas, e.SHA256)
				}
			}
		}
		if len(shas) > 0 {
			var err error
			if read, err = texts.EvidenceTexts(ctx, shas); err != nil {
				return nil, fmt.Errorf("evidence texts: %w", err)
			}
		}
	}
	if siblings == nil {
		siblings = subs
	}
	byAgency := map[string]map[string]domain.Submission{}
	for _, s := range siblings {
		if byAgency[s.Agency] == nil {
			byAgency[s.Agency] = map[string]domain.Submission{}
		}
		byAgency[s.Agency][s.Indicator] = s
	}
	out := map[[2]string][]string{}
	for _, s := range subs {
		if f := flows.ReviewFlags(cat, s, read, byAgency[s.Agency]); len(f) > 0 {
			out[[2]string{s.Indicator, s.Agency}] = f
		}
	}
	return out, nil
}
