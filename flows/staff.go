package flows

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
)

// States and buttons of the staff commands.
const (
	stateBcText     = "bc_text"
	stateBcConfirm  = "bc_confirm"
	btnHeadcount    = "st:headcount"
	btnMissing      = "st:missing"
	btnRemindAsk    = "st:remind"
	btnRemindGo     = "rm:go" // + ":" + the preview's confirmation id
	btnBroadcastAsk = "st:broadcast"
	btnBcAudPrefix  = "bc:aud:"
	btnBcSend       = "bc:send" // + ":" + the preview's confirmation id
	btnBcCancel     = "bc:cancel"
)

// A preview of a manual send (reminder, broadcast) may be confirmed within
// this time; a later press of its button asks again with a fresh preview.
const confirmTTL = time.Hour

// confirmID names one preview: the moment it was asked for. Together with
// the staff member it is the idempotency key of the send it confirms, so
// its button sends once however often, or however late, it is pressed.
func (r *stepper) confirmID() string { return strconv.FormatInt(r.f.Now.UnixMilli(), 36) }

// freshConfirm reads the confirmation id carried by a confirm button and
// reports whether it names a preview still valid at this moment.
func (r *stepper) freshConfirm(data, prefix string) (string, bool) {
	id, ok := strings.CutPrefix(data, prefix+":")
	if !ok || id == "" || len(id) > 13 {
		return "", false
	}
	ms, err := strconv.ParseInt(id, 36, 64)
	if err != nil {
		return "", false
	}
	age := r.f.Now.Sub(time.UnixMilli(ms))
	return id, age >= -time.Minute && age <= confirmTTL
}

// Audiences a broadcast can go to (the scheduler's names).
var audiences = []string{"delegates", "accepted", "pending", "focal", "staff"}

// staffCommand handles the staff commands; false when cmd is not one.
func (r *stepper) staffCommand(cmd string) bool {
	switch cmd {
	case "tonghop", "headcount":
		r.staffTask("headcount", r.staffEventID())
	case "diemdanh", "attendance":
		r.staffTask("attendance", r.staffEventID())
	case "chuanop", "missing":
		r.staffTask("missing", "")
	case "dangnhap", "signin":
		r.staffTask("signin", "")
	case "nhacnho", "remind":
		r.remind("remind_preview", r.remindToken())
	case "thongbao", "broadcast":
		r.askAudience()
	default:
		return false
	}
	return true
}

// staffButton handles the staff buttons; false when data is not one.
func (r *stepper) staffButton(d string) bool {
	switch {
	case d == btnHeadcount:
		r.staffTask("headcount", r.staffEventID())
	case d == btnMissing:
		r.staffTask("missing", "")
	case d == btnRemindAsk:
		r.remind("remind_preview", r.remindToken())
	case d == btnRemindGo || strings.HasPrefix(d, btnRemindGo+":"):
		if r.remindClosed() {
			r.remind("remind", "") // says the cut-off has passed; sends nothing
			return true
		}
		token := strings.TrimPrefix(d, btnRemindGo+":")
		ms, code, _ := strings.Cut(token, ":")
		_, ok := r.freshConfirm(btnRemindGo+":"+ms, btnRemindGo)
		if !ok || code != r.staffEventCode() {
			// An old button (or one from before confirmations had ids),
			// or one previewed for another event than the one now
			// chosen: never send on it; show the current state to
			// confirm again.
			if r.staffOnly() {
				r.say(r.t("confirm_expired"))
				r.staffTask("remind_preview", RemindArg(r.remindToken(), r.staffEventID()))
			}
			return true
		}
		r.remind("remind", token)
	case d == btnBroadcastAsk:
		r.askAudience()
	case strings.HasPrefix(d, btnBcAudPrefix):
		if !r.staffOnly() {
			return true
		}
		aud := strings.TrimPrefix(d, btnBcAudPrefix)
		if !validAudience(aud) {
			r.say(r.t("stale_button"))
			r.askAudience()
			return true
		}
		r.reset()
		r.s.State, r.s.Draft = stateBcText, map[string]string{"aud": aud}
		r.say(r.t("bc_ask_text"))
	case d == btnBcSend || strings.HasPrefix(d, btnBcSend+":"):
		if !r.staffOnly() {
			return true
		}
		// The token is the preview's moment and, for an event chosen
		// with /sukien, its code (remindToken): a preview made for one
		// event never sends for another.
		id := strings.TrimPrefix(d, btnBcSend+":")
		ms, code, _ := strings.Cut(id, ":")
		_, fresh := r.freshConfirm(btnBcSend+":"+ms, btnBcSend)
		if r.s.State != stateBcConfirm || r.s.Draft["text"] == "" || id != r.s.Draft["cid"] || code != r.staffEventCode() {
			r.say(r.t("stale_button"))
			return true
		}
		if !fresh {
			r.reset()
			r.say(r.t("confirm_expired"))
			r.askAudience()
			return true
		}
		r.tasks = append(r.tasks, Task{Name: "broadcast", Arg: BroadcastArg(id, r.s.Draft["aud"], r.s.Draft["text"])})
		r.reset()
		r.say(r.t("bc_sending"))
	case d == btnBcCancel:
		r.reset()
		r.say(r.t("cancelled"), r.menuButtons()...)
	default:
		return false
	}
	return true
}

func validAudience(a string) bool {
	for _, x := range audiences {
		if x == a {
			return true
		}
	}
	return false
}

func (r *stepper) staffTask(name, arg string) {
	if !r.staffOnly() {
		return
	}
	r.reset()
	r.tasks = append(r.tasks, Task{Name: name, Arg: arg})
}

