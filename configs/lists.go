package configs

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/dieuphoi/dieuphoi/domain"
)

// table is a list file as rows of trimmed cells, whatever its format.
type table struct {
	file string
	cols map[string]int // field -> cell index, after matching the header
	rows []tableRow
}

// tableRow is one non-blank data row; n is its line (CSV) or row (XLSX)
// number as the user sees it.
type tableRow struct {
	n     int
	cells []string
}

func (r tableRow) get(t *table, field string) string {
	i, ok := t.cols[field]
	if !ok || i >= len(r.cells) {
		return ""
	}
	return r.cells[i]
}

// column describes one column a list file may have. Aliases are written as
// normalizeHeader returns them: lower case, no diacritics, '_' for spaces.
type column struct {
	field    string
	required bool
	aliases  []string
}

// peopleColumns: a lone "Tên" column is not taken as the full name, since
// Vietnamese sheets often split "Họ và tên đệm" from "Tên" (given name).
var peopleColumns = []column{
	{"id", true, []string{"ma", "ma_so", "ma_dai_bieu", "ma_nguoi"}},
	{"full_name", true, []string{"name", "fullname", "ho_ten", "ho_va_ten", "ten_dai_bieu"}},
	{"agency", true, []string{"agency_code", "don_vi", "ma_don_vi", "co_quan", "ma_co_quan"}},
	{"phone", true, []string{"mobile", "phone_number", "so_dien_thoai", "dien_thoai", "sdt", "dt", "di_dong"}},
	{"roles", false, []string{"role", "vai_tro"}},
	{"email", false, []string{"e_mail", "thu_dien_tu"}},
	{"position", false, []string{"title", "chuc_vu", "chuc_danh"}},
	{"invite_token", false, []string{"token"}},
	{"invite_code", false, []string{"ma_moi", "ma_thu_moi"}},
}

var agencyColumns = []column{
	{"code", true, []string{"agency", "agency_code", "ma", "ma_don_vi", "ma_co_quan"}},
	{"name_vi", true, []string{"name", "ten", "ten_don_vi", "ten_co_quan", "ten_tieng_viet"}},
	{"name_en", false, []string{"english_name", "ten_tieng_anh"}},
	{"kind", false, []string{"type", "loai"}},
}

// readTable parses a CSV or XLSX file (by name's extension) and matches its
// header against cols. ok is false when the file cannot be read at all or
// a required column is missing.
func readTable(name string, data []byte, cols []column, probs *problems) (*table, bool) {
	if len(data) > MaxFileSize {
		probs.add(name, 0, "", tooBig)
		return nil, false
	}
	var rows []tableRow
	var ok bool
	switch ext := strings.ToLower(path.Ext(name)); ext {
	case ".csv", ".txt":
		rows, ok = readCSV(name, data, probs)
	case ".xlsx", ".xlsm":
		rows, ok = readXLSX(name, data, probs)
	case ".xls":
		probs.add(name, 0, "", "old Excel format (.xls) is not supported; save it as .xlsx or CSV UTF-8")
	default:
		probs.addf(name, 0, "", "unknown file type %s; use .csv or .xlsx", quote(ext))
	}
	if !ok {
		return nil, false
	}
	if len(rows) == 0 {
		probs.add(name, 0, "", "is empty; the first row must be the header")
		return nil, false
	}
	t := &table{file: name, cols: map[string]int{}, rows: rows[1:]}
	hdr := rows[0]
	for i, h := range hdr.cells {
		key := normalizeHeader(h)
		if key == "" {
			continue
		}
		for _, c := range cols {
			if key != c.field && !contains(c.aliases, key) {
				continue
			}
			if j, dup := t.cols[c.field]; dup {
				probs.addf(name, hdr.n, c.field, "two columns give it: %s and %s", quote(hdr.cells[j]), quote(h))
			} else {
				t.cols[c.field] = i
			}
		}
	}
	ok = true
	for _, c := range cols {
		if _, has := t.cols[c.field]; !has && c.required {
			probs.addf(name, hdr.n, c.field, "required column is missing (header has: %s)", strings.Join(hdr.cells, ", "))
			ok = false
		}
	}
	return t, ok
}

// normalizeHeader folds a column title for matching: "Họ và tên" becomes
// "ho_va_ten", "Full Name" "full_name".
func normalizeHeader(s string) string {
	var b strings.Builder
	under := false
	for _, r := range norm.NFD.String(strings.ToLower(strings.TrimSpace(s))) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ':
			r = 'd'
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
		} else {
			under = true
		}
	}
	return b.String()
}

var bom = []byte("\xEF\xBB\xBF")

func readCSV(name string, data []byte, probs *problems) ([]tableRow, bool) {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		probs.add(name, 0, "", "is UTF-16 text; save it as \"CSV UTF-8\"")
		return nil, false
	}
	data = bytes.TrimPrefix(data, bom)
	if !utf8.Valid(data) {
		probs.add(name, 0, "", "is not UTF-8 text (Vietnamese letters would be garbled); save it as \"CSV UTF-8\"")
		return nil, false
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = sniffComma(data)
	r.FieldsPerRecord = -1
	var rows []tableRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				probs.addf(name, pe.Line, "", "CSV syntax: %v", pe.Err)
			} else {
				probs.addf(name, 0, "", "CSV: %v", err)
			}
			return nil, false
		}
		line, _ := r.FieldPos(0)
		if row, keep := makeRow(line, rec); keep {
			rows = append(rows, row)
		}
	}
	return rows, true
}

