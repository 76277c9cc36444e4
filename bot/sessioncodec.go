package bot

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/dieuphoi/dieuphoi/flows"
)

// A saved session is written as CBOR (RFC 8949, github.com/fxamacker/cbor):
// the same fields and short names as its JSON form (the library reads the
// json tags), without quoting or escaping, and read with one pass instead of
// encoding/json's reflection walk and string unquoting. Sessions stored as
// JSON before are still read: their first byte is '{', which no CBOR map
// starts with.
//
// Times keep their nanoseconds and zone offset (RFC 3339), so a session
// reads back exactly as written (TestSessionCodecCoversEveryField).
var (
	sessionEnc cbor.EncMode
	sessionDec cbor.DecMode
)

func init() {
	var err error
	sessionEnc, err = cbor.EncOptions{Time: cbor.TimeRFC3339Nano, Sort: cbor.SortBytewiseLexical}.EncMode()
	if err != nil {
		panic(err)
	}
	// The limits bound what a damaged value can make the decoder allocate;
	// sessions are the bot's own writes, far below them.
	sessionDec, err = cbor.DecOptions{MaxNestedLevels: 16, MaxArrayElements: 4096, MaxMapPairs: 4096,
		DupMapKey: cbor.DupMapKeyEnforcedAPF}.DecMode()
	if err != nil {
		panic(err)
	}
}

var errBadSession = errors.New("session: truncated or malformed")

// encodeSession writes s in the CBOR form.
func encodeSession(s savedSession) []byte {
	raw, err := sessionEnc.Marshal(s)
	if err != nil {
		// Plain data (strings, numbers, times, slices, maps of strings):
		// nothing in a session can fail to encode.
		panic(fmt.Sprintf("encode session: %v", err))
	}
	return raw
}

// decodeSavedSession reads either form.
func decodeSavedSession(raw []byte) (savedSession, error) {
	var s savedSession
	if len(raw) == 0 {
		return s, nil
	}
	if raw[0] == '{' {
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	if err := sessionDec.Unmarshal(raw, &s); err != nil {
		return savedSession{}, fmt.Errorf("%w: %v", errBadSession, err)
	}
	return s, nil
}

// sessionHead is a saved session without the replies of the update it
// reflects: all an update reads unless it is that update's replay (the
// replies are then sent again); any other update replaces them unread. The
// card's replies are most of a session's bytes and of its decoding
// (TestSessionHeadIsTheSessionWithoutReplies keeps the fields in step).
type sessionHead struct {
	Session flows.Session `json:"s"`
	Update  string        `json:"u,omitempty"`
	Facts   *cachedFacts  `json:"f,omitempty"`
}

// decodeSessionFor reads a saved session for update: whole when it was
// saved for update (a replay), else without its replies and sent count.
func decodeSessionFor(raw []byte, update string) (savedSession, error) {
	if len(raw) == 0 || raw[0] == '{' {
		return decodeSavedSession(raw)
	}
	var h sessionHead
	if err := sessionDec.Unmarshal(raw, &h); err != nil {
		return savedSession{}, fmt.Errorf("%w: %v", errBadSession, err)
	}
	if h.Update == update {
		return decodeSavedSession(raw)
	}
	return savedSession{Session: h.Session, Update: h.Update, Facts: h.Facts}, nil
}
