package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// opsChild is `alishop serve` as a child process.
type opsChild struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdout *lockedBuffer
	stderr *lockedBuffer
	base   string // http://127.0.0.1:PORT, from the start-up line
	done   chan error
}

var startingLine = regexp.MustCompile(`alishop starting on (http://[0-9.:\[\]]+)/`)

// startOpsChild starts bin serve with env (added to a minimal environment)
// and args, and returns once it has printed its start-up line (it listens
// from then on, ready or not). It is stopped with SIGTERM when the test
// ends.
func startOpsChild(t testing.TB, bin string, env []string, args ...string) *opsChild {
	t.Helper()
	c := &opsChild{t: t, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	c.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	c.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	c.cmd.Stdout, c.cmd.Stderr = c.stdout, c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() { c.stop() })
	m := c.waitFor(c.stdout, startingLine, 60*time.Second)
	c.base = m[1]
	return c
}

// waitFor waits for re in log (the child's stdout or stderr) and returns
// its submatches; the test fails if the child exits or the wait runs out
// first (a bound on a wait, not a measurement).
func (c *opsChild) waitFor(log *lockedBuffer, re *regexp.Regexp, limit time.Duration) []string {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if m := re.FindStringSubmatch(log.String()); m != nil {
			return m
		}
		select {
		case err := <-c.done:
			c.done <- err
			c.t.Fatalf("alishop exited (%v) before %q\nstdout:\n%s\nstderr:\n%s", err, re, c.stdout, c.stderr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no %q within %s\nstdout:\n%s\nstderr:\n%s", re, limit, c.stdout, c.stderr)
		}
	}
}

// get fetches path from the child and returns the status and body.
func (c *opsChild) get(path string) (int, string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// stop sends SIGTERM and waits for the child; it reports whether it exited
// cleanly.
func (c *opsChild) stop() error {
	if c.cmd.ProcessState == nil {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case err := <-c.done:
		c.done <- err
		return err
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		return <-c.done
	}
}

// pgURL is base with another user, password and database.
func pgURL(base *url.URL, user, password, database string) string {
	u := *base
	u.User = url.UserPassword(user, password)
	if password == "" {
		u.User = url.User(user)
	}
	u.Path = "/" + database
	return u.String()
}
