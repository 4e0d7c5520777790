package web

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

// MaxLoggedValue is how many bytes of one value a log line quotes: request
// headers, paths and form values are the client's to choose, and a line
// must not grow with them.
const MaxLoggedValue = 200

// Clip is s cut to MaxLoggedValue bytes at a character boundary, followed
// by its full length when it was longer.
func Clip(s string) string {
	if len(s) <= MaxLoggedValue {
		return s
	}
	cut := MaxLoggedValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// Warnings of one kind (one message text) are logged at most
// warnBurst at once, then one per warnEvery; the next one logged says
// how many were left out in between (attribute "suppressed").
const (
	warnBurst    = 10
	warnEvery    = time.Second
	maxWarnKinds = 1000 // kinds remembered; past that the oldest are forgotten
)

// BoundedLog wraps a log handler so that no line quotes more than
// MaxLoggedValue bytes of any value (message, string attributes, errors
// and other values as printed) and warnings and errors of one kind are
// rate-limited, so that a client cannot make the log grow faster than a
// few lines a second whatever it sends. Every logger of the shop and of
// the sandbox goes through it.
func BoundedLog(h slog.Handler) slog.Handler {
	if b, ok := h.(*boundedHandler); ok {
		return b
	}
	return &boundedHandler{h: h, kinds: &warnKinds{m: map[string]*warnKind{}}}
}

type boundedHandler struct {
	h     slog.Handler
	kinds *warnKinds // shared by the handlers WithAttrs and WithGroup make
}

type warnKinds struct {
	mu sync.Mutex
	m  map[string]*warnKind
}

// warnKind is the limiter of one message text, with the count of lines
// left out since the last one logged.
type warnKind struct {
	lim        *rate.Limiter
	suppressed int
}

// admit says whether a warning with message msg at time now is logged, and
// how many of its kind were left out before it.
func (k *warnKinds) admit(msg string, now time.Time) (bool, int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	w := k.m[msg]
	if w == nil {
		if len(k.m) >= maxWarnKinds {
			for m, v := range k.m {
				if v.suppressed == 0 && v.lim.TokensAt(now) >= warnBurst {
					delete(k.m, m)
				}
			}
			for m := range k.m {
				if len(k.m) < maxWarnKinds/2 {
					break
				}
				delete(k.m, m)
			}
		}
		w = &warnKind{lim: rate.NewLimiter(rate.Every(warnEvery), warnBurst)}
		k.m[msg] = w
	}
	if !w.lim.AllowN(now, 1) {
		w.suppressed++
		return false, 0
	}
	n := w.suppressed
	w.suppressed = 0
	return true, n
}

func (b *boundedHandler) Enabled(ctx context.Context, l slog.Level) bool { return b.h.Enabled(ctx, l) }

func (b *boundedHandler) Handle(ctx context.Context, r slog.Record) error {
	var suppressed int
	if r.Level >= slog.LevelWarn {
		ok, n := b.kinds.admit(r.Message, r.Time)
		if !ok {
			return nil
		}
		suppressed = n
	}
	out := slog.NewRecord(r.Time, r.Level, Clip(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(clipAttr(a))
		return true
	})
	if suppressed > 0 {
		out.AddAttrs(slog.Int("suppressed", suppressed))
	}
	return b.h.Handle(ctx, out)
}

func (b *boundedHandler) WithAttrs(as []slog.Attr) slog.Handler {
	clipped := make([]slog.Attr, len(as))
	for i, a := range as {
		clipped[i] = clipAttr(a)
	}
	return &boundedHandler{h: b.h.WithAttrs(clipped), kinds: b.kinds}
}

func (b *boundedHandler) WithGroup(name string) slog.Handler {
	return &boundedHandler{h: b.h.WithGroup(name), kinds: b.kinds}
}

// clipAttr bounds an attribute's value: strings are clipped, and any other
// value that is printed as text (errors, Stringers, structs) is printed
// and clipped; numbers, times and durations are kept as they are.
func clipAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); len(s) > MaxLoggedValue {
			return slog.String(a.Key, Clip(s))
		}
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, ga := range g {
			out[i] = clipAttr(ga)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		var s string
		switch x := v.Any().(type) {
		case error:
			s = x.Error()
		case fmt.Stringer:
			s = x.String()
		default:
			s = fmt.Sprintf("%+v", x)
		}
		return slog.String(a.Key, Clip(s))
	}
	return slog.Attr{Key: a.Key, Value: v}
}
