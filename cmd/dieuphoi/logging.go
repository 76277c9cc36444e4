package main

import (
	"io"
	"log/slog"
	"os"

	"golang.org/x/term"
)

// logHandler writes readable text to a terminal and JSON (one object a
// line, for log collectors) otherwise; DIEUPHOI_LOG_FORMAT=json|text
// chooses.
func logHandler(w io.Writer, s settings) slog.Handler {
	opts := &slog.HandlerOptions{Level: s.LogLevel}
	if !logAsText(s.LogFormat, isTerminal(w)) {
		return slog.NewJSONHandler(w, opts)
	}
	// A person reads this: the time of day is enough.
	opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
			return slog.String(slog.TimeKey, a.Value.Time().Format("15:04:05"))
		}
		return a
	}
	return slog.NewTextHandler(w, opts)
}

// logAsText decides the format: as asked, else text on a terminal.
func logAsText(format string, terminal bool) bool {
	switch format {
	case "json":
		return false
	case "text":
		return true
	}
	return terminal
}

// isTerminal tells whether w is a terminal (not a file, a pipe or a test's
// buffer).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
