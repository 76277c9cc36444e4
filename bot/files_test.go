package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/files"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// channelFiles plays the files a channel holds for the bot to download,
// and counts the downloads.
type channelFiles struct {
	mu      sync.Mutex
	data    map[string][]byte
	fetches int
}

func (c *channelFiles) Fetch(_ context.Context, f flows.FileRef, max int64) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fetches++
	b, ok := c.data[f.ID]
	if !ok {
		return nil, fmt.Errorf("no file %s", f.ID)
	}
	if int64(len(b)) > max {
		return nil, bot.ErrTooLarge
	}
	return b, nil
}

func (c *channelFiles) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches
}

type fileRig struct {
	*rig
	st    *sqlite.Store
	blobs *files.Store
	dir   string
	files *channelFiles
}

// newFileRig is a dispatcher on SQLite with the data campaign, an evidence
// directory and the given per-person quota; STC's focal point DB002 is
// linked to chat 2002.
func newFileRig(t *testing.T, personQuota int64) *fileRig {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatal(err)
	}
	if err := st.SyncCatalog(ctx, storagetest.Indicators(), storagetest.Assignments()); err != nil {
		t.Fatal(err)
	}
	dir, err := st.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	evdir := filepath.Join(t.TempDir(), "evidence")
	blobs, err := files.New(evdir)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	d := bot.NewDispatcher(bot.Config{Store: st, Sessions: st, Event: event(), Directory: dir, Now: func() time.Time { return clock },
		Campaign: st, Catalog: domain.NewCatalog(storagetest.Indicators(), storagetest.Assignments()),
		Blobs: blobs, Quota: st, PersonQuota: personQuota})
	d.SetSender(domain.Telegram, rec)
	cf := &channelFiles{data: map[string][]byte{}}
	d.SetFetcher(domain.Telegram, cf)
	r := &rig{d: d, st: st, sent: rec, dir: dir, chat: "2002"}
	// Linked directly: how a focal point proves who they are is not what
	// these tests are about.
	if _, err := st.Apply(ctx, domain.UpdateKey{Channel: "test", UpdateID: "link"}, clock, []domain.Effect{domain.LinkIdentity{Identity: domain.Identity{
		Channel: domain.Telegram, UserID: r.chat, ChatID: r.chat, PersonID: "DB002", Proof: domain.ProofPhone}}}); err != nil {
		t.Fatal(err)
	}
	return &fileRig{rig: r, st: st, blobs: blobs, dir: evdir, files: cf}
}

func (r *fileRig) send(t *testing.T, in flows.Input) string {
	t.Helper()
	before := len(r.sent.texts(r.chat))
	if err := r.d.Handle(context.Background(), r.in(in)); err != nil {
		t.Fatalf("handle %+v: %v", in, err)
	}
	return strings.Join(r.sent.texts(r.chat)[before:], "\n")
}

// file sends a file the channel holds under id with data.
func (r *fileRig) file(t *testing.T, id, name string, data []byte) string {
	t.Helper()
	r.files.mu.Lock()
	r.files.data[id] = data
	r.files.mu.Unlock()
	return r.send(t, flows.Input{Kind: flows.InFile, Files: []flows.FileRef{{ID: id, Name: name, MIME: "application/pdf", Size: int64(len(data))}}})
}

// toEvidence walks the focal point to the evidence question of 2.2.2.
func (r *fileRig) toEvidence(t *testing.T) {
	t.Helper()
	r.send(t, flows.Input{Kind: flows.InButton, Data: "ind:2.2.2"})
	r.send(t, flows.Input{Kind: flows.InText, Text: "12,5"})
	if got := r.send(t, flows.Input{Kind: flows.InButton, Data: "iv:ok"}); !strings.Contains(got, "minh chứng") {
		t.Fatalf("not at the evidence question: %q", got)
	}
}

func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, filepath.Base(p))
		}
		return nil
	})
	return out
}

var pdfBytes = append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("0 0 obj\n"), 250)...)

// Finding 4 of issue 10: a file nobody asked for was downloaded and kept.
// Now only a focal point at the evidence question gets files fetched.
func TestUnrequestedFileIsNotFetchedOrStored(t *testing.T) {
	r := newFileRig(t, 0)
	got := r.file(t, "f1", "bao-cao.pdf", pdfBytes)
	if !strings.Contains(got, "Hiện chưa cần gửi tệp") {
		t.Errorf("idle focal point's file answered %q", got)
	}
	// An unknown chat's file too.
	stranger := *r.rig
	stranger.chat = "9009"
	stranger.seq = 100
	if err := stranger.d.Handle(context.Background(), stranger.in(flows.Input{Kind: flows.InFile,
		Files: []flows.FileRef{{ID: "f1", Name: "x.pdf", Size: int64(len(pdfBytes))}}})); err != nil {
		t.Fatal(err)
	}
	// And a focal point in the middle of another question.
	r.send(t, flows.Input{Kind: flows.InButton, Data: "ind:2.2.2"})
	r.file(t, "f2", "bao-cao.pdf", pdfBytes)
	if n := r.files.count(); n != 0 {
		t.Errorf("%d files downloaded; none was asked for", n)
	}
	if got := storedFiles(t, r.dir); len(got) != 0 {
		t.Errorf("files kept: %v", got)
	}
	if p, total, err := r.st.BlobUsage(context.Background(), "DB002"); err != nil || p != 0 || total != 0 {
		t.Errorf("usage %d/%d %v", p, total, err)
	}
}

