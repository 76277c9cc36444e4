package scheduler

import (
	"fmt"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// msg names a text in the catalogs.
type msg string

// The catalogs: every text the scheduler sends, Vietnamese first. Arguments
// are fmt verbs, in the same order in both languages.
var catalogs = map[domain.Lang]map[msg]string{
	domain.Vietnamese: {
		"day_before":       "📅 Nhắc lịch: ngày mai, %s, anh/chị dự %s.\n🕗 Đón tiếp đại biểu từ %s, khai mạc lúc %s.\n📍 %s — %s\n\nBấm “📋 Chương trình” để xem chương trình chi tiết.",
		"morning":          "☀️ Chào buổi sáng! Hôm nay, %s, anh/chị dự %s.\n🕗 Đón tiếp đại biểu từ %s, khai mạc lúc %s.\n📍 %s — %s\n\n📋 Chương trình:\n%s",
		"sub_day_before":   "📅 Nhắc lịch: ngày mai, %s, anh/chị dự %s thay cho %s.\n🕗 Đón tiếp đại biểu từ %s, khai mạc lúc %s.\n📍 %s — %s",
		"agenda_line":      "%d. %s–%s  %s",
		"speaker":          "🎤 Còn %d phút nữa đến phần trình bày của anh/chị:\n%d. %s (%s–%s)\n📍 %s",
		"change_head":      "🔔 Chương trình %s có thay đổi:",
		"change_time":      "• Mục %d “%s”: %s → %s",
		"change_title":     "• Mục %d: “%s” → “%s”",
		"change_added":     "• Thêm mục %d “%s” (%s–%s)",
		"change_removed":   "• Bỏ mục “%s” (%s)",
		"change_tail":      "Bấm “📋 Chương trình” để xem chương trình mới.",
		"chaser":           "📨 Anh/chị chưa xác nhận tham dự %s (%s, %s, tại %s).\nXin xác nhận trước %s bằng các nút bên dưới.",
		"summary_head":     "📊 Tình hình xác nhận tham dự, %s:\n✅ Tham dự: %d · 👤 Cử người thay: %d · ❌ Không tham dự: %d · ⏳ Chưa trả lời: %d (tổng %d)",
		"summary_none":     "Tất cả đại biểu đã trả lời. 🎉",
		"pending_head":     "Chưa trả lời:",
		"unreach_head":     "⚠️ Không gửi được tin nhắn — cần liên hệ trực tiếp:",
		"unreach_line":     "• %s (%s) — %s: %s, từ %s",
		"why_blocked":      "đã chặn bot hoặc bỏ quan tâm",
		"why_window":       "quá 48 giờ chưa nhắn cho OA (quy định của Zalo), sẽ nhận lại tin khi họ nhắn",
		"ladder_before":    "⏰ Còn %d ngày đến hạn gửi số liệu PII (hạn %s). %s còn thiếu %d chỉ tiêu:",
		"ladder_today":     "⏰ Hôm nay là hạn cuối gửi số liệu PII (%s). %s còn thiếu %d chỉ tiêu:",
		"ladder_overdue":   "🚨 Đã quá hạn gửi số liệu PII %d ngày (hạn %s). %s còn thiếu %d chỉ tiêu:",
		"ladder_tail":      "Xin anh/chị nhập và gửi số liệu qua bot. Cần hỗ trợ, xin liên hệ: %s.",
		"task_item":        "• %s %s — %s",
		"esc_staff_head":   "🚨 Các đơn vị quá hạn gửi số liệu PII:",
		"esc_staff_line":   "• %s: hạn %s, quá %d ngày, còn thiếu %d chỉ tiêu (đầu mối: %s)",
		"esc_leader_multi": "Kính gửi %s,\n%s đã quá hạn gửi số liệu Chỉ số đổi mới sáng tạo (PII):\n%s\n\nĐầu mối của đơn vị: %s. Xin đồng chí quan tâm chỉ đạo. Liên hệ: %s.",
		"esc_leader_part":  "Hạn %s — quá %d ngày, còn thiếu %d chỉ tiêu:",
		"esc_leader":       "Kính gửi %s,\n%s đã quá hạn gửi số liệu Chỉ số đổi mới sáng tạo (PII) %d ngày (hạn %s) và còn thiếu %d chỉ tiêu:\n%s\n\nĐầu mối của đơn vị: %s. Xin đồng chí quan tâm chỉ đạo. Liên hệ: %s.",
		"digest_head":      "📈 Tiến độ số liệu PII, %s:",
		"digest_line":      "• %s: còn thiếu %d chỉ tiêu, hạn %s%s",
		"digest_late":      " (quá hạn %d ngày)",
		"digest_none":      "Không đơn vị nào còn thiếu số liệu. 🎉",
		"st_empty":         "chưa nhập",
		"st_draft":         "đang nhập dở, chưa gửi",
		"st_returned":      "bị trả lại, cần sửa",
		"st_submitted":     "đã gửi, chờ duyệt",
		"st_other":         "chưa xong",
		"btn_attend":       "✅ Tham dự",
		"btn_decline":      "❌ Không tham dự",
		"btn_sub":          "👤 Cử người đi thay",
		"btn_agenda":       "📋 Chương trình",
		"more":             "… và %d người khác",
		"skip_late":        "quá hạn: đến lúc %s mới xét, trễ %s (cho phép %s)",
		"skip_nochat":      "chưa kết nối với bot trên kênh nào",
		"skip_unreach":     "không gửi được trên kênh nào (%s)",
		"skip_sub":         "người đi thay chưa kết nối với bot",
		"skip_expired":     "hết hạn lúc %s, chưa gửi được",
		"skip_nosender":    "kênh %s chưa được cấu hình",
	},
	domain.English: {
		"day_before":       "📅 Reminder: tomorrow, %s, you attend %s.\n🕗 Registration from %s, opening at %s.\n📍 %s — %s\n\nTap “📋 Agenda” for the full programme.",
		"morning":          "☀️ Good morning! Today, %s, you attend %s.\n🕗 Registration from %s, opening at %s.\n📍 %s — %s\n\n📋 Agenda:\n%s",
		"sub_day_before":   "📅 Reminder: tomorrow, %s, you attend %s in place of %s.\n🕗 Registration from %s, opening at %s.\n📍 %s — %s",
		"agenda_line":      "%d. %s–%s  %s",
		"speaker":          "🎤 Your session starts in %d minutes:\n%d. %s (%s–%s)\n📍 %s",
		"change_head":      "🔔 The agenda of %s has changed:",
		"change_time":      "• Item %d “%s”: %s → %s",
		"change_title":     "• Item %d: “%s” → “%s”",
		"change_added":     "• New item %d “%s” (%s–%s)",
		"change_removed":   "• Item removed: “%s” (%s)",
		"change_tail":      "Tap “📋 Agenda” for the new programme.",
		"chaser":           "📨 You have not yet replied to the invitation to %s (%s, %s, at %s).\nPlease reply by %s with the buttons below.",
		"summary_head":     "📊 Replies to the invitation, %s:\n✅ Attending: %d · 👤 Substitutes: %d · ❌ Declined: %d · ⏳ No answer: %d (of %d)",
		"summary_none":     "Every delegate has replied. 🎉",
		"pending_head":     "No answer yet:",
		"unreach_head":     "⚠️ Messages cannot be delivered — please contact them directly:",
		"unreach_line":     "• %s (%s) — %s: %s, since %s",
		"why_blocked":      "blocked the bot or unfollowed",
		"why_window":       "no message to the OA for 48 hours (Zalo's rule); reachable again once they write",
		"ladder_before":    "⏰ %d days left to submit the PII data (deadline %s). %s still lacks %d indicators:",
		"ladder_today":     "⏰ Today is the deadline for the PII data (%s). %s still lacks %d indicators:",
		"ladder_overdue":   "🚨 The PII data is %d days overdue (deadline %s). %s still lacks %d indicators:",
		"ladder_tail":      "Please enter and submit the data through the bot. For help, contact: %s.",
		"task_item":        "• %s %s — %s",
		"esc_staff_head":   "🚨 Agencies late with their PII data:",
		"esc_staff_line":   "• %s: deadline %s, %d days late, %d indicators missing (focal point: %s)",
		"esc_leader_multi": "Dear %s,\n%s is late with its Provincial Innovation Index (PII) data:\n%s\n\nThe agency's focal point: %s. Your attention would be appreciated. Contact: %s.",
		"esc_leader_part":  "Deadline %s — %d days late, %d indicators missing:",
		"esc_leader":       "Dear %s,\n%s is %d days late with its Provincial Innovation Index (PII) data (deadline %s) and still lacks %d indicators:\n%s\n\nThe agency's focal point: %s. Your attention would be appreciated. Contact: %s.",
		"digest_head":      "📈 PII data progress, %s:",
		"digest_line":      "• %s: %d indicators missing, deadline %s%s",
		"digest_late":      " (%d days late)",
		"digest_none":      "No agency is missing data. 🎉",
		"st_empty":         "not entered",
		"st_draft":         "draft, not submitted",
		"st_returned":      "returned for correction",
		"st_submitted":     "submitted, awaiting review",
		"st_other":         "not finished",
		"btn_attend":       "✅ Attend",
		"btn_decline":      "❌ Decline",
		"btn_sub":          "👤 Send a substitute",
		"btn_agenda":       "📋 Agenda",
		"more":             "… and %d more",
		"skip_late":        "too late: evaluated at %s, %s after its moment (grace %s)",
		"skip_nochat":      "not linked to the bot on any channel",
		"skip_unreach":     "unreachable on every channel (%s)",
		"skip_sub":         "the substitute is not linked to the bot",
		"skip_expired":     "expired at %s before it could be sent",
		"skip_nosender":    "channel %s is not configured",
	},
}

// Button payloads the flows understand.
const (
	btnAttend  = "rsvp:attend"
	btnDecline = "rsvp:decline"
	btnSub     = "rsvp:sub"
	btnAgenda  = "menu:agenda"
)

// t renders message m in lang, falling back to Vietnamese.
func t(lang domain.Lang, m msg, args ...any) string {
	s, ok := catalogs[lang][m]
	if !ok {
		s = catalogs[domain.Vietnamese][m]
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

func clock(ts time.Time, loc *time.Location) string { return flows.FormatClock(ts.In(loc)) }
func date(lang domain.Lang, ts time.Time, loc *time.Location) string {
	return flows.FormatDate(lang, ts.In(loc))
}

// shortDate is 02/08 in both languages: deadlines are read at a glance.
func shortDate(ts time.Time, loc *time.Location) string { return ts.In(loc).Format("02/01/2006") }

func statusLabel(lang domain.Lang, s domain.SubmissionStatus) string {
	switch s {
	case domain.StatusEmpty, "":
		return t(lang, "st_empty")
	case domain.StatusDraft:
		return t(lang, "st_draft")
	case domain.StatusReturned:
		return t(lang, "st_returned")
	case domain.StatusSubmitted:
		return t(lang, "st_submitted")
	}
	return t(lang, "st_other")
}

func agendaLines(lang domain.Lang, ev *domain.Event, loc *time.Location) string {
	var lines []string
	for _, it := range ev.Agenda {
		lines = append(lines, t(lang, "agenda_line", it.No, clock(it.Start, loc), clock(it.End, loc), it.Title(lang)))
	}
	return strings.Join(lines, "\n")
}

// rsvpButtons are the answer buttons; code, when set, is the event's code
// they answer (flows: "rsvp:attend:CODE"), so that with several events the
// answer goes to the event the reminder was about.
func rsvpButtons(lang domain.Lang, code string) [][]flows.Button {
	sfx := ""
	if code != "" {
		sfx = ":" + code
	}
	return [][]flows.Button{
		{{Label: t(lang, "btn_attend"), Data: btnAttend + sfx}, {Label: t(lang, "btn_decline"), Data: btnDecline + sfx}},
		{{Label: t(lang, "btn_sub"), Data: btnSub + sfx}},
	}
}

func agendaButton(lang domain.Lang) [][]flows.Button {
	return [][]flows.Button{{{Label: t(lang, "btn_agenda"), Data: btnAgenda}}}
}

func organizer(ev *domain.Event) string { return flows.ContactText(ev.Organizer) }

func humanDuration(lang domain.Lang, d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	if lang == domain.English {
		switch {
		case h == 0:
			return fmt.Sprintf("%d min", m)
		case m == 0:
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	switch {
	case h == 0:
		return fmt.Sprintf("%d phút", m)
	case m == 0:
		return fmt.Sprintf("%d giờ", h)
	}
	return fmt.Sprintf("%d giờ %d phút", h, m)
}
