package testenv

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RedisCPU is the CPU the Redis server at c has used so far (INFO cpu:
// used_cpu_sys + used_cpu_user, the whole process), for benchmarks that
// report the server's CPU per operation.
func RedisCPU(tb testing.TB, c goredis.Cmdable) time.Duration {
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var d time.Duration
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, _ := strconv.ParseFloat(v, 64)
			d += time.Duration(f * float64(time.Second))
		}
	}
	return d
}

// RedisURLCPU is RedisCPU of the test Redis (RedisURL), in µs.
func RedisURLCPU(tb testing.TB) float64 {
	opt, err := goredis.ParseURL(RedisURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	return float64(RedisCPU(tb, c).Microseconds())
}

// ProcessCPU is the CPU this process has used so far (user + system), for
// benchmarks that report the client's CPU per operation.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
