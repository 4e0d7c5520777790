// Package sandbox is an offline, stateful simulator of Alipay's OpenAPI
// gateway (gateway.do, protocol v2, and the OpenAPI v3 REST calls of the
// same methods), following the facts in docs/PROTOCOL.md: any Alipay client
// (ours, the official SDKs, gopay, smartwalle, a hand-written pay.py) can
// use it instead of Alipay's online sandbox.
//
// It serves, under its root: gateway.do (GET and POST), v3/…, the cashier
// pages the buyer pays on (收银台, and a "wallet" page behind every
// precreate QR code), bill downloads, and a test-control API under api/
// (apps, trades, paying a trade, the notification log, a clock, a fault
// plan, reset). See docs/SANDBOX.md.
//
// The gateway's methods are one table (methods.go): each entry names its
// handler, whether it is a page or an API method, the biz_content fields it
// requires and its v3 path. State lives in memory; a Config.Store (package
// sqlitestore keeps one in a SQLite file) makes a restart keep apps, trades,
// pending notifications and the sandbox clock.
package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"alishop/alipay"
)

// Config configures a Sandbox.
type Config struct {
	// DataDir keeps the sandbox's Alipay key pair
	// (sandbox-alipay-private-key.pem, sandbox-alipay-public-key.pem) and
	// its certificate authority; "" keeps them in memory.
	DataDir string
	// Store keeps apps, trades, notifications and the clock across
	// restarts; nil keeps them in memory only. The sandbox owns it: Close
	// (or a failing New) closes it.
	Store Store
	// RetrySchedule is the wait after each failed notification attempt;
	// nil means DefaultRetrySchedule(). A notification is tried
	// len(RetrySchedule)+1 times.
	RetrySchedule []time.Duration
	// BaseURL is the absolute public URL of the sandbox root, e.g.
	// "http://127.0.0.1:8000/sandbox/", used in cashier links, qr_code URLs
	// and bill URLs. "" derives it from each request's Host.
	BaseURL string
	// HTTPClient delivers notifications; nil means a client with a 10 s
	// timeout. Redirects are never followed (Alipay does not follow them).
	HTTPClient *http.Client
	// Now is the base clock; nil means time.Now. The sandbox clock is Now()
	// plus the offset added by api/clock/advance.
	Now func() time.Time
	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger
	// AlipayKey is the sandbox's Alipay private key. nil generates an
	// RSA-2048 key (kept in DataDir when set; a key already saved there wins).
	AlipayKey *rsa.PrivateKey
	// NoPasswordLimit is the buyers' no-password limit (小额免密) for
	// alipay.trade.pay: a payment code charges up to it at once, and a larger
	// amount waits (USERPAYING) until the buyer confirms in the wallet. 0
	// means DefaultNoPasswordLimit; api/accounts changes it per buyer.
	NoPasswordLimit alipay.Amount
	// ControlLoopbackOnly makes the test-control API (api/…) answer clients
	// connecting from a loopback address only (decided by the connection's
	// remote address, never by headers) whose request carries no
	// Forwarded, X-Forwarded-For or X-Real-IP header (a reverse proxy on
	// the same host connects from loopback on behalf of anyone); others
	// get 403. Set it when the sandbox shares a listener that may be
	// reachable from the network, as when it is embedded in the shop.
	ControlLoopbackOnly bool
}

// App is a registered app: what the open platform shows a merchant.
type App struct {
	AppID    string `json:"app_id"`
	SellerID string `json:"seller_id"` // 2088 + 12 digits: the merchant's PID
}

