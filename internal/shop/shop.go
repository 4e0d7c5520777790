// Package shop is the shop's domain: goods, orders and their states, the
// errors the shop reports, and the payment service that creates orders and
// applies verified Alipay notifications and query results to them by
// compare-and-set. It knows nothing of HTTP or SQL: storage is the Store
// interface (implemented by package store), and Alipay is reached through
// the Gateway interface (implemented by *alipay.Client).
package shop

import (
	"time"

	"alishop/alipay/wire"
)

// Status is an order's state. Every change is a compare-and-set from one
// expected state to the next:
//
//	unpaid → paid → partially_refunded → refunded
//	unpaid → closed
type Status string

// Order states.
const (
	StatusUnpaid            Status = "unpaid"
	StatusPaid              Status = "paid"
	StatusClosed            Status = "closed"
	StatusPartiallyRefunded Status = "partially_refunded"
	StatusRefunded          Status = "refunded"
)

// Statuses returns every state in display order.
func Statuses() []Status {
	return []Status{StatusUnpaid, StatusPaid, StatusPartiallyRefunded, StatusRefunded, StatusClosed}
}

// Valid reports whether s is a known state.
func (s Status) Valid() bool {
	switch s {
	case StatusUnpaid, StatusPaid, StatusClosed, StatusPartiallyRefunded, StatusRefunded:
		return true
	}
	return false
}

// Label is the state's name in the shop's Chinese UI.
func (s Status) Label() string {
	switch s {
	case StatusUnpaid:
		return "未支付"
	case StatusPaid:
		return "已支付"
	case StatusClosed:
		return "已关闭"
	case StatusPartiallyRefunded:
		return "部分退款"
	case StatusRefunded:
		return "已退款"
	}
	return string(s)
}

// Goods is an item for sale. Price is in fen. A hidden item is not listed
// and cannot be bought; existing orders keep their own copy of name and price.
type Goods struct {
	ID        int64
	Name      string
	Price     wire.Amount
	Hidden    bool
	CreatedAt time.Time
	UpdatedAt time.Time
	// Description is a short text shown with the goods; "" for none.
	Description string
	// ImageVersion names the goods' current picture; "" when it has none.
	ImageVersion string
	// Stock is how many are left to sell; nil: the shop does not count
	// (unlimited). Checkouts reserve from it, orders closed unpaid give
	// back; it is below zero only after a payment the shop had to keep
	// for an order whose reservation was already given back.
	Stock *int64
	// Shipping: the goods are delivered to an address the buyer gives at
	// checkout; false for virtual goods.
	Shipping bool
	// DeliveryNote is what a buyer of virtual goods gets once paid (a
	// download link, an activation code): shown on the paid order's page
	// only, never in a list, a log or a notification.
	DeliveryNote string
}

// Limited reports whether the shop counts g's stock.
func (g Goods) Limited() bool { return g.Stock != nil }

// Left is how many of g are left to sell (0 for none or below zero);
// meaningless when g is not Limited.
func (g Goods) Left() int64 {
	if g.Stock == nil || *g.Stock < 0 {
		return 0
	}
	return *g.Stock
}

// SoldOut reports whether g's stock is limited and none is left.
func (g Goods) SoldOut() bool { return g.Limited() && g.Left() == 0 }

// MaxBuy is the largest quantity one order of g may take: MaxQuantity,
// or less when fewer are left.
func (g Goods) MaxBuy() int {
	if g.Limited() && g.Left() < MaxQuantity {
		return int(g.Left())
	}
	return MaxQuantity
}

// MaxQuantity bounds the quantity of one order.
const MaxQuantity = 99

// MaxStock bounds the stock an admin may set.
const MaxStock = 1_000_000

// MaxDeliveryNote bounds a delivery note, in characters.
const MaxDeliveryNote = 500

// MaxGoodsName bounds a goods name, in characters (Alipay's subject allows 256).
const MaxGoodsName = 64

// MaxGoodsDescription bounds a goods description, in characters.
const MaxGoodsDescription = 200

// Order is one purchase of one goods item, paid through one Alipay trade
// whose out_trade_no is the order's public number.
type Order struct {
	ID         int64
	OutTradeNo string
	GoodsID    int64
	Subject    string      // the goods name when the order was made
	Amount     wire.Amount // the goods price × Quantity when the order was made
	Status     Status
	Quantity   int // how many of the goods, 1 to MaxQuantity
	// Shipping: the goods are delivered to Receiver (copied from the
	// goods when the order was made); false for virtual goods.
	Shipping bool
	Receiver Receiver // "" fields for virtual goods
	// StockHeld is how many of the goods' stock the order holds: its
	// Quantity from checkout while the goods' stock is limited, given back
	// (0) when it closes unpaid or a refund returns it.
	StockHeld int

	TradeNo      string // Alipay's trade number, once known
	BuyerLogonID string // masked buyer account, once paid
	PaidVia      string // how the payment became known: notify, return or query
	RefundedFen  wire.Amount
	NeedsReview  bool   // a verified message disagreed with the order (e.g. the amount)
	ReviewReason string // why

	CreatedAt  time.Time
	UpdatedAt  time.Time
	TimeExpire time.Time // when the buyer's time to pay ends (sent as time_expire); zero: none
	PaidAt     time.Time // zero until paid
	ClosedAt   time.Time // zero unless closed

	// Fulfilment of shipped goods once paid (see Fulfilment), with the
	// shipment the owner entered.
	Fulfilment  Fulfilment
	Carrier     string
	TrackingNo  string
	ShippedAt   time.Time // zero until shipped
	CompletedAt time.Time // zero until completed (received or auto-completed)

	// Channel is how the order was made: a buyer's checkout, or 当面付 at
	// the counter (GoodsID is then POSGoodsID and TimeExpire the deadline
	// of the buyer's confirmation).
	Channel OrderChannel
	// POSNote says why a counter order ended unpaid; "" otherwise.
	POSNote string
}

// Receiver is who shipped goods are delivered to and where.
type Receiver struct {
	Name    string // 收货人
	Phone   string // 手机号: mainland China, 11 digits
	Address string // 收货地址: province, city, district and the rest, in one text
}

// OrderFilter selects orders for the admin list.
type OrderFilter struct {
	Status Status // "" for all
	// Stage, when set, selects the paid orders in that fulfilment stage
	// (see Stage.Valid); with Status, both must hold.
	Stage Stage
	// Query, when set, selects the orders whose number or Alipay trade
	// number starts with it (see CleanOrderQuery).
	Query string
	// From and To, when set, bound the creation time: From <= created < To.
	From, To time.Time
	Offset   int
	Limit    int
}

// Payment is a verified statement by Alipay that a trade was paid, from a
// notification, a return redirect confirmed by a query, or a query.
type Payment struct {
	OutTradeNo   string
	TradeNo      string
	Amount       wire.Amount
	BuyerLogonID string
	// BuyerUserID is the payer's Alipay user id (buyer_id), "" if not given:
	// stored for 我的订单 of a buyer logged in with 支付宝登录.
	BuyerUserID string
	PaidAt      time.Time // Alipay's gmt_payment, or when we learned it
	Via         string    // notify, return, query
}
