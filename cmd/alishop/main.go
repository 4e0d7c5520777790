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
	"strings"
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

// command is one alishop subcommand: help lists it, run dispatches to it,
// and its -h shows the summary above its flags.
type command struct {
	name    string
	args    string // the usage line after the name
	summary string // one line
	run     func(ctx context.Context, args []string, e *env) error
}

// commands is the one list of subcommands, in the order help shows them.
// It is filled in init: the commands' own help reads it, which a variable
// initializer may not.
var commands []command

func init() {
	commands = []command{
		{"serve", "[flags]", "run the shop (the default command)", runServe},
		{"sandbox", "[flags]", "run the offline Alipay gateway simulator", runSandbox},
		{"keygen", "[--dir DIR]", "generate an RSA-2048 app key pair in every format Alipay's key tool writes", runKeygen},
		{"sign", "--private-key FILE [--sign-type RSA2|RSA] [--form] < form", "sign form-encoded parameters read on stdin", runSign},
		{"verify", "--alipay-public-key FILE [--keep-sign-type] < notification|return query|response JSON", "verify a notification, return query or OpenAPI response read on stdin", runVerify},
		{"certsn", "[--root] FILE", "print the SN of a certificate (app_cert_sn, alipay_cert_sn) or a root bundle", runCertSN},
		{"backup", "[--data DIR] [--db FILE] BACKUP_FILE", "write a consistent copy of the live SQLite database to a new file", runBackup},
		{"passwd", "[--data DIR] [--db FILE|URL] [--generate]", "set a new admin password (read on stdin, or --generate)", runPasswd},
		{"version", "", "print the module version, VCS revision and Go version", runVersion},
		{"help", "[COMMAND]", "list the commands, or show one command's flags", runHelp},
	}
}

// commandNamed returns the subcommand called name.
func commandNamed(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// run is the whole program; main only calls it. args[0] is the program name.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	name, rest := "serve", args[1:]
	switch {
	case len(rest) > 0 && rest[0] != "" && rest[0][0] != '-':
		name, rest = rest[0], rest[1:]
	case len(rest) > 0 && isHelpFlag(rest[0]):
		name, rest = "help", rest[1:]
	case len(rest) > 0 && (rest[0] == "--version" || rest[0] == "-version"):
		name, rest = "version", rest[1:]
	}
	c, ok := commandNamed(name)
	if !ok {
		return usageError("unknown command %q\n%s", name, usageText())
	}
	err := c.run(ctx, rest, e)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

// runHelp is `alishop help [COMMAND]`.
func runHelp(ctx context.Context, args []string, e *env) error {
	if len(args) > 0 && args[0] != "help" && !isHelpFlag(args[0]) {
		c, ok := commandNamed(args[0])
		if !ok {
			return usageError("help: unknown command %q\n%s", args[0], usageText())
		}
		return c.run(ctx, []string{"-h"}, e)
	}
	fmt.Fprint(e.stdout, usageText())
	return nil
}

// usageText lists the commands, one line each.
func usageText() string {
	var b strings.Builder
	b.WriteString("usage: alishop [command] [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'alishop COMMAND -h' for a command's flags; 'alishop serve -h' lists the shop's.\n")
	b.WriteString("'alishop --version' prints the version.\n\n" + envRule + "\n")
	return b.String()
}

// envRule is how every flag maps to an environment variable.
const envRule = `Every flag can also be set in the environment: ALISHOP_ + the flag name
in upper case with - as _ (--public-url is ALISHOP_PUBLIC_URL). A flag on
the command line wins.`

// exitError carries a process exit code: 1 for a failure or a negative
// answer (verify's "signature mismatch"), 2 for bad input or usage.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageError is bad input or usage: exit code 2.
func usageError(format string, a ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, a...)}
}

// failure is a command that could not do its work: exit code 1.
func failure(format string, a ...any) error {
	return &exitError{code: 1, msg: fmt.Sprintf(format, a...)}
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, errHelpShown) {
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

func isHelpFlag(a string) bool { return a == "-h" || a == "-help" || a == "--help" }