// Sandbox is the simulator. It is an http.Handler rooted at "/".
type Sandbox struct {
	cfg    Config
	log    *slog.Logger
	key    *rsa.PrivateKey
	pubB64 string
	client *http.Client
	st     Store
	retry  []time.Duration // Config.RetrySchedule or the default
	mux    *http.ServeMux
	sigs   sigCache

	noSigCache bool // benchmarks: measure the uncached signing cost

	wall     func() time.Time // the real clock: v3 timestamps are judged by it, never by the sandbox clock
	v3Nonces nonceSet
	wallets  walletSessions // signed-in buyers; guarded by its own lock

	mu        sync.Mutex // guards everything below
	offset    time.Duration
	apps      map[string]*app
	trades    map[tradeRef]*trade // by app_id and out_trade_no
	byNo      map[string]*trade   // by trade_no
	byQR      map[string]*trade   // by qr code token
	expiries  expiryHeap          // WAIT_BUYER_PAY trades by expiry (stale entries skipped)
	finishing []*trade            // paid trades in payment order: they become TRADE_FINISHED after RefundPeriod
	compactAt int
	notes     map[string]*note   // by notify_id
	pending   map[*note]struct{} // notes not done yet
	attempts  []*Attempt
	faults    []*Fault
	accounts  map[string]*account // by login
	funds     *funds              // merchants' balances, transfers, 分账 (funds.go)
	codes     map[string]*payCode // live payment codes by auth_code
	paying    map[*trade]struct{} // alipay.trade.pay trades waiting for their buyer (stale entries skipped)
	id        *identity           // 支付宝登录 and agreements (oauth.go), created on first use
	bills     map[string]*bill    // by token
	certs     *certAuthority      // certificate mode, created on first use
	seq       int64               // notes and attempts
	strs      map[string]string   // interned strings shared by trades
	faultID   int

	runMu  sync.Mutex // serialises event processing (worker and clock advance)
	wake   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed bool
}

// Files in DataDir.
const (
	privFile   = "sandbox-alipay-private-key.pem"
	pubKeyFile = "sandbox-alipay-public-key.pem"
)

