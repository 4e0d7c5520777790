package shop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"alishop/alipay/wire"
)

// Store is the shop's persistence, implemented for SQLite and for PostgreSQL.
type Store interface {
	ListGoods(ctx context.Context, includeHidden bool) ([]Goods, error)
	Goods(ctx context.Context, id int64) (Goods, error) // ErrGoodsNotFound
	CreateGoods(ctx context.Context, g *Goods) error
	// UpdateGoods updates g, its stock as edit says (nil: set it).
	UpdateGoods(ctx context.Context, g *Goods, edit *StockEdit) error

	// CreateOrder inserts an unpaid order for o.Quantity of o.GoodsID,
	// copying the goods' name and price × quantity into o atomically, and
	// in the same transaction reserves o.StockHeld of the goods' stock by
	// compare-and-set (never below zero). ErrGoodsNotFound or
	// ErrGoodsHidden when the goods cannot be bought, ErrOutOfStock when
	// too few are left, ErrGoodsChanged when whether their stock is
	// counted, or the total's bound, no longer hold as the order was made;
	// nothing is stored then.
	CreateOrder(ctx context.Context, o *Order) error
	Order(ctx context.Context, outTradeNo string) (Order, error) // ErrOrderNotFound
	ListOrders(ctx context.Context, f OrderFilter) (orders []Order, total int, err error)
	Reports

	// Receive records m raw and, in the same transaction, calls decide with
	// the order m names (nil when there is none, or when m.OutTradeNo is
	// empty) and, when m.OutRequestNo is set, that order's refund of that
	// number (nil when it has none); it applies the returned Decision by
	// compare-and-set, records the outcome, and commits. The decision is
	// applied as decide returned it; when the commit fails Receive returns
	// an error and nothing is changed.
	Receive(ctx context.Context, m *Inbound, decide Decide) (Decision, error)
}

// Gateway is what the shop needs from Alipay; *alipay.Client implements it.
type Gateway interface {
	TradePagePayURL(p wire.TradePagePayRequest) (string, error)
	TradeWapPayURL(p wire.TradePagePayRequest) (string, error)
	TradeQuery(ctx context.Context, p wire.TradeQueryRequest) (*wire.TradeQueryResult, error)
	VerifyNotification(form []byte) (*wire.Notification, error)
}

// Merchant identifies this shop at Alipay: what every message must name.
type Merchant struct {
	AppID    string
	SellerID string // the 2088… partner id; "" skips the check
}

// Config configures a Service.
type Config struct {
	Store    Store
	Gateway  Gateway
	Merchant Merchant
	Now      func() time.Time // default time.Now
	Logger   *slog.Logger     // default slog.Default()
	// OrderTTL is how long a buyer has to pay (sent to Alipay as
	// time_expire); default DefaultOrderTTL.
	OrderTTL time.Duration
	// Observer is told what was committed (metrics); default none.
	Observer Observer
	// QuitURL is where a wap-pay buyer who leaves the cashier is sent
	// (quit_url), given the order number; nil sends none.
	QuitURL func(outTradeNo string) string
	// AutoComplete is how long after shipping an order its buyer has not
	// confirmed becomes 已完成; default DefaultAutoComplete.
	AutoComplete time.Duration
	// POSWait is how long a counter payment (当面付) waits for its buyer
	// before it is cancelled; default DefaultPOSWait.
	POSWait time.Duration
}

// Service is the shop's use cases.
type Service struct {
	store    Store
	gw       Gateway
	merchant Merchant
	now      func() time.Time
	log      *slog.Logger
	ttl      time.Duration
	obs      Observer
	quitURL  func(outTradeNo string) string
	images   PictureStore // nil: the store keeps no pictures

	fulfilStore  FulfilStore // nil: the store keeps no fulfilment
	autoComplete time.Duration
	// Counter payments (pos.go); nil when the store or gateway cannot.
	pos     POSStore
	posGW   POSGateway
	posWait time.Duration
}

