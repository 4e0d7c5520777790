package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// proc is one child process (the sandbox or a shop) whose stdout announces
// its URL.
type proc struct {
	name string
	cmd  *exec.Cmd
	url  string        // from its "… listening on URL" line, without the final /
	done chan struct{} // closed when it has exited
	log  string        // its stderr file
}

// startProc runs bin with args, stderr to logFile (appended), and waits up
// to timeout for a stdout line matching ready, whose first group is the URL.
func startProc(ctx context.Context, name, bin string, args []string, logFile string, ready *regexp.Regexp, timeout time.Duration) (*proc, error) {
	lf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(lf, "--- %s: %s %s\n", time.Now().Format(time.RFC3339Nano), filepath.Base(bin), strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Stderr = lf
	cmd.SysProcAttr = childAttrs()
	out, err := cmd.StdoutPipe()
	if err != nil {
		lf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logFile}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		found := false
		for sc.Scan() {
			if m := ready.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				urls <- m[1]
			}
		}
		io.Copy(io.Discard, out)
		cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	select {
	case p.url = <-urls:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before it listened (%s); its log: %s\n%s", name, cmd.ProcessState, logFile, tail(logFile, 20))
	case <-time.After(timeout):
	case <-ctx.Done():
	}
	p.kill()
	return nil, fmt.Errorf("%s did not listen within %s; its log: %s\n%s", name, timeout, logFile, tail(logFile, 20))
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits up to d, then kills.
func (p *proc) stop(d time.Duration) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(d):
		p.kill()
	}
}

// tail returns the last n lines of a file.
func tail(file string, n int) string {
	b, _ := os.ReadFile(file)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// balancer is the load balancer in front of the shops: each request goes to
// the next live backend in turn; a backend that refuses the connection (it
// was killed) is skipped and the request goes to the next one, since
// nothing of it was sent. A request cut off after it was sent fails with
// 502, as behind a real load balancer: the client (a buyer, Alipay) tries
// again later.
type balancer struct {
	mu       sync.Mutex
	backends []string // by instance; "" while it is down
	next     atomic.Uint64
	client   *http.Client
}

func newBalancer(n int) *balancer {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     30 * time.Second,
	}
	return &balancer{backends: make([]string, n), client: &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *balancer) set(i int, url string) {
	b.mu.Lock()
	b.backends[i] = url
	b.mu.Unlock()
}

func (b *balancer) live() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, u := range b.backends {
		if u != "" {
			out = append(out, u)
		}
	}
	return out
}

// hopHeaders are not forwarded (RFC 9110 §7.6.1).
var hopHeaders = map[string]bool{"Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	live := b.live()
	start := int(b.next.Add(1))
	for k := range live {
		target := live[(start+k)%len(live)]
		req, err := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		for k, vs := range r.Header {
			if !hopHeaders[k] {
				req.Header[k] = vs
			}
		}
		resp, err := b.client.Do(req)
		if err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" {
				continue // killed: nothing was sent, the next backend gets it
			}
			http.Error(w, "backend: "+err.Error(), http.StatusBadGateway)
			return
		}
		for k, vs := range resp.Header {
			if !hopHeaders[k] {
				w.Header()[k] = vs
			}
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "no shop instance is up", http.StatusServiceUnavailable)
}