// New creates a sandbox. With cfg.DataDir set it loads (or creates) the
// state and key pair there.
func New(cfg Config) (sb *Sandbox, err error) {
	if cfg.Store != nil {
		defer func() {
			if err != nil {
				cfg.Store.Close()
			}
		}()
	}
	for _, d := range cfg.RetrySchedule {
		if d <= 0 {
			return nil, fmt.Errorf("sandbox: RetrySchedule: %v is not a positive wait", d)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NoPasswordLimit < 0 || cfg.NoPasswordLimit > alipay.MaxAmount {
		return nil, fmt.Errorf("sandbox: NoPasswordLimit %v is not an amount from 0 to %v", cfg.NoPasswordLimit, alipay.MaxAmount)
	}
	if cfg.NoPasswordLimit == 0 {
		cfg.NoPasswordLimit = DefaultNoPasswordLimit
	}
	if cfg.BaseURL != "" {
		if !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
			return nil, fmt.Errorf("sandbox: BaseURL %q must be an absolute http(s) URL", cfg.BaseURL)
		}
		if !strings.HasSuffix(cfg.BaseURL, "/") {
			cfg.BaseURL += "/"
		}
	}
	s := &Sandbox{
		cfg:      cfg,
		log:      cfg.Logger,
		apps:     map[string]*app{},
		trades:   map[tradeRef]*trade{},
		strs:     map[string]string{},
		byNo:     map[string]*trade{},
		byQR:     map[string]*trade{},
		notes:    map[string]*note{},
		pending:  map[*note]struct{}{},
		accounts: map[string]*account{},
		funds:    newFunds(),
		codes:    map[string]*payCode{},
		paying:   map[*trade]struct{}{},
		bills:    map[string]*bill{},
		wake:     make(chan struct{}, 1),
		wall:     time.Now,
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.client = &c
	s.resetAccounts()

	if cfg.DataDir == "" {
		s.key = cfg.AlipayKey
		if s.key == nil {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return nil, fmt.Errorf("sandbox: generating the Alipay key pair: %w", err)
			}
			s.key = k
		}
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("sandbox: data dir: %w", err)
		}
		if err := os.Chmod(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("sandbox: data dir: %w", err)
		}
		k, err := loadOrCreateKey(cfg.DataDir, cfg.AlipayKey)
		if err != nil {
			return nil, err
		}
		s.key = k
	}
	s.retry = DefaultRetrySchedule()
	if cfg.RetrySchedule != nil {
		s.retry = slices.Clone(cfg.RetrySchedule)
	}
	if cfg.Store != nil {
		s.st = cfg.Store
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	s.pubB64 = alipay.MarshalPublicKey(&s.key.PublicKey)
	s.routes()
	return s, nil
}

func loadOrCreateKey(dir string, k *rsa.PrivateKey) (*rsa.PrivateKey, error) {
	name := filepath.Join(dir, privFile)
	if _, err := os.Stat(name); err == nil {
		k, err := alipay.LoadPrivateKeyFile(name)
		if err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if k == nil {
		var err error
		if k, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("sandbox: generating the Alipay key pair: %w", err)
		}
	}
	if err := writeFileAtomic(name, privateKeyPEM(k), 0o600); err != nil {
		return nil, fmt.Errorf("sandbox: saving the Alipay private key: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, pubKeyFile), alipay.PublicKeyPEM(&k.PublicKey), 0o600); err != nil {
		return nil, fmt.Errorf("sandbox: saving the Alipay public key: %w", err)
	}
	return k, nil
}

func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// PublicKey returns the sandbox's Alipay public key: what a merchant
// configures as 支付宝公钥.
func (s *Sandbox) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// PublicKeyBase64 returns the Alipay public key as the one-line base64 SPKI
// the open platform shows.
func (s *Sandbox) PublicKeyBase64() string { return s.pubB64 }

// Now returns the sandbox clock: the base clock plus the advanced offset.
func (s *Sandbox) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

func (s *Sandbox) now() time.Time { return s.cfg.Now().Add(s.offset) }

// setClock moves the sandbox clock to t (forward only). Callers hold s.mu.
func (s *Sandbox) setClock(t time.Time) {
	if d := t.Sub(s.now()); d > 0 {
		s.offset += d
		s.persistMeta()
	}
}

// Start starts the notification and expiry worker; it stops when ctx ends or
// at Close. Without it, notifications are delivered only when the clock is
// advanced (Advance, api/clock/advance).
func (s *Sandbox) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.worker(ctx)
	}()
}

// Close stops the worker and closes the database.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.wg.Wait()
	s.runMu.Lock() // wait for an Advance in progress
	defer s.runMu.Unlock()
	if s.st != nil {
		return s.st.Close()
	}
	return nil
}

// app is a registered app.
type app struct {
	AppID     string          `json:"app_id"`
	SellerID  string          `json:"seller_id"`
	PublicKey string          `json:"app_public_key"` // bare base64 SPKI
	SignType  alipay.SignType `json:"sign_type"`
	NotifyOn  []string        `json:"notify_on"` // triggers: success, refund, close, finished
	AESKey    string          `json:"aes_key,omitempty"`
	AppCert   string          `json:"app_cert,omitempty"`    // certificate mode: the app certificate (PEM)
	AppCertSN string          `json:"app_cert_sn,omitempty"` // certificate mode: its SN
	// SandboxRules applies the online sandbox's refund rules: the full
	// amount only, one refund call per trade.
	SandboxRules bool      `json:"sandbox_rules,omitempty"`
	Created      time.Time `json:"created"`

	pub    *rsa.PublicKey
	aesKey []byte
}

// Notification triggers (docs/PROTOCOL.md): which trade events notify.
var defaultTriggers = []string{"success", "refund", "close"}

func (a *app) notifies(event string) bool {
	for _, t := range a.NotifyOn {
		if t == event {
			return true
		}
	}
	return false
}

