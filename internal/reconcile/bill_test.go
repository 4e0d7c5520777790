package reconcile_test

import (
	"archive/zip"
	"bytes"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"alishop/alipay"
	"alishop/internal/reconcile"
)

const billCSV = `#支付宝业务明细查询
#账号：[20881234567890120156]
#起始日期：[2026年11月24日 00:00:00]   终止日期：[2026年11月25日 00:00:00]
#-----------------------------------------业务明细列表----------------------------------------
支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注
2026112422001400001,o1,交易,机械键盘,2026-11-24 10:00:00,2026-11-24 10:00:05,,,,,buy***@sandbox.com,3788.00,3788.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,0.00,0.00,
2026112422001400001,o1,退款,机械键盘,2026-11-24 10:00:00,2026-11-24 11:00:00,,,,,buy***@sandbox.com,-100.50,-100.50,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,R1,0.00,0.00,尺码
#-----------------------------------------明细列表结束------------------------------------
#交易合计：1笔，商家实收共3788.00元
#退款合计：1笔，商家实收共-100.50元
`

func checkRows(t *testing.T, data []byte) {
	t.Helper()
	b, err := reconcile.BillFile(data)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := reconcile.ParseBill(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []reconcile.BillRow{
		{TradeNo: "2026112422001400001", OutTradeNo: "o1", Type: "交易", Amount: alipay.MustAmount("3788.00"), FinishedAt: "2026-11-24 10:00:05"},
		{TradeNo: "2026112422001400001", OutTradeNo: "o1", Type: "退款", Amount: alipay.MustAmount("100.50"), OutRequestNo: "R1", FinishedAt: "2026-11-24 11:00:00"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows: %+v", rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
}

// The sandbox serves the UTF-8 CSV; Alipay serves a zip of GBK files
// (detail and summary) with GBK names.
func TestBillFormats(t *testing.T) {
	t.Parallel()
	checkRows(t, []byte(billCSV))
	gbk := func(s string) []byte {
		b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"20881234567890120156_20261124_业务明细.csv":     billCSV,
		"20881234567890120156_20261124_业务明细(汇总).csv": "#汇总\n门店编号,门店名称,交易订单总笔数\n",
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: string(gbk(name)), Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(gbk(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	checkRows(t, buf.Bytes())
	for _, bad := range []string{"", "not,a,bill\n1,2,3\n", "PK\x03\x04broken"} {
		b, err := reconcile.BillFile([]byte(bad))
		if err == nil {
			_, err = reconcile.ParseBill(b)
		}
		if err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
