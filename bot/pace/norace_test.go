//go:build !race

package pace_test

// jitter is how late a goroutine may wake on a busy machine: what the
// pacing margin (2.5 % of a second) is for.
const jitter = 25e6 // ns
