package export

import (
	"archive/zip"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/files"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// Finding 9 of issue 10: the evidence ZIP was built in memory (a 152 MB ZIP
// peaked at 411 MB). Now it goes to a temporary file: once built, the heap
// holds nothing of it, however large it is.
func TestEvidenceZIPIsNotHeldInMemory(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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
	// Three 20 MB files that do not compress.
	var ev []domain.Evidence
	rng := rand.NewChaCha8([32]byte{1})
	for i := 0; i < 3; i++ {
		sum, size, err := blobs.Put(io.LimitReader(rng, 20<<20), 20<<20)
		if err != nil {
			t.Fatal(err)
		}
		ev = append(ev, domain.Evidence{SHA256: sum, Name: "scan.pdf", MIME: "application/pdf", Size: size})
	}
	at := time.Date(2024, 8, 20, 9, 0, 0, 0, time.UTC)
	if _, err := st.Apply(ctx, domain.UpdateKey{Channel: "test", UpdateID: "1"}, at, []domain.Effect{domain.SaveSubmission{
		Submission: domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "12.5", By: "DB002", Evidence: ev}, Action: "submit"}}); err != nil {
		t.Fatal(err)
	}
	dir, err := st.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src := &Source{Title: "PII", Campaign: st, Directory: func() *domain.Directory { return dir },
		Catalog: domain.NewCatalog(storagetest.Indicators(), storagetest.Assignments()), Open: blobs.Open,
		Now: func() time.Time { return at }, TempDir: t.TempDir()}

	before := liveHeap()
	f, err := src.Export(ctx, "zip")
	if err != nil {
		t.Fatal(err)
	}
	held := liveHeap() - before
	size := int64(len(f.Data))
	if f.Path != "" {
		st, err := os.Stat(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		size = st.Size()
		defer os.Remove(f.Path)
	}
	t.Logf("ZIP of %d MB; heap held after building it: %d MB", size>>20, held>>20)
	if size < 60<<20 {
		t.Fatalf("the ZIP is %d bytes; want the three files in it", size)
	}
	if held > 8<<20 {
		t.Errorf("the heap holds %d MB after building a %d MB ZIP; want it on disk", held>>20, size>>20)
	}
	runtime.KeepAlive(f)
	if f.Path != "" {
		zr, err := zip.OpenReader(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		if len(zr.File) != 4 {
			t.Errorf("%d entries, want 3 files and the manifest", len(zr.File))
		}
	}
}
