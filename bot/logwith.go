package bot

import (
	"context"
	"log/slog"
	"sync"
)

// LogWith is l.With(attrs...) for a logger made on every update: the
// attributes are handed to l's handler (whose WithAttrs formats them at
// once: the JSON and text handlers pre-render them) only when a record is
// actually written. Most updates write nothing at the configured level,
// and l.With cost about a dozen allocations each time.
//
// A logger made by LogWith from one made by LogWith holds the attributes of
// both (as WithAttrs below), and up to len(inline) of them need no slice of
// their own: the dispatcher's two per-update loggers cost two allocations
// each.
func LogWith(l *slog.Logger, attrs ...slog.Attr) *slog.Logger {
	h := &deferredAttrs{next: l.Handler()}
	var prev []slog.Attr
	if d, ok := h.next.(*deferredAttrs); ok {
		h.next, prev = d.next, d.attrs
	}
	all := h.inline[:0]
	if n := len(prev) + len(attrs); n > len(h.inline) {
		all = make([]slog.Attr, 0, n)
	}
	h.attrs = append(append(all, prev...), attrs...)
	return slog.New(h)
}

// deferredAttrs holds attributes for next until a record is handled.
type deferredAttrs struct {
	next   slog.Handler
	attrs  []slog.Attr
	inline [5]slog.Attr // attrs' array when they fit

	once     sync.Once
	resolved slog.Handler
}

func (h *deferredAttrs) handler() slog.Handler {
	h.once.Do(func() { h.resolved = h.next.WithAttrs(h.attrs) })
	return h.resolved
}

func (h *deferredAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *deferredAttrs) Handle(ctx context.Context, r slog.Record) error {
	return h.handler().Handle(ctx, r)
}

func (h *deferredAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	all := make([]slog.Attr, 0, len(h.attrs)+len(attrs))
	return &deferredAttrs{next: h.next, attrs: append(append(all, h.attrs...), attrs...)}
}

func (h *deferredAttrs) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.handler().WithGroup(name)
}
