package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/papers/paperstest"
)

// `dieuphoi export invitation|invitations|badges|seating` print the papers
// from the built-in example.
func TestPapersCommand(t *testing.T) {
	env := baseEnv(t)
	dir := t.TempDir()
	cmd := func(args ...string) string {
		t.Helper()
		path := filepath.Join(dir, args[0]+".pdf")
		var out strings.Builder
		if err := run(context.Background(), append(append([]string{"dieuphoi", "export"}, args...), path), envFunc(env), &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !strings.Contains(out.String(), "Đã ghi") {
			t.Errorf("%v said %q", args, out.String())
		}
		return path
	}
	p := cmd("invitation", "DB002")
	text := paperstest.Collapse(paperstest.Text(t, p)[0])
	for _, want := range []string{"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Kính gửi: Đồng chí Phạm Thu Trang", "Số: /GM-SKHCN", "Trần Tùng Chuẩn"} {
		if !strings.Contains(text, want) {
			t.Errorf("invitation lacks %q:\n%s", want, text)
		}
	}
	if n := paperstest.Pages(t, cmd("invitations", "HV-KHCNDMST")); n < 2 {
		t.Errorf("the Học viện's invitations: %d pages", n)
	}
	if n := paperstest.Pages(t, cmd("badges")); n < 10 {
		t.Errorf("badges: %d pages for ~90 delegates", n)
	}
	seat := paperstest.Collapse(strings.Join(paperstest.Text(t, cmd("seating")), " "))
	if !strings.Contains(seat, "DANH SÁCH ĐẠI BIỂU THEO THỨ TỰ NGHI THỨC") {
		t.Errorf("seating list: %.300s", seat)
	}
	for _, bad := range [][]string{{"invitation", "NOPE"}, {"invitations", "NOPE"}, {"invitation"}, {"badges", "a", "b"}} {
		if err := run(context.Background(), append([]string{"dieuphoi", "export"}, bad...), envFunc(env), io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
