package bot

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
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
