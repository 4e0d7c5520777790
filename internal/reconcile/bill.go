package reconcile

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"alishop/alipay"
	"alishop/internal/jobs"
	"alishop/internal/shop"
)

// BillRow is one row of Alipay's 业务明细 (trade) bill.
type BillRow struct {
	TradeNo      string
	OutTradeNo   string
	Type         string        // 交易 or 退款
	Amount       alipay.Amount // positive; refunds are negative in the file
	OutRequestNo string        // refunds: 退款批次号/请求号
	FinishedAt   string
}

// BillFile returns the 业务明细 (detail) CSV of a downloaded bill in UTF-8:
// Alipay serves a zip holding the detail file and a summary (汇总) file, both
// in GBK, with GBK file names; the sandbox serves the UTF-8 CSV itself.
func BillFile(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return toUTF8(data)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("bill: zip: %w", err)
	}
	var pick *zip.File
	for _, f := range zr.File {
		name, _ := toUTF8([]byte(f.Name))
		if f.FileInfo().IsDir() || !strings.HasSuffix(strings.ToLower(string(name)), ".csv") || strings.Contains(string(name), "汇总") {
			continue
		}
		if pick == nil || f.UncompressedSize64 > pick.UncompressedSize64 {
			pick = f
		}
	}
	if pick == nil {
		return nil, errors.New("bill: the zip holds no detail CSV")
	}
	rc, err := pick.Open()
	if err != nil {
		return nil, fmt.Errorf("bill: zip: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("bill: zip: %w", err)
	}
	return toUTF8(b)
}

// toUTF8 returns b as is when it is UTF-8, else decoded from GBK.
func toUTF8(b []byte) ([]byte, error) {
	if utf8.Valid(b) {
		return b, nil
	}
	out, err := simplifiedchinese.GBK.NewDecoder().Bytes(b)
	if err != nil {
		return nil, fmt.Errorf("bill: neither UTF-8 nor GBK: %w", err)
	}
	return out, nil
}

// ParseBill reads a 业务明细 bill in UTF-8 (see BillFile): "#" comment
// lines, a column row, then rows. Columns are found by name.
func ParseBill(data []byte) ([]BillRow, error) {
	var body bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "#") || strings.TrimSpace(line) == "" {
			continue
		}
		body.WriteString(line)
		body.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	cr := csv.NewReader(&body)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("bill: no column row")
	}
	if err != nil {
		return nil, fmt.Errorf("bill: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	need := []string{"支付宝交易号", "商户订单号", "业务类型", "订单金额（元）"}
	for _, n := range need {
		if _, ok := col[n]; !ok {
			return nil, fmt.Errorf("bill: no column %q", n)
		}
	}
	get := func(rec []string, name string) string {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	var out []BillRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("bill: %w", err)
		}
		amt := strings.TrimPrefix(get(rec, "订单金额（元）"), "-")
		a, err := alipay.ParseAmount(amt)
		if err != nil {
			return nil, fmt.Errorf("bill: row %q: amount %q: %w", get(rec, "商户订单号"), amt, err)
		}
		out = append(out, BillRow{TradeNo: get(rec, "支付宝交易号"), OutTradeNo: get(rec, "商户订单号"), Type: get(rec, "业务类型"),
			Amount: a, OutRequestNo: get(rec, "退款批次号/请求号"), FinishedAt: get(rec, "完成时间")})
	}
	return out, nil
}

// refundStatusLabel names a refund's state for the admin.
func refundStatusLabel(st shop.RefundStatus) string {
	switch st {
	case shop.RefundSucceeded:
		return "退款成功"
	case shop.RefundFailed:
		return "退款失败"
	}
	return "退款处理中"
}

// CheckBill fetches the trade bill of day (yyyy-mm-dd, Beijing), compares it
// with the orders paid and refunds made that day, and stores the result.
func (r *Reconciler) CheckBill(ctx context.Context, day string) (shop.BillCheck, []shop.BillMismatch, error) {
	start, err := time.ParseInLocation("2006-01-02", day, alipay.Beijing)
	if err != nil {
		return shop.BillCheck{}, nil, fmt.Errorf("bill date %q: want yyyy-mm-dd", day)
	}
	end := start.AddDate(0, 0, 1)
	check := shop.BillCheck{BillDate: day}
	var rows []BillRow
	res, err := r.cfg.Gateway.BillDownloadURLQuery(ctx, alipay.BillDownloadURLQueryRequest{BillType: "trade", BillDate: day})
	switch {
	case alipay.HasSubCode(err, "isp.bill_not_exist"):
		check.Detail = shop.NoBillDetail
	case err != nil:
		return check, nil, err
	default:
		data, err := r.download(ctx, res.BillDownloadURL)
		if err != nil {
			return check, nil, err
		}
		if data, err = BillFile(data); err != nil {
			return check, nil, err
		}
		if rows, err = ParseBill(data); err != nil {
			return check, nil, err
		}
	}
	ms, err := r.compare(ctx, day, start, end, rows)
	if err != nil {
		return check, nil, err
	}
	check.CheckedAt, check.Rows, check.Mismatches = r.cfg.Now(), len(rows), len(ms)
	for i := range ms {
		ms[i].BillDate, ms[i].CreatedAt = day, check.CheckedAt
	}
	if err := r.cfg.Store.SaveBillCheck(ctx, check, ms); err != nil {
		return check, nil, err
	}
	if len(ms) > 0 {
		r.log.Warn("bill check: mismatches", "date", day, "mismatches", len(ms))
	}
	return check, ms, nil
}

