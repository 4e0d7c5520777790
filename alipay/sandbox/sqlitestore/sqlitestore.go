// Package sqlitestore keeps the state of an alipay/sandbox Sandbox in a
// SQLite file: one table per kind of document, each row an id and a JSON
// document. It implements sandbox.Store.
package sqlitestore

import (
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"sync"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver
)

// Store is a SQLite file of documents by table and id.
type Store struct {
	db *sql.DB

	mu     sync.Mutex
	tables map[string]bool // created in this file
}

// Open opens (or creates) the SQLite file at path, readable by its owner
// only (0600 whatever the umask; SQLite gives -wal and -shm the same mode).
func Open(path string) (*Store, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sandbox store: opening %s: %w", path, err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("sandbox store: opening %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("sandbox store: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sandbox store: opening %s: %w", path, err)
	}
	return &Store{db: db, tables: map[string]bool{}}, nil
}

var tableName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// table creates table t on first use; the name is checked because it is
// part of the statement text.
func (st *Store) table(t string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.tables[t] {
		return nil
	}
	if !tableName.MatchString(t) {
		return fmt.Errorf("sandbox store: bad table name %q", t)
	}
	if _, err := st.db.Exec(`CREATE TABLE IF NOT EXISTS ` + t + ` (id TEXT PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("sandbox store: table %s: %w", t, err)
	}
	st.tables[t] = true
	return nil
}

// Put inserts or replaces a document.
func (st *Store) Put(table, id string, doc []byte) error {
	if err := st.table(table); err != nil {
		return err
	}
	_, err := st.db.Exec(`INSERT INTO `+table+` (id, v) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET v = excluded.v`, id, string(doc))
	return err
}

// Each calls fn for every document of table in the order of first insertion.
func (st *Store) Each(table string, fn func(id string, doc []byte) error) error {
	if err := st.table(table); err != nil {
		return err
	}
	rows, err := st.db.Query(`SELECT id, v FROM ` + table + ` ORDER BY rowid`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, v string
		if err := rows.Scan(&id, &v); err != nil {
			return err
		}
		if err := fn(id, []byte(v)); err != nil {
			return fmt.Errorf("%s %s: %w", table, id, err)
		}
	}
	return rows.Err()
}

// Clear deletes every document of the tables.
func (st *Store) Clear(tables ...string) error {
	for _, t := range tables {
		if err := st.table(t); err != nil {
			return err
		}
		if _, err := st.db.Exec(`DELETE FROM ` + t); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the file.
func (st *Store) Close() error { return st.db.Close() }
