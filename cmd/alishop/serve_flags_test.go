package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestJobFlags(t *testing.T) {
	t.Parallel()
	parse := func(vars map[string]string, args ...string) (*serveConfig, error) {
		var out bytes.Buffer
		return parseServeFlags(args, &env{getenv: func(k string) string { return vars[k] }, stdout: &out, stderr: &out})
	}
	c, err := parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.jobs.orderTTL != 30*time.Minute || c.jobs.reconcileAfter != 5*time.Minute || c.jobs.expireGrace != time.Minute ||
		c.jobs.retryUnknown != time.Minute || c.jobs.jobsPoll != time.Second || c.jobs.jobsWorkers != 2 {
		t.Errorf("defaults: %+v", c.jobs)
	}
	c, err = parse(map[string]string{"ALISHOP_ORDER_TTL": "15m", "ALISHOP_RECONCILE_AFTER": "2m"}, "--order-ttl", "10m")
	if err != nil || c.jobs.orderTTL != 10*time.Minute || c.jobs.reconcileAfter != 2*time.Minute {
		t.Errorf("flag and environment: %+v %v", c.jobs, err)
	}
	for _, bad := range [][]string{
		{"--order-ttl", "0s"}, {"--order-ttl", "400h"}, {"--order-ttl", "soon"},
		{"--reconcile-after", "0s"}, {"--retry-unknown", "-1s"}, {"--jobs-workers", "0"}, {"--jobs-poll", "0s"},
	} {
		_, err := parse(nil, bad...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), strings.TrimPrefix(bad[0], "--")) {
			t.Errorf("%v: %v, want a usage error naming the flag", bad, err)
		}
	}
}
