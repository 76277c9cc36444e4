package loadtest

import (
	"net"
	"strconv"
	"testing"
)

// The addresses FreeAddr gives can be listened on and, where the kernel
// says where its ephemeral ports start, lie below them (where no outgoing
// connection takes its source port).
func TestFreeAddrBelowEphemeralPorts(t *testing.T) {
	lo := ephemeralLow()
	for range 20 {
		addr, err := FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(p)
		if lo > freePortMin+100 && (port < freePortMin || port >= lo) {
			t.Fatalf("port %d, want in [%d, %d)", port, freePortMin, lo)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen on %s: %v", addr, err)
		}
		ln.Close()
	}
}
