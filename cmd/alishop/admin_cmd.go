package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"alishop/internal/store"
	"alishop/internal/web"
)

// Operator commands: backup, passwd, version; and the checks serve shares
// with them (the --db value, key files).

// resolveDB turns --data and --db into what store.Open takes: a SQLite file
// path (default DATA/alishop.db) or a postgres:// URL. Any other scheme is
// refused by name (never echoing the rest of the URL, which may hold a
// password), and so is a SQLite file in a directory that does not exist.
func resolveDB(cmd, data, db string) (string, error) {
	if db == "" {
		return filepath.Join(data, "alishop.db"), nil
	}
	if store.IsPostgresURL(db) {
		if err := store.CheckPostgresURL(db); err != nil {
			return "", usageError("%s: --db: %v", cmd, err)
		}
		return db, nil
	}
	db = strings.TrimPrefix(db, "sqlite://")
	if scheme, _, ok := strings.Cut(db, "://"); ok {
		return "", usageError("%s: --db: unsupported database %q: give a SQLite file path (e.g. ./data/alishop.db) or a postgres://USER@HOST/DATABASE URL", cmd, scheme+"://")
	}
	if dir := filepath.Dir(db); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return "", usageError("%s: --db %s: directory %s does not exist (create it, or leave --db out to use --data)", cmd, db, dir)
		}
	}
	return db, nil
}

// dbFlags are serve's --data and --db, for the commands that open the
// shop's database; their environment variables are serve's.
type dbFlags struct{ data, db string }

func (f *dbFlags) register(fs *cmdFlags) {
	fs.StringVar(&f.data, "data", "./data", "the shop's data directory (as given to serve)")
	fs.StringVar(&f.db, "db", "", "the shop's database (as given to serve): a SQLite file path (default DATA/alishop.db) or a postgres:// URL")
}

// runBackup is `alishop backup FILE`: a consistent copy of the live SQLite
// database, made while the shop runs, in a new file with mode 0600.
func runBackup(ctx context.Context, args []string, e *env) error {
	fs := newFlags("backup")
	fs.about = "The shop may be running. BACKUP_FILE is a new file with mode 0600. On PostgreSQL use pg_dump instead (docs/OPERATIONS.md)."
	var f dbFlags
	f.register(fs)
	pos, err := fs.parse(args, e)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("backup: want one argument, the file to write (e.g. alishop backup alishop-$(date +%%F).db)")
	}
	dest := pos[0]
	db, err := resolveDB("backup", f.data, f.db)
	if err != nil {
		return err
	}
	if store.IsPostgresURL(db) {
		return usageError("backup: --db is a PostgreSQL database; back it up with pg_dump, e.g. pg_dump --format=custom --file=alishop.dump 'postgres://…' (see docs/OPERATIONS.md)")
	}
	if _, err := os.Stat(db); err != nil {
		return failure("backup: no database at %s (give the --data or --db the shop runs with)", db)
	}
	if dir := filepath.Dir(dest); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return failure("backup: directory %s does not exist", dir)
		}
	}
	if err := store.BackupSQLite(ctx, db, dest); err != nil {
		return failure("backup: %v", err)
	}
	fi, err := os.Stat(dest)
	if err != nil {
		return failure("backup: %v", err)
	}
	fmt.Fprintf(e.stdout, "backup of %s written to %s (%d bytes)\n", db, dest, fi.Size())
	return nil
}

// minAdminPassword is the shortest admin password passwd accepts, in characters.
const minAdminPassword = 12