// AppOptions are the optional settings of an app.
type AppOptions struct {
	SignType alipay.SignType // RSA2 (default) or RSA for old apps
	NotifyOn []string        // notification triggers; nil = success, refund, close
	AESKey   string          // base64 AES key for encrypt_type=AES, "" = none
	// CertMode puts the app in public-key certificate mode with an app
	// certificate the sandbox issues; AppCert (PEM) uses a given certificate
	// instead, whose key must be the registered key.
	CertMode bool
	AppCert  []byte
	// SandboxRules applies the refund rules of Alipay's online sandbox (full
	// amount only, one refund call per trade) instead of production's.
	SandboxRules bool

	productionRules bool // api/apps sandbox_rules=0: turn them off again
}

// ErrKeyConflict is returned by RegisterApp and RegisterAppWith for an app id
// already registered with a different public key: a registered app's key is
// never replaced, so nobody can take over an app by registering it again.
var ErrKeyConflict = errors.New("sandbox: app_id is already registered with a different public key")

// RegisterApp registers an app with its public key (as a merchant uploads it
// to the open platform). It is idempotent for the same key; a different key
// for a registered app is refused with ErrKeyConflict.
func (s *Sandbox) RegisterApp(appID string, appPublicKey *rsa.PublicKey) (App, error) {
	return s.RegisterAppWith(appID, appPublicKey, AppOptions{})
}

// RegisterAppWith is RegisterApp with options; for an app already registered,
// zero-valued options keep their current values.
func (s *Sandbox) RegisterAppWith(appID string, pub *rsa.PublicKey, opt AppOptions) (App, error) {
	if err := s.checkAppKey(appID, pub); err != nil {
		return App{}, err
	}
	if err := s.keepOmittedOptions(appID, pub, &opt); err != nil {
		return App{}, err
	}
	if opt.SignType == "" {
		opt.SignType = alipay.SignTypeRSA2
	}
	if opt.SignType != alipay.SignTypeRSA2 && opt.SignType != alipay.SignTypeRSA {
		return App{}, fmt.Errorf("sandbox: sign_type %q: want RSA2 or RSA", opt.SignType)
	}
	if opt.SignType == alipay.SignTypeRSA2 && pub.N.BitLen() < 2048 {
		return App{}, errors.New("sandbox: RSA2 needs a key of at least 2048 bits")
	}
	triggers, err := notifyTriggers(opt.NotifyOn)
	if err != nil {
		return App{}, err
	}
	aesKey, err := checkAppCrypto(pub, &opt)
	if err != nil {
		return App{}, err
	}
	return s.storeApp(appID, pub, opt, triggers, aesKey)
}

// checkAppKey refuses a malformed app id, a short key, and the sandbox's own
// Alipay key.
func (s *Sandbox) checkAppKey(appID string, pub *rsa.PublicKey) error {
	if !validAppID(appID) {
		return fmt.Errorf("sandbox: app_id %q must be 1-32 letters or digits", appID)
	}
	if pub == nil || pub.N.BitLen() < 1024 {
		return errors.New("sandbox: app public key is missing or shorter than 1024 bits")
	}
	if alipay.SameKey(pub, &s.key.PublicKey) {
		return errors.New("sandbox: that is the sandbox's own Alipay public key, not an app public key")
	}
	return nil
}

// keepOmittedOptions fills the options left zero from the app's current
// registration, if any; another key for it is ErrKeyConflict.
func (s *Sandbox) keepOmittedOptions(appID string, pub *rsa.PublicKey, opt *AppOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.apps[appID]
	if old == nil {
		return nil
	}
	if !alipay.SameKey(old.pub, pub) {
		return ErrKeyConflict
	}
	if opt.SignType == "" {
		opt.SignType = old.SignType
	}
	if opt.NotifyOn == nil {
		opt.NotifyOn = old.NotifyOn
	}
	if opt.AESKey == "" {
		opt.AESKey = old.AESKey
	}
	return nil
}

