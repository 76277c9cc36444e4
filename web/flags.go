package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/export"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
)

// The review flags (flows.ReviewFlags) in the console: on each item of the
// indicators page, as a filter there, and counted on the overview.

type flagCount struct {
	Flag, Label string
	N           int
}

// flagsOf computes the flags of subs, by (indicator, agency); siblings
// are what the ratio checks compare with (nil: subs themselves). Flags
// computed once are kept (flagCache) while the submission, its agency's
// values, the catalog and the reading of its evidence stay the same, so a
// view loads the evidence texts of changed items only, never all of them
// again.
func (c *Console) flagsOf(ctx context.Context, cat *domain.Catalog, subs, siblings []domain.Submission) (map[[2]string][]string, error) {
	if cat == nil || len(subs) == 0 {
		return nil, nil
	}
	ts, _ := c.cfg.Campaign.(storage.EvidenceTextStore)
	stamper, ok := c.cfg.Campaign.(interface {
		EvidenceTextStamps(ctx context.Context, shas []string) (map[string]time.Time, error)
	})
	if !ok {
		return export.ReviewFlags(ctx, ts, cat, subs, siblings)
	}
	var shas []string
	for _, s := range subs {
		for _, e := range s.Evidence {
			if e.SHA256 != "" {
				shas = append(shas, e.SHA256)
			}
		}
	}
	stamps, err := stamper.EvidenceTextStamps(ctx, shas)
	if err != nil {
		return nil, fmt.Errorf("evidence text stamps: %w", err)
	}
	if siblings == nil {
		siblings = subs
	}
	values := map[string][]string{}
	for _, s := range siblings {
		values[s.Agency] = append(values[s.Agency], s.Indicator+"="+s.Value)
	}
	out := map[[2]string][]string{}
	keys := make([]string, len(subs))
	var miss []domain.Submission
	c.flags.mu.Lock()
	for i, s := range subs {
		keys[i] = flagKey(cat, s, stamps, values[s.Agency])
		if f, ok := c.flags.m[keys[i]]; ok {
			if len(f) > 0 {
				out[[2]string{s.Indicator, s.Agency}] = f
			}
		} else {
			miss = append(miss, s)
		}
	}
	c.flags.mu.Unlock()
	if len(miss) == 0 {
		return out, nil
	}
	fresh, err := export.ReviewFlags(ctx, ts, cat, miss, siblings)
	if err != nil {
		return nil, err
	}
	c.flags.mu.Lock()
	defer c.flags.mu.Unlock()
	if c.flags.m == nil || len(c.flags.m)+len(miss) > maxCachedFlags {
		c.flags.m = map[string][]string{} // bounded: start again rather than grow
	}
	for i, s := range subs {
		k := [2]string{s.Indicator, s.Agency}
		if _, done := c.flags.m[keys[i]]; done {
			continue
		}
		if f, ok := fresh[k]; ok {
			out[k] = f
			c.flags.m[keys[i]] = f
		} else if _, cached := out[k]; !cached {
			c.flags.m[keys[i]] = nil
		}
	}
	return out, nil
}

// maxCachedFlags bounds the flag cache (a few hundred bytes an entry).
const maxCachedFlags = 20000

// flagCache keeps computed review flags by flagKey.
type flagCache struct {
	mu sync.Mutex
	m  map[string][]string
}

// flagKey names everything a submission's flags depend on: the catalog
// (a new one after an import), the submission's value, document and
// times, when each of its evidence files was read, and its agency's
// values (the ratio checks).
func flagKey(cat *domain.Catalog, s domain.Submission, stamps map[string]time.Time, agencyValues []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%p\x00%s\x00%s\x00%d\x00%s\x00%s\x00%s\x00%s\x00", cat, s.Indicator, s.Agency, s.Version, s.Value,
		s.DocNumber, s.DocDate.UTC().Format(time.RFC3339), s.SubmittedAt.UTC().Format(time.RFC3339Nano))
	for _, e := range s.Evidence {
		fmt.Fprintf(h, "%s@%s\x00", e.SHA256, stamps[e.SHA256].Format(time.RFC3339Nano))
	}
	sorted := slices.Clone(agencyValues)
	slices.Sort(sorted)
	for _, v := range sorted {
		fmt.Fprintf(h, "%s\x00", v)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// addFlags puts each row's flags and their labels on it; siblings are the
// submissions the ratio checks compare with (nil: the rows'); cat is the
// chosen campaign's catalog (its last year's values).
func (c *Console) addFlags(ctx context.Context, cat *domain.Catalog, rows []indicatorRow, siblings []domain.Submission) error {
	var subs []domain.Submission
	for _, r := range rows {
		if r.Sub.Status != domain.StatusEmpty {
			subs = append(subs, r.Sub)
		}
	}
	flags, err := c.flagsOf(ctx, cat, subs, siblings)
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
