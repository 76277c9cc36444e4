package evidence

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/evidence/evidencetest"
)

// BenchmarkExtractScanned10Pages reads a 10-page scanned PDF (the report
// photo on every page) the way the bot does: one worker, Tesseract limited
// to one thread, leaving the other core to the chats. Goal: under 60 s on
// the 2-core machine. Run with
//
//	go test -run '^$' -bench ExtractScanned -benchtime 1x ./evidence/
func BenchmarkExtractScanned10Pages(b *testing.B) {
	evidencetest.RequireTools(b, true)
	pdf := evidencetest.ScanPDF(b, 10)
	x := newExtractor(b, Config{Timeout: 5 * time.Minute})
	x.prepare()
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := x.Extract(context.Background(), bytes.NewReader(pdf))
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Pages) != 10 || !res.OCR {
			b.Fatalf("read %d pages (OCR %v), want 10 by OCR", len(res.Pages), res.OCR)
		}
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	// On a shared machine the wall time mostly measures the other load;
	// the tools' CPU time is what one extraction costs (one thread, so on
	// an idle core it is also about the wall time).
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/doc")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/doc")
}
