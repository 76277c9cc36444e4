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

// SaveSubmission stores a focal point's entry for one indicator: a draft or
// a submission. It applies only when the stored version is still
// ExpectVersion (0: nothing stored yet) and the item is not approved, so two
// people editing at once cannot overwrite each other silently.
type SaveSubmission struct {
	Submission    Submission
	Action        string // "draft" or "submit"
	ExpectVersion int
}

// ReviewSubmission approves a submitted indicator or returns it with a
// comment. It applies only to the version the reviewer saw.
type ReviewSubmission struct {
	Indicator     string
	Agency        string
	Approve       bool
	Comment       string
	By            string
	ExpectVersion int
}

func (SaveSubmission) isEffect()   {}
func (ReviewSubmission) isEffect() {}
