package bot

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// LogWith must write exactly what slog's own With writes, through every
// handler shape, and nothing below the level.
func TestLogWithWritesWhatWithWrites(t *testing.T) {
	for _, tc := range []struct {
		name string
		log  func(l *slog.Logger, with func(*slog.Logger, ...slog.Attr) *slog.Logger)
	}{
		{"one record", func(l *slog.Logger, with func(*slog.Logger, ...slog.Attr) *slog.Logger) {
			with(l, slog.String("chat", "42"), slog.String("update", "7")).Warn("send", "err", "x")
		}},
		{"nested", func(l *slog.Logger, with func(*slog.Logger, ...slog.Attr) *slog.Logger) {
			a := with(l, slog.String("chat", "42"))
			b := with(a, slog.String("state", "s1"))
			a.Info("first")
			b.Error("second", "n", 3)
			a.Info("third")
		}},
		{"group after", func(l *slog.Logger, with func(*slog.Logger, ...slog.Attr) *slog.Logger) {
			with(l, slog.String("chat", "42")).WithGroup("g").With("k", "v").Warn("grouped", "x", 1)
		}},
		{"below the level", func(l *slog.Logger, with func(*slog.Logger, ...slog.Attr) *slog.Logger) {
			with(l, slog.String("chat", "42")).Debug("not written")
		}},
	} {
		for _, format := range []string{"json", "text"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				render := func(with func(*slog.Logger, ...slog.Attr) *slog.Logger) string {
					var buf bytes.Buffer
					opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
						if a.Key == slog.TimeKey {
							return slog.Attr{}
						}
						return a
					}}
					var h slog.Handler = slog.NewTextHandler(&buf, opts)
					if format == "json" {
						h = slog.NewJSONHandler(&buf, opts)
					}
					tc.log(slog.New(h).With("channel", "telegram"), with)
					return buf.String()
				}
				want := render(func(l *slog.Logger, attrs ...slog.Attr) *slog.Logger {
					args := make([]any, len(attrs))
					for i, a := range attrs {
						args[i] = a
					}
					return l.With(args...)
				})
				got := render(LogWith)
				if got != want {
					t.Errorf("LogWith wrote\n%s\nslog's With writes\n%s", got, want)
				}
				if tc.name == "below the level" && strings.TrimSpace(got) != "" {
					t.Errorf("wrote %q below the level", got)
				}
			})
		}
	}
}

// BenchmarkLogWith compares the per-update logger of the dispatcher when
// nothing is written (the usual case at the warn level).
func BenchmarkLogWith(b *testing.B) {
	l := slog.New(slog.NewJSONHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn})).With("channel", "telegram")
	b.Run("slog.With", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			log := l.With("channel", "telegram", "chat", "900000001", "update", "500000001")
			log = log.With("state", "rsvp", "next", "done")
			log.Debug("update handled")
		}
	})
	b.Run("LogWith", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			log := LogWith(l, slog.String("channel", "telegram"), slog.String("chat", "900000001"), slog.String("update", "500000001"))
			log = LogWith(log, slog.String("state", "rsvp"), slog.String("next", "done"))
			log.Debug("update handled")
		}
	})
}
