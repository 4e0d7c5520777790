package sandbox

import (
	"os/exec"
	"strings"
	"testing"
)

// The sandbox package must not drag a SQL driver into a user's module:
// persistence is the Store interface, and package sqlitestore brings SQLite.
func TestNoSQLDriverDependency(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "database/sql" || strings.Contains(dep, "sqlite") || strings.Contains(dep, "pgx") {
			t.Errorf("alipay/sandbox depends on %s", dep)
		}
	}
}
