package flows

import (
	"strings"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Trust levels (SECURITY.md): any proof identifies a delegate; acting for a
// body (focal point, staff) needs a verified one — the platform's own-phone
// share, a single-use enrolment link, or the embedded demo's picker. A
// printed code, the check-in QR or an export never gives more than a
// delegate's functions.

// EnrolPrefix starts every enrolment link's secret, so that the bot layer
// looks one up only for inputs that can be one.
const EnrolPrefix = "enrol_"

// Enrolment is what the bot layer found for an enrolment secret: whose it
// is (Hash is its SHA-256, used up when the link is made), or why it cannot
// be used ("used", "expired", "unknown").
type Enrolment struct {
	PersonID string
	Hash     string
	Problem  string
}

const btnUnlinkPrefix = "unl:"

// verified reports whether this chat may act for a body.
func (r *stepper) verified() bool { return r.f.Proof.Verified() }

// needsProof reports whether the person holds a role this chat's proof does
// not open, and then tells them politely how to get it.
func (r *stepper) needsProof(role domain.Role) bool {
	if r.f.Person == nil || !r.f.Person.Has(role) || r.verified() {
		return false
	}
	if role == domain.RoleFocal && len(r.f.Catalog.ForAgency(r.f.Person.AgencyCode)) == 0 {
		return false
	}
	r.reset()
	r.refused = "role " + string(role) + " without a verified link"
	// On Telegram the reply offers the one-tap phone share, the verified
	// route; elsewhere an enrolment link is the way.
	r.replies = append(r.replies, Reply{Text: r.t("verify_needed", r.helpdesk()), AskContact: r.f.Channel == domain.Telegram})
	return true
}

// contactKnown takes a phone shared by a chat already linked: a verified
// own number upgrades the link (or moves it to the person it belongs to).
func (r *stepper) contactKnown() {
	if !r.in.ContactIsSelf {
		r.replies = append(r.replies, Reply{Text: r.t("not_own_contact"), AskContact: r.f.Channel == domain.Telegram})
		return
	}
	p, ok := r.f.Directory.ByPhone(r.in.Phone)
	if !ok {
		r.say(r.t("phone_unknown", r.organizer()), r.menuButtons()...)
		return
	}
	if !r.in.ContactVerified {
		if p.ID == r.f.Person.ID {
			r.say(r.t("phone_not_verified", r.helpdesk()), r.menuButtons()...)
			return
		}
		r.link(p, domain.ProofPhoneClaimed, "")
		return
	}
	if p.ID == r.f.Person.ID && r.verified() {
		r.say(r.t("phone_already_verified"), r.menuButtons()...)
		return
	}
	r.link(p, domain.ProofPhone, "")
}

// enrol takes an enrolment link's secret.
func (r *stepper) enrol() {
	e := r.f.Enrolment
	var p domain.Person
	ok := false
	if e != nil && e.Problem == "" {
		p, ok = r.f.Directory.Person(e.PersonID)
	}
	if !ok {
		key := msg("enrol_unknown")
		if e != nil && (e.Problem == "used" || e.Problem == "expired") {
			key = msg("enrol_" + e.Problem)
		}
		r.refused = "enrolment link refused"
		r.replies = append(r.replies, Reply{Text: r.t(key, r.helpdesk()), Buttons: r.knownButtons()})
		return
	}
	r.link(p, domain.ProofEnrol, e.Hash)
}

func (r *stepper) knownButtons() [][]Button {
	if r.f.Person == nil {
		return nil
	}
	return r.menuButtons()
}

// announce tells the person's other chats that this one was just linked,
// with a button that undoes it.
func (r *stepper) announce(p domain.Person, lang domain.Lang) {
	id := domain.Identity{Channel: r.f.Channel, UserID: r.f.UserID, ChatID: r.f.ChatID, PersonID: p.ID}
	at := r.dateTime(r.f.Now)
	if lang == domain.English {
		at = FormatClock(r.f.Now.In(r.loc())) + ", " + r.f.Now.In(r.loc()).Format("02/01/2006")
	}
	r.notices = append(r.notices, Notice{PersonID: p.ID, Skip: &id, Replies: []Reply{{
		Text:    t(lang, "link_notice", ChannelName(lang, r.f.Channel), at),
		Buttons: [][]Button{{{t(lang, "btn_unlink"), btnUnlinkPrefix + id.LinkRef()}}},
	}}})
}

// ChannelName names a channel for people.
func ChannelName(lang domain.Lang, ch domain.Channel) string {
	switch ch {
	case domain.Telegram:
		return "Telegram"
	case domain.Zalo:
		return "Zalo"
	case domain.Web:
		return t(lang, "chan_web")
	}
	return string(ch)
}

// unlinkButton handles «Hủy liên kết» under a link notice.
func (r *stepper) unlinkButton() {
	ref := strings.TrimPrefix(r.in.Data, btnUnlinkPrefix)
	for _, id := range r.f.Links {
		if id.PersonID != r.f.Person.ID || id.LinkRef() != ref {
			continue
		}
		if id.Channel == r.f.Channel && id.UserID == r.f.UserID {
			r.signOut()
			return
		}
		if id.Proof.Verified() && !r.verified() {
			r.refused = "unlink of a verified chat from an unverified one"
			r.say(r.t("unlink_weaker", r.helpdesk()), r.menuButtons()...)
			return
		}
		r.effects = append(r.effects, domain.UnlinkIdentity{Channel: id.Channel, UserID: id.UserID, PersonID: id.PersonID,
			By: r.f.Person.ID, From: r.f.Channel})
		r.reset()
		r.say(r.t("unlinked_other", ChannelName(r.s.Lang, id.Channel)), r.menuButtons()...)
		return
	}
	r.say(r.t("unlink_gone"), r.menuButtons()...)
}

// signOut unlinks this chat (/dangxuat).
func (r *stepper) signOut() {
	p := r.f.Person
	r.effects = append(r.effects, domain.UnlinkIdentity{Channel: r.f.Channel, UserID: r.f.UserID, PersonID: p.ID,
		By: p.ID, From: r.f.Channel})
	r.reset()
	r.s.PersonID = ""
	r.f.Person, r.f.Proof = nil, ""
	r.replies = append(r.replies, Reply{Text: r.t("signed_out", p.FullName)})
}

// GroupNote is the one answer a group gets: personal matters are handled in
// a private chat only, which the button opens.
func GroupNote(lang domain.Lang, privateURL string) Reply {
	rep := Reply{Text: t(lang, "group_note")}
	if privateURL != "" {
		rep.Link = &LinkButton{Label: t(lang, "btn_open_private"), URL: privateURL}
	}
	return rep
}

func init() {
	for lang, m := range trustCatalogs {
		for k, v := range m {
			catalogs[lang][k] = v
		}
	}
}

var trustCatalogs = map[domain.Lang]map[msg]string{
	domain.Vietnamese: {
		"verify_needed": "Anh/chị đã được nhận diện qua mã thư mời hoặc liên kết mời, nên hiện chỉ dùng được các chức năng của đại biểu " +
			"(xác nhận tham dự, xem chương trình).\n\nĐể nhập số liệu thay mặt đơn vị hoặc dùng chức năng của cán bộ Sở, cần xác thực thêm một lần:\n" +
			"• Trên Telegram: bấm «Chia sẻ số điện thoại» (số phải trùng với số trong danh sách của Ban tổ chức);\n" +
			"• Hoặc xin cán bộ phụ trách cấp riêng cho anh/chị một liên kết xác thực (dùng một lần).\nCần hỗ trợ, xin liên hệ: %s.",
		"phone_not_verified":     "Số điện thoại gửi qua biểu mẫu này chưa được nền tảng xác nhận là của chính anh/chị, nên chưa mở được chức năng đầu mối hoặc cán bộ. Xin dùng liên kết xác thực do cán bộ phụ trách cấp riêng. Cần hỗ trợ, xin liên hệ: %s.",
		"phone_already_verified": "Số điện thoại của anh/chị đã được xác thực trước đó.",
		"enrol_unknown":          "Liên kết xác thực này không hợp lệ. Xin kiểm tra lại liên kết cán bộ phụ trách đã gửi, hoặc liên hệ: %s.",
		"enrol_used":             "Liên kết xác thực này đã được dùng (mỗi liên kết chỉ dùng một lần). Xin cán bộ phụ trách cấp liên kết mới: %s.",
		"enrol_expired":          "Liên kết xác thực này đã hết hạn. Xin cán bộ phụ trách cấp liên kết mới: %s.",
		"verified_ok":            "🔐 Đã xác thực: chat này dùng được đầy đủ chức năng của anh/chị.",
		"link_notice":            "🔔 Tài khoản của anh/chị vừa được liên kết trên %s lúc %s. Nếu không phải anh/chị, bấm «Hủy liên kết».",
		"btn_unlink":             "Hủy liên kết",
		"unlinked_other":         "Đã hủy liên kết trên %s. Chat đó không còn dùng được tài khoản của anh/chị.",
		"unlink_gone":            "Liên kết này đã được hủy trước đó.",
		"unlink_weaker":          "Chat này chưa được xác thực nên không hủy được một liên kết đã xác thực. Xin dùng chat đã xác thực của anh/chị, hoặc liên hệ: %s.",
		"signed_out":             "Đã hủy liên kết chat này với tài khoản của %s. Muốn dùng lại, xin mở liên kết mời hoặc gõ mã thư mời.",
		"group_note":             "👋 Trợ lý chỉ làm việc trong tin nhắn riêng, để thông tin của mỗi người được giữ kín. Xin bấm nút dưới đây để mở trò chuyện riêng với trợ lý.",
		"btn_open_private":       "Mở trò chuyện riêng",
		"chan_web":               "trang trò chuyện (web)",
		"contact_unasked":        "Xin gõ mã mời in trên giấy mời, hoặc mở liên kết mời riêng.",
	},
	domain.English: {
		"verify_needed": "You were recognised by your invitation code or invitation link, so for now you can use the delegate functions " +
			"(answer the invitation, see the agenda).\n\nTo enter data for your agency or use the staff functions, one more check is needed:\n" +
			"• On Telegram: tap «Share my phone number» (it must be the number on the organisers' list);\n" +
			"• Or ask the staff in charge to give you a personal verification link (single use).\nFor help, contact: %s.",
		"phone_not_verified":     "A phone number sent through this form is not confirmed by the platform as your own, so it cannot open the focal point or staff functions. Please use a verification link from the staff in charge. For help, contact: %s.",
		"phone_already_verified": "Your phone number was already verified.",
		"enrol_unknown":          "This verification link is not valid. Please check the link the staff sent you, or contact: %s.",
		"enrol_used":             "This verification link was already used (each works once). Please ask the staff in charge for a new one: %s.",
		"enrol_expired":          "This verification link has expired. Please ask the staff in charge for a new one: %s.",
		"verified_ok":            "🔐 Verified: this chat can use all your functions.",
		"link_notice":            "🔔 Your account was just linked on %s at %s. If this was not you, tap «Unlink».",
		"btn_unlink":             "Unlink",
		"unlinked_other":         "The link on %s is removed. That chat can no longer use your account.",
		"unlink_gone":            "This link was already removed.",
		"unlink_weaker":          "This chat is not verified, so it cannot remove a verified link. Please use your verified chat, or contact: %s.",
		"signed_out":             "This chat is no longer linked to %s's account. To use it again, open your invitation link or type your invitation code.",
		"group_note":             "👋 The assistant works in private chats only, so that everyone's details stay private. Tap the button below to open a private chat with the assistant.",
		"btn_open_private":       "Open a private chat",
		"chan_web":               "the web chat",
		"contact_unasked":        "Please type the invitation code printed on your invitation, or open your personal invitation link.",
	},
}
