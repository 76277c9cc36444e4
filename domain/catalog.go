package domain

import "sort"

// Catalog is the read-only snapshot of the data campaign: the indicators in
// catalog order and who must supply what by when.
type Catalog struct {
	order       []string
	indicators  map[string]Indicator
	assignments map[string][]Assignment // by agency
	deadline    map[[2]string]Assignment
}

// NewCatalog indexes indicators and assignments.
func NewCatalog(indicators []Indicator, assignments []Assignment) *Catalog {
	c := &Catalog{
		indicators:  make(map[string]Indicator, len(indicators)),
		assignments: map[string][]Assignment{},
		deadline:    make(map[[2]string]Assignment, len(assignments)),
	}
	for _, i := range indicators {
		c.indicators[i.Code] = i
		c.order = append(c.order, i.Code)
	}
	for _, a := range assignments {
		c.assignments[a.Agency] = append(c.assignments[a.Agency], a)
		c.deadline[[2]string{a.Indicator, a.Agency}] = a
	}
	return c
}

// Indicator returns the indicator with code.
func (c *Catalog) Indicator(code string) (Indicator, bool) {
	if c == nil {
		return Indicator{}, false
	}
	i, ok := c.indicators[code]
	return i, ok
}

// Indicators returns the catalog in order.
func (c *Catalog) Indicators() []Indicator {
	if c == nil {
		return nil
	}
	out := make([]Indicator, 0, len(c.order))
	for _, code := range c.order {
		out = append(out, c.indicators[code])
	}
	return out
}

// Assignment returns what agency must supply for indicator.
func (c *Catalog) Assignment(indicator, agency string) (Assignment, bool) {
	if c == nil {
		return Assignment{}, false
	}
	a, ok := c.deadline[[2]string{indicator, agency}]
	return a, ok
}

// ForAgency returns an agency's assignments in catalog order.
func (c *Catalog) ForAgency(agency string) []Assignment {
	if c == nil {
		return nil
	}
	as := append([]Assignment(nil), c.assignments[agency]...)
	pos := map[string]int{}
	for i, code := range c.order {
		pos[code] = i
	}
	sort.SliceStable(as, func(i, j int) bool { return pos[as[i].Indicator] < pos[as[j].Indicator] })
	return as
}

// Assignments returns every assignment, by agency code then catalog order.
func (c *Catalog) Assignments() []Assignment {
	if c == nil {
		return nil
	}
	agencies := make([]string, 0, len(c.assignments))
	for a := range c.assignments {
		agencies = append(agencies, a)
	}
	sort.Strings(agencies)
	var out []Assignment
	for _, a := range agencies {
		out = append(out, c.ForAgency(a)...)
	}
	return out
}

// MayEdit reports whether person p may enter indicator for agency: they are
// a focal point of that very agency and the agency supplies the indicator.
// Any focal point of the agency may enter its items (a colleague covers for
// one on leave); the ones named on the assignment are reminded and answer
// for it.
func (c *Catalog) MayEdit(p Person, indicator, agency string) bool {
	if !p.Has(RoleFocal) || p.AgencyCode != agency {
		return false
	}
	_, ok := c.Assignment(indicator, agency)
	return ok
}
