package shop

import (
	"context"
	"maps"
	"strings"
	"time"

	"alishop/alipay"
)

// Reports are the admin's counts and the removal of goods never ordered
// (implemented by package store).
type Reports interface {
	// CountOrders counts the orders f selects per state; f.Status, Offset
	// and Limit are ignored.
	CountOrders(ctx context.Context, f OrderFilter) (map[Status]int, error)
	// Sales counts the orders paid in [start, end) and sums their amounts.
	Sales(ctx context.Context, start, end time.Time) (orders int, amount alipay.Amount, err error)
	// GoodsOrdered returns the ids of the goods that orders name.
	GoodsOrdered(ctx context.Context) (map[int64]bool, error)
	// DeleteGoods deletes goods id and its picture unless an order names
	// it: ErrGoodsOrdered then, ErrGoodsNotFound when there is no such
	// goods.
	DeleteGoods(ctx context.Context, id int64) error
}

// ErrGoodsOrdered refuses to delete goods that orders name: the orders keep
// pointing at them, so they can only be taken off sale (下架).
var ErrGoodsOrdered = &Error{Code: ECONFLICT, Message: "该商品已有订单，不能删除，只能下架"}

// MaxOrderQuery bounds the admin's order search, in bytes.
const MaxOrderQuery = 64

// CleanOrderQuery trims a search of the admin order list and checks it: an
// order number or Alipay trade number, or the start of one (letters,
// digits, underscore), at most MaxOrderQuery bytes.
func CleanOrderQuery(q string) (string, error) {
	q = strings.TrimSpace(q)
	if q != "" && !ValidOutTradeNo(q) {
		return q, Errorf(EINVALID, "请输入订单号或支付宝交易号（字母、数字或下划线，最多 %d 位）", MaxOrderQuery)
	}
	return q, nil
}

// cleanFilter trims the filter's search and refuses a filter the admin
// list cannot run.
func cleanFilter(f OrderFilter) (OrderFilter, error) {
	if f.Status != "" && !f.Status.Valid() {
		return f, Errorf(EINVALID, "未知的订单状态 %q", f.Status)
	}
	var err error
	if f.Query, err = CleanOrderQuery(f.Query); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, Errorf(EINVALID, "开始日期不能晚于结束日期")
	}
	return f, nil
}

// OrderCounts counts the orders f selects per state (whatever f.Status
// says), and in all.
func (s *Service) OrderCounts(ctx context.Context, f OrderFilter) (map[Status]int, int, error) {
	f.Status = ""
	f, err := cleanFilter(f)
	if err != nil {
		return nil, 0, err
	}
	c, err := s.store.CountOrders(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	total := 0
	for v := range maps.Values(c) {
		total += v
	}
	return c, total, nil
}

// DaySales is what was sold on one day (Beijing time).
type DaySales struct {
	Day    string // yyyy-mm-dd
	Orders int
	Amount alipay.Amount
}

// BeijingDay returns the Beijing calendar day of t: its start and the
// start of the next day.
func BeijingDay(t time.Time) (start, end time.Time) {
	y, m, d := t.In(alipay.Beijing).Date()
	start = time.Date(y, m, d, 0, 0, 0, 0, alipay.Beijing)
	return start, start.AddDate(0, 0, 1)
}

// SalesToday counts the orders paid today (Beijing time) and sums them.
func (s *Service) SalesToday(ctx context.Context) (DaySales, error) {
	start, end := BeijingDay(s.now())
	n, amount, err := s.store.Sales(ctx, start, end)
	if err != nil {
		return DaySales{}, err
	}
	return DaySales{Day: start.Format("2006-01-02"), Orders: n, Amount: amount}, nil
}

// GoodsOrdered returns the ids of the goods that orders name (they cannot
// be deleted).
func (s *Service) GoodsOrdered(ctx context.Context) (map[int64]bool, error) {
	return s.store.GoodsOrdered(ctx)
}

// DeleteGoods deletes goods that no order names, with its picture.
func (s *Service) DeleteGoods(ctx context.Context, id int64) error {
	if id <= 0 {
		return ErrGoodsNotFound
	}
	return s.store.DeleteGoods(ctx, id)
}
