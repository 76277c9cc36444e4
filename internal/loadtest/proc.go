package loadtest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a started bot process.
type Proc struct {
	Cmd  *exec.Cmd
	logs *logBuf
	done chan struct{}
}

type logBuf struct {
	mu     sync.Mutex
	b      bytes.Buffer
	errors int
	warns  int
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Keep the last ~4 MB only.
	if l.b.Len() > 4<<20 {
		rest := l.b.Bytes()[l.b.Len()-(1<<20):]
		l.b = *bytes.NewBuffer(append([]byte(nil), rest...))
	}
	l.errors += bytes.Count(p, []byte(`"level":"ERROR"`))
	l.warns += bytes.Count(p, []byte(`"level":"WARN"`))
	return l.b.Write(p)
}

// StartProc starts bin with exactly env (plus PATH and HOME) and waits up to
// timeout for it to print that it serves.
func StartProc(bin string, env map[string]string, timeout time.Duration) (*Proc, error) {
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &Proc{Cmd: cmd, logs: &logBuf{}, done: make(chan struct{})}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			if strings.Contains(sc.Text(), "đang chạy") {
				once.Do(func() { close(ready) })
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	select {
	case <-ready:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited at start; logs:\n%s", bin, p.Logs())
	case <-time.After(timeout):
		p.Kill()
		return nil, fmt.Errorf("%s did not start within %v; logs:\n%s", bin, timeout, p.Logs())
	}
}

// Logs returns the process's recent log output.
func (p *Proc) Logs() string {
	p.logs.mu.Lock()
	defer p.logs.mu.Unlock()
	return p.logs.b.String()
}

// ErrorLines counts log lines at level ERROR and WARN so far.
func (p *Proc) ErrorLines() (errors, warns int) {
	p.logs.mu.Lock()
	defer p.logs.mu.Unlock()
	return p.logs.errors, p.logs.warns
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Proc) Kill() {
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM and waits up to timeout, then kills.
func (p *Proc) Stop(timeout time.Duration) error {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("pid %d did not stop within %v of SIGTERM", p.Cmd.Process.Pid, timeout)
	}
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// CPUSeconds returns the process's user+system CPU time from /proc.
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100, nil // USER_HZ is 100 on Linux
}

// PeakRSS returns VmHWM (peak resident set) in bytes.
func PeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// FreeAddr returns a loopback address with a port free right now, below
// the kernel's range of ephemeral ports where it can: a port from that
// range (":0") can be taken, between this check and the bot's listen, as
// the source port of one of the many connections the bot opens first to
// PostgreSQL and Redis (seen: "bind: address already in use" in a make
// bench run).
func FreeAddr() (string, error) {
	if lo := ephemeralLow(); lo > freePortMin+100 {
		for range 100 {
			port := freePortMin + rand.IntN(lo-freePortMin)
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				continue
			}
			addr := ln.Addr().String()
			ln.Close()
			return addr, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// freePortMin is the lowest port FreeAddr picks: above the registered
// services most machines run.
const freePortMin = 20000

// ephemeralLow is the lowest port of the kernel's ephemeral range (Linux's
// ip_local_port_range), 0 when unknown.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

// WaitPort waits until something listens on addr, or timeout.
func WaitPort(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not listening after %v", addr, timeout)
}

// CPUShares is a reading of where the machine's CPU time went: the machine
// as a whole and a few groups of processes, in CPU-seconds since boot.
type CPUShares struct {
	At      time.Time
	Busy    float64 // all cores, not idle or waiting for I/O
	Bot     float64 // the bot process
	Self    float64 // this process: the fake Bot API and the simulated users
	Postgre float64 // every process named postgres (other clients' work too)
	Redis   float64 // every redis-server
}

// ReadCPUShares reads /proc. Processes that end between two readings drop
// out of their group's difference.
func ReadCPUShares(bot int) (CPUShares, error) {
	c := CPUShares{At: time.Now()}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return c, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var total, idle float64
	for i, v := range f[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		total += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	c.Busy = (total - idle) / 100
	c.Bot, _ = CPUSeconds(bot)
	c.Self, _ = CPUSeconds(os.Getpid())
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil {
			continue
		}
		switch name := strings.TrimSpace(string(comm)); {
		case name == "postgres":
			s, _ := CPUSeconds(pid)
			c.Postgre += s
		case strings.HasPrefix(name, "redis-server"):
			s, _ := CPUSeconds(pid)
			c.Redis += s
		}
	}
	return c, nil
}

// Since describes the CPU used between two readings, in % of one core.
func (c CPUShares) Since(before CPUShares) string {
	sec := c.At.Sub(before.At).Seconds()
	if sec <= 0 {
		return ""
	}
	pct := func(a, b float64) float64 { return 100 * (a - b) / sec }
	return fmt.Sprintf("CPU during the run, %% of one core (%d cores): machine busy %.0f, bot %.0f, fake+users %.0f, PostgreSQL %.0f and Redis %.0f (all their clients), the rest %.0f",
		runtime.NumCPU(), pct(c.Busy, before.Busy), pct(c.Bot, before.Bot), pct(c.Self, before.Self), pct(c.Postgre, before.Postgre), pct(c.Redis, before.Redis),
		pct(c.Busy-c.Bot-c.Self-c.Postgre-c.Redis, before.Busy-before.Bot-before.Self-before.Postgre-before.Redis))
}

// SocketPorts returns the local TCP ports of pid's open sockets (Linux,
// from /proc): which process a request came from, by its remote port.
func SocketPorts(pid int) (map[int]bool, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	ports := map[int]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 || !inodes[fs[9]] {
				continue
			}
			_, hex, ok := strings.Cut(fs[1], ":")
			if p, err := strconv.ParseInt(hex, 16, 32); ok && err == nil {
				ports[int(p)] = true
			}
		}
	}
	return ports, nil
}

// ContextSwitches sums the voluntary and involuntary context switches of
// every thread of pid (/proc/PID/task/*/status). A voluntary one is a
// thread going to sleep (a futex, epoll_wait): per update, how often the
// process fell idle and was woken — what an update's hand-offs between
// goroutines and its round trips cost the process beyond its own work,
// and a count the machine's load hardly changes.
func ContextSwitches(pid int) (voluntary, involuntary int64, err error) {
	dirs, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, d := range dirs {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, d.Name()))
		if err != nil {
			continue // the thread exited
		}
		for _, line := range strings.Split(string(b), "\n") {
			name, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			switch name {
			case "voluntary_ctxt_switches":
				voluntary += n
			case "nonvoluntary_ctxt_switches":
				involuntary += n
			}
		}
	}
	return voluntary, involuntary, nil
}
