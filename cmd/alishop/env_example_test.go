package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestEnvExampleNamesFlags: every ALISHOP_… variable deploy/alishop.env.example
// sets or shows (commented out) is the environment variable of a flag of
// `alishop serve`, and the settings the deployment needs are set: the
// database, the public URL and the trusted proxy.
func TestEnvExampleNamesFlags(t *testing.T) {
	t.Parallel()
	var help strings.Builder
	if err := run(context.Background(), []string{"alishop", "serve", "-h"}, func(string) string { return "" }, strings.NewReader(""), &help, &help); err != nil {
		t.Fatalf("alishop serve -h: %v", err)
	}
	example := readDeploy(t, "alishop.env.example")
	for _, m := range regexp.MustCompile(`(?m)^#? ?(ALISHOP_[A-Z0-9_]+)=`).FindAllStringSubmatch(example, -1) {
		flag := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(m[1], "ALISHOP_")), "_", "-")
		if !regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(flag) + `\b`).MatchString(help.String()) {
			t.Errorf("deploy/alishop.env.example: %s is not the variable of a serve flag (no --%s in alishop serve -h)", m[1], flag)
		}
	}
	for _, want := range []string{"\n# ALISHOP_DB='postgres://", "\nALISHOP_PUBLIC_URL=https://", "\nALISHOP_TRUSTED_PROXY=127.0.0.1/32\n"} {
		if !strings.Contains(example, want) {
			t.Errorf("deploy/alishop.env.example does not have %q", strings.TrimSpace(want))
		}
	}
}