// notifyTriggers checks notify_on: nil is the default triggers, "none" or
// an empty list none at all.
func notifyTriggers(notifyOn []string) ([]string, error) {
	if notifyOn == nil {
		return defaultTriggers, nil
	}
	triggers := []string{}
	for _, t := range notifyOn {
		t = strings.TrimSpace(strings.ToLower(t))
		switch t {
		case "success", "refund", "close", "finished":
			triggers = append(triggers, t)
		case "", "none":
		default:
			return nil, fmt.Errorf("sandbox: notify_on %q: want success, refund, close, finished or none", t)
		}
	}
	return triggers, nil
}

// checkAppCrypto decodes the AES key and checks that a given app
// certificate holds the app's key (which puts the app in certificate mode).
func checkAppCrypto(pub *rsa.PublicKey, opt *AppOptions) ([]byte, error) {
	var aesKey []byte
	if opt.AESKey != "" {
		k, err := alipay.DecodeAESKey(opt.AESKey)
		if err != nil {
			return nil, fmt.Errorf("sandbox: aes_key: %w", err)
		}
		aesKey = k
	}
	if opt.AppCert != nil {
		certKey, err := alipay.ParsePublicKey(opt.AppCert)
		if err != nil {
			return nil, fmt.Errorf("sandbox: app_cert: %w", err)
		}
		if !alipay.SameKey(certKey, pub) {
			return nil, errors.New("sandbox: app_cert does not hold the app public key")
		}
		opt.CertMode = true
	}
	return aesKey, nil
}

// storeApp registers the checked app as a new value, never a mutation:
// requests in flight keep a consistent app.
func (s *Sandbox) storeApp(appID string, pub *rsa.PublicKey, opt AppOptions, triggers []string, aesKey []byte) (App, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &app{AppID: appID, SellerID: newUserID(), Created: s.now()}
	old := s.apps[appID]
	if old != nil {
		if !alipay.SameKey(old.pub, pub) { // registered meanwhile with another key
			return App{}, ErrKeyConflict
		}
		a.AppID, a.SellerID, a.Created = old.AppID, old.SellerID, old.Created
		if old.AppCertSN != "" && opt.AppCert == nil {
			a.AppCert, a.AppCertSN = old.AppCert, old.AppCertSN // keeps its certificate
		}
		if old.AppCertSN != "" {
			opt.CertMode = true
		}
	}
	a.pub = pub
	if opt.CertMode && (a.AppCertSN == "" || opt.AppCert != nil) {
		if err := s.useCertMode(a, opt.AppCert); err != nil {
			return App{}, err
		}
	}
	a.PublicKey = alipay.MarshalPublicKey(pub)
	a.SignType = opt.SignType
	a.NotifyOn = triggers
	a.AESKey, a.aesKey = opt.AESKey, aesKey
	a.SandboxRules = opt.SandboxRules || (old != nil && old.SandboxRules && !opt.productionRules)
	s.apps[appID] = a
	s.persistApp(a)
	return App{AppID: a.AppID, SellerID: a.SellerID}, nil
}

func validAppID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Apps lists the registered apps.
func (s *Sandbox) Apps() []App {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]App, 0, len(s.apps))
	for _, a := range s.apps {
		out = append(out, App{AppID: a.AppID, SellerID: a.SellerID})
	}
	return out
}

// account is a pre-funded buyer account.
type account struct {
	Login       string        `json:"login"`
	PayPassword string        `json:"-"`
	UserID      string        `json:"user_id"`
	RealName    string        `json:"real_name"` // checked by transfers (payee_info.name)
	Balance     alipay.Amount `json:"balance"`
	// NoPasswordLimit is the largest alipay.trade.pay charged without the
	// buyer confirming in the wallet (小额免密).
	NoPasswordLimit alipay.Amount `json:"no_password_limit"`
}

