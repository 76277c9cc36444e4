// Package flows holds the conversations: data plus pure step functions.
// A step takes the chat's session, one input and read-only facts, and returns
// the new session, the replies and the effects to apply. Nothing here does
// I/O or reads the clock; the bot layer does both.
package flows

import (
	"strings"
	"time"
	"unicode"

	"github.com/dieuphoi/dieuphoi/domain"
)

// InputKind says what arrived from the user.
type InputKind string

const (
	InText    InputKind = "text"
	InCommand InputKind = "command"
	InButton  InputKind = "button"
	InContact InputKind = "contact"
	InFile    InputKind = "file"
	InSticker InputKind = "sticker"
	InOther   InputKind = "other"
	// InReading is not from the user: the bot layer read an evidence file
	// they sent (in the background) and brings the text back to the chat.
	InReading InputKind = "reading"
)

// Input is one message or button press, already neutral of the channel.
// Its JSON (the inbox's payload) leaves out what is empty: most of it for
// any one update.
type Input struct {
	Kind    InputKind `json:",omitempty"`
	Text    string    `json:",omitempty"` // the text typed, or a command's argument string
	Command string    `json:",omitempty"` // without the slash, lower-case: "start", "huy"
	Data    string    `json:",omitempty"` // a button's payload
	// Contact sharing: the phone and whether the contact is the sender's own
	// (Telegram: contact.user_id == from.id). ContactVerified says the
	// platform vouches for it (Telegram's own-contact share; the demo
	// picker): only then is it proof enough to act for a body. Zalo's
	// user_submit_info form is editable by the user, so it is not.
	Phone           string `json:",omitempty"`
	ContactIsSelf   bool   `json:",omitempty"`
	ContactVerified bool   `json:",omitempty"`
	// PhoneForm: the phone came from a form the bot sends (Zalo's
	// request_user_info card); it is taken only when the bot asked for it.
	PhoneForm bool `json:",omitempty"`
	// DemoPick: the embedded demo's person picker chose who this chat is
	// (webchat with the picker on, never in production).
	DemoPick bool      `json:",omitempty"`
	Files    []FileRef `json:",omitempty"`
	Reading  *Reading  `json:",omitempty"` // for InReading
}

// FileRef points at a file the user sent, on the channel it came from.
type FileRef struct {
	ID       string
	Name     string
	MIME     string
	Size     int64
	GroupID  string // Telegram media_group_id: an album counts as one set
	IsPhoto  bool
	Caption  string
	Download string // channel-neutral handle the adapter can fetch, never a token-bearing URL
	// Set by the dispatcher once the file is fetched and stored: its content
	// address, or why it was refused ("too_large", "bad_type", "fetch_failed").
	SHA256  string
	Problem string
}

// Session is where one chat is in its conversation. It is small and
// serialisable: it lives in Redis (or the embedded store) with a TTL.
type Session struct {
	PersonID string      `json:"p,omitempty"`
	Lang     domain.Lang `json:"l,omitempty"`
	State    string      `json:"s,omitempty"`
	// Draft holds answers given so far in a multi-step form.
	Draft map[string]string `json:"d,omitempty"`
	// Fails counts wrong answers to the current question, or failed
	// identification attempts while the person is unknown.
	Fails       int       `json:"f,omitempty"`
	LockedUntil time.Time `json:"u,omitempty"`
	// ContactAsked: the bot asked this chat for its phone number, so a
	// phone form answer (Zalo's user_submit_info) is expected. One that was
	// never asked for is not accepted.
	ContactAsked bool `json:"ca,omitempty"`
	// Event is the code of the event this chat is about when the person is
	// invited to several (Facts.Events), "" until they pick one.
	Event string `json:"ev,omitempty"`
	// StaffEvent is the code of the event a staff member's commands are
	// about (/sukien switches), "" for Facts.Event.
	StaffEvent string `json:"sev,omitempty"`
	// Campaign is the id of the data campaign this chat is about when the
	// person has several open ones (Facts.Campaigns), "" until they choose
	// (/chiendich): a focal point's indicators, a staff member's /duyet,
	// /chuanop and /xuat.
	Campaign string `json:"cp,omitempty"`
}

