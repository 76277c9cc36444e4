package loadtest

import (
	"fmt"
	"maps"
	"net/http"
	"sync"
	"time"
)

// Limits is the flood control the fake enforces on sendMessage and
// sendDocument when Options.Limits is set, answering 429 Too Many Requests
// with retry_after as the real Bot API does. Telegram documents: about 30
// messages a second in all, one a second to a chat (short bursts pass in
// a private chat), 20 a minute to a group. How short a burst is not
// documented: the fake lets a private chat have 5 (a conversation's step
// is answered in up to three messages, and its person answers at once),
// then one a second.
type Limits struct {
	PerSecond         int // any 1-second window, all chats
	PerChatPerSecond  int // a private chat's sustained rate...
	ChatBurst         int // ...with bursts of this many
	PerGroupPerMinute int // any 60-second window, one group (negative id)
}

// TelegramLimits are the limits above.
var TelegramLimits = Limits{PerSecond: 30, PerChatPerSecond: 1, ChatBurst: 5, PerGroupPerMinute: 20}

// SendStats is what the limits saw: the sends accepted (with their times,
// in order) and refused with 429.
type SendStats struct {
	Accepted []Send
	Rejected int
	// Why, per limit ("second", "chat", "group"): a send over several
	// counts under each.
	Why map[string]int
	// Refusals are the first 100 sends refused.
	Refusals []Refusal
}

// Refusal is one send refused with 429.
type Refusal struct {
	Chat int64
	At   time.Time
	Why  string
}

// Send is one accepted send.
type Send struct {
	Chat int64
	At   time.Time
	From string // the request's remote address (which process sent it: SocketPorts)
}

type limiter struct {
	lim      Limits
	mu       sync.Mutex
	all      []time.Time           // accepted in the last second
	chats    map[int64]*chatBucket // private chats
	groups   map[int64][]time.Time // accepted in the last minute per group
	accepted []Send
	rejected int
	why      map[string]int
	refusals []Refusal
}

type chatBucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(l Limits) *limiter {
	return &limiter{lim: l, chats: map[int64]*chatBucket{}, groups: map[int64][]time.Time{}, why: map[string]int{}}
}

func since(ts []time.Time, now time.Time, w time.Duration) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= w {
		i++
	}
	return ts[i:]
}

// admit records a send to chat and returns 0, or the retry_after seconds
// of the 429 to answer.
func (l *limiter) admit(chat int64, from string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	var wait time.Duration
	l.all = since(l.all, now, time.Second)
	if l.lim.PerSecond > 0 && len(l.all) >= l.lim.PerSecond {
		wait = l.all[len(l.all)-l.lim.PerSecond].Add(time.Second).Sub(now)
		l.why["second"]++
	}
	var b *chatBucket
	if chat < 0 {
		g := since(l.groups[chat], now, time.Minute)
		l.groups[chat] = g
		if l.lim.PerGroupPerMinute > 0 && len(g) >= l.lim.PerGroupPerMinute {
			wait = max(wait, g[len(g)-l.lim.PerGroupPerMinute].Add(time.Minute).Sub(now))
			l.why["group"]++
		}
	} else if l.lim.PerChatPerSecond > 0 {
		b = l.chats[chat]
		if b == nil {
			b = &chatBucket{tokens: float64(max(l.lim.ChatBurst, 1)), at: now}
			l.chats[chat] = b
		}
		b.tokens = min(float64(max(l.lim.ChatBurst, 1)), b.tokens+now.Sub(b.at).Seconds()*float64(l.lim.PerChatPerSecond))
		b.at = now
		if b.tokens < 1 {
			wait = max(wait, time.Duration((1-b.tokens)/float64(l.lim.PerChatPerSecond)*float64(time.Second)))
			l.why["chat"]++
		}
	}
	if wait > 0 {
		if len(l.refusals) < 100 {
			why := "second"
			if l.lim.PerSecond == 0 || len(l.all) < l.lim.PerSecond {
				why = "chat"
				if chat < 0 {
					why = "group"
				}
			}
			l.refusals = append(l.refusals, Refusal{Chat: chat, At: now, Why: why})
		}
		l.rejected++
		return max(1, int((wait+time.Second-1)/time.Second))
	}
	l.all = append(l.all, now)
	if chat < 0 {
		l.groups[chat] = append(l.groups[chat], now)
	} else if b != nil {
		b.tokens--
	}
	l.accepted = append(l.accepted, Send{Chat: chat, At: now, From: from})
	return 0
}

// limited answers 429 when a send to chat is over the limits; it reports
// whether it did.
func (s *Server) limited(w http.ResponseWriter, r *http.Request, chat int64) bool {
	if s.limits == nil {
		return false
	}
	if ra := s.limits.admit(chat, r.RemoteAddr); ra > 0 {
		writeErr(w, http.StatusTooManyRequests, fmt.Sprintf("Too Many Requests: retry after %d", ra), ra)
		return true
	}
	return false
}

// SendStats returns what the limits saw so far (zero without
// Options.Limits).
func (s *Server) SendStats() SendStats {
	if s.limits == nil {
		return SendStats{}
	}
	s.limits.mu.Lock()
	defer s.limits.mu.Unlock()
	return SendStats{Accepted: append([]Send(nil), s.limits.accepted...), Rejected: s.limits.rejected, Why: maps.Clone(s.limits.why),
		Refusals: append([]Refusal(nil), s.limits.refusals...)}
}
