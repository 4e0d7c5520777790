package shoptest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RunWithAlishop is the TestMain of a suite that runs the real program as
// a child process: it builds cmd/alishop into a temporary directory,
// stores the binary's path in *bin, runs the suite's tests, removes the
// directory and returns the exit code. suite names the suite in messages.
func RunWithAlishop(m *testing.M, suite string, bin *string) int {
	dir, err := os.MkdirTemp("", "alishop-"+suite+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	*bin = filepath.Join(dir, "alishop")
	// The go command that runs this test (go test sets GOROOT in the
	// environment of the test binary only sometimes): prefer GOROOT/bin/go.
	goTool := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		if _, err := os.Stat(filepath.Join(root, "bin", "go")); err == nil {
			goTool = filepath.Join(root, "bin", "go")
		}
	} else if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	}
	cmd := exec.Command(goTool, "build", "-o", *bin, "alishop/cmd/alishop")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: building alishop: %v\n", suite, err)
		return 1
	}
	return m.Run()
}
