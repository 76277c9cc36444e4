//go:build race

package pace_test

// The race detector slows waking up by tens of milliseconds on a busy
// machine: the timing checks allow for it.
const jitter = 150e6 // ns
