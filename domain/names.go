package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ProperName writes a person's name the Vietnamese way, every word with a
// capital: "nguyễn thị lan" and "NGUYỄN THỊ LAN" become "Nguyễn Thị Lan".
// A word already written in mixed case ("McLean") is kept as typed. Spaces
// are collapsed and the text is NFC, so names typed on any keyboard compare
// and print alike.
func ProperName(s string) string {
	words := strings.Fields(norm.NFC.String(s))
	for i, w := range words {
		words[i] = properWord(w)
	}
	return strings.Join(words, " ")
}

// ProperPosition capitalises the first letter of a position typed all in
// lower case ("phó chánh văn phòng" → "Phó chánh văn phòng"), and keeps any
// other writing (abbreviations such as "UBND" included).
func ProperPosition(s string) string {
	s = strings.Join(strings.Fields(norm.NFC.String(s)), " ")
	if s == "" || s != strings.ToLower(s) {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func properWord(w string) string {
	lower, upper := strings.ToLower(w), strings.ToUpper(w)
	if w != lower && w != upper {
		return w // mixed case: written on purpose
	}
	r := []rune(lower)
	// Capitalise after a hyphen or an apostrophe too ("h'hen" → "H'Hen").
	start := true
	for i, c := range r {
		if start && unicode.IsLetter(c) {
			r[i] = unicode.ToUpper(c)
			start = false
		}
		if c == '-' || c == '\'' {
			start = true
		}
	}
	return string(r)
}

// CleanName is a name someone sent (a file name, a caption) made safe to
// show and store: control and invisible formatting characters (such as a
// right-to-left override that makes "fdp.exe" read "exe.pdf") and broken
// bytes removed, every kind of white space a plain space, no leading or
// trailing spaces or dots.
func CleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return -1
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, s)
	return strings.Trim(s, " .")
}