// sniffComma picks the separator of the first line: Excel in some locales
// writes ';' instead of ','.
func sniffComma(data []byte) rune {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	best, n := ',', bytes.Count(first, []byte(","))
	for _, c := range []rune{';', '\t'} {
		if k := bytes.Count(first, []byte(string(c))); k > n {
			best, n = c, k
		}
	}
	return best
}

// makeRow cleans cells; blank rows are dropped.
func makeRow(n int, rec []string) (tableRow, bool) {
	blank := true
	cells := make([]string, len(rec))
	for i, c := range rec {
		cells[i] = cleanText(c)
		if cells[i] != "" {
			blank = false
		}
	}
	return tableRow{n: n, cells: cells}, !blank
}

func readXLSX(name string, data []byte, probs *problems) ([]tableRow, bool) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    256 << 20,
		UnzipXMLSizeLimit: 128 << 20,
	})
	if err != nil {
		probs.addf(name, 0, "", "cannot read as an Excel .xlsx workbook: %v", err)
		return nil, false
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		probs.add(name, 0, "", "workbook has no sheets")
		return nil, false
	}
	recs, err := f.GetRows(sheets[0])
	if err != nil {
		probs.addf(name, 0, "", "cannot read sheet %s: %v", quote(sheets[0]), err)
		return nil, false
	}
	var rows []tableRow
	for i, rec := range recs {
		if row, keep := makeRow(i+1, rec); keep {
			rows = append(rows, row)
		}
	}
	return rows, true
}

var (
	agencyCodeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)
	tokenRE      = regexp.MustCompile(`^[A-Za-z0-9_-]{22,}$`)
)

