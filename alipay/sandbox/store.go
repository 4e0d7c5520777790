package sandbox

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"alishop/alipay"
)

// Store keeps the sandbox's state across restarts as JSON documents by table
// and id (tables: meta, apps, trades, notes, attempts, transfers,
// relations, agreements). The sandbox's maps
// stay the source of truth while it runs: it writes every change through
// with Put and reads everything back with Each in New. Calls come from one
// goroutine at a time. Package sqlitestore keeps the documents in a SQLite
// file.
type Store interface {
	// Put inserts or replaces the document id of table.
	Put(table, id string, doc []byte) error
	// Each calls fn for every document of table, in the order the ids
	// were first put.
	Each(table string, fn func(id string, doc []byte) error) error
	// Clear removes every document of the tables.
	Clear(tables ...string) error
	Close() error
}

// The persist functions are called with s.mu held. A write error is logged:
// the in-memory state stays right, and the next write of the same row retries.

func (s *Sandbox) persist(table, id string, v any) {
	if s.st == nil {
		return
	}
	doc, err := json.Marshal(v)
	if err == nil {
		err = s.st.Put(table, id, doc)
	}
	if err != nil {
		s.log.Error("sandbox: persisting state", "table", table, "id", id, "err", err)
	}
}

func (s *Sandbox) persistApp(a *app)         { s.persist("apps", a.AppID, a) }
func (s *Sandbox) persistTrade(t *trade)     { s.persist("trades", tradeKey(t.AppID, t.OutTradeNo), t) }
func (s *Sandbox) persistNote(n *note)       { s.persist("notes", n.NotifyID, n) }
func (s *Sandbox) persistAttempt(a *Attempt) { s.persist("attempts", fmt.Sprintf("%012d", a.Seq), a) }

// persistAgreement keeps an agreement once signed, and each change of its
// state after: a signed 周期扣款 agreement outlives a restart, as a trade
// does. One still waiting for its sign page is not kept (the page is not).
func (s *Sandbox) persistAgreement(ag *agreement) { s.persist("agreements", ag.No, ag) }

func (s *Sandbox) persistMeta() {
	s.persist("meta", "clock_offset", s.offset.String())
	s.persist("meta", "accounts", s.accounts)
	s.persistFunds()
}

// load reads the state back from the database, table by table: apps before
// the trades that name them.
func (s *Sandbox) load() error {
	for _, l := range []struct {
		table string
		fn    func(id string, doc []byte) error
	}{
		{"meta", s.loadMeta},
		{"apps", s.loadApp},
		{"trades", s.loadTrade},
		{"notes", s.loadNote},
		{"attempts", s.loadAttempt},
		{"transfers", s.loadTransfer},
		{"relations", s.loadRelations},
		{"agreements", s.loadAgreement},
	} {
		if err := s.st.Each(l.table, l.fn); err != nil {
			return fmt.Errorf("sandbox: loading state (%s): %w", l.table, err)
		}
	}
	for _, t := range s.trades {
		if t.Status == alipay.TradeStatusSuccess {
			s.finishing = append(s.finishing, t)
		}
	}
	slices.SortFunc(s.finishing, func(a, b *trade) int { return a.Paid.Compare(b.Paid) })
	return nil
}

// loadAgreement reads back a signed agreement. Past maxOAuthEntries only
// live ones (NORMAL, STOP) are loaded.
func (s *Sandbox) loadAgreement(_ string, v []byte) error {
	ag := &agreement{}
	if err := json.Unmarshal(v, ag); err != nil {
		return err
	}
	id := s.ident()
	if len(id.agreements) >= maxOAuthEntries && ag.Status != alipay.AgreementNormal && ag.Status != alipay.AgreementStop {
		return nil
	}
	id.agreements[ag.No] = ag
	return nil
}

// loadMeta reads the clock offset and the buyers' balances.
func (s *Sandbox) loadMeta(id string, v []byte) error {
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
	case "merchants":
		return s.loadMerchants(v)
	case "accounts":
		var accts map[string]struct {
			Balance         alipay.Amount  `json:"balance"`
			NoPasswordLimit *alipay.Amount `json:"no_password_limit"` // absent: keep the configured limit
		}
		if err := json.Unmarshal(v, &accts); err != nil {
			return err
		}
		for login, a := range accts {
			if cur := s.accounts[login]; cur != nil {
				cur.Balance = a.Balance
				if a.NoPasswordLimit != nil {
					cur.NoPasswordLimit = *a.NoPasswordLimit
				}
			}
		}
	}
	return nil
}

func (s *Sandbox) loadApp(_ string, v []byte) error {
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
}

// loadTrade indexes a trade, sharing its repeated strings.
func (s *Sandbox) loadTrade(_ string, v []byte) error {
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
	s.indexSettles(t)
	if t.Method == "alipay.trade.pay" && t.Status == alipay.TradeStatusWaitBuyerPay {
		s.paying[t] = struct{}{}
	}
	return nil
}

// loadNote keeps a notification; one not done yet is pending again.
func (s *Sandbox) loadNote(_ string, v []byte) error {
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
}

func (s *Sandbox) loadAttempt(id string, v []byte) error {
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
}
