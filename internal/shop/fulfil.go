package shop

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Fulfilment is how far a paid order of shipped goods has got. It is kept
// apart from Status (the payment's state, which Alipay's messages and the
// refunds change), so that a refund may come in any fulfilment state and a
// full refund ends the order whatever its fulfilment:
//
//	paid, shipped goods:  ""  → shipped → completed
//	                  (待发货)  (已发货)   (已完成)
//
// Virtual goods (Order.Shipping false) have nothing to deliver: they are
// 已完成 from their payment on, with Fulfilment "".
type Fulfilment string

// Fulfilment states.
const (
	FulfilNone      Fulfilment = ""          // not shipped (yet)
	FulfilShipped   Fulfilment = "shipped"   // the owner shipped it (carrier, tracking number)
	FulfilCompleted Fulfilment = "completed" // the buyer confirmed receipt, or the time to do so ran out
)

// DefaultAutoComplete is how long after shipping an order the buyer has not
// confirmed becomes 已完成 by itself (Taobao's default is 10 days too).
const DefaultAutoComplete = 10 * 24 * time.Hour

// Stage is an order's state as its buyer and owner read it: the payment's
// state and, once paid, its fulfilment.
type Stage string

// Stages.
const (
	StageUnpaid    Stage = "unpaid"
	StageToShip    Stage = "to_ship"   // paid shipped goods, not shipped
	StageShipped   Stage = "shipped"   // shipped, receipt not confirmed
	StageCompleted Stage = "completed" // received, or virtual goods paid
	StageRefunded  Stage = "refunded"  // refunded in full: ended
	StageClosed    Stage = "closed"    // closed unpaid
)

// FulfilStages are the stages of paid orders that the admin list filters by.
func FulfilStages() []Stage { return []Stage{StageToShip, StageShipped, StageCompleted} }

// Valid reports whether s is a stage the order list can filter by.
func (s Stage) Valid() bool {
	switch s {
	case StageToShip, StageShipped, StageCompleted:
		return true
	}
	return false
}

// Label is the stage's name in the shop's Chinese UI.
func (s Stage) Label() string {
	switch s {
	case StageUnpaid:
		return "待付款"
	case StageToShip:
		return "待发货"
	case StageShipped:
		return "已发货"
	case StageCompleted:
		return "已完成"
	case StageRefunded:
		return "已退款"
	case StageClosed:
		return "已关闭"
	}
	return string(s)
}

// Stage is the order's stage. A partly refunded order stays in its
// fulfilment's stage (the refund is shown beside it).
func (o Order) Stage() Stage {
	switch o.Status {
	case StatusUnpaid:
		return StageUnpaid
	case StatusClosed:
		return StageClosed
	case StatusRefunded:
		return StageRefunded
	}
	switch {
	case !o.Shipping || o.Fulfilment == FulfilCompleted:
		return StageCompleted
	case o.Fulfilment == FulfilShipped:
		return StageShipped
	}
	return StageToShip
}

// Actor is who made a change of an order.
type Actor string

// Actors.
const (
	ActorAdmin  Actor = "admin"  // the shop's owner, logged in
	ActorBuyer  Actor = "buyer"  // the buyer, from a browser holding the order
	ActorSystem Actor = "system" // the shop by itself (auto-complete)
)

// Label names the actor in the shop's Chinese UI.
func (a Actor) Label() string {
	switch a {
	case ActorAdmin:
		return "商家"
	case ActorBuyer:
		return "买家"
	case ActorSystem:
		return "系统"
	}
	return string(a)
}

// EventKind is what an order event recorded.
type EventKind string

// Event kinds: the fulfilment changes and stock given back by a refund
// (payment, closing and refunds are recorded where they happen: the stored
// Alipay messages and the refunds).
const (
	EventShipped       EventKind = "shipped"
	EventReceived      EventKind = "received"       // the buyer confirmed receipt
	EventAutoCompleted EventKind = "auto_completed" // completed after the time to confirm ran out
	EventRestocked     EventKind = "restocked"      // a refund's confirmation gave the order's stock back; Detail is how many
)

