package sandbox

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"time"

	"alishop/alipay"
)

// bill is a generated bill file behind an expiring URL.
type bill struct {
	name   string
	data   []byte
	expire time.Time
}

// BillURLTTL is how long a bill_download_url stays valid (sandbox clock), as
// on Alipay.
const BillURLTTL = 30 * time.Second

// billURL handles alipay.data.dataservice.bill.downloadurl.query: a CSV of
// the app's trades and refunds of a past day (yyyy-MM-dd) or month (yyyy-MM).
func (s *Sandbox) billURL(req *gwReq, now time.Time) *node {
	billType, _ := req.bizString("bill_type")
	billDate, _ := req.bizString("bill_date")
	if billType != "trade" && billType != "signcustomer" {
		return invalidParam("bill_type 应为 trade 或 signcustomer")
	}
	var start, end time.Time
	if d, err := time.ParseInLocation("2006-01-02", billDate, alipay.Beijing); err == nil {
		start, end = d, d.AddDate(0, 0, 1)
	} else if m, err := time.ParseInLocation("2006-01", billDate, alipay.Beijing); err == nil {
		start, end = m, m.AddDate(0, 1, 0)
	} else {
		return invalidParam("bill_date 格式应为 yyyy-MM-dd 或 yyyy-MM")
	}
	y, mo, d := now.In(alipay.Beijing).Date()
	today := time.Date(y, mo, d, 0, 0, 0, 0, alipay.Beijing)
	a := req.app
	// Bills exist for complete days (T+1) since the app was created.
	if end.After(today) || !end.After(a.Created) {
		return bizErr("isp.bill_not_exist", "账单不存在")
	}
	data := s.billCSV(a, billType, start, end, now)
	for k, b := range s.bills {
		if !now.Before(b.expire) {
			delete(s.bills, k)
		}
	}
	token := newToken()
	name := fmt.Sprintf("%s_%s_%s.csv", a.SellerID, start.Format("20060102"), map[string]string{"trade": "业务明细", "signcustomer": "账务明细"}[billType])
	s.bills[token] = &bill{name: name, data: data, expire: now.Add(BillURLTTL)}
	return okNode().str("bill_download_url", s.baseURL(req.r)+"bill/"+token)
}

type billRow struct {
	at  time.Time
	row []string
}

// billCSV writes a bill in the layout of Alipay's 业务明细 (trade) or
// 账务明细 (signcustomer) files: "#" header lines, a column row, the rows,
// and "#" summary lines. UTF-8 (Alipay's own files are GBK in a zip).
func (s *Sandbox) billCSV(a *app, billType string, start, end, now time.Time) []byte {
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(start) && t.Before(end) }
	var rows []billRow
	var nPay, nRefund int
	var sumPay, sumRefund alipay.Amount
	for _, t := range s.trades {
		if t.AppID != a.AppID || t.Paid.IsZero() {
			continue
		}
		buyer := maskLogin(t.BuyerLogin)
		if in(t.Paid) {
			nPay++
			sumPay += t.TotalAmount
			amt := t.TotalAmount.String()
			if billType == "trade" {
				rows = append(rows, billRow{t.Paid, []string{t.TradeNo, t.OutTradeNo, "交易", t.Subject, fmtTime(t.Created), fmtTime(t.Paid),
					t.StoreID, "", "", "", buyer, amt, amt, "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00", "0.00", "", "0.00", "0.00", ""}})
			} else {
				rows = append(rows, billRow{t.Paid, []string{t.TradeNo, t.OutTradeNo, t.Subject, fmtTime(t.Paid), buyer, amt, "", "交易", ""}})
			}
		}
		for _, r := range t.Refunds {
			if !in(r.At) {
				continue
			}
			nRefund++
			sumRefund += r.Amount
			neg := "-" + r.Amount.String()
			if billType == "trade" {
				rows = append(rows, billRow{r.At, []string{t.TradeNo, t.OutTradeNo, "退款", t.Subject, fmtTime(t.Created), fmtTime(r.At),
					t.StoreID, "", "", "", buyer, neg, neg, "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00", "0.00", r.OutRequestNo, "0.00", "0.00", r.Reason}})
			} else {
				rows = append(rows, billRow{r.At, []string{t.TradeNo, t.OutTradeNo, t.Subject, fmtTime(r.At), buyer, "", r.Amount.String(), "退款", r.OutRequestNo}})
			}
		}
	}
	slices.SortStableFunc(rows, func(x, y billRow) int { return x.at.Compare(y.at) })
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	period := fmt.Sprintf("#起始日期：[%s]   终止日期：[%s]", alipay.FormatTime(start), alipay.FormatTime(end))
	if billType == "trade" {
		b.WriteString("#支付宝业务明细查询\n#账号：[" + a.SellerID + "]\n" + period + "\n#-----------------------------------------业务明细列表----------------------------------------\n")
		_ = w.Write([]string{"支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称", "操作员", "终端号", "对方账户",
			"订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）", "商家优惠（元）", "券核销金额（元）", "券名称",
			"商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号", "服务费（元）", "分润（元）", "备注"})
	} else {
		b.WriteString("#支付宝账务明细查询\n#账号：[" + a.SellerID + "]\n" + period + "\n#-----------------------------------------账务明细列表----------------------------------------\n")
		_ = w.Write([]string{"支付宝交易号", "商户订单号", "商品名称", "发生时间", "对方账户", "收入金额（+元）", "支出金额（-元）", "业务类型", "备注"})
	}
	for _, r := range rows {
		_ = w.Write(r.row)
	}
	w.Flush()
	fmt.Fprintf(&b, "#-----------------------------------------明细列表结束------------------------------------\n")
	fmt.Fprintf(&b, "#交易合计：%d笔，商家实收共%s元\n", nPay, sumPay)
	fmt.Fprintf(&b, "#退款合计：%d笔，商家实收共-%s元\n", nRefund, sumRefund)
	fmt.Fprintf(&b, "#导出时间：[%s]\n", alipay.FormatTime(now))
	return b.Bytes()
}

func (s *Sandbox) handleBill(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	b := s.bills[r.PathValue("token")]
	expired := b == nil || !s.now().Before(b.expire)
	s.mu.Unlock()
	if expired {
		http.Error(w, "bill URL unknown or expired (a bill_download_url is valid for 30 s)", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename*=UTF-8''%s", urlPathEscape(b.name)))
	_, _ = w.Write(b.data)
}

func urlPathEscape(s string) string {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			out = append(out, c)
		} else {
			out = append(out, fmt.Sprintf("%%%02X", c)...)
		}
	}
	return string(out)
}
