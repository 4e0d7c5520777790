package main

import (
	"encoding/binary"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"alishop/internal/store/pgtest"
)

// pgGate stands between the shop and PostgreSQL on a port of its own. In
// mode gateRefuse it closes every connection at once (nothing is there
// yet); in gateKill it forwards a connection until its first query has
// been answered, then sends what PostgreSQL sends to a session that
// pg_terminate_backend ends (FATAL 57P01) and closes it; in gateForward it
// forwards.
type pgGate struct {
	t       *testing.T
	backend string
	ln      net.Listener
	mode    atomic.Int32
	killed  atomic.Int32
	mu      sync.Mutex
	conns   []net.Conn
}

const (
	gateRefuse = iota
	gateKill
	gateForward
)

func newPGGate(t *testing.T, backend string) *pgGate {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &pgGate{t: t, backend: backend, ln: ln}
	t.Cleanup(func() {
		ln.Close()
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, c := range g.conns {
			c.Close()
		}
	})
	go g.serve()
	return g
}

func (g *pgGate) serve() {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		mode := g.mode.Load()
		if mode == gateRefuse {
			c.Close()
			continue
		}
		b, err := net.Dial("tcp", g.backend)
		if err != nil {
			c.Close()
			continue
		}
		g.mu.Lock()
		g.conns = append(g.conns, c, b)
		g.mu.Unlock()
		go func() { io.Copy(b, c); b.Close() }()
		if mode == gateForward {
			go func() { io.Copy(c, b); c.Close() }()
			continue
		}
		go func() {
			defer c.Close()
			defer b.Close()
			if g.forwardUntilSecondReady(c, b) {
				g.killed.Add(1)
			}
		}()
	}
}

// forwardUntilSecondReady copies PostgreSQL's messages to the client until
// the second ReadyForQuery (the first after start-up: one query answered),
// then sends FATAL 57P01; it reports whether it did.
func (g *pgGate) forwardUntilSecondReady(c, b net.Conn) bool {
	ready := 0
	head := make([]byte, 5)
	for ready < 2 {
		if _, err := io.ReadFull(b, head); err != nil {
			return false
		}
		n := int(binary.BigEndian.Uint32(head[1:])) - 4
		body := make([]byte, n)
		if _, err := io.ReadFull(b, body); err != nil {
			return false
		}
		if _, err := c.Write(append(head, body...)); err != nil {
			return false
		}
		if head[0] == 'Z' {
			ready++
		}
	}
	var msg []byte
	for _, f := range [][2]string{{"S", "FATAL"}, {"V", "FATAL"}, {"C", "57P01"}, {"M", "terminating connection due to administrator command"}} {
		msg = append(append(append(msg, f[0]...), f[1]...), 0)
	}
	msg = append(msg, 0)
	out := append([]byte{'E', 0, 0, 0, 0}, msg...)
	binary.BigEndian.PutUint32(out[1:], uint32(4+len(msg)))
	_, err := c.Write(out)
	return err == nil
}

// TestStartsBeforeThePostgresIsReachable: the shop started while its
// PostgreSQL cannot be reached does not exit. It listens, answers /healthz
// 200 and /readyz 503 (everything else 503), and tries again with back-off,
// logging each try: first while nothing answers, then while every
// connection is killed after its first query (57P01, as in a chaos run
// that killed the connections of a starting process). Once the database
// answers, it finishes starting and /readyz answers 200.
func TestStartsBeforeThePostgresIsReachable(t *testing.T) {
	t.Parallel()
	dsn := pgtest.URL(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	gate := newPGGate(t, u.Host)
	u.Host = gate.ln.Addr().String()
	bin := alishopBinary(t)
	shop := startOpsChild(t, bin, []string{"ALISHOP_DB=" + u.String(), "ALISHOP_DATA=" + t.TempDir()})

	if !strings.Contains(shop.stdout.String(), "database postgres://") || !strings.Contains(shop.stdout.String(), u.Host) {
		t.Errorf("the start-up line does not name the database:\n%s", shop.stdout)
	}
	retry := regexp.MustCompile(`(?m)^.*level=WARN msg="database not ready; trying again".*$`)
	checkWaiting := func(phase string) {
		t.Helper()
		if code, body := shop.get("/healthz"); code != 200 || !strings.Contains(body, "starting") {
			t.Errorf("%s: /healthz %d %s; want 200 starting", phase, code, body)
		}
		if code, body := shop.get("/readyz"); code != 503 {
			t.Errorf("%s: /readyz %d %s; want 503", phase, code, body)
		}
		if code, body := shop.get("/"); code != 503 || !strings.Contains(body, "请稍后再试") {
			t.Errorf("%s: / %d; want 503 with 请稍后再试", phase, code)
		}
	}

	// Nothing answers: two tries logged, the process alive.
	shop.waitFor(shop.stderr, regexp.MustCompile(`(?s)(database not ready; trying again.*){2}`), 60*time.Second)
	checkWaiting("no database")

	// Connections killed after their first query: a try fails with 57P01.
	gate.mode.Store(gateKill)
	shop.waitFor(shop.stderr, regexp.MustCompile(`database not ready; trying again[^\n]*57P01`), 120*time.Second)
	checkWaiting("connections killed")

	gate.mode.Store(gateForward)
	shop.waitFor(shop.stdout, regexp.MustCompile(`alishop listening on`), 120*time.Second)
	if code, body := shop.get("/readyz"); code != 200 {
		t.Fatalf("/readyz once the database answers: %d %s\nstderr:\n%s", code, body, shop.stderr)
	}
	if code, _ := shop.get("/"); code != 200 {
		t.Errorf("goods page once ready: %d", code)
	}
	tries := retry.FindAllString(shop.stderr.String(), -1)
	t.Logf("%d tries logged before the database answered (%d connections killed with 57P01); the last:\n%s",
		len(tries), gate.killed.Load(), tries[len(tries)-1])
	if err := shop.stop(); err != nil {
		t.Errorf("alishop serve: %v\nstderr:\n%s", err, shop.stderr)
	}
}