// remind asks for RSVP reminders to the event chosen with /sukien (the
// served one until then), which only make sense before its cut-off:
// afterwards delegates can no longer answer in chat. token is the
// preview's (remindToken).
func (r *stepper) remind(task, token string) {
	if !r.staffOnly() {
		return
	}
	if r.remindClosed() {
		r.reset()
		r.say(r.t("remind_closed", r.dateTime(r.remindEvent().RSVPCutoff)), r.menuButtons()...)
		return
	}
	r.staffTask(task, RemindArg(token, r.staffEventID()))
}

// remindEvent is the event RSVP reminders are about: the one chosen with
// /sukien, else the served one.
func (r *stepper) remindEvent() domain.Event {
	if rec, ok := r.staffEventRec(); ok {
		return rec.Event
	}
	return *r.f.Event
}

func (r *stepper) remindClosed() bool {
	ev := r.remindEvent()
	return !ev.RSVPCutoff.IsZero() && !r.f.Now.Before(ev.RSVPCutoff)
}

// remindToken is a reminder preview's confirmation id: the moment
// (confirmID) and, for an event chosen with /sukien, ":" and its code, so
// that its confirmation sends to the event previewed and no other.
func (r *stepper) remindToken() string {
	if code := r.staffEventCode(); code != "" {
		return r.confirmID() + ":" + code
	}
	return r.confirmID()
}

// RemindArg is the argument of the reminder tasks: the preview's token
// and the id of the event ("" for the served one).
func RemindArg(token, eventID string) string {
	if eventID == "" {
		return token
	}
	return token + "\n" + eventID
}

// SplitRemindArg reads RemindArg.
func SplitRemindArg(arg string) (token, eventID string) {
	token, eventID, _ = strings.Cut(arg, "\n")
	return token, eventID
}

func (r *stepper) askAudience() {
	if !r.staffOnly() {
		return
	}
	r.reset()
	var rows [][]Button
	for _, a := range audiences {
		rows = append(rows, []Button{{r.t(msg("aud_" + a)), btnBcAudPrefix + a}})
	}
	r.say(r.t("bc_ask_audience"), rows...)
}

// broadcastText takes the announcement's text and asks the bot layer for a
// preview (how many people, a sample) with the send and cancel buttons.
func (r *stepper) broadcastText() {
	if !r.staffOnly() {
		return
	}
	if r.in.Kind != InText {
		r.say(r.t("text_expected", r.t("bc_ask_text")))
		return
	}
	text := strings.TrimSpace(r.in.Text)
	if n := utf8.RuneCountInString(text); n < 5 || n > 1500 {
		r.say(r.t("bc_bad_text"))
		return
	}
	r.s.State = stateBcConfirm
	r.s.Draft["text"] = text
	r.s.Draft["cid"] = r.remindToken()
	r.tasks = append(r.tasks, Task{Name: "broadcast_preview", Arg: BroadcastArg(r.s.Draft["cid"], r.s.Draft["aud"], text)})
}

// BroadcastArg is the argument of the broadcast tasks: the confirmation id
// of the preview, the audience and the text.
func BroadcastArg(id, audience, text string) string { return id + "\n" + audience + "\n" + text }

// SplitBroadcastArg reads BroadcastArg.
func SplitBroadcastArg(arg string) (id, audience, text string) {
	id, rest, _ := strings.Cut(arg, "\n")
	audience, text, _ = strings.Cut(rest, "\n")
	return id, audience, text
}

// BroadcastPreview is what staff see before confirming an announcement:
// how many it reaches, how many it will not (they have not connected to
// the bot), and the text; id is the preview's confirmation id.
func BroadcastPreview(lang domain.Lang, id string, reached, unreached int, text string) Reply {
	out := t(lang, "bc_preview", reached)
	if unreached > 0 {
		out += "\n" + t(lang, "unreached", unreached)
	}
	return Reply{Text: out + "\n\n" + t(lang, "bc_preview_text", text), Buttons: BroadcastButtons(string(lang), id)}
}

// RemindPreview is what staff see before confirming RSVP reminders; id is
// the preview's confirmation id.
func RemindPreview(lang domain.Lang, id string, reached, unreached int) Reply {
	if reached == 0 {
		return Reply{Text: t(lang, "unreached", unreached)}
	}
	out := t(lang, "remind_preview", reached)
	if unreached > 0 {
		out += "\n" + t(lang, "unreached", unreached)
	}
	return Reply{Text: out, Buttons: RemindButtons(string(lang), id)}
}

// SignInReply carries the console's one-time sign-in link as a button that
// opens it, never as an address to copy.
func SignInReply(lang domain.Lang, link string) Reply {
	return Reply{Text: t(lang, "signin_link"), Link: &LinkButton{Label: t(lang, "btn_signin"), URL: link}}
}

// BroadcastButtons are the buttons under a broadcast preview; id is the
// preview's confirmation id.
func BroadcastButtons(lang, id string) [][]Button {
	l := langOf(lang)
	return [][]Button{{{t(l, "btn_bc_send"), btnBcSend + ":" + id}, {t(l, "btn_cancel"), btnBcCancel}}}
}

// RemindButtons are the buttons under a reminder preview; id is the
// preview's confirmation id.
func RemindButtons(lang, id string) [][]Button {
	l := langOf(lang)
	return [][]Button{{{t(l, "btn_remind_go"), btnRemindGo + ":" + id}, {t(l, "btn_cancel"), btnBcCancel}}}
}