// LoadAgencies parses an agency list: columns code and name_vi required,
// name_en and kind optional. name's extension decides CSV or XLSX, and name
// is used in problems.
func LoadAgencies(name string, data []byte) ([]domain.Agency, error) {
	var probs problems
	t, ok := readTable(name, data, agencyColumns, &probs)
	if !ok {
		return nil, probs.err()
	}
	seen := map[string]int{}
	var out []domain.Agency
	for _, r := range t.rows {
		a := domain.Agency{
			Code:   r.get(t, "code"),
			NameVI: r.get(t, "name_vi"),
			NameEN: r.get(t, "name_en"),
			Kind:   r.get(t, "kind"),
		}
		switch key := strings.ToUpper(a.Code); {
		case a.Code == "":
			probs.add(name, r.n, "code", "is required")
		case !agencyCodeRE.MatchString(a.Code):
			probs.addf(name, r.n, "code", "%s must be letters, digits, '.', '_' or '-' (up to 32), no spaces", quote(a.Code))
		case seen[key] != 0:
			probs.addf(name, r.n, "code", "%s is already used on row %d", quote(a.Code), seen[key])
		default:
			seen[key] = r.n
		}
		if a.NameVI == "" {
			probs.add(name, r.n, "name_vi", "is required")
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		probs.add(name, 0, "", "has no agencies")
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// LoadPeople parses a people list: columns id, full_name, agency and phone
// required; roles, email, position, invite_token and invite_code optional.
// name's extension decides CSV or XLSX, and name is used in problems.
//
// Agency codes must be keys of agencies (matched ignoring case, stored as the
// key is written); a nil map skips that check. Phones are stored normalised
// (domain.NormalizePhone) and invite codes normalised (domain.NormalizeCode).
// Roles are delegate, focal and staff, separated by ';' or ','; none means
// delegate. Two people may not share a phone: the bot recognises people by
// it (a shared contact, a substitute's number), and a shared number would
// match neither; an office line shared by two is a problem with both rows.
func LoadPeople(name string, data []byte, agencies map[string]bool) ([]domain.Person, error) {
	return LoadPeopleWith(name, data, PeopleOptions{Agency: CodeMatcher(agencies)})
}

// AgencyMatcher resolves what a list's agency column says to an agency
// code; ok false: no such agency.
type AgencyMatcher func(s string) (code string, ok bool)

// CodeMatcher matches agency codes ignoring case; a nil map gives a nil
// matcher, which takes any agency as written.
func CodeMatcher(agencies map[string]bool) AgencyMatcher {
	codes := upperCodes(agencies)
	if codes == nil {
		return nil
	}
	return func(s string) (string, bool) {
		c, ok := codes[strings.ToUpper(s)]
		return c, ok
	}
}

// PeopleOptions are the console's ways of reading a people list.
type PeopleOptions struct {
	// Agency resolves the agency column (a code, or a name); nil takes it
	// as written.
	Agency AgencyMatcher
	// NewID, when set, makes the id column optional: a row without an id
	// gets NewID(person) once the rest of its row is read.
	NewID func(p domain.Person) string
}

// LoadPeopleWith is LoadPeople with the console's options.
func LoadPeopleWith(name string, data []byte, o PeopleOptions) ([]domain.Person, error) {
	var probs problems
	cols := peopleColumns
	if o.NewID != nil {
		cols = append([]column(nil), peopleColumns...)
		cols[0].required = false // "id"
	}
	t, ok := readTable(name, data, cols, &probs)
	if !ok {
		return nil, probs.err()
	}
	ids := map[string]int{}
	phones := map[string]int{}
	phoneOwner := map[string]string{}
	tokens := map[string]int{}
	invites := map[string]int{}
	var out []domain.Person
	for _, r := range t.rows {
		bad := func(field, format string, args ...any) {
			probs.addf(name, r.n, field, format, args...)
		}
		p := domain.Person{
			ID:       r.get(t, "id"),
			FullName: r.get(t, "full_name"),
			Position: r.get(t, "position"),
			Email:    r.get(t, "email"),
		}

		needID := false
		switch key := strings.ToUpper(p.ID); {
		case p.ID == "" && o.NewID != nil:
			needID = true
		case p.ID == "":
			bad("id", "is required")
		case !idRE.MatchString(p.ID):
			bad("id", "%s must be letters, digits, '.', '_' or '-' (up to 64), no spaces", quote(p.ID))
		case ids[key] != 0:
			bad("id", "%s is already used on row %d", quote(p.ID), ids[key])
		default:
			ids[key] = r.n
		}

		if p.FullName == "" {
			bad("full_name", "is required")
		}

		agency := r.get(t, "agency")
		switch {
		case agency == "":
			bad("agency", "is required")
		case o.Agency == nil:
			p.AgencyCode = agency
		default:
			if c, ok := o.Agency(agency); ok {
				p.AgencyCode = c
			} else {
				bad("agency", "%s is not in the agency list", quote(agency))
			}
		}

		phone := r.get(t, "phone")
		switch {
		case phone == "":
			bad("phone", "is required")
		case domain.NormalizePhone(phone) == "":
			bad("phone", "%s is not a Vietnamese phone number", quote(phone))
		case phones[domain.NormalizePhone(phone)] != 0:
			np := domain.NormalizePhone(phone)
			bad("phone", "%s is also the phone of %s on row %d; each person needs their own number (the bot recognises people by it)",
				quote(phone), phoneOwner[np], phones[np])
		default:
			p.Phone = domain.NormalizePhone(phone)
			phones[p.Phone], phoneOwner[p.Phone] = r.n, p.ID
		}

		if p.Email != "" && !validEmail(p.Email) {
			bad("email", "%s is not an e-mail address", quote(p.Email))
		}

		roles, unknown := parseRoles(r.get(t, "roles"))
		if unknown != "" {
			bad("roles", "%s is not a role; use delegate, focal or staff, separated by ';'", quote(unknown))
		}
		p.Roles = roles

		if tok := r.get(t, "invite_token"); tok != "" {
			switch {
			case !tokenRE.MatchString(tok):
				bad("invite_token", "%s must be at least 22 characters of A-Z, a-z, 0-9, '-' and '_'", quote(tok))
			case tokens[tok] != 0:
				bad("invite_token", "is already used on row %d", tokens[tok])
			default:
				tokens[tok] = r.n
				p.InviteToken = tok
			}
		}
		if code := r.get(t, "invite_code"); code != "" {
			nc := domain.NormalizeCode(code)
			switch {
			case nc == "":
				bad("invite_code", "%s must be 6 to 16 letters and digits (spaces and '-' allowed)", quote(code))
			case invites[nc] != 0:
				bad("invite_code", "%s is already used on row %d", quote(code), invites[nc])
			default:
				invites[nc] = r.n
				p.InviteCode = nc
			}
		}
		if needID {
			p.ID = o.NewID(p)
			ids[strings.ToUpper(p.ID)] = r.n
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		probs.add(name, 0, "", "has no people")
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// roleNames maps what a list may say (folded like headers) to a role.
var roleNames = map[string]domain.Role{
	"delegate":    domain.RoleDelegate,
	"dai_bieu":    domain.RoleDelegate,
	"focal":       domain.RoleFocal,
	"dau_moi":     domain.RoleFocal,
	"staff":       domain.RoleStaff,
	"can_bo":      domain.RoleStaff,
	"ban_to_chuc": domain.RoleStaff,
}

// parseRoles reads "delegate;focal" into roles in a fixed order (delegate,
// focal, staff). It returns the first unknown name, if any.
func parseRoles(s string) ([]domain.Role, string) {
	have := map[domain.Role]bool{}
	unknown := ""
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		r, ok := roleNames[normalizeHeader(part)]
		if !ok {
			if unknown == "" {
				unknown = part
			}
			continue
		}
		have[r] = true
	}
	if len(have) == 0 {
		have[domain.RoleDelegate] = true
	}
	var out []domain.Role
	for _, r := range []domain.Role{domain.RoleDelegate, domain.RoleFocal, domain.RoleStaff} {
		if have[r] {
			out = append(out, r)
		}
	}
	return out, unknown
}
