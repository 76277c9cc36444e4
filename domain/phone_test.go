package domain

import "testing"

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"0912345678":          "0912345678",
		" 0912 345 678 ":      "0912345678",
		"+84 912.345.678":     "0912345678",
		"84912345678":         "0912345678",
		"+84912345678":        "0912345678",
		"(024) 3825-1234":     "02438251234",
		"912345678":           "0912345678",
		"8491234567":          "08491234567",
		"841234567890":        "01234567890",
		"0012345678":          "",
		"091234567":           "",
		"091234567890":        "",
		"09123456a8":          "",
		"0912+345678":         "",
		"":                    "",
		"+":                   "",
		"٠٩١٢٣٤٥٦٧٨":          "",
		"0912345678901234567": "",
	} {
		if got := NormalizePhone(in); got != want {
			t.Errorf("NormalizePhone(%q) = %q, want %q", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { NormalizePhone("+84 912.345.678") }); n > 1 {
		t.Errorf("NormalizePhone: %v allocations, want at most 1 (the result)", n)
	}
}

// A code to normalise costs its result only (and the upper-casing, when
// it has lower-case letters).
func TestNormalizeCodeAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { NormalizeCode("HY-7K3M 9Q") }); n > 1 {
		t.Errorf("NormalizeCode: %v allocations, want at most 1", n)
	}
	if got := NormalizeCode("ABCDEFGH-IJKLMNOP-QRS"); got != "" {
		t.Errorf("a code of 19 characters: %q", got)
	}
}
