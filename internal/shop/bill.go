package shop

import (
	"time"

	"alishop/alipay/wire"
)

// BillCheck is the result of comparing one day's Alipay bill with the shop.
type BillCheck struct {
	BillDate   string // yyyy-mm-dd, Beijing
	CheckedAt  time.Time
	Rows       int // rows in the bill
	Mismatches int
	Detail     string
}

// NoBillDetail is a bill check's detail when Alipay has no bill for the
// day (isp.bill_not_exist): no trade was made that day.
const NoBillDetail = "支付宝没有这一天的账单（当天没有交易）"

// BillMismatch is one difference between a bill and the shop.
type BillMismatch struct {
	BillDate     string
	Kind         string // missing_local, missing_bill, amount, status, refund_missing_local, refund_missing_bill, refund_amount
	OutTradeNo   string
	OutRequestNo string
	BillAmount   wire.Amount // 0 when the bill has no row
	LocalAmount  wire.Amount // 0 when the shop has none
	Detail       string
	CreatedAt    time.Time
}