// Buyer accounts, like the real sandbox's: pay password 111111.
const (
	DefaultBuyer    = "buyer@sandbox.com"
	PoorBuyer       = "poor@sandbox.com" // a small balance, to test 余额不足
	BuyerPassword   = "111111"
	defaultBalance  = alipay.Amount(1_000_000_00)
	poorBalance     = alipay.Amount(1_00)
	defaultBuyerUID = "2088102177846880"
	poorBuyerUID    = "2088102177846881"
	// The buyers' real names (实名), which a transfer's payee name must match.
	DefaultBuyerName = "沙箱买家"
	PoorBuyerName    = "沙箱穷买家"
)

// DefaultNoPasswordLimit is the buyers' default no-password limit: ¥2,000.00.
const DefaultNoPasswordLimit = alipay.Amount(2_000_00)

func (s *Sandbox) resetAccounts() {
	limit := s.cfg.NoPasswordLimit
	s.accounts = map[string]*account{
		DefaultBuyer: {Login: DefaultBuyer, PayPassword: BuyerPassword, UserID: defaultBuyerUID, RealName: DefaultBuyerName, Balance: defaultBalance, NoPasswordLimit: limit},
		PoorBuyer:    {Login: PoorBuyer, PayPassword: BuyerPassword, UserID: poorBuyerUID, RealName: PoorBuyerName, Balance: poorBalance, NoPasswordLimit: limit},
	}
}

// maskLogin masks a logon id the way Alipay shows buyer_logon_id.
func maskLogin(login string) string {
	user, domain, ok := strings.Cut(login, "@")
	if !ok {
		if len(login) == 11 {
			return login[:3] + "****" + login[7:]
		}
		return login
	}
	if len(user) > 3 {
		user = user[:3]
	}
	return user + "***@" + domain
}

// baseURL returns the absolute URL of the sandbox root for r.
func (s *Sandbox) baseURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// Under http.StripPrefix, RequestURI keeps the original path: the
	// prefix is what was stripped from it.
	prefix := ""
	orig := r.RequestURI
	if i := strings.IndexByte(orig, '?'); i >= 0 {
		orig = orig[:i]
	}
	if strings.HasSuffix(orig, r.URL.Path) {
		prefix = strings.TrimSuffix(orig, r.URL.Path)
	} else if r.URL.RawPath != "" && strings.HasSuffix(orig, r.URL.RawPath) {
		prefix = strings.TrimSuffix(orig, r.URL.RawPath)
	}
	if strings.HasPrefix(prefix, "http://") || strings.HasPrefix(prefix, "https://") {
		prefix = "" // absolute-form request target (proxies)
	}
	return scheme + "://" + r.Host + strings.TrimSuffix(prefix, "/") + "/"
}

// contentSecurityPolicy allows no script at all: the sandbox's pages work
// without JavaScript, so a payload that slipped into a page could not run.
const contentSecurityPolicy = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'"

// ServeHTTP serves the sandbox: gateway.do, the cashier pages and api/.
// Every answer carries nosniff and a CSP without script sources.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	s.mux.ServeHTTP(w, r)
}

