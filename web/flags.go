package web

import (
	"context"
	"fmt"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
)

// The review flags (flows.ReviewFlags) in the console: on each item of the
// indicators page, as a filter there, and counted on the overview.

type flagCount struct {
	Flag, Label string
	N           int
}

// flagsOf computes the flags of every stored submission, by (indicator,
// agency), from what was read in their evidence.
func (c *Console) flagsOf(ctx context.Context, subs []domain.Submission) (map[[2]string][]string, error) {
	var texts map[string]domain.EvidenceText
	if ts, ok := c.cfg.Campaign.(storage.EvidenceTextStore); ok {
		var shas []string
		for _, s := range subs {
			for _, e := range s.Evidence {
				if e.SHA256 != "" {
					shas = append(shas, e.SHA256)
				}
			}
		}
		var err error
		if texts, err = ts.EvidenceTexts(ctx, shas); err != nil {
			return nil, fmt.Errorf("evidence texts: %w", err)
		}
	}
	byAgency := map[string]map[string]domain.Submission{}
	for _, s := range subs {
		if byAgency[s.Agency] == nil {
			byAgency[s.Agency] = map[string]domain.Submission{}
		}
		byAgency[s.Agency][s.Indicator] = s
	}
	out := map[[2]string][]string{}
	for _, s := range subs {
		if f := flows.ReviewFlags(c.cfg.Catalog(), s, texts, byAgency[s.Agency]); len(f) > 0 {
			out[[2]string{s.Indicator, s.Agency}] = f
		}
	}
	return out, nil
}

// addFlags puts each row's flags and their labels on it.
func (c *Console) addFlags(ctx context.Context, rows []indicatorRow) error {
	var subs []domain.Submission
	for _, r := range rows {
		if r.Sub.Status != domain.StatusEmpty {
			subs = append(subs, r.Sub)
		}
	}
	flags, err := c.flagsOf(ctx, subs)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].Flags = flags[[2]string{rows[i].Sub.Indicator, rows[i].Sub.Agency}]
		for _, f := range rows[i].Flags {
			rows[i].FlagLabels = append(rows[i].FlagLabels, flows.FlagLabel(domain.Vietnamese, f))
		}
	}
	return nil
}

// countFlags counts items by flag, every flag listed (zero included).
func countFlags(flags map[[2]string][]string) []flagCount {
	n := map[string]int{}
	for _, fs := range flags {
		for _, f := range fs {
			n[f]++
		}
	}
	out := make([]flagCount, len(flows.AllFlags))
	for i, f := range flows.AllFlags {
		out[i] = flagCount{Flag: f, Label: flows.FlagLabel(domain.Vietnamese, f), N: n[f]}
	}
	return out
}

// evidenceHits is the set of evidence files whose text contains q.
func (c *Console) evidenceHits(ctx context.Context, q string) (map[string]bool, error) {
	ts, ok := c.cfg.Campaign.(storage.EvidenceTextStore)
	if !ok || q == "" {
		return nil, nil
	}
	shas, err := ts.SearchEvidenceText(ctx, q, 500)
	if err != nil {
		return nil, fmt.Errorf("search evidence: %w", err)
	}
	hits := make(map[string]bool, len(shas))
	for _, s := range shas {
		hits[s] = true
	}
	return hits, nil
}

func hasEvidenceIn(s domain.Submission, hits map[string]bool) bool {
	for _, e := range s.Evidence {
		if hits[e.SHA256] {
			return true
		}
	}
	return false
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}
