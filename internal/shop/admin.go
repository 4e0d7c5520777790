package shop

import (
	"context"
	"maps"
	"strings"
	"time"

	"alishop/alipay/wire"
)

// Reports are the admin's counts and the removal of goods never ordered
// (implemented by package store).
type Reports interface {
	// CountOrders counts the orders f selects per state; f.Status, Offset
	// and Limit are ignored.
	CountOrders(ctx context.Context, f OrderFilter) (map[Status]int, error)
	// Sales counts the orders paid in [start, end) and sums their amounts.
	Sales(ctx context.Context, start, end time.Time) (orders int, amount wire.Amount, err error)
	// GoodsOrdered returns the ids of the goods that orders name.
	GoodsOrdered(ctx context.Context) (map[int64]bool, error)
	// DeleteGoods deletes goods id and its picture unless an order names
	// it: ErrGoodsOrdered then, ErrGoodsNotFound when there is no such
	// goods.
	DeleteGoods(ctx context.Context, id int64) error
	// CountStages counts the orders f selects in each of FulfilStages;
	// f.Status, f.Stage, Offset and Limit are ignored.
	CountStages(ctx context.Context, f OrderFilter) (map[Stage]int, error)
	// ExportOrders returns the orders f selects whose id is above afterID,
	// by id, at most limit (a page of an export); Offset and Limit are
	// ignored.
	ExportOrders(ctx context.Context, f OrderFilter, afterID int64, limit int) ([]Order, error)
}

// ErrGoodsOrdered refuses to delete goods that orders name: the orders keep
// pointing at them, so they can only be taken off sale (下架).
var ErrGoodsOrdered = &Error{Code: ECONFLICT, Message: "该商品已有订单，不能删除，只能下架"}

// MaxOrderQuery bounds the admin's order search, in bytes.
const MaxOrderQuery = 64

// CleanOrderQuery trims a search of the admin order list and checks it: an
// order number or Alipay trade number, or the start of one (letters,
// digits, underscore), at most MaxOrderQuery bytes, or a receiver's whole
// phone number (IsPhoneQuery).
func CleanOrderQuery(q string) (string, error) {
	q = strings.TrimSpace(q)
	if q != "" && !ValidOutTradeNo(q) {
		return q, Errorf(EINVALID, "请输入订单号、支付宝交易号或收货人手机号（字母、数字或下划线，最多 %d 位）", MaxOrderQuery)
	}
	return q, nil
}

// IsPhoneQuery reports whether a search is a mainland mobile number (11
// digits starting with 1), which also finds the orders delivered to it.
func IsPhoneQuery(q string) bool {
	if len(q) != 11 || q[0] != '1' {
		return false
	}
	for i := 0; i < len(q); i++ {
		if q[i] < '0' || q[i] > '9' {
			return false
		}
	}
	return true
}

// OrderStageCounts counts the paid orders f selects in each of
// FulfilStages (whatever f.Status and f.Stage say).
func (s *Service) OrderStageCounts(ctx context.Context, f OrderFilter) (map[Stage]int, error) {
	f.Status, f.Stage = "", ""
	f, err := cleanFilter(f)
	if err != nil {
		return nil, err
	}
	return s.store.CountStages(ctx, f)
}

// MaxExportOrders bounds one export of the order list: a larger one is
// refused, and the owner narrows the dates.
const MaxExportOrders = 100_000

// exportPage is how many orders an export reads at a time.
const exportPage = 500

// ExportOrders calls each with every order f selects, oldest first, reading
// them a page at a time; it stops at each's first error. An export of more
// than MaxExportOrders is refused before anything is read.
func (s *Service) ExportOrders(ctx context.Context, f OrderFilter, each func(Order) error) error {
	f, err := cleanFilter(f)
	if err != nil {
		return err
	}
	total, err := s.countFiltered(ctx, f)
	if err != nil {
		return err
	}
	if total > MaxExportOrders {
		return Errorf(EINVALID, "符合条件的订单有 %d 个，一次最多导出 %d 个，请缩小日期范围", total, MaxExportOrders)
	}
	var after int64
	for {
		page, err := s.store.ExportOrders(ctx, f, after, exportPage)
		if err != nil {
			return err
		}
		for _, o := range page {
			if err := each(o); err != nil {
				return err
			}
			after = o.ID
		}
		if len(page) < exportPage {
			return nil
		}
	}
}

// countFiltered counts the orders f selects, its status and stage included.
func (s *Service) countFiltered(ctx context.Context, f OrderFilter) (int, error) {
	f.Offset, f.Limit = 0, 1
	_, total, err := s.store.ListOrders(ctx, f)
	return total, err
}

// cleanFilter trims the filter's search and refuses a filter the admin
// list cannot run.
func cleanFilter(f OrderFilter) (OrderFilter, error) {
	if f.Status != "" && !f.Status.Valid() {
		return f, Errorf(EINVALID, "未知的订单状态 %q", f.Status)
	}
	if f.Stage != "" && !f.Stage.Valid() {
		return f, Errorf(EINVALID, "未知的订单状态 %q", f.Stage)
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
	Amount wire.Amount
}

// BeijingDay returns the Beijing calendar day of t: its start and the
// start of the next day.
func BeijingDay(t time.Time) (start, end time.Time) {
	y, m, d := t.In(wire.Beijing).Date()
	start = time.Date(y, m, d, 0, 0, 0, 0, wire.Beijing)
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
