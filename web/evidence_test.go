package web_test

import (
	"context"
	"mime"
	"net/http"
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/domain"
)

// PDFs and pictures open in the browser on their own path, sandboxed, with
// the type their content shows; a file that only claims to be a PDF is
// downloaded.
func TestEvidenceView(t *testing.T) {
	w := newWorld(t)
	pdf := w.putEvidence(t, "%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")
	png := w.putEvidence(t, string(tinyPNG))
	fake := w.putEvidence(t, "<html><script>alert(document.cookie)</script></html>")
	w.submit(t, "1.1.1", "UBND-YM", "P003", "7",
		domain.Evidence{SHA256: pdf, Name: "Quyết định 12.pdf", MIME: "application/pdf", Size: 30},
		domain.Evidence{SHA256: png, Name: "ảnh.png", MIME: "image/png", Size: int64(len(tinyPNG))},
		domain.Evidence{SHA256: fake, Name: "giả.pdf", MIME: "application/pdf", Size: 50})
	c := w.signIn(t, "S001")

	_, body := c.get("/admin/indicators/1.1.1/UBND-YM")
	q := "?i=1.1.1&amp;a=UBND-YM"
	mustContain(t, body, `href="/admin/evidence/`+pdf+`/view`+q+`"`, `src="/admin/evidence/`+png+`/view`+q+`"`, `href="/admin/evidence/`+pdf+q+`"`, "Tải về")

	for _, tc := range []struct {
		name, sha, ctype string
	}{
		{"pdf", pdf, "application/pdf"},
		{"png", png, "image/png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.do("GET", "/admin/evidence/"+tc.sha+"/view", nil, "")
			b := read(t, resp)
			h := resp.Header
			if resp.StatusCode != 200 || h.Get("Content-Type") != tc.ctype || h.Get("Content-Security-Policy") != "sandbox" ||
				h.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(h.Get("Content-Disposition"), "inline") {
				t.Errorf("view: %d %v", resp.StatusCode, h)
			}
			if len(b) == 0 {
				t.Error("empty body")
			}
		})
	}
	// HTML posing as a PDF is never shown inline.
	resp := c.do("GET", "/admin/evidence/"+fake+"/view", nil, "")
	read(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/evidence/"+fake+"?a=UBND-YM&i=1.1.1" {
		t.Errorf("fake pdf: %d %v", resp.StatusCode, resp.Header)
	}
	// Signed out: the sign-in page, not the file.
	if code, body := w.anon(t).get("/admin/evidence/" + pdf + "/view"); code != http.StatusUnauthorized || strings.Contains(body, "%PDF") {
		t.Errorf("anonymous view: %d", code)
	}
}

// tinyPNG is a 1×1 transparent PNG.
var tinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// Issue 10 (12, low): the same content sent as evidence by two agencies was
// served and audited under the last sender's name. Each submission's link
// now gives the file under that submission's name, audited with its own
// sender.
func TestSameContentEvidencePerSubmission(t *testing.T) {
	w := newWorld(t)
	sum := w.putEvidence(t, "%PDF công văn chung")
	w.submit(t, "1.1.1", "UBND-YM", "P003", "7", domain.Evidence{SHA256: sum, Name: "CV UBND Yên Mỹ.pdf", MIME: "application/pdf", Size: 19})
	w.submit(t, "2.1.1", "SNV", "P004", "62.5", domain.Evidence{SHA256: sum, Name: "Công văn Sở Nội vụ.hta", MIME: "application/pdf", Size: 19})
	c := w.signIn(t, "S001")

	_, body := c.get("/admin/indicators")
	mustContain(t, body, "/admin/evidence/"+sum+"?i=1.1.1&amp;a=UBND-YM", "/admin/evidence/"+sum+"?i=2.1.1&amp;a=SNV")
	for _, tc := range []struct {
		query, name, by string
	}{
		{"?i=1.1.1&a=UBND-YM", "CV UBND Yên Mỹ.pdf", "P003"},
		{"?i=2.1.1&a=SNV", "Công văn Sở Nội vụ.pdf", "P004"},
	} {
		resp := c.do("GET", "/admin/evidence/"+sum+tc.query, nil, "")
		read(t, resp)
		_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
		if err != nil || params["filename"] != tc.name {
			t.Errorf("%s: file name %q (%v), want %q", tc.query, params["filename"], err, tc.name)
		}
		log, err := w.store.AuditLog(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) == 0 || log[0].Action != "evidence.download" || !strings.Contains(log[0].Detail, tc.name) || !strings.Contains(log[0].Detail, tc.by) {
			t.Errorf("%s: audited %+v, want %q by %s", tc.query, log, tc.name, tc.by)
		}
	}
	// A submission the file is not part of gives nothing.
	if code, _ := c.get("/admin/evidence/" + sum + "?i=1.1.1&a=SNV"); code != 404 {
		t.Errorf("file asked for under another submission: %d", code)
	}
}
