package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the SQLite database at path to
// dest, which must not exist, with mode 0600. It works while the shop runs:
// the copy is made by VACUUM INTO inside one read transaction, so it holds
// exactly the transactions committed before it began. The database is
// opened read-only and never migrated. The copy is written to a temporary
// file next to dest and linked into place only when complete.
func Backup(ctx context.Context, path, dest string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("store: backup: database %s: %w", path, err)
	}
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("store: backup: %s exists; choose a new file name", dest)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	name := tmp.Name()
	defer os.Remove(name)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("store: backup: %w", err)
	}
	tmp.Close()
	src, err := sql.Open("sqlite", "file:"+escapePath(path)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("store: backup: open %s: %w", path, err)
	}
	defer src.Close()
	if _, err := src.ExecContext(ctx, "VACUUM INTO $1", name); err != nil {
		return fmt.Errorf("store: backup of %s: %w", path, err)
	}
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := os.Link(name, dest); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if d, err := os.Open(filepath.Dir(dest)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
