package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"alishop/alipay/sandbox"
	"alishop/alipay/sandbox/sqlitestore"
)

var _ sandbox.Store = (*sqlitestore.Store)(nil)

func TestStoreKeepsDocumentsInOrder(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sandbox.db")
	st, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"b", `1`}, {"a", `2`}, {"b", `3`}} {
		if err := st.Put("trades", kv[0], []byte(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Put("apps", "x", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := st.Put("bad name;", "x", nil); err == nil {
		t.Fatal("a table name that is no identifier was accepted")
	}
	st.Close()

	st, err = sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var got []string
	if err := st.Each("trades", func(id string, doc []byte) error { got = append(got, id+"="+string(doc)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "b=3" || got[1] != "a=2" {
		t.Fatalf("after reopening: %v, want [b=3 a=2] (first-insertion order, last value)", got)
	}
	if err := st.Clear("trades"); err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = st.Each("trades", func(string, []byte) error { n++; return nil })
	_ = st.Each("apps", func(string, []byte) error { n += 10; return nil })
	if n != 10 {
		t.Fatalf("Clear(trades) left %d trades, apps %d", n%10, n/10)
	}
}
