package loadtest

import (
	"encoding/csv"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dieuphoi/dieuphoi/configs"
)

// Person is one generated delegate.
type Person struct {
	ID, Token, Agency string
	Phone             string // own number: focal points prove it to act for their agency
	// Indicator is the indicator this person, a focal point, must supply
	// for their agency; "" for a plain delegate.
	Indicator string
}

// Campaign is a generated configuration.
type Campaign struct {
	Dir    string
	People []Person
}

// Focal returns the focal points.
func (c *Campaign) Focal() []Person {
	var out []Person
	for _, p := range c.People {
		if p.Indicator != "" {
			out = append(out, p)
		}
	}
	return out
}

// evidenceIndicators are the example's indicators that take evidence and
// accept the value 5 without a warning (2.2.2 is left out: 5 % is 14 times
// last year's 0,35 %, and the bot asks to confirm before sending).
var evidenceIndicators = []string{"1.1.1", "P1.04", "2.2.1", "2.2.3", "2.2.4", "P2.05", "P3.01",
	"P3.02", "P3.03", "P4.01", "P4.02", "5.1.3", "5.2.1", "5.3.2", "P5.04", "P6.01", "P6.02", "P6.03",
	"P6.04", "P6.05", "P7.01", "P7.03"}

// MaxPerAgency bounds the focal items per agency, so that a focal point's
// list stays one message.
const MaxPerAgency = 8

// WriteCampaign writes a campaign into dir: the example's event, agencies and
// indicators, n delegates with unique ids, phones and invite tokens spread
// over the example's agencies, of whom focal (at most agencies×MaxPerAgency)
// are focal points with one assignment each.
func WriteCampaign(dir string, n, focal int) (*Campaign, error) {
	ex := configs.Example()
	for _, name := range []string{"event.yaml", "agencies.csv", "indicators.csv"} {
		b, err := fs.ReadFile(ex, name)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, err
		}
	}
	agencies, err := agencyCodes(ex)
	if err != nil {
		return nil, err
	}
	focal = min(focal, len(agencies)*MaxPerAgency, n)

	c := &Campaign{Dir: dir}
	var people, assign strings.Builder
	pw, aw := csv.NewWriter(&people), csv.NewWriter(&assign)
	_ = pw.Write([]string{"id", "full_name", "position", "agency", "phone", "email", "roles", "invite_token", "invite_code"})
	_ = aw.Write([]string{"indicator", "agency", "focal", "deadline"})
	for i := range n {
		p := Person{ID: fmt.Sprintf("BD%06d", i+1), Agency: agencies[i%len(agencies)]}
		p.Token = fmt.Sprintf("benchinvite_%s_%08x", p.ID, uint32(i+1)*2654435761)
		roles := "delegate"
		if i < focal {
			// The i-th focal point: agency i mod A, indicator i div A.
			p.Indicator = evidenceIndicators[i/len(agencies)]
			roles = "delegate;focal"
			_ = aw.Write([]string{p.Indicator, p.Agency, p.ID, ""})
		}
		phone := fmt.Sprintf("0912%06d", i+1)
		p.Phone = phone
		_ = pw.Write([]string{p.ID, fmt.Sprintf("Nguyễn Văn Thử %d", i+1), "Chuyên viên", p.Agency, phone, "", roles, p.Token, ""})
		c.People = append(c.People, p)
	}
	pw.Flush()
	aw.Flush()
	if err := os.WriteFile(filepath.Join(dir, "delegates.csv"), []byte(people.String()), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "assignments.csv"), []byte(assign.String()), 0o644); err != nil {
		return nil, err
	}
	if _, err := configs.Load(os.DirFS(dir)); err != nil {
		return nil, fmt.Errorf("generated configuration is invalid: %w", err)
	}
	return c, nil
}

func agencyCodes(ex fs.FS) ([]string, error) {
	f, err := ex.Open("agencies.csv")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[0])
	}
	return out, nil
}
