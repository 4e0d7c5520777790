package faultsuite

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// seedEnv names the environment variable that replays a random test: set it
// to the seed a run printed.
const seedEnv = "ALISHOP_TEST_SEED"

// testSeed returns the seed of a test's random choices: ALISHOP_TEST_SEED
// when set, else one from the clock. It logs the seed with the command
// that replays the run.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(seedEnv); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want an unsigned integer", seedEnv, v)
		}
		seed = s
	}
	t.Logf("seed %d (replay: %s=%d go test -race -run '^%s$' ./internal/faultsuite/)", seed, seedEnv, seed, t.Name())
	return seed
}
