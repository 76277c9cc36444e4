package telegram

import (
	"bytes"
	"errors"
)

// update is the part of a Bot API update the adapter reads, under the
// library's JSON names. Every update, by getUpdates or webhook, is decoded
// into it rather than into the library's Update, whose messages have some
// eighty fields (the callback query's message whole, with its text and
// keyboard): half the decoding time and ten allocations fewer per update.
// Content kinds and service messages that only need telling apart are
// read as their presence (objectPresent); whatever the library's types do
// not know is ignored as they ignore it. An update the library decodes is
// mapped the same (FuzzLeanUpdateMapsAsTheLibrary); this decoding is never
// stricter, and laxer only in the contents of what it skips.
type update struct {
	UpdateID      int            `json:"update_id"`
	Message       *message       `json:"message"`
	CallbackQuery *callbackQuery `json:"callback_query"`
}

type user struct {
	ID    int64 `json:"id"`
	IsBot bool  `json:"is_bot"`
}

type chat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

type contact struct {
	PhoneNumber string `json:"phone_number"`
	UserID      int64  `json:"user_id"`
}

type document struct {
	FileID   string `json:"file_id"`
	FileName string `json:"file_name"`
	MimeType string `json:"mime_type"`
	FileSize int    `json:"file_size"`
}

type photoSize struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FileSize     int    `json:"file_size"`
}

type message struct {
	From         *user       `json:"from"`
	Chat         *chat       `json:"chat"`
	Text         string      `json:"text"`
	Caption      string      `json:"caption"`
	MediaGroupID string      `json:"media_group_id"`
	Contact      *contact    `json:"contact"`
	Document     *document   `json:"document"`
	Photo        []photoSize `json:"photo"`

	// Other content: only whether it is there.
	Sticker   objectPresent `json:"sticker"`
	Voice     objectPresent `json:"voice"`
	Audio     objectPresent `json:"audio"`
	Video     objectPresent `json:"video"`
	VideoNote objectPresent `json:"video_note"`
	Animation objectPresent `json:"animation"`
	Location  objectPresent `json:"location"`
	Venue     objectPresent `json:"venue"`
	Poll      objectPresent `json:"poll"`
	Dice      objectPresent `json:"dice"`
	Game      objectPresent `json:"game"`

	// Service messages (isService).
	NewChatMembers                []objectPresent `json:"new_chat_members"`
	LeftChatMember                objectPresent   `json:"left_chat_member"`
	NewChatTitle                  string          `json:"new_chat_title"`
	NewChatPhoto                  []objectPresent `json:"new_chat_photo"`
	DeleteChatPhoto               bool            `json:"delete_chat_photo"`
	GroupChatCreated              bool            `json:"group_chat_created"`
	SuperGroupChatCreated         bool            `json:"supergroup_chat_created"`
	ChannelChatCreated            bool            `json:"channel_chat_created"`
	MigrateToChatID               int64           `json:"migrate_to_chat_id"`
	MigrateFromChatID             int64           `json:"migrate_from_chat_id"`
	PinnedMessage                 objectPresent   `json:"pinned_message"`
	MessageAutoDeleteTimerChanged objectPresent   `json:"message_auto_delete_timer_changed"`
	ProximityAlertTriggered       objectPresent   `json:"proximity_alert_triggered"`
	VoiceChatScheduled            objectPresent   `json:"voice_chat_scheduled"`
	VoiceChatStarted              objectPresent   `json:"voice_chat_started"`
	VoiceChatEnded                objectPresent   `json:"voice_chat_ended"`
	VoiceChatParticipantsInvited  objectPresent   `json:"voice_chat_participants_invited"`
	SuccessfulPayment             objectPresent   `json:"successful_payment"`
	ConnectedWebsite              string          `json:"connected_website"`
}

// callbackMessage is the message under a pressed button: only its chat.
type callbackMessage struct {
	Chat *chat `json:"chat"`
}

type callbackQuery struct {
	ID      string           `json:"id"`
	From    *user            `json:"from"`
	Message *callbackMessage `json:"message"`
	Data    string           `json:"data"`
}

// objectPresent records whether a JSON object was given, where the
// library's type is a pointer to a struct: null leaves it false (the
// pointer nil), any other value than an object is an error (as decoding
// into the struct would be).
type objectPresent bool

var errNotObject = errors.New("telegram: not a JSON object")

func (p *objectPresent) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*p = false // as null sets the library's pointer to nil
		return nil
	case len(b) > 0 && b[0] == '{':
		*p = true
		return nil
	}
	return errNotObject
}
