package shop

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"alishop/alipay/wire"
)

// Channel is how a buyer pays at Alipay's cashier.
type Channel string

// Channels: page pay (alipay.trade.page.pay, FAST_INSTANT_TRADE_PAY) for
// desktop browsers, wap pay (alipay.trade.wap.pay, QUICK_WAP_WAY) for phone
// browsers.
const (
	ChannelPage Channel = "page"
	ChannelWap  Channel = "wap"
)

// CreateOrderVia creates an unpaid order for one of a goods item, as
// Checkout does for virtual goods (shipped goods need a Receiver, so they
// are refused with the receiver's field errors).
func (s *Service) CreateOrderVia(ctx context.Context, goodsID int64, ch Channel) (Order, string, error) {
	return s.Checkout(ctx, Checkout{GoodsID: goodsID, Quantity: 1}, ch)
}

// Checkout is an order as a buyer submits it on 确认订单.
type Checkout struct {
	GoodsID  int64
	Quantity int      // 1 to MaxQuantity
	Receiver Receiver // for shipped goods; ignored for virtual goods
}

// Checkout creates an unpaid order of c.Quantity of goods c.GoodsID,
// delivered to c.Receiver when the goods are shipped, and returns the
// signed gateway URL of channel ch. The order's stock is reserved in the
// transaction that stores it (ErrOutOfStock when too few are left, and
// nothing is stored). The payment request is signed before the order is
// stored, so a checkout that cannot be signed leaves no order behind.
func (s *Service) Checkout(ctx context.Context, c Checkout, ch Channel) (Order, string, error) {
	g, err := s.store.Goods(ctx, c.GoodsID)
	if err != nil {
		return Order{}, "", err
	}
	c, err = CheckCheckout(g, c)
	if err != nil {
		return Order{}, "", err
	}
	now := s.now()
	o := Order{
		OutTradeNo: NewOutTradeNo(now),
		GoodsID:    c.GoodsID,
		Status:     StatusUnpaid,
		Quantity:   c.Quantity,
		Shipping:   g.Shipping,
		Receiver:   c.Receiver,
		CreatedAt:  now,
		UpdatedAt:  now,
		// Alipay takes time_expire to the second; the order keeps the same.
		TimeExpire: now.Add(s.ttl).Truncate(time.Second),
	}
	if g.Limited() {
		o.StockHeld = c.Quantity
	}
	signed := o
	signed.Subject, signed.Amount = g.Name, g.Price*wire.Amount(c.Quantity)
	u, err := s.payURL(signed, ch)
	if err != nil {
		return Order{}, "", err
	}
	if err := s.store.CreateOrder(ctx, &o); err != nil {
		return Order{}, "", err
	}
	s.obs.OrderCreated()
	if o.Subject != signed.Subject || o.Amount != signed.Amount {
		// The goods changed between the read and the insert: the order
		// holds what it was made with, and so must the payment request.
		if u, err = s.payURL(o, ch); err != nil {
			return Order{}, "", err
		}
	}
	return o, u, nil
}

// CheckCheckout decides whether checkout c may be ordered of goods g and
// returns it cleaned: the goods must be on sale, the quantity within 1 to
// MaxQuantity and what is left of a limited stock (ErrOutOfStock), the
// total within wire.MaxAmount, and for shipped goods the receiver valid
// (CleanReceiver); virtual goods keep no receiver. Invalid fields come
// back as one EINVALID *Error with a message per field.
func CheckCheckout(g Goods, c Checkout) (Checkout, error) {
	if err := CheckQuantity(g, c.Quantity); err != nil {
		return c, err
	}
	if !g.Shipping {
		c.Receiver = Receiver{}
		return c, nil
	}
	rcv, err := CleanReceiver(c.Receiver)
	c.Receiver = rcv
	return c, err
}

// CheckQuantity decides whether q of goods g may be ordered, as
// CheckCheckout does before it looks at the receiver: the goods on sale
// (ErrGoodsHidden), q within 1 to MaxQuantity and the total within
// wire.MaxAmount (a "quantity" field error), enough left
// (ErrOutOfStock).
func CheckQuantity(g Goods, q int) error {
	switch {
	case g.Hidden:
		return ErrGoodsHidden
	case q < 1 || q > MaxQuantity:
		return fieldError("quantity", fmt.Sprintf("购买数量应为 1 到 %d 件", MaxQuantity))
	case !(g.Price * wire.Amount(q)).Valid():
		return fieldError("quantity", fmt.Sprintf("订单总价不能超过 ¥%s，请减少数量", wire.MaxAmount))
	case g.Limited() && int64(q) > g.Left():
		return ErrOutOfStock
	}
	return nil
}

// DeliveryNoteShown reports whether the buyer of o sees the goods'
// delivery note: virtual goods, paid, not refunded in full.
func DeliveryNoteShown(o Order) bool {
	return !o.Shipping && !o.PaidAt.IsZero() && o.Status != StatusRefunded && o.Status != StatusUnpaid && o.Status != StatusClosed
}

// fieldError is an EINVALID error about one form field.
func fieldError(field, msg string) *Error {
	return &Error{Code: EINVALID, Message: msg, Fields: map[string]string{field: msg}}
}

// Bounds of a receiver's fields, in characters.
const (
	MaxReceiverName    = 25
	MinReceiverAddress = 5
	MaxReceiverAddress = 120
)

