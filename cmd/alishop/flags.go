package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// errHelpShown is returned by a command whose -h printed its help; run
// turns it into success.
var errHelpShown = errors.New("help shown")

// cmdFlags is a subcommand's flag set: -h prints the command's usage line,
// its summary, the environment rule and the flags to stdout; an unknown or
// malformed flag is a usage error naming it. A flag not given on the command
// line takes its environment variable.
type cmdFlags struct {
	*flag.FlagSet
	cmd command
	// envPrefix starts the flags' environment variables: "ALISHOP_", or the
	// sandbox's own "ALISHOP_SANDBOX_".
	envPrefix string
	// envRule says how the flags map to environment variables, in help.
	envRule string
	// about is printed after the summary (may be empty).
	about string
	// lists are flags whose environment variable holds comma-separated
	// values, each given to the flag in turn.
	lists map[string]bool
	// set records which flags were given, on the command line or in the
	// environment, after parse.
	set map[string]bool
}

// newFlags returns the flag set of the command called name.
func newFlags(name string) *cmdFlags {
	c, ok := commandNamed(name)
	if !ok {
		panic("alishop: no command " + name)
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &cmdFlags{FlagSet: fs, cmd: c, envPrefix: "ALISHOP_", envRule: envRule, lists: map[string]bool{}}
}

// envName is the environment variable of a flag.
func (f *cmdFlags) envName(flagName string) string {
	return f.envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// printHelp writes the command's help to w.
func (f *cmdFlags) printHelp(w io.Writer) {
	fmt.Fprintf(w, "%s\n\n%s.\n", strings.TrimSpace("usage: alishop "+f.cmd.name+" "+f.cmd.args), capitalize(f.cmd.summary))
	if f.about != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(f.about))
	}
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		fmt.Fprintln(w, "\nIt takes no flags.")
		return
	}
	fmt.Fprintf(w, "\n%s\n\nflags:\n", f.envRule)
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// parse parses args, allowing flags after positional arguments
// ("certsn FILE --root"), applies the environment to flags not given, and
// returns the positional arguments. With -h it prints the help and returns
// errHelpShown.
func (f *cmdFlags) parse(args []string, e *env) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printHelp(e.stdout)
				return nil, errHelpShown
			}
			return nil, usageError("%s: %v ('alishop %s -h' lists the flags)", f.Name(), err, f.Name())
		}
		args = f.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	f.set = map[string]bool{}
	f.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	var envErr error
	f.VisitAll(func(fl *flag.Flag) {
		if f.set[fl.Name] || envErr != nil || e.getenv == nil {
			return
		}
		v := e.getenv(f.envName(fl.Name))
		if v == "" {
			return
		}
		vals := []string{v}
		if f.lists[fl.Name] {
			vals = strings.Split(v, ",")
			for i := range vals {
				vals[i] = strings.TrimSpace(vals[i])
			}
		}
		for _, x := range vals {
			if err := f.Set(fl.Name, x); err != nil {
				envErr = usageError("%s: %s: %v", f.Name(), f.envName(fl.Name), err)
				return
			}
		}
		f.set[fl.Name] = true
	})
	return pos, envErr
}

// noArgs refuses positional arguments.
func (f *cmdFlags) noArgs(pos []string) error {
	if len(pos) > 0 {
		return usageError("%s: unexpected arguments: %s", f.Name(), strings.Join(pos, " "))
	}
	return nil
}
