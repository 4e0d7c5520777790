package shoptest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildAlishop builds cmd/alishop into a new temporary directory (named
// with prefix) for a suite that runs the real program as a child process,
// and returns the binary's path and the directory, which the caller
// removes when the suite ends.
func BuildAlishop(prefix string) (bin, dir string, err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", "", err
	}
	bin = filepath.Join(dir, "alishop")
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
	cmd := exec.Command(goTool, "build", "-o", bin, "alishop/cmd/alishop")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", "", fmt.Errorf("building alishop: %w", err)
	}
	return bin, dir, nil
}
