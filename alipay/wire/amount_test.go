package wire

import (
	"encoding/json"
	"testing"
)

// FuzzAmount checks that ParseAmount never panics, accepts only what it can
// write back, and that String and JSON round-trip exactly.
func FuzzAmount(f *testing.F) {
	for _, s := range []string{"0.01", "88.88", "13.5", "100", "0", "1.001", "-1", "1e3", "99999999999.99", "00.10", ".5", "5.", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmount(s)
		if err != nil {
			return
		}
		if a < 0 {
			t.Fatalf("ParseAmount(%q) = %d", s, a)
		}
		b, err := ParseAmount(a.String())
		if err != nil || b != a {
			t.Fatalf("round trip of %q: %s → %v, %v", s, a, b, err)
		}
		js, _ := json.Marshal(a)
		var c Amount
		if err := json.Unmarshal(js, &c); err != nil || c != a {
			t.Fatalf("JSON round trip of %s: %s", a, js)
		}
		if _, err := ParseTime(s); err == nil && len(s) < 19 {
			t.Fatalf("ParseTime accepted %q", s)
		}
	})
}

func TestAmountJSON(t *testing.T) {
	t.Parallel()
	var v struct{ A, B, C, D Amount }
	if err := json.Unmarshal([]byte(`{"A":"88.88","B":13.5,"C":"","D":null}`), &v); err != nil || v.A != 8888 || v.B != 1350 || v.C != 0 {
		t.Fatalf("%v %+v", err, v)
	}
	for _, bad := range []string{`{"A":"1.001"}`, `{"A":"-1"}`, `{"A":1e3}`, `{"A":"1,00"}`, `{"A":" 1"}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	b, _ := json.Marshal(struct{ A Amount }{5})
	if string(b) != `{"A":"0.05"}` {
		t.Fatal(string(b))
	}
}
