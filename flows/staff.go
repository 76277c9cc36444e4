package flows

import (
	"strings"
	"unicode/utf8"
)

// States and buttons of the staff commands.
const (
	stateBcText     = "bc_text"
	stateBcConfirm  = "bc_confirm"
	btnHeadcount    = "st:headcount"
	btnMissing      = "st:missing"
	btnRemindAsk    = "st:remind"
	btnRemindGo     = "rm:go"
	btnBroadcastAsk = "st:broadcast"
	btnBcAudPrefix  = "bc:aud:"
	btnBcSend       = "bc:send"
	btnBcCancel     = "bc:cancel"
)

// Audiences a broadcast can go to (the scheduler's names).
var audiences = []string{"delegates", "accepted", "pending", "focal", "staff"}

// staffCommand handles the staff commands; false when cmd is not one.
func (r *stepper) staffCommand(cmd string) bool {
	switch cmd {
	case "tonghop", "headcount":
		r.staffTask("headcount", "")
	case "chuanop", "missing":
		r.staffTask("missing", "")
	case "dangnhap", "signin":
		r.staffTask("signin", "")
	case "nhacnho", "remind":
		r.staffTask("remind_preview", "")
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
		r.staffTask("headcount", "")
	case d == btnMissing:
		r.staffTask("missing", "")
	case d == btnRemindAsk:
		r.staffTask("remind_preview", "")
	case d == btnRemindGo:
		r.staffTask("remind", "")
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
	case d == btnBcSend:
		if !r.staffOnly() {
			return true
		}
		if r.s.State != stateBcConfirm || r.s.Draft["text"] == "" {
			r.say(r.t("stale_button"))
			return true
		}
		r.tasks = append(r.tasks, Task{Name: "broadcast", Arg: r.s.Draft["aud"] + "\n" + r.s.Draft["text"]})
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
	r.tasks = append(r.tasks, Task{Name: "broadcast_preview", Arg: r.s.Draft["aud"] + "\n" + text})
}

// BroadcastButtons are the buttons under a broadcast preview.
func BroadcastButtons(lang string) [][]Button {
	l := langOf(lang)
	return [][]Button{{{t(l, "btn_bc_send"), btnBcSend}, {t(l, "btn_cancel"), btnBcCancel}}}
}

// RemindButtons are the buttons under a reminder preview.
func RemindButtons(lang string) [][]Button {
	l := langOf(lang)
	return [][]Button{{{t(l, "btn_remind_go"), btnRemindGo}, {t(l, "btn_cancel"), btnBcCancel}}}
}