// loopbackOnly refuses clients whose connection does not come from a
// loopback address, and requests that came through a proxy (when
// Config.ControlLoopbackOnly is set).
func (s *Sandbox) loopbackOnly(h http.Handler) http.Handler {
	if !s.cfg.ControlLoopbackOnly {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !IsLoopback(r.RemoteAddr) {
			writeErr(w, http.StatusForbidden, "the sandbox control API answers loopback clients only")
			return
		}
		if Forwarded(r) {
			writeErr(w, http.StatusForbidden, "the sandbox control API does not answer requests forwarded by a proxy")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Forwarded reports whether r carries a header a proxy adds for the client
// it forwards for (Forwarded, X-Forwarded-For, X-Real-IP), whoever sent it.
func Forwarded(r *http.Request) bool {
	for _, k := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
		if _, ok := r.Header[k]; ok {
			return true
		}
	}
	return false
}

// IsLoopback reports whether a remote address (host:port, as in
// http.Request.RemoteAddr) is a loopback IP address.
func IsLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func (s *Sandbox) routes() {
	m := http.NewServeMux()
	cop := http.NewCrossOriginProtection()
	m.HandleFunc("/gateway.do", s.handleGateway)
	m.HandleFunc("/v3/", s.handleV3)
	m.HandleFunc("GET /{$}", s.handleIndex)
	m.HandleFunc("GET /static/sandbox.css", handleCSS)
	m.HandleFunc("GET /cashier/{trade_no}", s.handleCashier)
	m.HandleFunc("POST /cashier/{trade_no}", s.handleCashierPost)
	m.HandleFunc("GET /qr/{code}", s.handleWallet)
	m.HandleFunc("POST /qr/{code}", s.handleWalletPost)
	m.HandleFunc("GET /bill/{token}", s.handleBill)
	m.HandleFunc("GET /oauth2/publicAppAuthorize.htm", s.handleAuthorize)
	m.Handle("POST /oauth2/publicAppAuthorize.htm", cop.Handler(http.HandlerFunc(s.handleAuthorizePost)))
	m.HandleFunc("GET /avatar/{file}", s.handleAvatar)
	m.HandleFunc("GET /agreement/{token}", s.handleSignPage)
	m.Handle("POST /agreement/{token}", cop.Handler(http.HandlerFunc(s.handleSignPost)))
	// The control API changes state: refuse cross-site browser requests (a
	// page on another site posting to 127.0.0.1), while curl and test
	// clients, which send no Origin or Sec-Fetch-Site, pass.
	control := func(pattern string, h http.HandlerFunc) { m.Handle(pattern, s.loopbackOnly(cop.Handler(h))) }
	read := func(pattern string, h http.HandlerFunc) { m.Handle(pattern, s.loopbackOnly(h)) }
	m.HandleFunc("GET /app", s.handleAppForm)
	m.Handle("POST /app/pay", cop.Handler(http.HandlerFunc(s.handleAppOrder)))
	m.HandleFunc("GET /app/pay/{trade_no}", s.handleAppConfirm)
	m.Handle("POST /app/pay/{trade_no}", cop.Handler(http.HandlerFunc(s.handleAppPay)))
	m.HandleFunc("GET /wallet", s.handleBuyerWallet)
	m.Handle("POST /wallet/login", cop.Handler(http.HandlerFunc(s.handleWalletLogin)))
	m.Handle("POST /wallet/logout", cop.Handler(http.HandlerFunc(s.handleWalletLogout)))
	m.HandleFunc("GET /wallet/confirm/{trade_no}", s.handleWalletConfirm)
	m.Handle("POST /wallet/confirm/{trade_no}", cop.Handler(http.HandlerFunc(s.handleWalletConfirmPost)))
	control("POST /api/apps", s.apiRegisterApp)
	read("GET /api/apps", s.apiListApps)
	read("GET /api/alipay-public-key", s.apiPublicKey)
	read("GET /api/accounts", s.apiAccounts)
	read("GET /api/balances", s.apiBalances)
	control("POST /api/balances", s.apiDeposit)
	read("GET /api/trades", s.apiTrades)
	control("POST /api/trades/pay", s.apiPay)
	control("POST /api/paycodes", s.apiPayCodes)
	control("POST /api/oauth/codes", s.apiOAuthCodes)
	control("POST /api/agreements/status", s.apiAgreementStatus)
	control("POST /api/apppay", s.apiAppPay)
	control("POST /api/accounts", s.apiSetAccount)
	read("GET /api/notifications", s.apiNotifications)
	read("GET /api/clock", s.apiClock)
	control("POST /api/clock/advance", s.apiAdvance)
	read("GET /api/faults", s.apiFaults)
	control("POST /api/faults", s.apiAddFaults)
	control("DELETE /api/faults", s.apiClearFaults)
	control("POST /api/reset", s.apiReset)
	s.mux = m
}
