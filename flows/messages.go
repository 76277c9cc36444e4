package flows

import (
	"fmt"

	"github.com/dieuphoi/dieuphoi/domain"
)

// msg names a text in the catalogs.
type msg string

// The catalogs: every text a user can see, Vietnamese first. Arguments are
// fmt verbs, in the same order in both languages.
var catalogs = map[domain.Lang]map[msg]string{
	domain.Vietnamese: {
		"welcome_unknown": "Xin chào! Đây là trợ lý điều phối của Sở Khoa học và Công nghệ.\n\nĐể bắt đầu, xin anh/chị cho biết mình là ai bằng một trong ba cách:\n• Bấm vào liên kết mời riêng trong giấy mời;\n• Bấm nút «Chia sẻ số điện thoại» bên dưới;\n• Gõ mã mời in trên giấy mời (ví dụ: HY7K3M9Q).",
		"bad_token":       "Liên kết mời này không hợp lệ hoặc đã được thay. Anh/chị có thể chia sẻ số điện thoại hoặc gõ mã mời in trên giấy mời.",
		"not_own_contact": "Xin vui lòng chia sẻ số điện thoại của chính anh/chị (nút «Chia sẻ số điện thoại»), không phải danh bạ của người khác.",
		"phone_unknown":   "Số điện thoại này chưa có trong danh sách khách mời. Anh/chị có thể gõ mã mời in trên giấy mời, hoặc liên hệ Ban tổ chức: %s.",
		"code_unknown":    "Mã «%s» không khớp với giấy mời nào. Xin kiểm tra lại mã in trên giấy mời, hoặc chia sẻ số điện thoại.",
		"too_many_tries":  "Anh/chị đã nhập sai nhiều lần. Xin thử lại sau %d phút, hoặc liên hệ Ban tổ chức: %s.",
		"identify_hint":   "Xin gõ mã mời, bấm «Chia sẻ số điện thoại», hoặc mở liên kết mời riêng.",
		"greet":           "Xin chào %s (%s, %s)! Anh/chị đã được nhận diện.",
		"share_phone":     "📱 Chia sẻ số điện thoại",

		"card":         "📅 %s\n🕗 %s, %s (đón tiếp đại biểu từ %s)\n📍 %s — %s\n\nTrạng thái của anh/chị: %s\nXin xác nhận trước %s.",
		"card_closed":  "📅 %s\n🕗 %s, %s (đón tiếp đại biểu từ %s)\n📍 %s — %s\n\nTrạng thái của anh/chị: %s\nĐã hết hạn thay đổi xác nhận (%s).",
		"btn_attend":   "✅ Tham dự",
		"btn_decline":  "❌ Không tham dự",
		"btn_sub":      "👤 Cử người đi thay",
		"btn_agenda":   "📋 Chương trình",
		"btn_help":     "❓ Trợ giúp",
		"btn_card":     "✏️ Đổi câu trả lời",
		"st_pending":   "chưa trả lời",
		"st_attend":    "tham dự",
		"st_decline":   "không tham dự",
		"st_sub":       "cử người đi thay: %s (%s, %s)",
		"saved_attend": "✅ Đã ghi nhận: anh/chị sẽ tham dự. Hẹn gặp anh/chị lúc %s ngày %s tại %s.",
		"saved_decline": "Đã ghi nhận: anh/chị không tham dự. Cảm ơn anh/chị đã báo. " +
			"Nếu thay đổi ý định, xin bấm «Đổi câu trả lời» trước %s.",
		"saved_sub":       "✅ Đã ghi nhận người đi thay: %s (%s, %s). Ban tổ chức sẽ đón tiếp người đi thay lúc %s ngày %s.",
		"same_answer":     "Câu trả lời này đã được ghi nhận từ trước, không có gì thay đổi.",
		"rsvp_closed":     "Đã hết hạn thay đổi xác nhận tham dự (%s). Nếu cần thay đổi, xin liên hệ Ban tổ chức: %s.",
		"not_delegate":    "Anh/chị không có trong danh sách đại biểu dự Hội nghị nên không cần xác nhận tham dự.",
		"sub_ask_name":    "Người đi thay: xin cho biết họ và tên đầy đủ (ví dụ: Nguyễn Thị Lan).\nGõ /huy để thôi.",
		"sub_ask_pos":     "Chức vụ, đơn vị công tác của %s? (ví dụ: Phó Trưởng phòng Kế hoạch)",
		"sub_ask_phone":   "Số điện thoại di động của %s? (ví dụ: 0912 345 678)",
		"sub_bad_name":    "Họ và tên cần có ít nhất hai chữ, chỉ gồm chữ cái (ví dụ: Nguyễn Thị Lan). Xin nhập lại.",
		"sub_bad_pos":     "Chức vụ cần từ 2 đến 120 ký tự và có chữ cái. Xin nhập lại.",
		"sub_bad_phone":   "«%s» không phải số điện thoại Việt Nam hợp lệ. Xin nhập 10 chữ số, ví dụ 0912 345 678.",
		"sub_confirm":     "Xin kiểm tra thông tin người đi thay:\n• Họ tên: %s\n• Chức vụ: %s\n• Điện thoại: %s\n\nThông tin đã đúng chưa?",
		"btn_confirm":     "✅ Xác nhận",
		"btn_edit":        "✏️ Sửa",
		"btn_cancel":      "✖️ Hủy",
		"cancelled":       "Đã hủy, không có gì được thay đổi.",
		"nothing_cancel":  "Không có thao tác nào đang dở.",
		"use_buttons":     "Xin chọn một trong các nút bên dưới.",
		"text_expected":   "Tôi chỉ đọc được chữ ở bước này. %s",
		"stale_button":    "Nút này không còn hiệu lực. Đây là thông tin mới nhất:",
		"agenda_head":     "📋 Chương trình %s\n%s, %s\n",
		"agenda_line":     "%d. %s–%s  %s\n    👤 %s",
		"help":            "Các lệnh:\n/xacnhan — xác nhận tham dự, cử người đi thay\n/chuongtrinh — xem chương trình Hội nghị\n/ngonngu — đổi ngôn ngữ (Tiếng Việt / English)\n/huy — thôi thao tác đang làm\n/trogiup — trợ giúp\n\nCần hỗ trợ, xin liên hệ Ban tổ chức: %s.",
		"lang_ask":        "Chọn ngôn ngữ / Choose a language:",
		"lang_set":        "Đã chuyển sang Tiếng Việt.",
		"unknown_command": "Tôi chưa hiểu lệnh «/%s». Gõ /trogiup để xem các lệnh.",
		"idle_hint":       "Xin chọn một việc bên dưới, hoặc gõ /trogiup để xem các lệnh.",
		"file_unexpected": "Hiện chưa cần gửi tệp. %s",
		"busy":            "Hệ thống đang bận, tin nhắn vừa rồi chưa được xử lý. Xin anh/chị gửi lại sau ít phút.",
	},
	domain.English: {
		"welcome_unknown": "Hello! This is the coordination assistant of the Department of Science and Technology.\n\nTo begin, please tell me who you are in one of three ways:\n• Open the personal link in your invitation;\n• Tap «Share my phone number» below;\n• Type the invitation code printed on your invitation (for example HY7K3M9Q).",
		"bad_token":       "This invitation link is not valid or has been replaced. You can share your phone number or type the code printed on your invitation.",
		"not_own_contact": "Please share your own phone number (the «Share my phone number» button), not someone else's contact.",
		"phone_unknown":   "This phone number is not on the guest list. You can type the invitation code, or contact the organisers: %s.",
		"code_unknown":    "The code «%s» does not match any invitation. Please check the code printed on your invitation, or share your phone number.",
		"too_many_tries":  "Too many wrong attempts. Please try again in %d minutes, or contact the organisers: %s.",
		"identify_hint":   "Please type your invitation code, tap «Share my phone number», or open your personal invitation link.",
		"greet":           "Hello %s (%s, %s)! You have been recognised.",
		"share_phone":     "📱 Share my phone number",

		"card":         "📅 %s\n🕗 %s, %s (registration from %s)\n📍 %s — %s\n\nYour status: %s\nPlease reply by %s.",
		"card_closed":  "📅 %s\n🕗 %s, %s (registration from %s)\n📍 %s — %s\n\nYour status: %s\nReplies closed on %s.",
		"btn_attend":   "✅ Attend",
		"btn_decline":  "❌ Decline",
		"btn_sub":      "👤 Send a substitute",
		"btn_agenda":   "📋 Agenda",
		"btn_help":     "❓ Help",
		"btn_card":     "✏️ Change my answer",
		"st_pending":   "no answer yet",
		"st_attend":    "attending",
		"st_decline":   "not attending",
		"st_sub":       "substitute: %s (%s, %s)",
		"saved_attend": "✅ Recorded: you will attend. See you at %s on %s at %s.",
		"saved_decline": "Recorded: you will not attend. Thank you for letting us know. " +
			"If your plans change, tap «Change my answer» before %s.",
		"saved_sub":       "✅ Substitute recorded: %s (%s, %s). The organisers will welcome them at %s on %s.",
		"same_answer":     "That answer was already recorded; nothing changed.",
		"rsvp_closed":     "Replies closed on %s. To change your answer, please contact the organisers: %s.",
		"not_delegate":    "You are not on the delegate list for the conference, so there is nothing to confirm.",
		"sub_ask_name":    "Substitute: please give their full name (for example Nguyễn Thị Lan).\nType /cancel to stop.",
		"sub_ask_pos":     "What is %s's position and unit? (for example Deputy Head of Planning)",
		"sub_ask_phone":   "%s's mobile number? (for example 0912 345 678)",
		"sub_bad_name":    "A full name needs at least two words, letters only (for example Nguyễn Thị Lan). Please type it again.",
		"sub_bad_pos":     "The position needs 2 to 120 characters, with letters. Please type it again.",
		"sub_bad_phone":   "«%s» is not a valid Vietnamese phone number. Please type 10 digits, for example 0912 345 678.",
		"sub_confirm":     "Please check the substitute's details:\n• Name: %s\n• Position: %s\n• Phone: %s\n\nIs this correct?",
		"btn_confirm":     "✅ Confirm",
		"btn_edit":        "✏️ Edit",
		"btn_cancel":      "✖️ Cancel",
		"cancelled":       "Cancelled; nothing was changed.",
		"nothing_cancel":  "There is nothing in progress to cancel.",
		"use_buttons":     "Please choose one of the buttons below.",
		"text_expected":   "I can only read text at this step. %s",
		"stale_button":    "That button is no longer valid. Here is the latest:",
		"agenda_head":     "📋 Agenda — %s\n%s, %s\n",
		"agenda_line":     "%d. %s–%s  %s\n    👤 %s",
		"help":            "Commands:\n/xacnhan — confirm attendance or send a substitute\n/chuongtrinh — the conference agenda\n/ngonngu — change language (Tiếng Việt / English)\n/huy — cancel what you are doing\n/trogiup — help\n\nFor help, contact the organisers: %s.",
		"lang_ask":        "Chọn ngôn ngữ / Choose a language:",
		"lang_set":        "Switched to English.",
		"unknown_command": "I don't know the command «/%s». Type /trogiup for the list.",
		"idle_hint":       "Please choose something below, or type /trogiup for the list of commands.",
		"file_unexpected": "No file is needed right now. %s",
		"busy":            "The system is busy and your last message was not handled. Please send it again in a minute.",
	},
}

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

// Busy is the reply when an update could not be handled for a passing
// reason; nothing the user confirmed before is affected.
func Busy(lang domain.Lang) Reply { return Reply{Text: t(lang, "busy")} }
