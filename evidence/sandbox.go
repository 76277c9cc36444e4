package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Evidence comes from anyone, so the tools that read it (poppler, Tesseract)
// run in a child process with limits the bot's own process cannot be hurt
// by: the dieuphoi binary re-executes itself with sandboxEnv set; the child
// (see init) lowers its resource limits — address space, CPU seconds, file
// size, no core dumps — and then execs the tool, which inherits them. The
// parent starts the child in its own process group (killed whole on
// timeout), with SIGKILL when the parent dies, and in a new network
// namespace when the kernel lets us create one (no network inside).
const sandboxEnv = "DIEUPHOI_EVIDENCE_SANDBOX"

// limits are what the child applies before exec.
type limits struct {
	AS    uint64 // bytes of address space
	CPU   uint64 // CPU seconds
	FSize uint64 // largest file the tool may write, bytes
}

func (l limits) String() string {
	return fmt.Sprintf("as=%d,cpu=%d,fsize=%d", l.AS, l.CPU, l.FSize)
}

func parseLimits(s string) (limits, error) {
	var l limits
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 64)
		if !ok || err != nil {
			return l, fmt.Errorf("bad limit %q", kv)
		}
		switch k {
		case "as":
			l.AS = n
		case "cpu":
			l.CPU = n
		case "fsize":
			l.FSize = n
		default:
			return l, fmt.Errorf("unknown limit %q", k)
		}
	}
	return l, nil
}

func init() {
	spec, ok := os.LookupEnv(sandboxEnv)
	if !ok {
		return
	}
	// This process is only the sandbox's trampoline: it never returns to
	// the program it was built into.
	os.Exit(sandboxChild(spec, os.Args[1:]))
}

// sandboxChild applies the limits in spec and execs args[0] with args. It
// returns only on failure (or for the "probe" spec, which tests whether
// the namespaces can be created).
func sandboxChild(spec string, args []string) int {
	if spec == "probe" {
		return 0
	}
	l, err := parseLimits(spec)
	if err != nil || len(args) == 0 {
		fmt.Fprintln(os.Stderr, "sandbox: bad invocation")
		return 126
	}
	set := []struct {
		res int
		v   uint64
	}{{syscall.RLIMIT_AS, l.AS}, {syscall.RLIMIT_CPU, l.CPU}, {syscall.RLIMIT_FSIZE, l.FSize}, {syscall.RLIMIT_CORE, 0}}
	for _, s := range set {
		if s.v == 0 && s.res != syscall.RLIMIT_CORE {
			continue
		}
		if err := syscall.Setrlimit(s.res, &syscall.Rlimit{Cur: s.v, Max: s.v}); err != nil {
			fmt.Fprintf(os.Stderr, "sandbox: setrlimit %d: %v\n", s.res, err)
			return 126
		}
	}
	env := make([]string, 0, len(os.Environ()))
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, sandboxEnv+"=") {
			env = append(env, e)
		}
	}
	err = syscall.Exec(args[0], args, env)
	fmt.Fprintf(os.Stderr, "sandbox: exec %s: %v\n", args[0], err)
	return 127
}

// isolation is how children are separated from the network.
type isolation struct {
	name  string // "netns", "userns+netns" or "none"
	flags uintptr
	user  bool
}

// probeIsolation finds the strongest network isolation this kernel and
// our privileges allow: a new network namespace (root, or CAP_SYS_ADMIN),
// else a user namespace with a network namespace (unprivileged, where
// user namespaces are enabled), else none (reported at start-up).
func probeIsolation(self string) isolation {
	for _, iso := range []isolation{
		{name: "netns", flags: syscall.CLONE_NEWNET},
		{name: "userns+netns", flags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET, user: true},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cmd := exec.CommandContext(ctx, self)
		cmd.Env = []string{sandboxEnv + "=probe"}
		cmd.SysProcAttr = iso.attr()
		err := cmd.Run()
		cancel()
		if err == nil {
			return iso
		}
	}
	return isolation{name: "none"}
}

func (iso isolation) attr() *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Cloneflags: iso.flags}
	if iso.user {
		uid, gid := os.Getuid(), os.Getgid()
		a.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		a.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
	}
	return a
}

// capped keeps the first max bytes written to it and drops the rest (the
// child keeps writing into a drained pipe rather than blocking on a full
// one; the time limit ends it).
type capped struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (c *capped) Write(p []byte) (int, error) {
	room := c.max - c.buf.Len()
	if room < len(p) {
		c.truncated = true
		if room > 0 {
			c.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return c.buf.Write(p)
}

// errTimeout and errKilled tell a limit from a tool's own failure.
var (
	errTimeout = errors.New("time limit reached")
	errKilled  = errors.New("killed by a resource limit")
)

// run executes tool (an absolute path) with args inside the sandbox, in
// dir, within ctx, keeping at most maxOut bytes of its standard output.
func (x *Extractor) run(ctx context.Context, dir string, maxOut int, tool string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, x.self, append([]string{tool}, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{
		sandboxEnv + "=" + x.limits.String(),
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + dir,
		"TMPDIR=" + dir,
		"LANG=C.UTF-8",
		// Tesseract otherwise starts one OpenMP thread per core; one
		// extraction must leave the other core to the chats.
		"OMP_THREAD_LIMIT=1",
	}
	if p := os.Getenv("TESSDATA_PREFIX"); p != "" {
		cmd.Env = append(cmd.Env, "TESSDATA_PREFIX="+p)
	}
	cmd.SysProcAttr = x.iso.attr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	out := &capped{max: maxOut}
	errOut := &capped{max: 2048}
	cmd.Stdout, cmd.Stderr = out, errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, errTimeout
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return nil, fmt.Errorf("%s: %w (%v)", shortName(tool), errKilled, ws.Signal())
			}
		}
		// The tool's message may quote the file; it goes to the error
		// (kept out of user messages) but is short.
		return nil, fmt.Errorf("%s: %w: %s", shortName(tool), err, strings.TrimSpace(errOut.buf.String()))
	}
	return out.buf.Bytes(), nil
}

func shortName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