func (r *Reconciler) download(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("bill download: %w", err)
	}
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bill download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bill download: HTTP %d", resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
}

func (r *Reconciler) compare(ctx context.Context, day string, start, end time.Time, rows []BillRow) ([]shop.BillMismatch, error) {
	svc := r.cfg.Service
	var ms []shop.BillMismatch
	add := func(m shop.BillMismatch) { ms = append(ms, m) }
	inBill := map[string]bool{}
	refundInBill := map[string]bool{}
	for _, row := range rows {
		switch row.Type {
		case "交易":
			inBill[row.OutTradeNo] = true
			o, err := svc.Order(ctx, row.OutTradeNo)
			if errors.Is(err, shop.ErrOrderNotFound) {
				add(shop.BillMismatch{Kind: "missing_local", OutTradeNo: row.OutTradeNo, BillAmount: row.Amount, Detail: "支付宝账单有此交易，本店没有此订单"})
				continue
			}
			if err != nil {
				return nil, err
			}
			if o.Amount != row.Amount {
				add(shop.BillMismatch{Kind: "amount", OutTradeNo: row.OutTradeNo, BillAmount: row.Amount, LocalAmount: o.Amount, Detail: "金额不一致"})
			}
			if o.Status == shop.StatusUnpaid || o.Status == shop.StatusClosed {
				add(shop.BillMismatch{Kind: "status", OutTradeNo: row.OutTradeNo, BillAmount: row.Amount, LocalAmount: o.Amount,
					Detail: "支付宝已收款，本店订单为" + o.Status.Label()})
			}
		case "退款":
			refundInBill[row.OutRequestNo] = true
			if r.cfg.Refunds == nil {
				continue
			}
			rf, err := r.cfg.Store.Refund(ctx, row.OutRequestNo)
			if errors.Is(err, shop.ErrRefundNotFound) {
				add(shop.BillMismatch{Kind: "refund_missing_local", OutTradeNo: row.OutTradeNo, OutRequestNo: row.OutRequestNo, BillAmount: row.Amount, Detail: "支付宝账单有此退款，本店没有"})
				continue
			}
			if err != nil {
				return nil, err
			}
			if rf.Amount != row.Amount {
				add(shop.BillMismatch{Kind: "refund_amount", OutTradeNo: row.OutTradeNo, OutRequestNo: row.OutRequestNo, BillAmount: row.Amount, LocalAmount: rf.Amount, Detail: "退款金额不一致"})
			}
			if rf.Status != shop.RefundSucceeded {
				add(shop.BillMismatch{Kind: "refund_status", OutTradeNo: row.OutTradeNo, OutRequestNo: row.OutRequestNo, BillAmount: row.Amount, LocalAmount: rf.Amount,
					Detail: "支付宝已退款，本店退款状态为" + refundStatusLabel(rf.Status)})
			}
		}
	}
	paid, err := r.cfg.Store.OrdersPaidBetween(ctx, start, end)
	if err != nil {
		return nil, err
	}
	for _, o := range paid {
		if !inBill[o.OutTradeNo] {
			add(shop.BillMismatch{Kind: "missing_bill", OutTradeNo: o.OutTradeNo, LocalAmount: o.Amount, Detail: "本店订单已支付，支付宝账单没有此交易"})
		}
	}
	refunds, err := r.cfg.Store.RefundsSettledBetween(ctx, start, end)
	if err != nil {
		return nil, err
	}
	for _, rf := range refunds {
		if !refundInBill[rf.OutRequestNo] {
			add(shop.BillMismatch{Kind: "refund_missing_bill", OutTradeNo: rf.OutTradeNo, OutRequestNo: rf.OutRequestNo, LocalAmount: rf.Amount, Detail: "本店退款成功，支付宝账单没有此退款"})
		}
	}
	return ms, nil
}

// billJob checks the bill of the job's day; a bill not ready yet or a failed
// download is tried again later.
func (r *Reconciler) billJob(ctx context.Context, j *jobs.Job) jobs.Result {
	if ok, turn := r.budget.take(j.ID, billRunCalls, r.cfg.Now()); !ok {
		return jobs.Result{RetryAt: turn}
	}
	if _, _, err := r.CheckBill(ctx, j.Ref); err != nil {
		return r.retry(r.cfg.Now().Add(min(jobs.Backoff(r.cfg.Schedule, j.Attempts+3), 6*time.Hour)), err)
	}
	return jobs.Result{Done: true}
}

// NextBillCheck says which day's bill is checked next and when: the bill
// job due first, or, when none is waiting, today's bill on the morning
// after (BillAt, Beijing time).
func (r *Reconciler) NextBillCheck(ctx context.Context) (day string, at time.Time, err error) {
	ref, runAt, ok, err := r.cfg.Store.NextJob(ctx, jobs.KindBill)
	if err != nil {
		return "", time.Time{}, err
	}
	if ok {
		return ref, runAt, nil
	}
	y, m, d := r.cfg.Now().In(alipay.Beijing).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, alipay.Beijing)
	return today.Format("2006-01-02"), today.AddDate(0, 0, 1).Add(r.cfg.BillAt), nil
}
