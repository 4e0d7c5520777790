package alipay

import (
	"maps"
	"slices"
)

// V3Methods lists the methods that have a v3 route, for the test that the
// sandbox serves every one of them.
func V3Methods() []string { return slices.Sorted(maps.Keys(v3Routes)) }