// Label names the event in the shop's Chinese UI.
func (k EventKind) Label() string {
	switch k {
	case EventShipped:
		return "发货"
	case EventReceived:
		return "确认收货"
	case EventAutoCompleted:
		return "自动确认收货"
	case EventRestocked:
		return "退回库存"
	}
	return string(k)
}

// OrderEvent is one recorded change of an order: what, when and who.
type OrderEvent struct {
	OutTradeNo string
	Kind       EventKind
	Actor      Actor
	At         time.Time
	Detail     string // e.g. the carrier and tracking number; never the buyer's address or phone
}

// Transition is a fulfilment change decided for one order: the storage
// applies it by compare-and-set (the order still paid or partly refunded
// and still in From), with its event, in one transaction.
type Transition struct {
	From, To            Fulfilment
	Carrier, TrackingNo string    // set when shipping
	CompleteAt          time.Time // shipping: when the order completes by itself (a durable job)
	Event               OrderEvent
	// Repeat: the change asked for was made already (a double click, a
	// job run again); nothing is changed.
	Repeat bool
}

// FulfilStore is the storage of fulfilment changes (implemented by package
// store).
type FulfilStore interface {
	// Fulfil reads order outTradeNo (locked where the database has row
	// locks), calls decide with it and, unless decide fails or answers a
	// Repeat, applies the transition by compare-and-set, records its event
	// and, when CompleteAt is set, schedules the order's completion job at
	// that time, all in one transaction. It returns the order as it is
	// after the transaction.
	Fulfil(ctx context.Context, outTradeNo string, decide func(o Order) (Transition, error)) (Order, Transition, error)
	// OrderEvents lists an order's events, oldest first.
	OrderEvents(ctx context.Context, outTradeNo string) ([]OrderEvent, error)
}

// Bounds of the shipping form.
const (
	MaxCarrier    = 20 // characters
	MaxTrackingNo = 40 // bytes
)

// CleanShipment trims and checks the carrier (快递公司, 1–MaxCarrier
// characters, no control characters) and tracking number (运单号, 4–
// MaxTrackingNo letters, digits or hyphens) of a shipment.
func CleanShipment(carrier, trackingNo string) (string, string, error) {
	carrier, trackingNo = strings.TrimSpace(carrier), strings.ToUpper(strings.TrimSpace(trackingNo))
	n := utf8.RuneCountInString(carrier)
	switch {
	case n == 0:
		return carrier, trackingNo, Errorf(EINVALID, "请填写快递公司")
	case n > MaxCarrier || !utf8.ValidString(carrier):
		return carrier, trackingNo, Errorf(EINVALID, "快递公司不能超过 %d 个字", MaxCarrier)
	}
	for _, r := range carrier {
		if r < ' ' || r == 0x7f {
			return carrier, trackingNo, Errorf(EINVALID, "快递公司含有控制字符")
		}
	}
	if len(trackingNo) < 4 || len(trackingNo) > MaxTrackingNo {
		return carrier, trackingNo, Errorf(EINVALID, "运单号应为 4 到 %d 位字母、数字或连字符", MaxTrackingNo)
	}
	for i := 0; i < len(trackingNo); i++ {
		c := trackingNo[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || c == '-') {
			return carrier, trackingNo, Errorf(EINVALID, "运单号应为 4 到 %d 位字母、数字或连字符", MaxTrackingNo)
		}
	}
	return carrier, trackingNo, nil
}

// paidForFulfilment is nil when o's payment allows a fulfilment change:
// paid, or partly refunded; a full refund or an unpaid or closed order ends
// its fulfilment.
func paidForFulfilment(o *Order, what string) error {
	switch o.Status {
	case StatusPaid, StatusPartiallyRefunded:
		return nil
	case StatusUnpaid:
		return Errorf(EINVALID, "订单尚未付款，不能%s", what)
	}
	return Errorf(EINVALID, "订单%s，不能%s", o.Status.Label(), what)
}

