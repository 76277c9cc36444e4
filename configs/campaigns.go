package configs

import (
	"io/fs"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Files of the deployment as a whole, beside the event folders of an
// import (`dieuphoi export-config` writes them): every data campaign, the
// indicator catalog, and every agency and person.
const (
	CampaignsFile = "campaigns.yaml"
	CatalogFile   = "indicators.csv"
	AgenciesFile  = "agencies.csv"
	PeopleFile    = "people.csv"
)

// Deployment is what an import directory holds beside its events: nil
// slices for files that are absent.
type Deployment struct {
	Agencies   []domain.Agency
	People     []domain.Person
	Indicators []domain.Indicator
	Campaigns  []domain.CampaignRecord
}

// LoadDeployment reads the deployment files at the top of an import
// directory, each optional. Agencies and people are checked against the
// ones given (those of the event folders; the files' own join them), the
// campaigns' assignments against the catalog, agencies and people. Every
// problem is named with its file, row and field; with any, nothing is
// returned.
func LoadDeployment(fsys fs.FS, agencies []domain.Agency, people []domain.Person) (*Deployment, error) {
	var probs problems
	d := &Deployment{}
	exists := func(name string) bool { _, err := fs.Stat(fsys, name); return err == nil }
	known := map[string]bool{}
	for _, a := range agencies {
		known[a.Code] = true
	}
	if exists(AgenciesFile) {
		if b, ok := readFile(fsys, AgenciesFile, &probs); ok {
			list, err := LoadAgencies(AgenciesFile, b)
			probs.addErr(err)
			d.Agencies = list
			for _, a := range list {
				known[a.Code] = true
			}
		}
	}
	byID := map[string]domain.Person{}
	for _, p := range people {
		byID[p.ID] = p
	}
	if exists(PeopleFile) {
		if b, ok := readFile(fsys, PeopleFile, &probs); ok {
			list, err := LoadPeople(PeopleFile, b, known)
			probs.addErr(err)
			d.People = list
			for _, p := range list {
				byID[p.ID] = p
			}
		}
	}
	var inds map[string]domain.Indicator
	if exists(CatalogFile) {
		if b, ok := readFile(fsys, CatalogFile, &probs); ok {
			list, err := LoadIndicators(CatalogFile, b, known)
			probs.addErr(err)
			if err == nil {
				d.Indicators = list
				inds = map[string]domain.Indicator{}
				for _, i := range list {
					inds[i.Code] = i
				}
			}
		}
	}
	if exists(CampaignsFile) {
		if b, ok := readFile(fsys, CampaignsFile, &probs); ok {
			d.Campaigns = parseCampaigns(fsys, b, inds, known, byID, &probs)
		}
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	return d, nil
}

func parseCampaigns(fsys fs.FS, data []byte, inds map[string]domain.Indicator, agencies map[string]bool, people map[string]domain.Person, probs *problems) []domain.CampaignRecord {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		probs.add(CampaignsFile, 0, "", "not valid YAML: "+err.Error())
		return nil
	}
	if len(root.Content) == 0 {
		return nil
	}
	f := &yamlFile{name: CampaignsFile, probs: probs}
	top := f.mapping(root.Content[0], "", "campaigns")
	list, ok := top.keys["campaigns"]
	if !ok {
		return nil
	}
	list = deref(list)
	if list.Kind != yaml.SequenceNode {
		f.problem(list.Line, "campaigns", "must be a list of campaigns")
		return nil
	}
	var out []domain.CampaignRecord
	seen := map[string]int{}
	for i, n := range list.Content {
		path := "campaigns[" + strconv.Itoa(i+1) + "]"
		o := f.mapping(n, path, "id", "name", "catalog_version", "previous", "renamed", "status", "timezone", "opens",
			"deadline", "agency_deadlines", "staff_contact", "assignments")
		var c domain.CampaignRecord
		var line int
		c.ID, line = o.str("id", true)
		if c.ID != "" && !idRE.MatchString(c.ID) {
			f.problem(line, path+".id", "%s must be letters, digits, '.', '_' or '-' (up to 64)", quote(c.ID))
		}
		if prev, dup := seen[c.ID]; dup && c.ID != "" {
			f.problem(line, path+".id", "%s is also the id of the campaign on line %d", quote(c.ID), prev)
		}
		seen[c.ID] = line
		c.NameVI, c.NameEN = o.text("name", true)
		c.CatalogVersion, _ = o.str("catalog_version", false)
		c.PreviousID, _ = o.str("previous", false)
		st, line := o.str("status", false)
		c.Status = domain.Status(st)
		if st == "" {
			c.Status = domain.StatusOpen
		} else if !c.Status.Valid() {
			f.problem(line, path+".status", "%s is not open, closed or archived", quote(st))
		}
		tz, line := o.str("timezone", false)
		if tz == "" {
			tz = "Asia/Ho_Chi_Minh"
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			f.problem(line, path+".timezone", "%s is not a time zone, e.g. Asia/Ho_Chi_Minh", quote(tz))
			loc = time.UTC
		}
		when := func(key string, dateOnly bool) time.Time {
			v, line := o.str(key, false)
			if v == "" {
				return time.Time{}
			}
			if dateOnly {
				if t, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
					return t
				}
			}
			t, ok := parseDateTime(v, loc)
			if !ok {
				f.problem(line, path+"."+key, "%s is not a date and time; write YYYY-MM-DD HH:MM, e.g. 2025-08-30 17:00", quote(v))
			}
			return t
		}
		c.Opens, c.Deadline = when("opens", true), when("deadline", false)
		if rn, ok := o.keys["renamed"]; ok {
			rn = deref(rn)
			if rn.Kind != yaml.MappingNode {
				f.problem(rn.Line, path+".renamed", "must map this year's indicator codes to last year's, e.g. {\"2.2.2b\": \"2.2.2\"}")
			}
			c.CodeMap = map[string]string{}
			for k := 0; rn.Kind == yaml.MappingNode && k+1 < len(rn.Content); k += 2 {
				key, val := rn.Content[k], deref(rn.Content[k+1])
				if val.Kind != yaml.ScalarNode || strings.TrimSpace(val.Value) == "" {
					f.problem(val.Line, path+".renamed."+key.Value, "must be last year's indicator code")
					continue
				}
				c.CodeMap[strings.TrimSpace(key.Value)] = strings.TrimSpace(val.Value)
			}
		}
		if an, ok := o.keys["agency_deadlines"]; ok {
			an = deref(an)
			if an.Kind != yaml.MappingNode {
				f.problem(an.Line, path+".agency_deadlines", "must be a mapping of agency codes to dates, e.g. {SCT: \"2025-08-23 17:00\"}")
			}
			c.AgencyDeadlines = map[string]time.Time{}
			for k := 0; an.Kind == yaml.MappingNode && k+1 < len(an.Content); k += 2 {
				key, val := an.Content[k], deref(an.Content[k+1])
				field := path + ".agency_deadlines." + key.Value
				t, ok := parseDateTime(cleanText(val.Value), loc)
				switch {
				case len(agencies) > 0 && !agencies[key.Value]:
					f.problem(key.Line, field, "%s is not in the agency list", quote(key.Value))
				case val.Kind != yaml.ScalarNode || !ok:
					f.problem(val.Line, field, "must be a date and time, e.g. \"2025-08-23 17:00\"")
				default:
					c.AgencyDeadlines[key.Value] = t
				}
			}
		}
		if sn, ok := o.keys["staff_contact"]; ok {
			sc := f.mapping(sn, path+".staff_contact", "name", "phone", "email")
			c.StaffContact.Name, _ = sc.str("name", false)
			c.StaffContact.Phone, _ = sc.str("phone", false)
			c.StaffContact.Email, _ = sc.str("email", false)
		}
		if file, _ := o.str("assignments", false); file != "" {
			if b, ok := readFile(fsys, file, probs); ok {
				as, err := loadAssignments(file, b, inds, CodeMatcher(agencies), people,
					deadlines{def: c.Deadline, byAgency: upperKeys(c.AgencyDeadlines)}, loc)
				probs.addErr(err)
				c.Assignments = as
				if c.Assignments == nil && err == nil {
					c.Assignments = []domain.Assignment{}
				}
			}
		}
		out = append(out, c)
	}
	return out
}

func upperKeys(m map[string]time.Time) map[string]time.Time {
	out := map[string]time.Time{}
	for k, v := range m {
		out[strings.ToUpper(k)] = v
	}
	return out
}