// NewService returns a Service.
func NewService(cfg Config) *Service {
	s := &Service{store: cfg.Store, gw: cfg.Gateway, merchant: cfg.Merchant, now: cfg.Now, log: cfg.Logger, ttl: cfg.OrderTTL, obs: cfg.Observer,
		quitURL: cfg.QuitURL}
	if s.obs == nil {
		s.obs = nopObserver{}
	}
	if s.ttl <= 0 {
		s.ttl = DefaultOrderTTL
	}
	s.images, _ = cfg.Store.(PictureStore)
	s.fulfilStore, _ = cfg.Store.(FulfilStore)
	s.autoComplete = cfg.AutoComplete
	if s.autoComplete <= 0 {
		s.autoComplete = DefaultAutoComplete
	}
	s.pos, _ = cfg.Store.(POSStore)
	s.posGW, _ = cfg.Gateway.(POSGateway)
	s.posWait = cfg.POSWait
	if s.posWait <= 0 {
		s.posWait = DefaultPOSWait
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Merchant returns the merchant identity the service checks messages against.
func (s *Service) Merchant() Merchant { return s.merchant }

// ListGoods lists goods for sale (includeHidden for the admin).
func (s *Service) ListGoods(ctx context.Context, includeHidden bool) ([]Goods, error) {
	return s.store.ListGoods(ctx, includeHidden)
}

// Goods returns one goods item.
func (s *Service) Goods(ctx context.Context, id int64) (Goods, error) { return s.store.Goods(ctx, id) }

// ValidateGoods checks a goods item's fields.
func ValidateGoods(g *Goods) error {
	n := utf8.RuneCountInString(g.Name)
	switch {
	case n == 0:
		return Errorf(EINVALID, "商品名称不能为空")
	case n > MaxGoodsName:
		return Errorf(EINVALID, "商品名称不能超过 %d 个字", MaxGoodsName)
	case !utf8.ValidString(g.Name):
		return Errorf(EINVALID, "商品名称不是有效文字")
	case !g.Price.Valid():
		return Errorf(EINVALID, "价格必须在 0.01 到 %s 元之间", wire.MaxAmount)
	}
	for _, r := range g.Name {
		if r < ' ' || r == 0x7f {
			return Errorf(EINVALID, "商品名称含有控制字符")
		}
	}
	switch {
	case !utf8.ValidString(g.Description):
		return Errorf(EINVALID, "商品简介不是有效文字")
	case utf8.RuneCountInString(g.Description) > MaxGoodsDescription:
		return Errorf(EINVALID, "商品简介不能超过 %d 个字", MaxGoodsDescription)
	}
	for _, r := range g.Description {
		if (r < ' ' && r != '\n') || r == 0x7f {
			return Errorf(EINVALID, "商品简介含有控制字符")
		}
	}
	if g.Stock != nil && (*g.Stock < 0 || *g.Stock > MaxStock) {
		return Errorf(EINVALID, "库存应为 0 到 %d 之间的整数，不限库存请留空", MaxStock)
	}
	switch {
	case !utf8.ValidString(g.DeliveryNote):
		return Errorf(EINVALID, "发货内容不是有效文字")
	case utf8.RuneCountInString(g.DeliveryNote) > MaxDeliveryNote:
		return Errorf(EINVALID, "发货内容不能超过 %d 个字", MaxDeliveryNote)
	}
	for _, r := range g.DeliveryNote {
		if (r < ' ' && r != '\n') || r == 0x7f {
			return Errorf(EINVALID, "发货内容含有控制字符")
		}
	}
	return nil
}

// SaveGoods adds (ID 0) or updates a goods item, its stock included.
// Existing orders keep the name and price they were made with.
func (s *Service) SaveGoods(ctx context.Context, g *Goods) error {
	return s.saveGoods(ctx, g, nil)
}

// StockEdit is how an update of goods treats their stock, which checkouts
// change meanwhile: it is set to the goods' Stock only when that differs
// from Was (the stock the admin's form showed), and only if the stock is
// still Was (compare-and-set, else ErrStockChanged); otherwise it is left
// as checkouts made it.
type StockEdit struct{ Was *int64 }

// SameStock reports whether two stocks are equal (nil: unlimited).
func SameStock(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// ErrStockChanged: the goods' stock changed (checkouts, refunds) since
// the admin's form showed it; nothing was saved.
var ErrStockChanged = &Error{Code: ECONFLICT, Message: "库存在您编辑期间有变化（有新订单或退货），没有保存，请重新打开编辑页。"}

// SaveGoodsForm is SaveGoods for an admin's form that showed the stock
// stockWas (see StockEdit); a new goods item takes its Stock.
func (s *Service) SaveGoodsForm(ctx context.Context, g *Goods, stockWas *int64) error {
	return s.saveGoods(ctx, g, &StockEdit{Was: stockWas})
}

func (s *Service) saveGoods(ctx context.Context, g *Goods, edit *StockEdit) error {
	if err := ValidateGoods(g); err != nil {
		return err
	}
	g.UpdatedAt = s.now()
	if g.ID == 0 {
		g.CreatedAt = g.UpdatedAt
		return s.store.CreateGoods(ctx, g)
	}
	return s.store.UpdateGoods(ctx, g, edit)
}

// NewOutTradeNo returns an unguessable order number: the Beijing date and
// time, then 96 random bits in hex (38 characters of [0-9]).
func NewOutTradeNo(now time.Time) string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return now.In(wire.Beijing).Format("20060102150405") + hex.EncodeToString(b[:])
}

// ValidOutTradeNo reports whether s could be an out_trade_no of this shop:
// letters, digits and underscore, 1 to 64 characters.
func ValidOutTradeNo(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

// MaxSubject is the longest subject Alipay takes, in characters.
const MaxSubject = 256

// PaySubject derives the subject sent to Alipay from a goods name. Alipay
// refuses "/", "=" and "&" in a subject, so they become their full-width
// forms (／ ＝ ＆), which read the same; control characters are dropped,
// and the result is capped at MaxSubject characters. It is never empty.
func PaySubject(name string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(name, "") {
		if n == MaxSubject {
			break
		}
		switch {
		case r == '/':
			r = '／'
		case r == '=':
			r = '＝'
		case r == '&':
			r = '＆'
		case unicode.IsControl(r):
			continue
		}
		b.WriteRune(r)
		n++
	}
	if strings.TrimSpace(b.String()) == "" {
		return "商品"
	}
	return b.String()
}

// CreateOrder creates an unpaid order for one goods item, with the amount
// and name copied from it, and returns it with the signed page-pay URL to
// send the buyer to.
func (s *Service) CreateOrder(ctx context.Context, goodsID int64) (Order, string, error) {
	return s.CreateOrderVia(ctx, goodsID, ChannelPage)
}

// Order returns an order by its number.
func (s *Service) Order(ctx context.Context, outTradeNo string) (Order, error) {
	if !ValidOutTradeNo(outTradeNo) {
		return Order{}, ErrOrderNotFound
	}
	return s.store.Order(ctx, outTradeNo)
}

// ListOrders lists orders for the admin, newest first.
func (s *Service) ListOrders(ctx context.Context, f OrderFilter) ([]Order, int, error) {
	f, err := cleanFilter(f)
	if err != nil {
		return nil, 0, err
	}
	return s.store.ListOrders(ctx, f)
}