// DecideShip is what the owner's 发货 with carrier and tracking number does
// to order o at now: 待发货 → 已发货, completing by itself autoComplete
// later. The same shipment posted again is a Repeat; another one of an
// order already shipped is refused.
func DecideShip(o Order, carrier, trackingNo string, autoComplete time.Duration, now time.Time) (Transition, error) {
	if err := paidForFulfilment(&o, "发货"); err != nil {
		return Transition{}, err
	}
	if !o.Shipping {
		return Transition{}, Errorf(EINVALID, "虚拟商品无需发货")
	}
	switch o.Fulfilment {
	case FulfilShipped, FulfilCompleted:
		if o.Carrier == carrier && o.TrackingNo == trackingNo {
			return Transition{Repeat: true}, nil
		}
		return Transition{}, Errorf(ECONFLICT, "订单已发货（%s %s），不能再次发货", o.Carrier, o.TrackingNo)
	}
	if autoComplete <= 0 {
		autoComplete = DefaultAutoComplete
	}
	return Transition{From: FulfilNone, To: FulfilShipped, Carrier: carrier, TrackingNo: trackingNo, CompleteAt: now.Add(autoComplete),
		Event: OrderEvent{OutTradeNo: o.OutTradeNo, Kind: EventShipped, Actor: ActorAdmin, At: now, Detail: carrier + " " + trackingNo}}, nil
}

// DecideReceive is what the buyer's 确认收货 does to order o at now:
// 已发货 → 已完成. Confirming a completed order again is a Repeat.
func DecideReceive(o Order, now time.Time) (Transition, error) {
	if err := paidForFulfilment(&o, "确认收货"); err != nil {
		return Transition{}, err
	}
	switch {
	case !o.Shipping || o.Fulfilment == FulfilCompleted:
		return Transition{Repeat: true}, nil
	case o.Fulfilment != FulfilShipped:
		return Transition{}, Errorf(EINVALID, "订单尚未发货，不能确认收货")
	}
	return Transition{From: FulfilShipped, To: FulfilCompleted,
		Event: OrderEvent{OutTradeNo: o.OutTradeNo, Kind: EventReceived, Actor: ActorBuyer, At: now}}, nil
}

// ErrNotDue says an order's completion job ran before its time (the
// auto-complete period was made longer since it was scheduled); NotDue
// says when it is due.
type ErrNotDue struct{ At time.Time }

func (e *ErrNotDue) Error() string {
	return fmt.Sprintf("shop: not due until %s", e.At.Format(time.RFC3339))
}

// DecideAutoComplete is what the completion job does to order o at now:
// an order shipped at least autoComplete ago becomes 已完成 by the system.
// An order no longer shipped (confirmed, refunded in full) is a Repeat:
// nothing is left to do. Before its time: *ErrNotDue.
func DecideAutoComplete(o Order, autoComplete time.Duration, now time.Time) (Transition, error) {
	if autoComplete <= 0 {
		autoComplete = DefaultAutoComplete
	}
	if paidForFulfilment(&o, "") != nil || o.Fulfilment != FulfilShipped {
		return Transition{Repeat: true}, nil
	}
	if due := o.ShippedAt.Add(autoComplete); now.Before(due) {
		return Transition{}, &ErrNotDue{At: due}
	}
	return Transition{From: FulfilShipped, To: FulfilCompleted, Event: OrderEvent{OutTradeNo: o.OutTradeNo, Kind: EventAutoCompleted,
		Actor: ActorSystem, At: now, Detail: fmt.Sprintf("发货 %d 天后", int(autoComplete/(24*time.Hour)))}}, nil
}

// fulfil runs a fulfilment decision on the order outTradeNo.
func (s *Service) fulfil(ctx context.Context, outTradeNo string, decide func(o Order) (Transition, error)) (Order, Transition, error) {
	if !ValidOutTradeNo(outTradeNo) {
		return Order{}, Transition{}, ErrOrderNotFound
	}
	if s.fulfilStore == nil {
		return Order{}, Transition{}, errors.New("shop: the store keeps no fulfilment")
	}
	return s.fulfilStore.Fulfil(ctx, outTradeNo, decide)
}

