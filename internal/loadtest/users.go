package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// Busy is the polite "please send that again" the bot answers when its
// session store is down.
var Busy = flows.Busy(domain.Vietnamese).Text

// Step is one thing a simulated user does and the reply it waits for.
type Step struct {
	Name   string
	Text   string // a text message (or "/command args")
	Press  string // else: press the newest button with this callback data
	Doc    []byte // else: send this document
	DocNm  string
	Phone  string // else: share this number as one's own contact
	Want   string // wait for a reply containing this text...
	Button string // ...or carrying this button
	Or     string // ...or containing this text
	// Extra is how many messages the step's replies take besides the one
	// waited for. A step's replies go out joined as one message (bot/join.go)
	// unless a keyboard stands between them: a focal point's greeting asks
	// for their number on its own keyboard, then comes the card.
	Extra int
}

func (st Step) match(m Msg) bool {
	if st.Button != "" && m.HasButton(st.Button) {
		return true
	}
	if st.Or != "" && strings.Contains(m.Text, st.Or) {
		return true
	}
	return st.Want != "" && strings.Contains(m.Text, st.Want)
}

// Substitute is the substitute every simulated RSVP names.
var Substitute = domain.Substitute{Name: "Phạm Thu Hà", Position: "Phó Trưởng phòng Kế hoạch", Phone: "0911222333"}

// RSVPSteps is a whole RSVP with a substitute, from the invite link.
func RSVPSteps(inviteToken string) []Step {
	return []Step{
		{Name: "start", Text: "/start " + inviteToken, Button: "rsvp:sub"},
		{Name: "sub", Press: "rsvp:sub", Want: "họ và tên"},
		{Name: "name", Text: Substitute.Name, Want: "Chức vụ"},
		{Name: "position", Text: Substitute.Position, Want: "Số điện thoại"},
		{Name: "phone", Text: "0911 222 333", Want: "Xin kiểm tra thông tin", Button: "sub:ok"},
		{Name: "confirm", Press: "sub:ok", Want: "Đã ghi nhận người đi thay"},
	}
}

// AttendSteps is the 3-step RSVP: the invite link, sharing one's
// own number, «Tham dự».
func AttendSteps(inviteToken, phone string) []Step {
	return []Step{
		{Name: "start", Text: "/start " + inviteToken, Button: "rsvp:attend"},
		contactStep(phone),
		{Name: "attend", Press: "rsvp:attend", Want: "sẽ tham dự"},
	}
}

// contactStep shares one's own number after the invite link: a focal point
// is told it is verified, a delegate is shown the event card again.
func contactStep(phone string) Step {
	return Step{Name: "contact", Phone: phone, Want: "Đã xác thực", Button: "rsvp:attend"}
}

// SubstituteSteps is the 7-step substitute: the invite link,
// sharing one's own number, then naming a substitute (RSVPSteps).
func SubstituteSteps(inviteToken, phone string) []Step {
	s := RSVPSteps(inviteToken)
	return append([]Step{s[0], contactStep(phone)}, s[1:]...)
}

// MixSteps gives user i of the benchmark's mix its script: every other
// user the 3-step RSVP, the others the 7-step substitute. attend reports
// which.
func MixSteps(i int, inviteToken, phone string) (steps []Step, attend bool) {
	if i%2 == 0 {
		return AttendSteps(inviteToken, phone), true
	}
	return SubstituteSteps(inviteToken, phone), false
}

// MixMeanSteps is the mean script length of the mix.
const MixMeanSteps = 5

// VerifyStep shares the user's own number, the proof a focal point needs to
// act for their agency (SECURITY.md); an invite link is a delegate's proof.
func VerifyStep(phone string) Step {
	return Step{Name: "verify", Phone: phone, Want: "Đã xác thực"}
}

// EvidencePDF is a small PDF unique to seed (evidence is stored by content).
func EvidencePDF(seed int64) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%%PDF-1.4\n%%âãÏÓ\n%% bench evidence %d\n", seed)
	b.Write(bytes.Repeat([]byte("0 0 obj\n"), 200))
	return b.Bytes()
}

