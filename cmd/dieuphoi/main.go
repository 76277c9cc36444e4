// Command dieuphoi runs the coordinator bot: the web chat always, Telegram
// when a token is set, on PostgreSQL and Redis when their URLs are set and on
// a local database file otherwise.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // Asia/Ho_Chi_Minh on images without a zone database
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	setGCPercent(os.Getenv, setMemoryLimit(os.Getenv))
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dieuphoi:", err)
		os.Exit(1)
	}
}
