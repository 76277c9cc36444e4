package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
)

// copyExample writes the example configuration into dir, edit changing
// each file's text.
func copyExample(t *testing.T, dir string, edit func(name, text string) string) {
	t.Helper()
	src := filepath.Join("..", "..", "configs", "example")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() { // the documents folder, as it is
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
			if err := os.CopyFS(filepath.Join(dir, e.Name()), os.DirFS(filepath.Join(src, e.Name()))); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if edit != nil {
			text = edit(e.Name(), text)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// second turns the example into another event on another day.
func second(name, text string) string {
	if name != "event.yaml" {
		return text
	}
	text = strings.Replace(text, "id: pii-2024", "id: council-2024\ncode: HD2024", 1)
	text = strings.Replace(text, "date: 2024-08-02", "date: 2024-08-03", 1)
	return text
}

func TestImportManyEventsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	env := baseEnv(t)
	in := t.TempDir()
	copyExample(t, filepath.Join(in, "a"), nil)
	copyExample(t, filepath.Join(in, "b"), second)

	var out, errOut strings.Builder
	if err := run(ctx, []string{"dieuphoi", "import", in}, envFunc(env), &out, &errOut); err != nil {
		t.Fatalf("import: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"pii-2024 (PII2024): đã nhập", "council-2024 (HD2024): đã nhập"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("import said %q, want %q", out.String(), want)
		}
	}
	out.Reset()
	if err := run(ctx, []string{"dieuphoi", "import", in}, envFunc(env), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "không đổi") != 4 { // two events and their campaigns
		t.Errorf("importing the same files again: %s", out.String())
	}

	// A third event with a bad row and one whose code is taken: refused
	// whole, each problem named by file, row and field; nothing stored.
	bad := t.TempDir()
	copyExample(t, filepath.Join(bad, "c"), func(name, text string) string {
		if name == "event.yaml" {
			text = strings.Replace(text, "id: pii-2024", "id: training-2024", 1)
		}
		if name == "delegates.csv" {
			text = strings.Replace(text, "0705285204", "12ab", 1)
		}
		return text
	})
	copyExample(t, filepath.Join(bad, "d"), func(name, text string) string {
		if name == "event.yaml" {
			text = strings.Replace(text, "id: pii-2024", "id: fair-2024\ncode: HD2024", 1)
		}
		return text
	})
	err := run(ctx, []string{"dieuphoi", "import", bad}, envFunc(env), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "c/delegates.csv:3: phone") || !strings.Contains(err.Error(), "nothing imported") {
		t.Fatalf("bad row: %v", err)
	}
	// Fix the row: the code clash with council-2024 in the database remains.
	copyExample(t, filepath.Join(bad, "c"), func(name, text string) string {
		if name == "event.yaml" {
			text = strings.Replace(text, "id: pii-2024", "id: training-2024", 1)
		}
		return text
	})
	err = run(ctx, []string{"dieuphoi", "import", bad}, envFunc(env), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "d/event.yaml:11: code: «HD2024» is already the code of event council-2024") {
		t.Fatalf("code clash: %v", err)
	}
	s, err := sqlite.Open(ctx, filepath.Join(env["DIEUPHOI_DATA_DIR"], "dieuphoi.db"))
	if err != nil {
		t.Fatal(err)
	}
	events, err := s.Events(ctx)
	// Each imported event has its own plan and documents (tasks.csv,
	// documents.csv), once however often it is imported.
	docs, derr := s.MeetingDocs(ctx, "council-2024", true)
	tasks, terr := s.Tasks(ctx, "council-2024")
	s.Close()
	if err != nil || len(events) != 2 {
		t.Fatalf("events after refused imports: %d %v", len(events), err)
	}
	if derr != nil || terr != nil || len(docs) != 4 || len(tasks) == 0 {
		t.Fatalf("council-2024: %d documents (%v), %d tasks (%v); want the example's 4 and its plan", len(docs), derr, len(tasks), terr)
	}

	// Progress made since the import (a status and a note) and a task
	// added in the console travel with the export.
	s, err = sqlite.Open(ctx, filepath.Join(env["DIEUPHOI_DATA_DIR"], "dieuphoi.db"))
	if err != nil {
		t.Fatal(err)
	}
	moved := tasks[0]
	moved.Status, moved.Note = domain.TaskDoing, "Đã liên hệ, chờ báo giá; \"gấp\", trước 17:00"
	added := domain.Task{EventID: "council-2024", ID: "VP-99", Kind: domain.TaskKindPlan, Title: "=Chuẩn bị nước uống",
		Unit: "Văn phòng Sở", OwnerID: moved.OwnerID, AgencyCode: moved.AgencyCode, Status: domain.TaskBlocked,
		Deadline: time.Date(2024, 8, 1, 9, 30, 0, 0, time.UTC)}
	if err := s.SaveTask(ctx, moved, moved.Version, "DB090", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveTask(ctx, added, 0, "DB090", time.Now()); err != nil {
		t.Fatal(err)
	}
	tasks, terr = s.Tasks(ctx, "council-2024")
	s.Close()
	if terr != nil {
		t.Fatal(terr)
	}

	// export-config writes files import reads back, into a new database.
	exp := t.TempDir()
	out.Reset()
	if err := run(ctx, []string{"dieuphoi", "export-config", exp}, envFunc(env), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	env2 := baseEnv(t)
	out.Reset()
	if err := run(ctx, []string{"dieuphoi", "import", exp}, envFunc(env2), &out, &errOut); err != nil {
		t.Fatalf("import of the export: %v", err)
	}
	if !strings.Contains(out.String(), "council-2024 (HD2024): đã nhập") || !strings.Contains(out.String(), "pii-2024 (PII2024): đã nhập") {
		t.Errorf("import of the export: %s", out.String())
	}
	s2, err := sqlite.Open(ctx, filepath.Join(env2["DIEUPHOI_DATA_DIR"], "dieuphoi.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	again, err := s2.Events(ctx)
	if err != nil || len(again) != 2 {
		t.Fatalf("events after the round trip: %v", err)
	}
	// The same plan (status and notes included) and the same documents
	// (the same files, titles, agenda items, internal marks).
	s1, err := sqlite.Open(ctx, filepath.Join(env["DIEUPHOI_DATA_DIR"], "dieuphoi.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	planOf := func(st *sqlite.Store, ev string) []string {
		list, err := st.Tasks(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range list {
			out = append(out, strings.Join([]string{x.ID, x.Kind, x.Title, x.Unit, x.OwnerID, x.AgencyCode,
				x.Deadline.UTC().Format(time.RFC3339), string(x.Status), x.Note}, "|"))
		}
		return out
	}
	docsOf := func(st *sqlite.Store, ev string) []string {
		list, err := st.MeetingDocs(ctx, ev, true)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range list {
			out = append(out, fmt.Sprintf("%s|%d|%s|%s|%s|%d|%v", d.Title, d.AgendaNo, d.FileName, d.MIME, d.SHA256, d.Size, d.Internal))
		}
		return out
	}
	for _, ev := range []string{"pii-2024", "council-2024"} {
		if a, b := planOf(s2, ev), planOf(s1, ev); len(b) == 0 || !slices.Equal(a, b) {
			t.Errorf("%s's plan after the round trip:\n%s\nwas\n%s", ev, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
		if a, b := docsOf(s2, ev), docsOf(s1, ev); len(b) != 4 || !slices.Equal(a, b) {
			t.Errorf("%s's documents after the round trip:\n%s\nwas\n%s", ev, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	}
	if !strings.Contains(strings.Join(planOf(s2, "council-2024"), "\n"), "VP-99|plan|=Chuẩn bị nước uống|") {
		t.Errorf("the console's task did not travel")
	}
	for i := range again {
		a, b := again[i], events[i]
		if a.Event.ID != b.Event.ID || !a.Event.Start.Equal(b.Event.Start) || len(a.Event.Agenda) != len(b.Event.Agenda) ||
			len(a.Invitees) != len(b.Invitees) || a.Schedule != b.Schedule || a.Event.Agenda[2].SpeakerVI != b.Event.Agenda[2].SpeakerVI {
			t.Errorf("round trip of %s changed it", a.Event.ID)
		}
		if ai, bi := a.Event.Issuer, b.Event.Issuer; ai.Body != bi.Body || ai.Number != bi.Number || ai.SignerName != bi.SignerName ||
			ai.SignerAuthority != bi.SignerAuthority || !ai.Date.Equal(bi.Date) || strings.Join(ai.Recipients, "|") != strings.Join(bi.Recipients, "|") {
			t.Errorf("round trip of %s changed its invitation: %+v, was %+v", a.Event.ID, ai, bi)
		}
	}
}
