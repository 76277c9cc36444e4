// Package domain holds the types every other package speaks: people, the
// event, answers. It does no I/O and imports nothing of the project.
package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// Channel names a messaging platform a person can reach the bot on.
type Channel string

const (
	Telegram Channel = "telegram"
	Zalo     Channel = "zalo"
	Web      Channel = "web"
)

// Role is what a person may do. One person can hold several.
type Role string

const (
	RoleDelegate Role = "delegate"
	RoleFocal    Role = "focal"
	RoleStaff    Role = "staff"
	// RoleSubstitute is held by a substitute while the delegate's answer
	// names them; it is never given in the people list.
	RoleSubstitute Role = "substitute"
)

// SubstituteID is the person id of the substitute a delegate sends: one
// record per delegate, so correcting a misspelt name keeps their
// invitation.
func SubstituteID(delegateID string) string { return delegateID + "~thay" }

// Lang is a message catalog language.
type Lang string

const (
	Vietnamese Lang = "vi"
	English    Lang = "en"
)

// ParseLang returns the language for a code, defaulting to Vietnamese.
func ParseLang(s string) Lang {
	if strings.EqualFold(strings.TrimSpace(s), "en") {
		return English
	}
	return Vietnamese
}

// inLang picks the English text in English when there is one, else the
// Vietnamese.
func inLang(lang Lang, vi, en string) string {
	if lang == English && en != "" {
		return en
	}
	return vi
}

// Agency is an invited body: a department, a district, a central agency.
type Agency struct {
	Code   string
	NameVI string
	NameEN string
	Kind   string
}

// Name returns the agency's name in lang.
func (a Agency) Name(lang Lang) string {
	return inLang(lang, a.NameVI, a.NameEN)
}

// Person is someone the campaign knows: a delegate, a focal point, staff.
// ID is the stable code from the people list; InviteToken (128 bits,
// unguessable) goes into personal links; InviteCode is short enough to type.
// CheckinToken (128 bits) is the only secret the check-in QR code carries: a
// photo of a printed invitation must not open the person's chat.
type Person struct {
	ID          string
	FullName    string
	Position    string
	AgencyCode  string
	Phone       string // normalised, see NormalizePhone
	Email       string
	Roles       []Role
	InviteToken string
	InviteCode  string
	// CheckinToken is what the check-in QR carries: a secret apart from
	// InviteToken, so a printed QR opens no chat.
	CheckinToken string
	// SubstituteFor is, for a substitute, the delegate they replace: a
	// substitute is a guest of their own, with their own invitation and
	// check-in. "" for everyone else.
	SubstituteFor string
}

