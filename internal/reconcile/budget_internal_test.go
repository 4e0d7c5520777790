package reconcile

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestBudgetAnyMinute drives the budget with 2000 job runs arriving in
// bursts (a tenth of them refund runs taking three calls), each run coming
// back at its turn a little late (0–2 s, as a polling worker does): no 60 s
// holds more calls than the budget, every run is granted, and a run is put
// off only a few times (turns are kept in order, not handed to whoever
// asks first).
func TestBudgetAnyMinute(t *testing.T) {
	t.Parallel()
	for _, perMinute := range []int{MinGatewayBudget, 30, DefaultGatewayBudget, 1000} {
		b, err := newBudget(perMinute, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(1, uint64(perMinute)))
		t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		type run struct {
			id    int64
			calls int
			at    time.Time
			tries int
		}
		var queue []run
		for i := range 2000 {
			calls := 1
			if i%10 == 0 {
				calls = 3
			}
			// Four bursts of 500, ten minutes apart.
			at := t0.Add(time.Duration(i/500)*10*time.Minute + time.Duration(rnd.IntN(1000))*time.Millisecond)
			queue = append(queue, run{id: int64(i), calls: calls, at: at})
		}
		var made []time.Time
		maxTries := 0
		for len(queue) > 0 {
			slices.SortStableFunc(queue, func(a, b run) int { return a.at.Compare(b.at) })
			r := queue[0]
			queue = queue[1:]
			r.tries++
			ok, turn := b.take(r.id, r.calls, r.at)
			if ok {
				for range r.calls {
					made = append(made, r.at)
				}
				maxTries = max(maxTries, r.tries)
				continue
			}
			if !turn.After(r.at) {
				t.Fatalf("budget %d: run %d put off to %s, not after %s", perMinute, r.id, turn, r.at)
			}
			r.at = turn.Add(time.Duration(rnd.IntN(2000)) * time.Millisecond)
			queue = append(queue, r)
		}
		peak := 0
		for i, j := 0, 0; i < len(made); i++ {
			for j < len(made) && made[j].Sub(made[i]) < time.Minute {
				j++
			}
			peak = max(peak, j-i)
		}
		t.Logf("budget %d a minute: %d calls, at most %d in any minute, a run tried at most %d times", perMinute, len(made), peak, maxTries)
		if peak > perMinute {
			t.Errorf("budget %d a minute: %d calls within a minute", perMinute, peak)
		}
		if maxTries > 4 {
			t.Errorf("budget %d a minute: a run was put off %d times", perMinute, maxTries-1)
		}
	}
}

func TestBudgetTooSmall(t *testing.T) {
	t.Parallel()
	if _, err := newBudget(MinGatewayBudget-1, slog.Default()); err == nil {
		t.Error("a budget below MinGatewayBudget was accepted")
	}
}
