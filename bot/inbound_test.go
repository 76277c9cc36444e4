package bot

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// An update's JSON (the inbox's payload) leaves its empty fields out, reads
// back as it was, and a payload written before (every field present) still
// reads the same.
func TestInboundPayload(t *testing.T) {
	full := Inbound{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: "7"}, UserID: "42", ChatID: "-42",
		Input: flows.Input{Kind: flows.InContact, Text: "t", Command: "start", Data: "d", Phone: "0901", ContactIsSelf: true,
			ContactVerified: true, PhoneForm: true, DemoPick: true, Files: []flows.FileRef{{ID: "f", Size: 3}}, Reading: &flows.Reading{}},
		Group: true, PrivateURL: "https://t.me/x", Source: "1.2.3.4"}
	button := Inbound{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: "8"}, UserID: "42", ChatID: "42",
		Input: flows.Input{Kind: flows.InButton, Data: "rsvp:yes"}}
	for _, in := range []Inbound{full, button} {
		raw, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var got Inbound
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, in) {
			t.Errorf("read back %+v\nwant %+v", got, in)
		}
	}
	raw, _ := json.Marshal(button)
	if want := `{"Key":{"Channel":"telegram","UpdateID":"8"},"UserID":"42","ChatID":"42","Input":{"Kind":"button","Data":"rsvp:yes"}}`; string(raw) != want {
		t.Errorf("payload %s\nwant %s", raw, want)
	}
	old := `{"Key":{"Channel":"telegram","UpdateID":"8"},"UserID":"42","ChatID":"42","Input":{"Kind":"button","Text":"","Command":"",` +
		`"Data":"rsvp:yes","Phone":"","ContactIsSelf":false,"ContactVerified":false,"PhoneForm":false,"DemoPick":false,"Files":null,` +
		`"Reading":null},"Group":false,"PrivateURL":"","Source":""}`
	var got Inbound
	if err := json.Unmarshal([]byte(old), &got); err != nil || !reflect.DeepEqual(got, button) {
		t.Errorf("a payload written before read as %+v, %v", got, err)
	}
}
