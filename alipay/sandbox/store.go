package sandbox

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver

	"alishop/alipay"
)

// store persists the sandbox state in SQLite. The in-memory maps stay the
// source of truth while running; every change is written through, and New
// loads everything back. Each table holds JSON documents by id.
type store struct{ db *sql.DB }

var tables = []string{"meta", "apps", "trades", "notes", "attempts"}

func openStore(path string) (*store, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("sandbox: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	for _, t := range tables {
		if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS ` + t + ` (id TEXT PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
			db.Close()
			return nil, fmt.Errorf("sandbox: database %s: %w", path, err)
		}
	}
	return &store{db: db}, nil
}

func (st *store) close() error { return st.db.Close() }

func (st *store) put(table, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = st.db.Exec(`INSERT INTO `+table+` (id, v) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET v = excluded.v`, id, string(b))
	return err
}

func (st *store) each(table string, fn func(id string, v []byte) error) error {
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

func (st *store) clear(names ...string) error {
	for _, t := range names {
		if _, err := st.db.Exec(`DELETE FROM ` + t); err != nil {
			return err
		}
	}
	return nil
}

// The persist functions are called with s.mu held. A write error is logged:
// the in-memory state stays right, and the next write of the same row retries.

func (s *Sandbox) persist(table, id string, v any) {
	if s.db == nil {
		return
	}
	if err := s.db.put(table, id, v); err != nil {
		s.log.Error("sandbox: persisting state", "table", table, "id", id, "err", err)
	}
}

func (s *Sandbox) persistApp(a *app)         { s.persist("apps", a.AppID, a) }
func (s *Sandbox) persistTrade(t *trade)     { s.persist("trades", tradeKey(t.AppID, t.OutTradeNo), t) }
func (s *Sandbox) persistNote(n *note)       { s.persist("notes", n.NotifyID, n) }
func (s *Sandbox) persistAttempt(a *Attempt) { s.persist("attempts", fmt.Sprintf("%012d", a.Seq), a) }

func (s *Sandbox) persistMeta() {
	s.persist("meta", "clock_offset", s.offset.String())
	s.persist("meta", "accounts", s.accounts)
}

// load reads the state back from the database.
func (s *Sandbox) load() error {
	err := s.db.each("meta", func(id string, v []byte) error {
		switch id {
		case "clock_offset":
			var str string
			if err := json.Unmarshal(v, &str); err != nil {
				return err
			}
			d, err := time.ParseDuration(str)
			if err != nil {
				return err
			}
			s.offset = d
		case "accounts":
			accts := map[string]*account{}
			if err := json.Unmarshal(v, &accts); err != nil {
				return err
			}
			for login, a := range accts {
				if cur := s.accounts[login]; cur != nil {
					cur.Balance = a.Balance
				}
			}
		}
		return nil
	})
	if err == nil {
		err = s.db.each("apps", func(id string, v []byte) error {
			a := &app{}
			if err := json.Unmarshal(v, a); err != nil {
				return err
			}
			pub, err := alipay.ParsePublicKey([]byte(a.PublicKey))
			if err != nil {
				return err
			}
			a.pub = pub
			if a.AESKey != "" {
				if a.aesKey, err = alipay.DecodeAESKey(a.AESKey); err != nil {
					return err
				}
			}
			s.apps[a.AppID] = a
			return nil
		})
	}
	if err == nil {
		err = s.db.each("trades", func(id string, v []byte) error {
			t := &trade{}
			if err := json.Unmarshal(v, t); err != nil {
				return err
			}
			if a := s.apps[t.AppID]; a != nil {
				t.AppID = a.AppID
			}
			t.Method, t.ProductCode, t.Subject, t.Body = s.intern(t.Method), s.intern(t.ProductCode), s.intern(t.Subject), s.intern(t.Body)
			t.NotifyURL, t.ReturnURL, t.QuitURL, t.StoreID = s.intern(t.NotifyURL), s.intern(t.ReturnURL), s.intern(t.QuitURL), s.intern(t.StoreID)
			t.Charset = s.intern(t.Charset)
			s.indexTrade(t)
			return nil
		})
	}
	if err == nil {
		err = s.db.each("notes", func(id string, v []byte) error {
			n := &note{}
			if err := json.Unmarshal(v, n); err != nil {
				return err
			}
			s.notes[n.NotifyID] = n
			if !n.Done {
				s.pending[n] = struct{}{}
			}
			s.seq = max(s.seq, n.Seq)
			return nil
		})
	}
	if err == nil {
		err = s.db.each("attempts", func(id string, v []byte) error {
			a := &Attempt{}
			if err := json.Unmarshal(v, a); err != nil {
				return err
			}
			if _, err := strconv.Atoi(id); err != nil {
				return err
			}
			s.logAttempt(a)
			s.seq = max(s.seq, a.Seq)
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("sandbox: loading state: %w", err)
	}
	for _, t := range s.trades {
		if t.Status == alipay.TradeSuccess {
			s.finishing = append(s.finishing, t)
		}
	}
	slices.SortFunc(s.finishing, func(a, b *trade) int { return a.Paid.Compare(b.Paid) })
	return nil
}
