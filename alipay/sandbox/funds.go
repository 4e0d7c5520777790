package sandbox

// The money of the sandbox's accounts: each app's merchant has a balance
// (payments add to it; refunds, transfers and settlements take from it), the
// buyers have theirs (account.Balance). The records every movement comes
// from (paid trades, refunds, settlements, transfers, deposits) are kept, so
// a balance can be recomputed from them (Balances).

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"alishop/alipay"
)

// funds is the sandbox's money state beyond trades. Guarded by Sandbox.mu.
type funds struct {
	merchants map[string]*merchantAcct // by app_id
	transfers map[string]*transferRec  // by app_id + out_biz_no
	byOrderID map[string]*transferRec  // by order_id
	relations map[string]*relationSet  // 分账 receivers by app_id
	settles   map[string]*trade        // trades by settle_no
}

func newFunds() *funds {
	return &funds{merchants: map[string]*merchantAcct{}, transfers: map[string]*transferRec{}, byOrderID: map[string]*transferRec{},
		relations: map[string]*relationSet{}, settles: map[string]*trade{}}
}

// merchantAcct is the Alipay account of an app's merchant.
type merchantAcct struct {
	Balance   alipay.Amount `json:"balance"`
	Deposited alipay.Amount `json:"deposited"` // added by api/balances (充值)
}

// merchantOf returns the app's merchant account. Callers hold s.mu.
func (s *Sandbox) merchantOf(appID string) *merchantAcct {
	m := s.funds.merchants[appID]
	if m == nil {
		m = &merchantAcct{}
		s.funds.merchants[appID] = m
	}
	return m
}

// accountByID finds a buyer account by user id. Callers hold s.mu.
func (s *Sandbox) accountByID(userID string) *account {
	for _, a := range s.accounts {
		if a.UserID == userID {
			return a
		}
	}
	return nil
}

// ErrDeposit is Deposit's error for an unknown app or a bad amount.
var ErrDeposit = errors.New("sandbox: deposit needs a registered app and an amount of 0.01 to 100000000.00")

// Deposit adds amount to the app's merchant balance (a top-up, 充值), as a
// merchant funds its account before paying out more than it took in.
func (s *Sandbox) Deposit(appID string, amount alipay.Amount) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apps[appID] == nil || !amount.Valid() {
		return ErrDeposit
	}
	m := s.merchantOf(appID)
	m.Balance += amount
	m.Deposited += amount
	s.persistMeta()
	return nil
}

// MerchantBalance is a merchant's balance and what it comes from.
type MerchantBalance struct {
	AppID    string `json:"app_id"`
	SellerID string `json:"seller_id"`
	Balance  string `json:"balance"`
	// Movements is the balance recomputed from the records: deposits +
	// payments - refunds - settlements - transfers. It equals Balance
	// unless the sandbox lost track of money.
	Movements   string `json:"movements"`
	Deposited   string `json:"deposited"`
	Paid        string `json:"paid"`
	Refunded    string `json:"refunded"`
	Settled     string `json:"settled"`
	Transferred string `json:"transferred"`
}

// BuyerBalance is a buyer's balance and what it comes from.
type BuyerBalance struct {
	Login   string `json:"login"`
	UserID  string `json:"user_id"`
	Balance string `json:"balance"`
	// Movements is the balance recomputed from the records: the opening
	// balance - payments + refunds + transfers and settlements received.
	Movements string `json:"movements"`
	Opening   string `json:"opening"`
	Paid      string `json:"paid"`
	Refunded  string `json:"refunded"`
	Received  string `json:"received"`   // transfers
	RoyaltyIn string `json:"royalty_in"` // settlements
}

// Balances is what api/balances answers.
type Balances struct {
	Merchants []MerchantBalance `json:"merchants"`
	Buyers    []BuyerBalance    `json:"buyers"`
}

