package telegram

import (
	"strconv"
	"strings"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// toInbound maps an update to the neutral form. ok is false for updates the
// bot does not act on (edits, channel posts, membership changes, service
// messages, commands addressed to another bot); they are acknowledged as
// handled.
func toInbound(u update, botName string) (in bot.Inbound, ok bool) {
	in.Key = domain.UpdateKey{Channel: domain.Telegram, UpdateID: strconv.Itoa(u.UpdateID)}
	switch {
	case u.Message != nil:
		m := u.Message
		if m.From == nil || m.From.IsBot || m.Chat == nil || !chatTypeOK(m.Chat.Type) {
			return in, false
		}
		in.UserID = strconv.FormatInt(m.From.ID, 10)
		in.ChatID = strconv.FormatInt(m.Chat.ID, 10)
		in.Input, ok = messageInput(m, botName)
		markGroup(&in, m.Chat.Type, botName)
		return in, ok
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		// Buttons under inline-mode messages have no chat to answer in.
		if q.From == nil || q.Message == nil || q.Message.Chat == nil || !chatTypeOK(q.Message.Chat.Type) {
			return in, false
		}
		in.UserID = strconv.FormatInt(q.From.ID, 10)
		in.ChatID = strconv.FormatInt(q.Message.Chat.ID, 10)
		in.Input = flows.Input{Kind: flows.InButton, Data: q.Data}
		markGroup(&in, q.Message.Chat.Type, botName)
		return in, true
	}
	return in, false
}

// markGroup flags a group or supergroup: the dispatcher runs no personal
// flow there and answers once with a button to a private chat.
func markGroup(in *bot.Inbound, chatType, botName string) {
	if chatType == "private" {
		return
	}
	in.Group = true
	if botName != "" {
		in.PrivateURL = "https://t.me/" + botName
	}
}

func chatTypeOK(t string) bool {
	return t == "private" || t == "group" || t == "supergroup"
}

func messageInput(m *message, botName string) (flows.Input, bool) {
	switch {
	case m.Text != "":
		if cmd, arg, forUs, ok := parseCommand(m.Text, botName); ok {
			if !forUs {
				return flows.Input{}, false
			}
			return flows.Input{Kind: flows.InCommand, Command: cmd, Text: arg}, true
		}
		return flows.Input{Kind: flows.InText, Text: m.Text}, true
	case m.Contact != nil:
		self := m.Contact.UserID != 0 && m.From != nil && m.Contact.UserID == m.From.ID
		return flows.Input{
			Kind:          flows.InContact,
			Phone:         m.Contact.PhoneNumber,
			ContactIsSelf: self,
			// Telegram fills contact.user_id from its own records of the
			// number: the sender's own id there means the number is theirs.
			ContactVerified: self,
		}, true
	case m.Document != nil:
		d := m.Document
		return flows.Input{Kind: flows.InFile, Files: []flows.FileRef{{
			ID: d.FileID, Name: d.FileName, MIME: d.MimeType, Size: int64(d.FileSize),
			GroupID: m.MediaGroupID, Caption: m.Caption, Download: d.FileID,
		}}}, true
	case len(m.Photo) > 0:
		p := largest(m.Photo)
		return flows.Input{Kind: flows.InFile, Files: []flows.FileRef{{
			ID: p.FileID, Name: "photo_" + p.FileUniqueID + ".jpg", MIME: "image/jpeg",
			Size: int64(p.FileSize), GroupID: m.MediaGroupID, IsPhoto: true,
			Caption: m.Caption, Download: p.FileID,
		}}}, true
	case bool(m.Sticker):
		return flows.Input{Kind: flows.InSticker}, true
	case bool(m.Voice || m.Audio || m.Video || m.VideoNote || m.Animation || m.Location ||
		m.Venue || m.Poll || m.Dice || m.Game):
		return flows.Input{Kind: flows.InOther}, true
	case isService(m):
		return flows.Input{}, false
	case m.Chat.Type == "private":
		// Content this library version does not know (a story, a gift...).
		return flows.Input{Kind: flows.InOther}, true
	}
	return flows.Input{}, false
}

// isService reports service messages: members joining, pins, titles...
func isService(m *message) bool {
	return len(m.NewChatMembers) > 0 || bool(m.LeftChatMember) || m.NewChatTitle != "" ||
		len(m.NewChatPhoto) > 0 || m.DeleteChatPhoto || m.GroupChatCreated ||
		m.SuperGroupChatCreated || m.ChannelChatCreated || m.MigrateToChatID != 0 ||
		m.MigrateFromChatID != 0 || bool(m.PinnedMessage || m.MessageAutoDeleteTimerChanged ||
		m.ProximityAlertTriggered || m.VoiceChatScheduled || m.VoiceChatStarted ||
		m.VoiceChatEnded || m.VoiceChatParticipantsInvited || m.SuccessfulPayment) ||
		m.ConnectedWebsite != ""
}

// largest returns the photo size with the most pixels (Telegram lists them
// smallest first, but do not rely on it).
func largest(ps []photoSize) photoSize {
	best := ps[0]
	for _, p := range ps[1:] {
		if p.Width*p.Height > best.Width*best.Height ||
			p.Width*p.Height == best.Width*best.Height && p.FileSize > best.FileSize {
			best = p
		}
	}
	return best
}

// parseCommand splits "/Start@MyBot  arg words" into "start" and
// "arg words". ok is false when text is not a command; forUs is false when
// it names another bot ("/start@OtherBot" in a group).
func parseCommand(text, botName string) (cmd, arg string, forUs, ok bool) {
	cmd, target, arg, ok := flows.SplitCommand(text)
	return cmd, arg, ok && (target == "" || strings.EqualFold(target, botName)), ok
}
