package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

// dieuphoi schedule lists the coming reminders with their recipients and
// text, and what was skipped and why.
func TestScheduleCommand(t *testing.T) {
	env := baseEnv(t)
	env["DIEUPHOI_CLOCK_START"] = "2024-07-29T09:00:00+07:00"
	serveOnce(t, env, "được ghi là bỏ qua") // the 08:00 staff summary: staff have no chat yet

	var out, errOut strings.Builder
	if err := run(context.Background(), []string{"dieuphoi", "schedule", "3"}, envFunc(env), &out, &errOut); err != nil {
		t.Fatalf("schedule: %v\n%s", err, errOut.String())
	}
	got := out.String()
	for _, re := range []string{
		`Nhắc nhở sắp gửi, từ 09:0\d 29/07/2024 đến 09:0\d 01/08/2024`,
		`09:00 30/07/2024  Nhắc xác nhận tham dự — \d+ người nhận, 0 có kênh nhận tin\n    📨 Anh/chị chưa xác nhận tham dự Hội nghị triển khai`,
		`08:00 31/07/2024  Tổng hợp xác nhận cho cán bộ — \d+ người nhận`,
		`Đã xử lý \(mới nhất trước\):\n08:00 29/07/2024  Tổng hợp xác nhận cho cán bộ — bỏ qua: \d+ \(chưa kết nối với bot trên kênh nào\)`,
	} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("schedule output lacks %s:\n%s", re, got)
		}
	}
	if err := run(context.Background(), []string{"dieuphoi", "schedule", "abc"}, envFunc(env), &out, &errOut); err == nil || !strings.Contains(err.Error(), "số ngày") && !strings.Contains(err.Error(), "days") {
		t.Errorf("schedule abc: %v", err)
	}
}
