package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dieuphoi/dieuphoi/configs"
	"github.com/dieuphoi/dieuphoi/domain"
)

// campaignZone is the time zone campaign dates are written in: the first
// event's, else Vietnam's.
func campaignZone(events []domain.EventRecord) *time.Location {
	for _, r := range events {
		if r.Event.Location != nil {
			return r.Event.Location
		}
	}
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		return time.FixedZone("ICT", 7*3600)
	}
	return loc
}

// writeDeployment writes what belongs to the deployment as a whole into
// out, in the formats `dieuphoi import` reads: every agency and person
// (agencies.csv, people.csv; substitutes are made by answers and left
// out), the indicator catalog (indicators.csv), and every data campaign
// (campaigns.yaml, with campaigns/ID-assignments.csv for a campaign that
// has its own assignments).
func writeDeployment(out string, dir *domain.Directory, inds []domain.Indicator, campaigns []domain.CampaignRecord, loc *time.Location) error {
	var ags [][]string
	for _, a := range dir.Agencies() {
		ags = append(ags, []string{a.Code, a.NameVI, a.NameEN, a.Kind})
	}
	if err := writeCSV(filepath.Join(out, configs.AgenciesFile), []string{"code", "name_vi", "name_en", "kind"}, ags); err != nil {
		return err
	}
	var people [][]string
	for _, p := range dir.People() {
		if p.SubstituteFor != "" {
			continue
		}
		var roles []string
		for _, ro := range p.Roles {
			roles = append(roles, string(ro))
		}
		people = append(people, []string{p.ID, p.FullName, p.Position, p.AgencyCode, p.Phone, p.Email, strings.Join(roles, ";")})
	}
	if err := writeCSV(filepath.Join(out, configs.PeopleFile), []string{"id", "full_name", "position", "agency", "phone", "email", "roles"}, people); err != nil {
		return err
	}
	if len(inds) > 0 {
		num := func(f *float64) string {
			if f == nil {
				return ""
			}
			return decimalComma(*f)
		}
		var rows [][]string
		for _, i := range inds {
			year, change, evidence := "", "", "no"
			if i.RefYear != 0 {
				year = strconv.Itoa(i.RefYear)
			}
			if i.ChangeLimit != 0 {
				change = decimalComma(i.ChangeLimit * 100)
			}
			if i.Evidence {
				evidence = "yes"
			}
			rows = append(rows, []string{i.Code, i.Pillar, i.NameVI, i.NameEN, i.GuidanceVI, i.GuidanceEN, i.Unit, string(i.Type),
				num(i.Min), num(i.Max), year, evidence, i.Agency, i.LastYear, change, num(i.SoftMin), num(i.SoftMax), i.Numerator, i.Denominator})
		}
		if err := writeCSV(filepath.Join(out, configs.CatalogFile), []string{"code", "pillar", "name_vi", "name_en", "guidance_vi", "guidance_en",
			"unit", "value_type", "min", "max", "ref_year", "evidence_required", "agency", "last_year_value", "change_limit",
			"soft_min", "soft_max", "numerator", "denominator"}, rows); err != nil {
			return err
		}
	}
	if len(campaigns) == 0 {
		return nil
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	var list []map[string]any
	for _, c := range campaigns {
		m := map[string]any{"id": c.ID, "name": map[string]string{"vi": c.NameVI}, "status": string(c.Status), "timezone": loc.String()}
		if c.NameEN != "" {
			m["name"].(map[string]string)["en"] = c.NameEN
		}
		for k, v := range map[string]string{"catalog_version": c.CatalogVersion, "previous": c.PreviousID, "opens": stamp(c.Opens), "deadline": stamp(c.Deadline)} {
			if v != "" {
				m[k] = v
			}
		}
		if len(c.CodeMap) > 0 {
			m["renamed"] = c.CodeMap
		}
		if len(c.AgencyDeadlines) > 0 {
			ad := map[string]string{}
			for k, t := range c.AgencyDeadlines {
				ad[k] = stamp(t)
			}
			m["agency_deadlines"] = ad
		}
		if sc := c.StaffContact; sc.Name != "" || sc.Phone != "" || sc.Email != "" {
			m["staff_contact"] = map[string]string{"name": sc.Name, "phone": sc.Phone, "email": sc.Email}
		}
		if c.Assignments != nil {
			name := "campaigns/" + c.ID + "-assignments.csv"
			if err := os.MkdirAll(filepath.Join(out, "campaigns"), 0o755); err != nil {
				return err
			}
			var rows [][]string
			for _, a := range c.Assignments {
				rows = append(rows, []string{a.Indicator, a.Agency, strings.Join(a.Focal, ";"), stamp(a.Deadline)})
			}
			if err := writeCSV(filepath.Join(out, filepath.FromSlash(name)), []string{"indicator", "agency", "focal", "deadline"}, rows); err != nil {
				return err
			}
			m["assignments"] = name
		}
		list = append(list, m)
	}
	raw, err := yaml.Marshal(map[string]any{"campaigns": list})
	if err != nil {
		return err
	}
	head := "# Data campaigns of the deployment, written by `dieuphoi export-config`; `dieuphoi import` reads it.\n" +
		"# Times are local to each campaign's timezone; renamed maps this round's indicator codes to the previous round's.\n"
	return os.WriteFile(filepath.Join(out, configs.CampaignsFile), append([]byte(head), raw...), 0o644)
}

// decimalComma writes f with the decimal comma the catalog files use
// (a dot could be read as a thousands separator).
func decimalComma(f float64) string {
	return strings.Replace(strconv.FormatFloat(f, 'f', -1, 64), ".", ",", 1)
}

// campaignHash is an imported campaign's source hash: importing the same
// files again changes nothing (and keeps console edits made since).
func campaignHash(c domain.CampaignRecord) (string, error) {
	c.SourceHash, c.CreatedAt, c.UpdatedAt = "", time.Time{}, time.Time{}
	raw, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("hash campaign %s: %w", c.ID, err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// catalogOf reads the indicator catalog for export-config.
func catalogOf(ctx context.Context, es eventStore) ([]domain.Indicator, error) {
	inds, _, err := es.LoadCatalog(ctx)
	return inds, err
}