// Balances returns every merchant's and buyer's balance with the sums of
// the records that make it up.
func (s *Sandbox) Balances() Balances {
	s.mu.Lock()
	defer s.mu.Unlock()
	type sums struct{ paid, refunded, settled, transferred, received, royaltyIn alipay.Amount }
	byApp, byLogin := map[string]*sums{}, map[string]*sums{}
	get := func(m map[string]*sums, k string) *sums {
		if m[k] == nil {
			m[k] = &sums{}
		}
		return m[k]
	}
	for _, t := range s.trades {
		if t.Paid.IsZero() {
			continue
		}
		a := get(byApp, t.AppID)
		a.paid += t.TotalAmount
		a.refunded += t.Refunded
		a.settled += t.Settled
		b := get(byLogin, t.BuyerLogin)
		b.paid += t.TotalAmount
		b.refunded += t.Refunded
		for _, st := range t.Settles {
			for _, d := range st.Details {
				if acct := s.accountByID(d.TransIn); acct != nil {
					get(byLogin, acct.Login).royaltyIn += d.Amount
				}
			}
		}
	}
	for _, tr := range s.funds.transfers {
		get(byApp, tr.AppID).transferred += tr.Amount
		get(byLogin, tr.PayeeLogin).received += tr.Amount
	}
	var out Balances
	for id, a := range s.apps {
		m := s.merchantOf(id)
		x := get(byApp, id)
		mv := m.Deposited + x.paid - x.refunded - x.settled - x.transferred
		out.Merchants = append(out.Merchants, MerchantBalance{AppID: id, SellerID: a.SellerID, Balance: m.Balance.String(),
			Movements: mv.String(), Deposited: m.Deposited.String(), Paid: x.paid.String(), Refunded: x.refunded.String(),
			Settled: x.settled.String(), Transferred: x.transferred.String()})
	}
	for login, acct := range s.accounts {
		x := get(byLogin, login)
		open := openingBalance(login)
		mv := open - x.paid + x.refunded + x.received + x.royaltyIn
		out.Buyers = append(out.Buyers, BuyerBalance{Login: login, UserID: acct.UserID, Balance: acct.Balance.String(),
			Movements: mv.String(), Opening: open.String(), Paid: x.paid.String(), Refunded: x.refunded.String(),
			Received: x.received.String(), RoyaltyIn: x.royaltyIn.String()})
	}
	slices.SortFunc(out.Merchants, func(a, b MerchantBalance) int { return strings.Compare(a.AppID, b.AppID) })
	slices.SortFunc(out.Buyers, func(a, b BuyerBalance) int { return strings.Compare(a.Login, b.Login) })
	return out
}

// openingBalance is a buyer's balance after a reset.
func openingBalance(login string) alipay.Amount {
	if login == PoorBuyer {
		return poorBalance
	}
	return defaultBalance
}

// persistFunds writes the merchants' balances (with the meta rows).
func (s *Sandbox) persistFunds() { s.persist("meta", "merchants", s.funds.merchants) }

// loadMerchants reads the merchants' balances back.
func (s *Sandbox) loadMerchants(v []byte) error {
	return json.Unmarshal(v, &s.funds.merchants)
}

// resetFunds forgets every balance, transfer, relation and settlement.
// Callers hold s.mu.
func (s *Sandbox) resetFunds() { s.funds = newFunds() }

// indexSettles indexes a loaded trade's settlements. Callers hold s.mu.
func (s *Sandbox) indexSettles(t *trade) {
	for _, st := range t.Settles {
		s.funds.settles[st.SettleNo] = t
	}
}

// apiBalances answers every merchant's and buyer's balance (GET api/balances).
func (s *Sandbox) apiBalances(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Balances())
}

// apiDeposit tops up a merchant's balance (POST api/balances with app_id and
// amount in yuan), then answers the balances.
func (s *Sandbox) apiDeposit(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	amount, err := alipay.ParseAmount(r.PostForm.Get("amount"))
	if err == nil {
		err = s.Deposit(r.PostForm.Get("app_id"), amount)
	}
	if err != nil {
		writeErr(w, http.StatusBadRequest, ErrDeposit.Error())
		return
	}
	s.apiBalances(w, r)
}

// marshalRaw encodes a list for a node field the way the node writes its
// strings: "/" as "\/" (like Alipay's fastjson) and <, >, & escaped. A "/"
// occurs in JSON text only inside strings, so the replacement is safe.
func marshalRaw(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // lists of plain structs always encode
	}
	return bytes.ReplaceAll(b, []byte("/"), []byte(`\/`))
}