// Ship marks a paid order of shipped goods as shipped by the owner, with
// the carrier and tracking number (checked by CleanShipment).
func (s *Service) Ship(ctx context.Context, outTradeNo, carrier, trackingNo string) (Order, error) {
	carrier, trackingNo, err := CleanShipment(carrier, trackingNo)
	if err != nil {
		return Order{}, err
	}
	now := s.now()
	o, _, err := s.fulfil(ctx, outTradeNo, func(o Order) (Transition, error) {
		return DecideShip(o, carrier, trackingNo, s.autoComplete, now)
	})
	return o, err
}

// Receive is the buyer's 确认收货 of a shipped order.
func (s *Service) Receive(ctx context.Context, outTradeNo string) (Order, error) {
	now := s.now()
	o, _, err := s.fulfil(ctx, outTradeNo, func(o Order) (Transition, error) { return DecideReceive(o, now) })
	return o, err
}

// AutoComplete completes an order shipped AutoComplete ago whose buyer has
// not confirmed receipt. done is false, with when to try again, when the
// order is not due yet.
func (s *Service) AutoComplete(ctx context.Context, outTradeNo string) (done bool, retryAt time.Time, err error) {
	now := s.now()
	_, _, err = s.fulfil(ctx, outTradeNo, func(o Order) (Transition, error) { return DecideAutoComplete(o, s.autoComplete, now) })
	var nd *ErrNotDue
	switch {
	case errors.As(err, &nd):
		return false, nd.At, nil
	case errors.Is(err, ErrOrderNotFound):
		return true, time.Time{}, nil
	case err != nil:
		return false, time.Time{}, err
	}
	return true, time.Time{}, nil
}

// AutoCompleteAfter is how long after shipping an order completes by itself.
func (s *Service) AutoCompleteAfter() time.Duration { return s.autoComplete }

// OrderEvents lists the recorded changes of an order, oldest first.
func (s *Service) OrderEvents(ctx context.Context, outTradeNo string) ([]OrderEvent, error) {
	if s.fulfilStore == nil || !ValidOutTradeNo(outTradeNo) {
		return nil, nil
	}
	return s.fulfilStore.OrderEvents(ctx, outTradeNo)
}

// ErrLookupFailed is the one answer to a lookup that finds nothing: an
// unknown order number and a wrong phone number are not told apart.
var ErrLookupFailed = &Error{Code: ENOTFOUND, Message: "订单号或手机号不正确"}

// LookupOrder finds an order by its number and its receiver's phone number
// (the buyer on another device). Anything but both matching is
// ErrLookupFailed.
func (s *Service) LookupOrder(ctx context.Context, outTradeNo, phone string) (Order, error) {
	outTradeNo, phone = strings.TrimSpace(outTradeNo), strings.TrimSpace(phone)
	o, err := s.Order(ctx, outTradeNo)
	if errors.Is(err, ErrOrderNotFound) {
		return Order{}, ErrLookupFailed
	}
	if err != nil {
		return Order{}, err
	}
	if !PhoneMatches(o.Receiver.Phone, phone) {
		return Order{}, ErrLookupFailed
	}
	return o, nil
}

// PhoneMatches reports whether given is the order's phone number, in time
// independent of where they differ; an order without a phone matches
// nothing.
func PhoneMatches(stored, given string) bool {
	if stored == "" || len(given) > 32 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(stored), []byte(given)) == 1
}

// MaskPhone shows a phone number as its buyer's pages do: the first three
// and last four digits (138****5678); shorter numbers are masked whole.
func MaskPhone(phone string) string {
	if len(phone) < 8 {
		return strings.Repeat("*", len(phone))
	}
	return phone[:3] + strings.Repeat("*", len(phone)-7) + phone[len(phone)-4:]
}
