package bot

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/flows"
)

// fill sets every exported field reachable from v to a value that is not
// zero (strings "<field>#n", numbers n, true, one map entry, two slice
// items, non-nil pointers), except fields JSON leaves out (json:"-"),
// which sessions never kept.
func fill(v reflect.Value, name string, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(name + "#" + string(rune('a'+*n%26)))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n))
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		v.SetUint(uint64(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), name, n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), name, n)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(k, name+"key"+string(rune('0'+i)), n)
			fill(e, name, n)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2024, 7, 25, 9, 0, *n, 123456789, time.UTC)))
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Tag.Get("json") == "-" {
				continue
			}
			fill(v.Field(i), f.Name, n)
		}
	default:
		panic("fill: add a case for " + v.Kind().String() + " (" + name + ")")
	}
}

// Every field of a saved session comes back from the CBOR form (a field
// the form left out, or a time losing its nanoseconds or zone, fails here).
func TestSessionCodecCoversEveryField(t *testing.T) {
	var s savedSession
	n := 0
	fill(reflect.ValueOf(&s).Elem(), "s", &n)
	got, err := decodeSavedSession(encodeSession(s))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(s)
		t.Errorf("round trip lost something:\n got %s\nwant %s", a, b)
	}
}

// A realistic session: the last step's joined reply (greeting and event
// card, with its buttons), as saved after «/start».
func cardSession() savedSession {
	return savedSession{
		Session: flows.Session{PersonID: "BD000325", Lang: "vi"},
		Update:  "telegram:500000776",
		Replies: []flows.Reply{{
			Text: "Xin chào Nguyễn Văn Thử 325 (Chuyên viên, Hội Liên hiệp phụ nữ)! Anh/chị đã được nhận diện.\n\n📅 Hội nghị triển khai Chỉ số đổi mới sáng tạo cấp địa phương (PII) năm 2024\n🕗 08:00, thứ Sáu, 02/08/2024 (đón tiếp đại biểu từ 07:30)\n📍 Trung tâm Thông tin - Hội nghị tỉnh Hưng Yên — Đường Quảng Trường, phường Hiến Nam, thành phố Hưng Yên\n\nTrạng thái của anh/chị: chưa trả lời\nXin xác nhận trước 17:00 ngày 31/07/2024.",
			Buttons: [][]flows.Button{
				{{Label: "✅ Tham dự", Data: "rsvp:attend"}, {Label: "❌ Không tham dự", Data: "rsvp:decline"}},
				{{Label: "👤 Cử người đi thay", Data: "rsvp:sub"}},
				{{Label: "📋 Chương trình", Data: "menu:agenda"}, {Label: "❓ Trợ giúp", Data: "menu:help"}},
			},
		}},
	}
}

// Sessions stored as JSON before (Redis, SQLite) still load, each field
// as it was.
func TestSessionCodecReadsTheJSONForm(t *testing.T) {
	var full savedSession
	n := 0
	fill(reflect.ValueOf(&full).Elem(), "s", &n)
	for _, tc := range []struct {
		name string
		s    savedSession
	}{
		{"card", cardSession()},
		{"every field", full},
		{"empty", savedSession{}},
		{"locked", savedSession{Session: flows.Session{State: "x", Fails: 3, LockedUntil: time.Date(2024, 7, 25, 9, 15, 0, 0, time.FixedZone("ICT", 7*3600))}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(tc.s) // what the bot wrote until now
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeSavedSession(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Session.LockedUntil.Equal(tc.s.Session.LockedUntil) {
				t.Errorf("LockedUntil %v, want %v", got.Session.LockedUntil, tc.s.Session.LockedUntil)
			}
			got.Session.LockedUntil, tc.s.Session.LockedUntil = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, tc.s) {
				t.Errorf("got %+v\nwant %+v", got, tc.s)
			}
			// And written again in the CBOR form, the same.
			again, err := decodeSavedSession(encodeSession(got))
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("CBOR round trip: %v\n got %+v\nwant %+v", err, again, got)
			}
		})
	}
}

func TestSessionCodecIsSmaller(t *testing.T) {
	s := cardSession()
	js, _ := json.Marshal(s)
	bin := encodeSession(s)
	t.Logf("card session: JSON %d bytes, CBOR %d bytes", len(js), len(bin))
	if len(bin) >= len(js)*9/10 {
		t.Errorf("CBOR %d bytes, JSON %d: expected at least 10%% smaller", len(bin), len(js))
	}
}