// CleanReceiver checks a shipped order's receiver and returns it cleaned:
// spaces trimmed, the phone as its 11 digits (spaces, dashes and a +86 or
// 86 prefix dropped). A name of 1 to MaxReceiverName characters; a
// mainland China mobile number (11 digits starting 1[3-9]); an address of
// MinReceiverAddress to MaxReceiverAddress characters on one line. Invalid
// fields come back as one EINVALID *Error with a message per field (name,
// phone, address).
func CleanReceiver(r Receiver) (Receiver, error) {
	r.Name = strings.TrimSpace(r.Name)
	r.Address = strings.TrimSpace(r.Address)
	r.Phone = cleanPhone(r.Phone)
	bad := map[string]string{}
	switch n := utf8.RuneCountInString(r.Name); {
	case n == 0:
		bad["name"] = "请填写收货人姓名"
	case n > MaxReceiverName || !utf8.ValidString(r.Name):
		bad["name"] = fmt.Sprintf("收货人姓名不能超过 %d 个字", MaxReceiverName)
	case hasControl(r.Name):
		bad["name"] = "收货人姓名含有不能使用的字符"
	}
	switch {
	case r.Phone == "":
		bad["phone"] = "请填写收货人的手机号码"
	case !ValidPhone(r.Phone):
		bad["phone"] = "请填写 11 位手机号码（以 1 开头），如 13800138000"
	}
	switch n := utf8.RuneCountInString(r.Address); {
	case n == 0:
		bad["address"] = "请填写收货地址（省、市、区和详细地址）"
	case !utf8.ValidString(r.Address) || n > MaxReceiverAddress:
		bad["address"] = fmt.Sprintf("收货地址不能超过 %d 个字", MaxReceiverAddress)
	case n < MinReceiverAddress:
		bad["address"] = "收货地址太短，请写明省、市、区和详细地址"
	case hasControl(r.Address):
		bad["address"] = "收货地址请写在一行内，不含特殊字符"
	}
	if len(bad) == 0 {
		return r, nil
	}
	msg := "请检查收货信息"
	for _, f := range []string{"name", "phone", "address"} {
		if m, ok := bad[f]; ok {
			msg = m
			break
		}
	}
	return r, &Error{Code: EINVALID, Message: msg, Fields: bad}
}

// cleanPhone drops what people type around a mobile number: spaces,
// dashes and a +86 or 86 country prefix. It is bounded: a long input is
// returned as it is (and fails ValidPhone).
func cleanPhone(p string) string {
	p = strings.TrimSpace(p)
	if len(p) > 32 {
		return p
	}
	p = strings.NewReplacer(" ", "", "-", "", "\u3000", "").Replace(p)
	if rest, ok := strings.CutPrefix(p, "+86"); ok {
		p = rest
	} else if len(p) == 13 && strings.HasPrefix(p, "86") {
		p = p[2:]
	}
	return p
}

// ValidPhone reports whether p is a mainland China mobile number: 11
// ASCII digits, the first 1 and the second 3 to 9.
func ValidPhone(p string) bool {
	if len(p) != 11 || p[0] != '1' || p[1] < '3' || p[1] > '9' {
		return false
	}
	for i := 2; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// OrderSubject is an order's title at Alipay's cashier and in its bills:
// the goods name, and ×Q when the order is for more than one.
func OrderSubject(o Order) string {
	if o.Quantity > 1 {
		return PaySubject(fmt.Sprintf("%s ×%d", o.Subject, o.Quantity))
	}
	return PaySubject(o.Subject)
}

// ContinuePayment returns a freshly signed gateway URL for an unpaid order
// whose time to pay has not run out: the same out_trade_no, amount, subject
// and time_expire as the first request, so Alipay reopens the same trade
// and a buyer can never pay one order twice.
func (s *Service) ContinuePayment(ctx context.Context, outTradeNo string, ch Channel) (Order, string, error) {
	o, err := s.Order(ctx, outTradeNo)
	if err != nil {
		return Order{}, "", err
	}
	if o.Channel == OrderChannelPOS {
		return Order{}, "", Errorf(EINVALID, "当面付订单只能在柜台收款，不能在网上付款")
	}
	switch o.Status {
	case StatusUnpaid:
	case StatusClosed:
		return o, "", Errorf(ECONFLICT, "订单已关闭，不能继续付款，请重新购买")
	default:
		return o, "", Errorf(ECONFLICT, "订单已付款，无需再次付款")
	}
	if !s.now().Before(ExpireAt(o, s.ttl)) {
		return o, "", Errorf(ECONFLICT, "订单已超过支付截止时间，不能继续付款，请重新购买")
	}
	u, err := s.payURL(o, ch)
	return o, u, err
}

func (s *Service) payURL(o Order, ch Channel) (string, error) {
	p := wire.TradePagePayRequest{OutTradeNo: o.OutTradeNo, TotalAmount: o.Amount, Subject: OrderSubject(o),
		TimeExpire: ExpireAt(o, s.ttl)}
	var u string
	var err error
	if ch == ChannelWap {
		if s.quitURL != nil {
			p.QuitURL = s.quitURL(o.OutTradeNo)
		}
		u, err = s.gw.TradeWapPayURL(p)
	} else {
		u, err = s.gw.TradePagePayURL(p)
	}
	if err != nil {
		return "", fmt.Errorf("signing %s pay for %s: %w", ch, o.OutTradeNo, err)
	}
	return u, nil
}

// Payable reports whether a buyer can still pay o: it is unpaid, made
// online (a counter order is paid at the counter) and its time to pay has
// not run out.
func (s *Service) Payable(o Order) bool {
	return o.Status == StatusUnpaid && o.Channel != OrderChannelPOS && s.now().Before(ExpireAt(o, s.ttl))
}

// PayDeadline is when o stops being payable.
func (s *Service) PayDeadline(o Order) time.Time { return ExpireAt(o, s.ttl) }
