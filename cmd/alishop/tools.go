package main

import "context"

// The key and signature tools. Owner: the alipay package work (issue 2).

func runKeygen(ctx context.Context, args []string, e *env) error {
	return usageError("keygen: not built yet")
}
func runSign(ctx context.Context, args []string, e *env) error {
	return usageError("sign: not built yet")
}
func runVerify(ctx context.Context, args []string, e *env) error {
	return usageError("verify: not built yet")
}
func runCertSN(ctx context.Context, args []string, e *env) error {
	return usageError("certsn: not built yet")
}
