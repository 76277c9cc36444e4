package web

import (
	"strings"

	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// exportNames says what each export is, for the activity log.
var exportNames = map[string]string{
	"attendees.xlsx": "danh sách đại biểu (Excel) để in thẻ, xếp chỗ",
	"xlsx":           "số liệu chỉ số (Excel)",
	"csv":            "số liệu chỉ số (CSV)",
	"zip":            "tệp minh chứng (ZIP)",
	"agency":         "biểu tổng hợp của một đơn vị",
}

var importNames = map[string]string{kindPeople: "danh sách người", kindAssignments: "phân công chỉ số"}

// auditLine turns a row of the audit table into a sentence: people and
// agencies by name, never by their internal code; no version numbers.
func (c *Console) auditLine(e sqlstore.AuditEntry) auditLine {
	dir := c.cfg.Directory()
	name := func(id string) string {
		if p, ok := dir.Person(id); ok {
			if a, ok := dir.Agency(p.AgencyCode); ok {
				return p.FullName + " (" + a.NameVI + ")"
			}
			return p.FullName
		}
		return id
	}
	item := func(key string) string { // "1.1.1/UBND-YM" → "1.1.1 — UBND huyện Yên Mỹ"
		code, agency, ok := strings.Cut(key, "/")
		if !ok {
			return key
		}
		if a, ok := dir.Agency(agency); ok {
			agency = a.NameVI
		}
		return code + " — " + agency
	}
	l := auditLine{At: e.At, Who: e.PersonID, Action: auditNames[e.Action], Detail: e.Detail}
	if p, ok := dir.Person(e.PersonID); ok {
		l.Who = p.FullName
	}
	if l.Action == "" {
		l.Action = "Thao tác khác"
	}
	first, rest, _ := strings.Cut(e.Detail, " ")
	switch e.Action {
	case "checkin.desk", "invite.view", "invite.send":
		id, event, ok := strings.Cut(e.Detail, " @ ") // a check-in to another event than the served one
		l.Detail = name(id)
		if ok {
			l.Detail += " — " + event
		}
	case "checkin.self":
		l.Detail = ""
	case "rsvp.record", "delegate.edit":
		id, more, _ := strings.Cut(e.Detail, ": ")
		id, _, _ = strings.Cut(id, " ")
		l.Detail = name(id)
		if more != "" {
			l.Detail += ": " + more
		}
	case "export":
		if what := exportNames[first]; what != "" {
			l.Detail = what
		}
	case "review.approve", "review.return":
		// "code/agency vN comment"
		_, comment, _ := strings.Cut(rest, " ")
		l.Detail = item(first)
		if comment = strings.TrimSpace(comment); comment != "" {
			l.Detail += "; góp ý: “" + comment + "”"
		}
	case "evidence.download", "evidence.view":
		// "code/agency file name (gửi bởi ID)"
		file, sender, _ := strings.Cut(rest, " (gửi bởi ")
		l.Detail = file + " (" + item(first)
		if sender = strings.TrimSuffix(sender, ")"); sender != "" {
			l.Detail += ", gửi bởi " + name(sender)
		}
		l.Detail += ")"
	case "import.preview", "import.confirm":
		if what := importNames[first]; what != "" {
			l.Detail = what + ", tệp " + rest
		}
	}
	return l
}