// Facts are what a step may read besides the session and the input.
type Facts struct {
	Now       time.Time
	Channel   domain.Channel
	UserID    string
	ChatID    string
	Event     *domain.Event
	Directory *domain.Directory
	// Person is the person this chat is linked to, nil when unknown. It is
	// read from the database on every update, never from the session.
	Person *domain.Person
	// Proof is how this chat was linked to Person; only a verified proof
	// lets Person act as a focal point or staff (SECURITY.md).
	Proof domain.Proof
	// Enrolment is what the bot layer found for an enrolment link in a
	// /start argument, nil when the input carries none.
	Enrolment *Enrolment
	// Links are Person's linked chats, loaded when the input is an unlink
	// button.
	Links []domain.Identity
	// StateOf is whose state RSVP, Lang, Submissions and ReviewQueue are:
	// Person's, or, while Person is unknown, the Candidate the input names.
	StateOf string
	// RSVP is the current answer, nil when there is none yet.
	RSVP *domain.RSVP
	// Lang is the person's stored preference, "" when none.
	Lang domain.Lang
	// The data campaign: the catalog, the person's agency's submissions by
	// indicator code (focal points), and the review queue (staff).
	Catalog     *domain.Catalog
	Submissions map[string]domain.Submission
	ReviewQueue []domain.Submission
	// EvidenceTexts is what was read in the review queue's evidence files,
	// by SHA256 (staff), for the review flags.
	EvidenceTexts map[string]domain.EvidenceText
	// Helpdesk is who focal points call about the data campaign.
	Helpdesk domain.Contact
	// Tasks are the plan tasks Person owns and the sent follow-up tasks of
	// their agency (focal points), loaded only when WantsTasks.
	Tasks []domain.Task
	// PublicURL is the bot's base URL (no trailing /), for links: evidence
	// in the console (PublicURL/admin/…), a substitute's check-in page;
	// "" when unknown.
	PublicURL string
	// Events are the open events Person is invited to that are not over,
	// soonest first (domain.UpcomingFor), and EventRSVPs Person's answer to
	// each by event id. With one event that is Event, or none, the chat is
	// about Event alone.
	Events     []domain.EventRecord
	EventRSVPs map[string]*domain.RSVP
	// AllEvents are every open event not over, soonest first, for a staff
	// member to choose which one their commands are about (staff only).
	AllEvents []domain.EventRecord
	// Campaigns are the open data campaigns Person may choose from (a
	// focal point's agency supplies indicators, or staff), set only when
	// there are several; CampaignID is the one Catalog, Submissions and
	// ReviewQueue are about (CampaignFor), "" for the store's current one.
	Campaigns  []domain.CampaignRecord
	CampaignID string
	// EventCode is the code of Event, which answer buttons of its own
	// reminders carry ("" when events are not records).
	EventCode string
	// Meeting is the meeting's state for this person (documents, votes),
	// loaded only when WantsMeeting; nil otherwise.
	Meeting *MeetingFacts
}

// Button is one tappable choice. Data is at most 64 bytes (Telegram's limit).
type Button struct {
	Label string
	Data  string
}

// Reply is one message to the user.
type Reply struct {
	Text    string
	Buttons [][]Button
	// AskContact shows a one-tap "share my phone number" keyboard where the
	// channel has one.
	AskContact bool
	// File is a document to send (an export, a calendar file).
	File *File `json:",omitempty"`
	// Link is a button under the text that opens a link (Telegram's URL
	// button, Zalo's oa.open.url, a link button in the web chat), after the
	// other buttons.
	Link *LinkButton `json:",omitempty"`
	// Optional marks a reply the conversation does not need (the calendar
	// file after «Tham dự»): when it cannot be sent at once it is left
	// out rather than hold the chat's next message.
	Optional bool `json:",omitempty"`
}

// LinkButton is a button that opens a link (http or https) instead of
// coming back as a press.
type LinkButton struct {
	Label string
	URL   string
}

// File is an outgoing document. Its bytes are not kept in sessions.
type File struct {
	Name string
	MIME string
	Data []byte `json:"-"`
	// Path, when set instead of Data, is a temporary file on disk holding
	// the content (a large export): senders read it from there, and the
	// bot layer removes it once the reply is sent.
	Path string `json:"-"`
	// Blob, when set instead of Data and Path, is the SHA-256 of a stored
	// file (a meeting document): the bot layer reads it before sending, so
	// a queued message carries the reference, not the bytes.
	Blob string `json:",omitempty"`
}

// Notice is a message to another person, sent after the effects are saved
// (a focal point told that staff returned their indicator).
type Notice struct {
	PersonID string
	Replies  []Reply
	// Skip is a chat of the person the notice must not go to (the chat
	// whose new link it announces).
	Skip *domain.Identity `json:",omitempty"`
}

// Result is what a step returns.
type Result struct {
	Session Session
	Replies []Reply
	Effects []domain.Effect
	Notices []Notice
	// Tasks are requests the bot layer carries out after the effects are
	// saved, because they need I/O a step must not do (build an export,
	// count the headcount, send a broadcast); their replies go to the chat.
	Tasks []Task
	// Refused says why the input asked for something this person may not
	// have (another agency's indicator, a staff action): the bot layer logs
	// it for the operators.
	Refused string
}

// Task names one such request. Arg is the task's own data.
type Task struct {
	Name string
	Arg  string
}

// SplitCommand reads a "/command@target argument" message the way every
// channel does: the command lower-cased, the @target (a bot's username, on
// Telegram) and the argument trimmed. ok is false for text that is not a
// command ("/", "/@bot", "/path/like").
func SplitCommand(text string) (name, target, arg string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", "", false
	}
	head, rest := text, ""
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		head, rest = text[:i], text[i:]
	}
	name, target, _ = strings.Cut(head[1:], "@")
	if name == "" || strings.ContainsRune(name, '/') {
		return "", "", "", false
	}
	return strings.ToLower(name), target, strings.TrimSpace(rest), true
}