// IndicatorSteps is a focal point's entry of indicator code with an evidence
// file, from the /chiso command to "sent".
func IndicatorSteps(code string, seed int64) []Step {
	return []Step{
		{Name: "chiso", Text: "/chiso", Button: "ind:" + code},
		{Name: "indicator", Press: "ind:" + code, Want: "Xin nhập giá trị"},
		{Name: "value", Text: "5", Button: "iv:ok"},
		{Name: "value ok", Press: "iv:ok", Want: "minh chứng"},
		{Name: "document", Doc: EvidencePDF(seed), DocNm: fmt.Sprintf("Bao cao %d.pdf", seed), Button: "ev:done"},
		{Name: "evidence done", Press: "ev:done", Want: "Số/ký hiệu"},
		{Name: "doc number", Text: "12/BC-" + code, Want: "Ngày ban hành"},
		{Name: "doc date", Text: "20/07/2024", Want: "Ghi chú"},
		{Name: "skip note", Press: "nt:skip", Want: "Xin kiểm tra trước khi gửi"},
		{Name: "send", Press: "sm:send", Want: "Đã gửi chỉ số " + code},
	}
}

// EchoSteps is n texts, each echoed back, for the bare-client baseline.
func EchoSteps(n int) []Step {
	out := make([]Step, n)
	for i := range out {
		t := fmt.Sprintf("echo %d", i)
		out[i] = Step{Name: t, Text: t, Want: t}
	}
	return out
}

// User plays one chat.
type User struct {
	S     *Server
	C     *Chat
	Steps []Step
	// Seen is how many of the chat's messages the user has read.
	Seen int
	// Next is the index of the next step.
	Next int
	// Busy counts "please try again" replies that were retried.
	Busy int
}

// FromInvite fits a script that begins with p's invite link to who p is: a
// focal point's greeting asks for their number on its own keyboard (their
// invite link does not prove it), so the card after it is a message of its
// own.
func FromInvite(p Person, steps []Step) []Step {
	if p.Indicator != "" && len(steps) > 0 {
		steps[0].Extra = 1
	}
	return steps
}

// WantMessages is how many messages the bot sends the user over the whole
// script: one per step, plus the steps' Extra.
func (u *User) WantMessages() int {
	n := len(u.Steps)
	for _, st := range u.Steps {
		n += st.Extra
	}
	return n
}

// Offer sends the user's next step, without waiting.
func (u *User) Offer() error {
	st := u.Steps[u.Next]
	switch {
	case st.Text != "":
		u.S.Text(u.C, st.Text)
	case st.Press != "":
		if _, ok := u.S.Press(u.C, st.Press); !ok {
			return fmt.Errorf("chat %d, step %q: no message has button %q", u.C.ID, st.Name, st.Press)
		}
	case st.Doc != nil:
		u.S.Document(u.C, st.DocNm, "application/pdf", st.Doc)
	case st.Phone != "":
		u.S.Contact(u.C, st.Phone)
	}
	return nil
}

// Await waits for the reply of the step offered last and moves on. A
// "please try again" reply makes it offer the step once more (what a person
// would do), at most retries times.
func (u *User) Await(ctx context.Context, timeout time.Duration, retries int) error {
	st := u.Steps[u.Next]
	for {
		i := u.C.Wait(ctx, u.Seen, timeout, func(m Msg) bool { return st.match(m) || m.Text == Busy })
		if i < 0 {
			msgs := u.C.Messages()
			last := ""
			if len(msgs) > 0 {
				last = msgs[len(msgs)-1].Text
			}
			return fmt.Errorf("chat %d, step %q: no reply %q/%q within %v (%d messages, last %q)",
				u.C.ID, st.Name, st.Want, st.Button, timeout, len(msgs), clip(last, 80))
		}
		msgs := u.C.Messages()
		u.Seen = i + 1
		if msgs[i].Text == Busy && !st.match(msgs[i]) {
			u.Busy++
			if u.Busy > retries {
				return fmt.Errorf("chat %d, step %q: still busy after %d tries", u.C.ID, st.Name, retries)
			}
			time.Sleep(100 * time.Millisecond)
			if err := u.Offer(); err != nil {
				return err
			}
			continue
		}
		u.S.sample(u.C, msgs[i].At)
		u.Next++
		return nil
	}
}

// Run plays every remaining step, each waited for.
func (u *User) Run(ctx context.Context, timeout time.Duration, retries int) error {
	for u.Next < len(u.Steps) {
		if err := u.Offer(); err != nil {
			return err
		}
		if err := u.Await(ctx, timeout, retries); err != nil {
			return err
		}
	}
	return nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
