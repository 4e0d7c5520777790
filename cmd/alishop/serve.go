package main

import "context"

// runServe runs the shop. Owner: the shop work (issue 4).
func runServe(ctx context.Context, args []string, e *env) error {
	return usageError("serve: not built yet")
}
