package web_test

import (
	"context"
	"mime"
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/domain"
)

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
