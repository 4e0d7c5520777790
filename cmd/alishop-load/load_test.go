package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// A few seconds of the load run: two shops on PostgreSQL, one killed and
// restarted, every payment and refund checked against the sandbox. It
// proves the command works end to end; its numbers mean nothing here.
func TestLoadSmoke(t *testing.T) {
	db := os.Getenv("ALISHOP_TEST_POSTGRES")
	if db == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("ALISHOP_TEST_POSTGRES is not set in CI: the load command's smoke run needs PostgreSQL")
		}
		t.Skip("set ALISHOP_TEST_POSTGRES=postgres://USER@127.0.0.1:5432/DATABASE?sslmode=disable to run the load smoke test")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	var out, errs bytes.Buffer
	err := run(context.Background(), []string{"--db", db, "--instances", "2", "--rate", "8", "--duration", "3s",
		"--kill-every", "1s", "--refund-every", "3", "--settle", "60s"}, func(string) string { return "" }, &out, &errs)
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errs.String())
	if err != nil {
		t.Fatalf("load run: %v", err)
	}
	if !regexp.MustCompile(`(?m)^kills: +[1-9]`).MatchString(out.String()) {
		t.Error("no instance was killed")
	}
	for _, want := range []string{"0 lost, 0 applied twice, 0 wrong", "OK: every sandbox payment"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}

// Bad flags are refused with exit code 2 and nothing started.
func TestLoadFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--db", "shop.db"},
		{"--db", "postgres://u@10.1.2.3:5432/d"},
		{"--db", "postgres://u@127.0.0.1:5432/d", "--instances", "0"},
		{"--db", "postgres://u@127.0.0.1:5432/d", "--rate", "10000"},
		{"--db", "postgres://u@127.0.0.1:5432/d", "--duration", "1h"},
		{"--db", "postgres://u@127.0.0.1:5432/d", "--kill-every", "10ms"},
	} {
		var errs bytes.Buffer
		err := run(context.Background(), args, func(string) string { return "" }, &bytes.Buffer{}, &errs)
		if code := exitCode(err, &errs); code != 2 {
			t.Errorf("%q: exit %d (%v), want 2", args, code, err)
		}
	}
}
