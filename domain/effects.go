package domain

// Effect is a change a flow asks for. Flows return effects instead of doing
// I/O; the dispatcher applies all effects of one update in one transaction.
type Effect interface{ isEffect() }

// LinkIdentity binds a channel account to a person.
type LinkIdentity struct{ Identity Identity }

// SaveRSVP records a new answer; earlier answers stay as history.
type SaveRSVP struct{ RSVP RSVP }

// SetLanguage stores a person's preferred language.
type SetLanguage struct {
	PersonID string
	Lang     Lang
}

func (LinkIdentity) isEffect() {}
func (SaveRSVP) isEffect()     {}
func (SetLanguage) isEffect()  {}
