package webchat

import (
	"container/list"
	"sync"
	"time"
)

// Message is one line of a web chat as the page shows it: a bot reply or the
// user's own message echoed back, so that a reload shows the history.
type Message struct {
	Seq        int64          `json:"seq"`
	From       string         `json:"from"` // "bot" or "me"
	Text       string         `json:"text,omitempty"`
	Buttons    [][]ButtonView `json:"buttons,omitempty"`
	AskContact bool           `json:"askContact,omitempty"`
	File       *FileView      `json:"file,omitempty"`
	Link       *LinkView      `json:"link,omitempty"`
	At         time.Time      `json:"at"`

	clientID string // the user's message id, for echoes: a retry echoes once
}

// ButtonView is a tappable choice under a bot message.
type ButtonView struct {
	Label string `json:"label"`
	Data  string `json:"data"`
}

// LinkView is a button that opens an address (the console's sign-in
// link) instead of sending anything back.
type LinkView struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// FileView describes a file the user sent, or one the bot sent (with URL,
// where its owner can download it).
type FileView struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	URL  string `json:"url,omitempty"`
}

const (
	fromBot = "bot"
	fromMe  = "me"
)

// mailboxes holds the recent messages of web chats in memory: at most
// perChat messages per chat and at most maxChats chats, forgetting the
// least recently used. The Chat writes identified chats' messages through
// to its History and reads them back after a restart.
type mailboxes struct {
	mu       sync.Mutex
	maxChats int
	perChat  int
	lru      *list.List // of *mailbox, most recent first
	byChat   map[string]*list.Element
}

type mailbox struct {
	chat  string
	box   string // random id of this mailbox's life, so clients notice a reset
	seq   int64
	msgs  []Message
	saved int64  // the last seq written to the durable history
	lang  string // the chat's language as last known, for the page chrome
}

func newMailboxes(maxChats, perChat int) *mailboxes {
	return &mailboxes{maxChats: maxChats, perChat: perChat, lru: list.New(), byChat: map[string]*list.Element{}}
}

// get returns chat's mailbox, creating it when create is set; nil otherwise.
// The caller holds mu.
func (m *mailboxes) get(chat string, create bool) *mailbox {
	if e, ok := m.byChat[chat]; ok {
		m.lru.MoveToFront(e)
		return e.Value.(*mailbox)
	}
	if !create {
		return nil
	}
	mb := &mailbox{chat: chat, box: randomHex(8)}
	m.byChat[chat] = m.lru.PushFront(mb)
	for m.lru.Len() > m.maxChats {
		old := m.lru.Back()
		m.lru.Remove(old)
		delete(m.byChat, old.Value.(*mailbox).chat)
	}
	return mb
}

// add appends messages to chat's mailbox and returns the sequence number of
// the last one.
func (m *mailboxes) add(chat string, msgs ...Message) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	mb := m.get(chat, true)
	for _, x := range msgs {
		mb.seq++
		x.Seq = mb.seq
		mb.msgs = append(mb.msgs, x)
	}
	if n := len(mb.msgs) - m.perChat; n > 0 {
		mb.msgs = append([]Message(nil), mb.msgs[n:]...)
	}
	return mb.seq
}

// echo records the user's own message unless a message with the same client
// id was echoed before (a retried POST). It returns the echo's sequence
// number and whether it was added now.
func (m *mailboxes) echo(chat string, msg Message) (int64, bool) {
	m.mu.Lock()
	mb := m.get(chat, true)
	for i := len(mb.msgs) - 1; i >= 0; i-- {
		if mb.msgs[i].From == fromMe && mb.msgs[i].clientID == msg.clientID {
			seq := mb.msgs[i].Seq
			m.mu.Unlock()
			return seq, false
		}
	}
	m.mu.Unlock()
	return m.add(chat, msg), true
}

// remove drops the message with seq, used to take back the echo of a message
// that could not be handled, so the user can send it again.
func (m *mailboxes) remove(chat string, seq int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mb := m.get(chat, false)
	if mb == nil {
		return
	}
	for i, x := range mb.msgs {
		if x.Seq == seq {
			mb.msgs = append(mb.msgs[:i:i], mb.msgs[i+1:]...)
			return
		}
	}
}

// buttonLabel finds the label of the newest button with payload data, to
// echo a button press as the user saw it.
func (m *mailboxes) buttonLabel(chat, data string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	mb := m.get(chat, false)
	if mb == nil {
		return ""
	}
	for i := len(mb.msgs) - 1; i >= 0; i-- {
		for _, row := range mb.msgs[i].Buttons {
			for _, b := range row {
				if b.Data == data {
					return b.Label
				}
			}
		}
	}
	return ""
}

// Page is the answer to a poll: the messages after the client's cursor. When
// the client's box differs from the mailbox's (a restart, an eviction, a
// first visit), Reset is set and Messages holds everything kept.
type Page struct {
	Box      string    `json:"box"`
	Last     int64     `json:"last"`
	Reset    bool      `json:"reset,omitempty"`
	Lang     string    `json:"lang,omitempty"`
	Messages []Message `json:"messages"`
}

func (m *mailboxes) since(chat, box string, after int64) Page {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := Page{Messages: []Message{}}
	mb := m.get(chat, false)
	if mb == nil {
		p.Reset = box != ""
		return p
	}
	p.Box, p.Last, p.Lang = mb.box, mb.seq, mb.lang
	if box != mb.box {
		p.Reset, after = true, 0
	}
	for _, x := range mb.msgs {
		if x.Seq > after {
			p.Messages = append(p.Messages, x)
		}
	}
	return p
}

func (m *mailboxes) empty(chat string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	mb := m.get(chat, false)
	return mb == nil || len(mb.msgs) == 0
}

// has reports whether chat's mailbox is in memory.
func (m *mailboxes) has(chat string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.byChat[chat]
	return ok
}

// restore puts back a chat's messages read from the durable history (none
// for a chat that has none: that too is remembered, so polls do not ask
// again). A mailbox made meanwhile wins.
func (m *mailboxes) restore(chat string, msgs []Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byChat[chat]; ok {
		return
	}
	mb := m.get(chat, true)
	mb.msgs = msgs
	if n := len(msgs); n > 0 {
		mb.seq, mb.saved = msgs[n-1].Seq, msgs[n-1].Seq
	}
}

// unsaved returns chat's messages not yet in the durable history and counts
// them as saved.
func (m *mailboxes) unsaved(chat string) []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	mb := m.get(chat, false)
	if mb == nil {
		return nil
	}
	var out []Message
	for _, x := range mb.msgs {
		if x.Seq > mb.saved {
			out = append(out, x)
		}
	}
	mb.saved = mb.seq
	return out
}

// setLang records chat's language for the page chrome.
func (m *mailboxes) setLang(chat, lang string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mb := m.get(chat, false); mb != nil {
		mb.lang = lang
	}
}

// lang returns chat's language as last known, "" when unknown.
func (m *mailboxes) lang(chat string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mb := m.get(chat, false); mb != nil {
		return mb.lang
	}
	return ""
}
