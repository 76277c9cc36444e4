package loadtest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"
)

// sendDocument answers as Telegram's: an upload gets a file_id back, which
// sends the same file again (and serves it by getFile); a file_id the fake
// never gave is refused with 400.
func TestSendDocumentByFileID(t *testing.T) {
	api, err := Start(Options{Token: "1:T"})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	cl := &http.Client{Transport: &http.Transport{}}
	defer cl.CloseIdleConnections()
	type answer struct {
		OK     bool `json:"ok"`
		Code   int  `json:"error_code"`
		Result struct {
			Document struct {
				FileID   string `json:"file_id"`
				FileSize int    `json:"file_size"`
			} `json:"document"`
			FilePath string `json:"file_path"`
		} `json:"result"`
	}
	call := func(req *http.Request) answer {
		t.Helper()
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a answer
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	form := func(method string, v url.Values) answer {
		req, _ := http.NewRequest("POST", api.URL()+"/bot1:T/"+method, bytes.NewBufferString(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return call(req)
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("chat_id", "42")
	fw, _ := mw.CreateFormFile("document", "hoinghi.ics")
	_, _ = io.WriteString(fw, "BEGIN:VCALENDAR")
	_ = mw.Close()
	req, _ := http.NewRequest("POST", api.URL()+"/bot1:T/sendDocument", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	up := call(req)
	id := up.Result.Document.FileID
	if !up.OK || id == "" || up.Result.Document.FileSize != len("BEGIN:VCALENDAR") {
		t.Fatalf("upload answered %+v", up)
	}

	if again := form("sendDocument", url.Values{"chat_id": {"43"}, "document": {id}}); !again.OK || again.Result.Document.FileID != id {
		t.Errorf("send by file_id answered %+v, want ok with %q", again, id)
	}
	if f := form("getFile", url.Values{"file_id": {id}}); !f.OK || f.Result.FilePath == "" {
		t.Errorf("getFile of the uploaded document answered %+v", f)
	}
	if bad := form("sendDocument", url.Values{"chat_id": {"44"}, "document": {"BQADnever"}}); bad.OK || bad.Code != 400 {
		t.Errorf("send by an unknown file_id answered %+v, want 400", bad)
	}
	if n, up := api.Calls("sendDocument"), api.Calls("documentUpload"); n != 3 || up != 1 {
		t.Errorf("counted %d sendDocument, %d uploads; want 3 and 1", n, up)
	}
}
