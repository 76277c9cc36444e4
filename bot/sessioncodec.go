package bot

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// A saved session is written in a compact binary form read and written
// for every update: each string as its length (a varint) and its bytes,
// numbers as varints, the reply flags as one byte, in a fixed order: no
// field names, no escaping, no zero time ("0001-01-01T00:00:00Z"), so the
// card session is 744 bytes instead of 945 (most of what is left is the
// reply's text), and decoding costs one copy of the bytes instead of a
// reflection walk (the strings are slices of that copy). The first byte tells the forms apart: JSON (the
// sessions stored before) starts with '{' and is still read.
//
// Adding a field to flows.Session, flows.Reply, flows.Button, flows.File
// or flows.LinkButton needs it added here too: TestSessionCodecCoversEveryField
// fills every field and fails when one does not come back.
const sessionV1 byte = 1

// Reply flags.
const (
	replyAskContact byte = 1 << iota
	replyOptional
	replyFile
	replyLink
)

// encodeSession writes s in the binary form.
func encodeSession(s savedSession) []byte {
	n := 64 + len(s.Update) + len(s.Session.PersonID) + len(s.Session.State)
	for _, r := range s.Replies {
		n += 8 + len(r.Text)
		for _, row := range r.Buttons {
			for _, b := range row {
				n += 4 + len(b.Label) + len(b.Data)
			}
		}
	}
	b := make([]byte, 0, n)
	b = append(b, sessionV1)
	ss := s.Session
	b = appendStr(b, ss.PersonID)
	b = appendStr(b, string(ss.Lang))
	b = appendStr(b, ss.State)
	b = binary.AppendUvarint(b, uint64(len(ss.Draft)))
	keys := make([]string, 0, len(ss.Draft))
	for k := range ss.Draft {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the same session, the same bytes
	for _, k := range keys {
		b = appendStr(b, k)
		b = appendStr(b, ss.Draft[k])
	}
	b = binary.AppendVarint(b, int64(ss.Fails))
	if ss.LockedUntil.IsZero() {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = binary.AppendVarint(b, ss.LockedUntil.Unix())
		b = binary.AppendUvarint(b, uint64(ss.LockedUntil.Nanosecond()))
	}
	b = appendBool(b, ss.ContactAsked)
	b = appendStr(b, ss.Event)
	b = appendStr(b, ss.StaffEvent)
	b = appendStr(b, ss.Campaign)

	b = appendStr(b, s.Update)
	b = binary.AppendUvarint(b, uint64(max(s.Sent, 0)))
	b = binary.AppendUvarint(b, uint64(len(s.Replies)))
	for _, r := range s.Replies {
		b = appendStr(b, r.Text)
		b = binary.AppendUvarint(b, uint64(len(r.Buttons)))
		for _, row := range r.Buttons {
			b = binary.AppendUvarint(b, uint64(len(row)))
			for _, btn := range row {
				b = appendStr(b, btn.Label)
				b = appendStr(b, btn.Data)
			}
		}
		var flags byte
		if r.AskContact {
			flags |= replyAskContact
		}
		if r.Optional {
			flags |= replyOptional
		}
		if r.File != nil {
			flags |= replyFile
		}
		if r.Link != nil {
			flags |= replyLink
		}
		b = append(b, flags)
		if r.File != nil {
			// Data and Path are not kept, as in the JSON form.
			b = appendStr(b, r.File.Name)
			b = appendStr(b, r.File.MIME)
			b = appendStr(b, r.File.Blob)
		}
		if r.Link != nil {
			b = appendStr(b, r.Link.Label)
			b = appendStr(b, r.Link.URL)
		}
	}
	// The cached facts (factsCache) are a nested record read once per
	// update; they go as their JSON, "" for none.
	var facts []byte
	if s.Facts != nil {
		facts, _ = json.Marshal(s.Facts) // plain data: cannot fail
	}
	return appendStr(b, string(facts))
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

var errBadSession = errors.New("session: truncated or malformed")

// decodeSavedSession reads either form.
func decodeSavedSession(raw []byte) (savedSession, error) {
	var s savedSession
	if len(raw) == 0 {
		return s, nil
	}
	if raw[0] == '{' {
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	if raw[0] != sessionV1 {
		return savedSession{}, errBadSession
	}
	d := sessionReader{s: string(raw), i: 1}
	ss := &s.Session
	ss.PersonID = d.str()
	ss.Lang = domain.Lang(d.str())
	ss.State = d.str()
	if n := d.count(); n > 0 {
		ss.Draft = make(map[string]string, n)
		for range n {
			k := d.str()
			ss.Draft[k] = d.str()
		}
	}
	ss.Fails = int(d.varint())
	if d.byte() == 1 {
		sec := d.varint()
		ss.LockedUntil = time.Unix(sec, int64(d.uvarint())).UTC()
	}
	ss.ContactAsked = d.byte() == 1
	ss.Event = d.str()
	ss.StaffEvent = d.str()
	ss.Campaign = d.str()

	s.Update = d.str()
	s.Sent = int(d.uvarint())
	if n := d.count(); n > 0 {
		s.Replies = make([]flows.Reply, n)
		for i := range s.Replies {
			r := &s.Replies[i]
			r.Text = d.str()
			if rows := d.count(); rows > 0 {
				r.Buttons = make([][]flows.Button, rows)
				for j := range r.Buttons {
					row := make([]flows.Button, d.count())
					for k := range row {
						row[k] = flows.Button{Label: d.str(), Data: d.str()}
					}
					r.Buttons[j] = row
				}
			}
			flags := d.byte()
			r.AskContact = flags&replyAskContact != 0
			r.Optional = flags&replyOptional != 0
			if flags&replyFile != 0 {
				r.File = &flows.File{Name: d.str(), MIME: d.str(), Blob: d.str()}
			}
			if flags&replyLink != 0 {
				r.Link = &flows.LinkButton{Label: d.str(), URL: d.str()}
			}
		}
	}
	if facts := d.str(); facts != "" && !d.bad {
		s.Facts = new(cachedFacts)
		if err := json.Unmarshal([]byte(facts), s.Facts); err != nil {
			return savedSession{}, errBadSession
		}
	}
	if d.bad || d.i != len(d.s) {
		return savedSession{}, errBadSession
	}
	return s, nil
}

// sessionReader reads the binary form from one copy of the bytes; after a
// malformed or short field every read gives zero values and bad is set.
type sessionReader struct {
	s   string
	i   int
	bad bool
}

func (d *sessionReader) uvarint() uint64 {
	if d.bad {
		return 0
	}
	v, n := uvarintString(d.s[d.i:])
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.i += n
	return v
}

func (d *sessionReader) varint() int64 {
	u := d.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

// count reads a number of items, refusing more than the bytes left could
// hold (at least one byte each), so a corrupt length cannot make a huge
// allocation.
func (d *sessionReader) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.i) {
		d.bad = true
		return 0
	}
	return int(n)
}

func (d *sessionReader) str() string {
	n := d.count()
	if d.bad {
		return ""
	}
	v := d.s[d.i : d.i+n]
	d.i += n
	return v
}

func (d *sessionReader) byte() byte {
	if d.bad || d.i >= len(d.s) {
		d.bad = true
		return 0
	}
	c := d.s[d.i]
	d.i++
	return c
}

// uvarintString is binary.Uvarint over a string.
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -1
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}
