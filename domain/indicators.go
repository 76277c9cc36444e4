package domain

import "time"

// ValueType is what kind of value an indicator takes.
type ValueType string

const (
	TypeInteger ValueType = "integer"
	TypeDecimal ValueType = "decimal"
	TypePercent ValueType = "percent"
	TypeScore   ValueType = "score"
	TypeYesNo   ValueType = "yesno"
	TypeText    ValueType = "text"
	TypeDate    ValueType = "date"
)

// Valid reports whether t is a known value type.
func (t ValueType) Valid() bool {
	switch t {
	case TypeInteger, TypeDecimal, TypePercent, TypeScore, TypeYesNo, TypeText, TypeDate:
		return true
	}
	return false
}

// Numeric reports whether values of t are numbers.
func (t ValueType) Numeric() bool {
	switch t {
	case TypeInteger, TypeDecimal, TypePercent, TypeScore:
		return true
	}
	return false
}

// Indicator is one line of the PII catalog.
type Indicator struct {
	Code       string
	Pillar     string // e.g. "1 Thể chế"
	NameVI     string
	NameEN     string
	GuidanceVI string
	GuidanceEN string
	Unit       string
	Type       ValueType
	Min, Max   *float64 // allowed range, nil when open
	RefYear    int      // the year the value is about
	Evidence   bool     // an evidence document is required
	Agency     string   // supplying agency code
	LastYear   string   // last year's value as text, when known
	// Plausibility (soft warnings, never a block): ChangeLimit is the
	// relative change from LastYear that warns (0: the default, 0.5 = ±50 %);
	// SoftMin/SoftMax the usual range; Numerator/Denominator the codes of the
	// indicators this one is the ratio of, when the catalog names them.
	ChangeLimit            float64
	SoftMin, SoftMax       *float64
	Numerator, Denominator string
}

// Name returns the indicator's name in lang.
func (i Indicator) Name(lang Lang) string {
	return inLang(lang, i.NameVI, i.NameEN)
}

// Guidance returns the indicator's guidance in lang.
func (i Indicator) Guidance(lang Lang) string {
	return inLang(lang, i.GuidanceVI, i.GuidanceEN)
}

// Assignment asks an agency to supply an indicator by a deadline, through
// one or more focal points.
type Assignment struct {
	Indicator string
	Agency    string
	Focal     []string // person ids
	Deadline  time.Time
}

// Value is a parsed indicator value. Num holds numbers (a percent as its
// number: 12.5 for 12,5 %), Text holds text, Date dates, Bool yes/no. Canon
// is the canonical text stored and compared ("1234.5", "2024-08-02", "yes").
type Value struct {
	Type  ValueType
	Num   float64
	Text  string
	Date  time.Time
	Bool  bool
	Canon string
}

// SubmissionStatus is where an indicator stands for one agency.
type SubmissionStatus string

const (
	StatusEmpty     SubmissionStatus = "empty"     // chưa nhập
	StatusDraft     SubmissionStatus = "draft"     // nháp
	StatusSubmitted SubmissionStatus = "submitted" // đã gửi
	StatusReturned  SubmissionStatus = "returned"  // bị trả lại
	StatusApproved  SubmissionStatus = "approved"  // đã duyệt
)

// Evidence is one document backing a value: a stored file or a link.
type Evidence struct {
	SHA256 string // content address under the data directory; "" for a link
	Name   string
	MIME   string
	Size   int64
	Link   string
	Group  string // files sent together (a Telegram album) share a group
}

// Submission is an agency's answer for one indicator, as it stands.
type Submission struct {
	Indicator   string
	Agency      string
	Status      SubmissionStatus
	Value       string // canonical, see Value.Canon; "" when none
	Note        string
	DocNumber   string // số/ký hiệu of the evidence document
	DocDate     time.Time
	Evidence    []Evidence
	By          string // person id of the last change
	At          time.Time
	ReviewNote  string // staff's comment when returned
	ReviewedBy  string
	ReviewedAt  time.Time
	Version     int // increases with every change; guards concurrent edits
	SubmittedAt time.Time
}

// SubmissionChange is one line of a submission's history.
type SubmissionChange struct {
	Indicator string
	Agency    string
	By        string
	At        time.Time
	Action    string // "draft", "submit", "approve", "return"
	OldValue  string
	NewValue  string
	Evidence  int // how many evidence items the submission had after the change
	Comment   string
}