// runPasswd is `alishop passwd`: a new admin password, read on stdin or
// generated and printed; every admin session ends.
func runPasswd(ctx context.Context, args []string, e *env) error {
	fs := newFlags("passwd")
	fs.about = fmt.Sprintf("The password (at least %d characters) is read as one line on stdin, or generated with --generate. Every admin session ends. The shop may be running. With --hash the password's stored form is printed instead, for serve --admin-password-hash, and no database is opened.", minAdminPassword)
	var f dbFlags
	f.register(fs)
	generate := fs.Bool("generate", false, "generate a random password and print it, instead of reading one on stdin")
	hash := fs.Bool("hash", false, "print the password's stored form (PBKDF2-SHA256, 600,000 iterations) for serve --admin-password-hash instead of setting it")
	pos, err := fs.parse(args, e)
	if err != nil {
		return err
	}
	if err := fs.noArgs(pos); err != nil {
		return err
	}
	dsn := ""
	if !*hash {
		if dsn, err = resolveDB("passwd", f.data, f.db); err != nil {
			return err
		}
		if !store.IsPostgresURL(dsn) {
			if _, err := os.Stat(dsn); err != nil {
				return failure("passwd: no database at %s (start the shop once first, or give the --data or --db it runs with)", dsn)
			}
		}
	}
	password := ""
	if *generate {
		password = web.NewPassword()
	} else if password, err = readNewPassword(e); err != nil {
		return err
	}
	if *hash {
		h, err := web.HashPassword(password)
		if err != nil {
			return failure("passwd: %v", err)
		}
		if *generate {
			fmt.Fprintf(e.stdout, "admin password: %s\n", password)
		}
		fmt.Fprintf(e.stdout, "%s\n", h)
		return nil
	}
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return failure("passwd: %v", err)
	}
	defer db.Close()
	if err := web.SetAdminPassword(ctx, db, password); err != nil {
		return failure("passwd: %v", err)
	}
	if *generate {
		fmt.Fprintf(e.stdout, "admin password: %s\n", password)
	}
	fmt.Fprintf(e.stdout, "admin password set for user %s; every admin session was ended\n", web.AdminUser)
	return nil
}

// readNewPassword reads a new admin password as one line on stdin.
func readNewPassword(e *env) (string, error) {
	fmt.Fprintf(e.stderr, "new admin password (at least %d characters): ", minAdminPassword)
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 4<<10)).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", usageError("passwd: no password on stdin (or use --generate)")
	}
	password := strings.TrimRight(line, "\r\n")
	switch n := utf8.RuneCountInString(password); {
	case !utf8.ValidString(password):
		return "", usageError("passwd: the password is not valid UTF-8")
	case n < minAdminPassword:
		return "", usageError("passwd: the password has %d characters; use at least %d (or --generate)", n, minAdminPassword)
	case n > 1024:
		return "", usageError("passwd: the password is longer than 1024 characters")
	}
	return password, nil
}

// runVersion is `alishop version`: the module version, VCS revision and Go
// version the binary was built with.
func runVersion(ctx context.Context, args []string, e *env) error {
	fs := newFlags("version")
	pos, err := fs.parse(args, e)
	if err != nil {
		return err
	}
	if err := fs.noArgs(pos); err != nil {
		return err
	}
	fmt.Fprint(e.stdout, versionText())
	return nil
}

func versionText() string {
	var b strings.Builder
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintf(&b, "alishop (no build information)\n%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return b.String()
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	fmt.Fprintf(&b, "alishop %s\n", version)
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	switch {
	case rev == "":
		b.WriteString("revision unknown (built without VCS information, e.g. by go run or go test)\n")
	case modified == "true":
		fmt.Fprintf(&b, "revision %s (%s) with uncommitted changes\n", rev, at)
	default:
		fmt.Fprintf(&b, "revision %s (%s)\n", rev, at)
	}
	fmt.Fprintf(&b, "%s %s/%s\n", bi.GoVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}

// checkKeyFiles tells a key or certificate file that cannot be read (not
// there, not readable by this user, a directory) from one whose content is
// wrong, which the loaders report.
func checkKeyFiles(cmd string, files [][2]string) error {
	for _, fl := range files {
		flagName, name := fl[0], fl[1]
		if name == "" {
			continue
		}
		f, err := os.Open(name)
		if err == nil {
			var fi os.FileInfo
			if fi, err = f.Stat(); err == nil && fi.IsDir() {
				err = errors.New("is a directory")
			}
			f.Close()
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, fs.ErrNotExist):
			return usageError("%s: --%s %s: no such file", cmd, flagName, name)
		case errors.Is(err, fs.ErrPermission):
			return usageError("%s: --%s %s: permission denied: the file is not readable by the user alishop runs as (uid %d)", cmd, flagName, name, os.Getuid())
		default:
			return usageError("%s: --%s %s: cannot read the file: %v", cmd, flagName, name, unwrapPath(err))
		}
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