// Has reports whether p holds role r.
func (p Person) Has(r Role) bool {
	for _, x := range p.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// AgendaItem is one timed line of the programme.
type AgendaItem struct {
	No        int
	Start     time.Time
	End       time.Time
	TitleVI   string
	TitleEN   string
	SpeakerVI string
	SpeakerEN string
}

// Title returns the item's title in lang.
func (a AgendaItem) Title(lang Lang) string {
	return inLang(lang, a.TitleVI, a.TitleEN)
}

// Speaker returns who presents the item, in lang.
func (a AgendaItem) Speaker(lang Lang) string {
	return inLang(lang, a.SpeakerVI, a.SpeakerEN)
}

// Event is the conference delegates are invited to.
type Event struct {
	ID         string
	NameVI     string
	NameEN     string
	Location   *time.Location
	DoorsOpen  time.Time
	Start      time.Time
	End        time.Time
	VenueVI    string
	VenueEN    string
	Address    string
	RSVPCutoff time.Time
	Organizer  Contact
	Agenda     []AgendaItem
	// Issuer is who issues and signs the event's invitation (giấy mời);
	// zero when event.yaml has no invitation section.
	Issuer Issuer
}

// Issuer is the body that issues an event's invitation and who signs it,
// the parts of the letter Decree 30/2020/NĐ-CP prescribes.
type Issuer struct {
	Parent string // cơ quan chủ quản, e.g. "UBND TỈNH HƯNG YÊN"; may be empty
	Body   string // cơ quan ban hành, e.g. "SỞ KHOA HỌC VÀ CÔNG NGHỆ"
	// Number is the số/ký hiệu, e.g. "125/GM-SKHCN", or "/GM-SKHCN" when the
	// clerk writes the number by hand on registering the letter.
	Number string
	Place  string    // the date line's place, e.g. "Hưng Yên"
	Date   time.Time // the letter's date; zero: the day it is printed
	// SignerAuthority is the thẩm quyền line above the title when the signer
	// signs for someone ("KT. GIÁM ĐỐC"); empty when they sign in their own
	// right.
	SignerAuthority string
	SignerTitle     string   // "GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"
	SignerName      string   // "Trần Tùng Chuẩn"
	Recipients      []string // Nơi nhận, e.g. "Như trên", "Lưu: VT, CNĐMST"
}

// Symbol is the số/ký hiệu without its number ("125/GM-SKHCN" →
// "/GM-SKHCN"): what a new event's letter starts from, numbered again when
// the clerk registers it.
func (i Issuer) Symbol() string {
	if k := strings.Index(i.Number, "/"); k >= 0 {
		return i.Number[k:]
	}
	return i.Number
}

// Set reports whether the event has an issuer to print invitations with.
func (i Issuer) Set() bool { return i.Body != "" }

// Name returns the event's name in lang.
func (e Event) Name(lang Lang) string {
	return inLang(lang, e.NameVI, e.NameEN)
}

// Venue returns the venue's name in lang.
func (e Event) Venue(lang Lang) string {
	return inLang(lang, e.VenueVI, e.VenueEN)
}

// Contact is who a person can call when the bot cannot help.
type Contact struct {
	Name  string
	Phone string
	Email string
}

// RSVPStatus is a delegate's answer to the invitation.
type RSVPStatus string

const (
	RSVPPending    RSVPStatus = "pending"
	RSVPAttend     RSVPStatus = "attend"
	RSVPDecline    RSVPStatus = "decline"
	RSVPSubstitute RSVPStatus = "substitute"
)

// Valid reports whether s is one of the known answers.
func (s RSVPStatus) Valid() bool {
	switch s {
	case RSVPPending, RSVPAttend, RSVPDecline, RSVPSubstitute:
		return true
	}
	return false
}

// Substitute is who a delegate sends in their place.
type Substitute struct {
	Name     string
	Position string
	Phone    string
}

// RSVP is one recorded answer; the newest per person is the current one, the
// older ones are its history.
type RSVP struct {
	PersonID   string
	Status     RSVPStatus
	Substitute *Substitute
	Channel    Channel
	At         time.Time
	// By is the staff member who recorded the answer for the person (a
	// phoned-in answer, a walk-in at the door); "" when the person
	// answered themself.
	By string
	// EventID is the event the answer is for; "" for the store's current
	// event.
	EventID string
}

// Identity binds an account on a channel to a person, and says on what
// proof (see SECURITY.md).
type Identity struct {
	Channel  Channel
	UserID   string
	ChatID   string
	PersonID string
	Proof    Proof
	LinkedAt time.Time
}

// Proof is how a chat showed it belongs to a person. Delegates may act on
// any proof; acting for a body (focal point, staff) needs a Verified one.
type Proof string

const (
	// ProofCode: the invite code printed on the invitation was typed.
	ProofCode Proof = "code"
	// ProofLink: the personal invite link (/start <token>) was opened.
	ProofLink Proof = "link"
	// ProofPhoneClaimed: a phone number the platform does not vouch for
	// (Zalo's user_submit_info form, which the user can edit).
	ProofPhoneClaimed Proof = "phone_claimed"
	// ProofPhone: the platform vouches the number is the sender's own
	// (Telegram contact with contact.user_id == from.id).
	ProofPhone Proof = "phone"
	// ProofEnrol: a single-use enrolment link staff issued to this person.
	ProofEnrol Proof = "enrol"
	// ProofDemo: picked in the embedded demo's person picker, which exists
	// only when the bot runs for trying (no DATABASE_URL).
	ProofDemo Proof = "demo"
)

// Verified reports whether p is enough to act for a body.
func (p Proof) Verified() bool {
	return p == ProofPhone || p == ProofEnrol || p == ProofDemo
}

// LinkRef is a short, stable name for a linked chat, for buttons (Telegram
// allows 64 bytes of payload; web chat ids are 64 hex characters).
func (i Identity) LinkRef() string {
	sum := sha256.Sum256([]byte(string(i.Channel) + ":" + i.UserID))
	return hex.EncodeToString(sum[:6])
}

// UpdateKey names one inbound platform update, for idempotency.
type UpdateKey struct {
	Channel  Channel
	UpdateID string
}

func (k UpdateKey) String() string { return string(k.Channel) + ":" + k.UpdateID }

// ErrNotFound is returned by lookups that find nothing.
var ErrNotFound = errors.New("not found")

// NormalizePhone turns the ways Vietnamese numbers are written (0912 345 678,
// +84 912.345.678, 84912345678) into one form, 0912345678, so that a shared
// contact matches the people list. It returns "" for anything that is not a
// plausible Vietnamese phone number.
func NormalizePhone(s string) string {
	// The digits go after a leading 0 in a buffer on the stack: the
	// result is one allocation, and none for what is refused.
	var buf [20]byte
	b := append(buf[:0], '0')
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b = append(b, byte(r))
		case r == '+' && i == 0:
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return ""
		}
	}
	d := b[1:]
	switch {
	case len(d) >= 11 && d[0] == '8' && d[1] == '4':
		d = d[1:]
		d[0] = '0'
	case len(d) == 0 || d[0] != '0':
		d = b
	}
	// Mobile numbers have 10 digits; landlines with area code have 10 or 11.
	if len(d) < 10 || len(d) > 11 || d[1] == '0' {
		return ""
	}
	return string(d)
}

// Invite codes use letters and digits that cannot be mistaken for one
// another when read off paper (no I, O, 0, 1).
const inviteCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// NewInviteToken returns 128 random bits, URL-safe: the secret in a personal
// invite link.
func NewInviteToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewInviteCode returns an 8-character code to print on an invitation and
// type into the chat (40 bits; guessing is throttled by the flows).
func NewInviteCode() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	for i := range b {
		b[i] = inviteCodeAlphabet[int(b[i])%len(inviteCodeAlphabet)]
	}
	return string(b)
}
