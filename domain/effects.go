package domain

// Effect is a change a flow asks for. Flows return effects instead of doing
// I/O; the dispatcher applies all effects of one update in one transaction.
type Effect interface{ isEffect() }

// LinkIdentity binds a channel account to a person, with the proof in
// Identity.Proof. Enrolment, when set, is the SHA-256 of the enrolment link
// that proved it: it is used up in the same transaction, and when it was
// used or expired meanwhile the link is made with ProofLink instead.
type LinkIdentity struct {
	Identity  Identity
	Enrolment string
}

// UnlinkIdentity removes a channel account's link to a person. By is who
// asked (the person, or a staff member in the console), for the audit.
type UnlinkIdentity struct {
	Channel  Channel
	UserID   string
	PersonID string
	By       string
	From     Channel // where it was asked: a chat channel or "console"
}

// Audit records an action in the audit trail, in the update's transaction.
type Audit struct {
	PersonID string
	Action   string
	Detail   string
	Channel  Channel
}

func (UnlinkIdentity) isEffect() {}
func (Audit) isEffect()          {}

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
	// CampaignID is the campaign the entry is for; "" for the store's
	// current one.
	CampaignID string
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
	// CampaignID is the campaign the item belongs to; "" for the store's
	// current one.
	CampaignID string
}

func (SaveSubmission) isEffect()   {}
func (ReviewSubmission) isEffect() {}