// Finding 6: a PDF named .hta was offered under that name. Now the stored
// evidence takes the extension of its detected type, and a requested file
// is stored and counted against its sender.
func TestRequestedFileKeptUnderItsTypesExtension(t *testing.T) {
	r := newFileRig(t, 0)
	r.toEvidence(t)
	for i, name := range []string{"giay-moi.hta", "Quyết định\u202egpj.bat", "bao cao.html", "Scan 12"} {
		data := append(append([]byte{}, pdfBytes...), byte(i))
		if got := r.file(t, fmt.Sprint("f", i), name, data); !strings.Contains(got, "Đã nhận") {
			t.Fatalf("file %q answered %q", name, got)
		}
	}
	sub, err := r.st.Submission(context.Background(), "2.2.2", "STC")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range sub.Evidence {
		names = append(names, e.Name)
	}
	want := []string{"giay-moi.pdf", "Quyết địnhgpj.pdf", "bao cao.pdf", "Scan 12.pdf"}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("evidence names %q, want %q", names, want)
	}
	if n := len(storedFiles(t, r.dir)); n != 4 {
		t.Errorf("%d files stored, want 4", n)
	}
	if p, _, _ := r.st.BlobUsage(context.Background(), "DB002"); p != int64(4*(len(pdfBytes)+1)) {
		t.Errorf("DB002 uses %d bytes, want %d", p, 4*(len(pdfBytes)+1))
	}
}

// A person over their quota gets a clear Vietnamese message and nothing
// more is kept.
func TestPersonQuota(t *testing.T) {
	r := newFileRig(t, int64(2*len(pdfBytes)+10))
	r.toEvidence(t)
	for i := 0; i < 2; i++ {
		data := append(append([]byte{}, pdfBytes...), byte(i))
		if got := r.file(t, fmt.Sprint("f", i), "a.pdf", data); !strings.Contains(got, "Đã nhận") {
			t.Fatalf("file %d within the quota: %q", i, got)
		}
	}
	got := r.file(t, "f9", "b.pdf", append(append([]byte{}, pdfBytes...), 9))
	if !strings.Contains(got, "đã dùng hết dung lượng") {
		t.Errorf("over the quota: %q", got)
	}
	if n := len(storedFiles(t, r.dir)); n != 2 {
		t.Errorf("%d files stored, want 2", n)
	}
}

// Finding 4: files cleared from a draft were never collected. A file
// nothing references is deleted a day after it was last stored; a
// referenced one is kept.
func TestOrphanedFilesAreCollected(t *testing.T) {
	type index interface {
		files.Index
		RecordBlob(ctx context.Context, sum, personID string, size int64, at time.Time) error
		Apply(ctx context.Context, key domain.UpdateKey, at time.Time, effects []domain.Effect) (bool, error)
		SyncDirectory(ctx context.Context, agencies []domain.Agency, people []domain.Person) error
		SyncCatalog(ctx context.Context, indicators []domain.Indicator, assignments []domain.Assignment) error
	}
	stores := map[string]func(t *testing.T) index{
		"sqlite": func(t *testing.T) index {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) index {
			s, err := postgres.Open(context.Background(), testenv.PostgresURL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			if err := st.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
				t.Fatal(err)
			}
			if err := st.SyncCatalog(ctx, storagetest.Indicators(), storagetest.Assignments()); err != nil {
				t.Fatal(err)
			}
			blobs, err := files.New(filepath.Join(t.TempDir(), "evidence"))
			if err != nil {
				t.Fatal(err)
			}
			put := func(content string) string {
				sum, size, err := blobs.Put(strings.NewReader(content), 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				if err := st.RecordBlob(ctx, sum, "DB002", size, clock); err != nil {
					t.Fatal(err)
				}
				return sum
			}
			kept, cleared := put("%PDF kept"), put("%PDF cleared")
			if _, err := st.Apply(ctx, domain.UpdateKey{Channel: "test", UpdateID: "1"}, clock, []domain.Effect{domain.SaveSubmission{
				Submission: domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "12.5", By: "DB002",
					Evidence: []domain.Evidence{{SHA256: kept, Name: "kept.pdf", Size: 9}}}, Action: "draft"}}); err != nil {
				t.Fatal(err)
			}
			if n, err := blobs.Collect(ctx, st, clock.Add(time.Hour)); err != nil || n != 0 {
				t.Errorf("after an hour: collected %d (%v), want none", n, err)
			}
			n, err := blobs.Collect(ctx, st, clock.Add(25*time.Hour))
			if err != nil || n != 1 {
				t.Errorf("after a day: collected %d (%v), want 1", n, err)
			}
			if _, err := blobs.Open(cleared); err == nil {
				t.Error("the orphaned file is still there")
			}
			rc, err := blobs.Open(kept)
			if err != nil {
				t.Fatalf("the referenced file was collected: %v", err)
			}
			rc.Close()
		})
	}
}
