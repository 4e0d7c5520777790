// Command alishop is a web shop that takes Alipay payments, with an offline
// Alipay gateway simulator and command-line tools for Alipay keys and
// signatures. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// env is what a subcommand gets from the process: everything it reads or
// writes outside its own files goes through here, so tests can run it in-process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// run is the whole program; main only calls it. args[0] is the program name.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	cmd, rest := "serve", args[1:]
	if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		cmd, rest = rest[0], rest[1:]
	} else if len(rest) > 0 && isHelpFlag(rest[0]) {
		cmd, rest = "help", rest[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, rest, e)
	case "sandbox":
		return runSandbox(ctx, rest, e)
	case "keygen":
		return runKeygen(ctx, rest, e)
	case "sign":
		return runSign(ctx, rest, e)
	case "verify":
		return runVerify(ctx, rest, e)
	case "certsn":
		return runCertSN(ctx, rest, e)
	case "backup":
		return runBackup(ctx, rest, e)
	case "passwd":
		return runPasswd(ctx, rest, e)
	case "version":
		return runVersion(rest, e)
	case "help":
		if len(rest) > 0 && rest[0] != "help" && !isHelpFlag(rest[0]) {
			// alishop help COMMAND: that command's flags.
			return run(ctx, []string{args[0], rest[0], "-h"}, getenv, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError("unknown command %q\n%s", cmd, usage)
}

const usage = `usage: alishop [command] [flags]

commands:
  serve     run the shop (the default)
  sandbox   run the offline Alipay gateway simulator
  keygen    generate an RSA-2048 app key pair in every format Alipay's key tool writes
  sign      sign form-encoded parameters read on stdin
  verify    verify a notification, return query or OpenAPI response read on stdin
  certsn    print the SN of a certificate (app_cert_sn, alipay_cert_sn) or a root bundle
  backup    write a consistent copy of the live SQLite database to a new file
  passwd    set a new admin password (read on stdin, or --generate)
  version   print the module version, VCS revision and Go version
  help      list the commands, or 'alishop help COMMAND' for a command's flags

Run 'alishop COMMAND -h' for a command's flags; 'alishop serve -h' lists the shop's.
`

// exitError carries a process exit code: 1 for a negative answer (verify's
// "signature mismatch"), 2 for bad input or usage.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usageError(format string, a ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, a...)}
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "alishop:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "alishop:", err)
	return 1
}

// commands are the subcommands run knows, in the order usage lists them.
var commands = []string{"serve", "sandbox", "keygen", "sign", "verify", "certsn", "backup", "passwd", "version", "help"}

func isHelpFlag(a string) bool { return a == "-h" || a == "-help" || a == "--help" }
