package main

import "context"

// runSandbox runs the stand-alone simulator. Owner: the sandbox work (issue 3).
func runSandbox(ctx context.Context, args []string, e *env) error {
	return usageError("sandbox: not built yet")
}
