package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docCommand is one `alishop …` command found in the documents.
type docCommand struct {
	file, line string
	sub        string // the subcommand ("" for flags only: the default, serve)
	pos        int    // byte offset in file
	block      bool   // in a code block, not an inline code span
}

// docCode returns the code in a Markdown file: fenced blocks (except those
// marked text, which show output), indented blocks and inline code spans,
// with their offsets.
func docCode(md string) (snippets []string, offsets []int, blocks []bool) {
	lines := strings.SplitAfter(md, "\n")
	off := 0
	inFence, skipFence := false, false
	prevBlank := true
	for _, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		trim := strings.TrimSpace(t)
		switch {
		case strings.HasPrefix(trim, "```"):
			if !inFence {
				lang := strings.TrimSpace(strings.TrimPrefix(trim, "```"))
				inFence, skipFence = true, lang == "text" || lang == "output"
			} else {
				inFence = false
			}
		case inFence:
			if !skipFence {
				snippets, offsets, blocks = append(snippets, t), append(offsets, off), append(blocks, true)
			}
		case strings.HasPrefix(t, "    ") && prevBlank && trim != "":
			snippets, offsets, blocks = append(snippets, t), append(offsets, off), append(blocks, true)
			prevBlank = true // the next indented line continues the block
			off += len(l)
			continue
		default:
			for _, m := range inlineCode.FindAllStringSubmatchIndex(t, -1) {
				snippets, offsets, blocks = append(snippets, t[m[2]:m[3]]), append(offsets, off+m[2]), append(blocks, false)
			}
		}
		prevBlank = trim == ""
		off += len(l)
	}
	return snippets, offsets, blocks
}

var (
	inlineCode = regexp.MustCompile("`([^`]+)`")
	lowerWord  = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
)

// shellSplit cuts a line of shell at the operators that start a new
// command.
var shellSplit = regexp.MustCompile(`\|\||&&|[|;()]|\$\(`)

// commandsIn finds the alishop commands in one snippet of code: a word
// alishop (or a path ending in /alishop) that starts a command, after
// environment assignments, sudo and its options.
func commandsIn(code string) []string {
	var subs []string
	for _, seg := range shellSplit.Split(code, -1) {
		f := strings.Fields(seg)
		i := 0
		for i < len(f) {
			switch {
			case f[i] == "$" || f[i] == "exec" || f[i] == "time":
				i++
			case strings.Contains(f[i], "=") && !strings.HasPrefix(f[i], "-"):
				i++ // VAR=value
			case f[i] == "sudo":
				i++
				for i < len(f) && strings.HasPrefix(f[i], "-") {
					if f[i] == "-u" || f[i] == "-g" {
						i++
					}
					i++
				}
			default:
				goto found
			}
		}
	found:
		if i >= len(f) || (f[i] != "alishop" && !strings.HasSuffix(f[i], "/alishop")) || strings.Contains(f[i], "cmd/alishop") {
			continue
		}
		sub := ""
		if i+1 < len(f) && !strings.HasPrefix(f[i+1], "-") {
			sub = strings.Trim(f[i+1], "`'\"")
			if !lowerWord.MatchString(sub) {
				continue // a placeholder: alishop …, alishop COMMAND
			}
		}
		subs = append(subs, sub)
	}
	return subs
}

func docCommands(t *testing.T, root string) []docCommand {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	files = append([]string{filepath.Join(root, "README.md")}, files...)
	var out []docCommand
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		snippets, offsets, blocks := docCode(string(b))
		for i, s := range snippets {
			for _, sub := range commandsIn(s) {
				out = append(out, docCommand{file: filepath.Base(f), line: s, sub: sub, pos: offsets[i], block: blocks[i]})
			}
		}
	}
	return out
}

func TestDocCommandsFound(t *testing.T) {
	t.Parallel()
	for code, want := range map[string][]string{
		"alishop serve --addr :0": {"serve"},
		"./alishop backup x.db":   {"backup"},
		"sudo -u alishop ALISHOP_DATA=/var/lib/alishop alishop backup F": {"backup"},
		"go run ./cmd/alishop": nil,
		"alishop --help":       {""},
		"curl x | alishop verify --alipay-public-key k":  {"verify"},
		"install -m 0755 alishop /usr/local/bin/alishop": nil,
		"alishop/internal/shop":                          nil,
		"alishop COMMAND --help":                         nil,
		"alishop frobnicate":                             {"frobnicate"},
	} {
		if got := commandsIn(code); !slices.Equal(got, want) {
			t.Errorf("%q: %q, want %q", code, got, want)
		}
	}
}

// TestDocsCommandsRun: a fresh clone that follows the README gets an
// alishop command on its PATH before the README's first command, and every
// alishop command the README and docs/ show names a subcommand that exists
// and answers --help (not "command not found", not "unknown command").
func TestDocsCommandsRun(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"go run ./cmd/alishop", "scripts/test.sh", "go install ./cmd/alishop", "go build -o alishop ./cmd/alishop"} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("README.md does not say %q", want)
		}
	}
	install := bytes.Index(readme, []byte("go install ./cmd/alishop"))
	cmds := docCommands(t, root)
	subs := map[string]docCommand{}
	for _, c := range cmds {
		if c.file == "README.md" && c.block && c.pos < install {
			t.Errorf("README.md runs `%s` before it says how to install alishop", c.line)
		}
		if _, ok := commandNamed(c.sub); !ok && c.sub != "" {
			t.Errorf("%s: `%s`: %q is not an alishop command (alishop help lists them)", c.file, c.line, c.sub)
			continue
		}
		if _, ok := subs[c.sub]; !ok {
			subs[c.sub] = c
		}
	}
	if len(subs) < 5 {
		t.Fatalf("only %d alishop commands found in the docs: %v", len(subs), subs)
	}

	// The binary, built as the README says, on the PATH.
	bin := filepath.Dir(alishopBinary(t))
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	for sub, c := range subs {
		line := "alishop " + sub + " --help"
		cmd := exec.Command("sh", "-c", line)
		cmd.Env, cmd.Dir = env, t.TempDir()
		out, err := cmd.CombinedOutput()
		if err != nil || len(out) == 0 || bytes.Contains(out, []byte("not found")) || bytes.Contains(out, []byte("unknown command")) {
			t.Errorf("%s (from %s: `%s`): %v\n%s", line, c.file, c.line, err, out)
		}
	}
	cmd := exec.Command("sh", "-c", "alishop version")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil || !bytes.HasPrefix(out, []byte("alishop ")) {
		t.Errorf("alishop version: %v\n%s", err, out)
	}
}