// Every cut short or altered session is refused (a fresh start), never a
// panic or a huge allocation.
func TestSessionCodecRefusesDamage(t *testing.T) {
	var s savedSession
	n := 0
	fill(reflect.ValueOf(&s).Elem(), "s", &n)
	raw := encodeSession(s)
	for i := 1; i < len(raw); i++ {
		if _, err := decodeSavedSession(raw[:i]); err == nil {
			t.Errorf("a session cut to %d of %d bytes was read", i, len(raw))
		}
	}
	if _, err := decodeSavedSession(append(raw, 0)); err == nil {
		t.Error("a session with a trailing byte was read")
	}
	for _, bad := range []string{"\x02", "\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "\x01\x7f", "not json",
		"\xbb\xff\xff\xff\xff\xff\xff\xff\xff", "\x9b\xff\xff\xff\xff\xff\xff\xff\xff"} {
		if _, err := decodeSavedSession([]byte(bad)); err == nil {
			t.Errorf("%q was read", bad)
		}
	}
}

func FuzzDecodeSavedSession(f *testing.F) {
	f.Add(encodeSession(cardSession()))
	f.Add([]byte(`{"s":{"p":"A"},"u":"telegram:1"}`))
	f.Add([]byte{0xa1, 0x61, 0x75, 0x61, 0x78})
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := decodeSavedSession(raw)
		if err != nil || len(raw) == 0 || raw[0] == '{' {
			return
		}
		// What was read, written and read again, writes the same bytes:
		// the form is stable whatever a damaged value held.
		first := encodeSession(s)
		again, err := decodeSavedSession(first)
		if err != nil {
			t.Fatalf("re-reading %x: %v", first, err)
		}
		if second := encodeSession(again); !bytes.Equal(first, second) {
			t.Fatalf("re-encoding %q:\n got %x\nwant %x", raw, second, first)
		}
	})
}

// BenchmarkSessionCodec: one update writes and reads a session.
func BenchmarkSessionCodec(b *testing.B) {
	s := cardSession()
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw, _ := json.Marshal(s)
			var got savedSession
			if err := json.Unmarshal(raw, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cbor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeSavedSession(encodeSession(s)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cbor-next-update", func(b *testing.B) {
		// What an update does: read the previous update's session (its
		// replies skipped), write its own.
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeSessionFor(encodeSession(s), "telegram:next"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// An update other than the session's own reads every field but the
// replies and their count; its replay reads them all. A field added to
// savedSession and not to sessionHead fails here (it would be lost when
// the next update saves).
func TestSessionHeadIsTheSessionWithoutReplies(t *testing.T) {
	full, head := reflect.TypeFor[savedSession](), reflect.TypeFor[sessionHead]()
	var want []reflect.StructField
	for i := range full.NumField() {
		if f := full.Field(i); f.Name != "Replies" && f.Name != "Sent" {
			want = append(want, f)
		}
	}
	if head.NumField() != len(want) {
		t.Fatalf("sessionHead has %d fields, savedSession %d besides Replies and Sent", head.NumField(), len(want))
	}
	for i, f := range want {
		h := head.Field(i)
		if h.Name != f.Name || h.Type != f.Type || h.Tag != f.Tag {
			t.Errorf("sessionHead field %d is %s %v %q, savedSession has %s %v %q", i, h.Name, h.Type, h.Tag, f.Name, f.Type, f.Tag)
		}
	}

	var s savedSession
	n := 0
	fill(reflect.ValueOf(&s).Elem(), "s", &n)
	raw := encodeSession(s)
	for _, tc := range []struct {
		name, update string
		want         savedSession
	}{
		{"the next update", "telegram:999", savedSession{Session: s.Session, Update: s.Update, Facts: s.Facts}},
		{"its replay", s.Update, s},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeSessionFor(raw, tc.update)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				a, _ := json.Marshal(got)
				b, _ := json.Marshal(tc.want)
				t.Errorf("got %s\nwant %s", a, b)
			}
		})
	}
	if _, err := decodeSessionFor(raw[:len(raw)/2], "telegram:999"); err == nil {
		t.Error("a truncated session read without error")
	}
}
