package shop

import (
	"strings"
	"testing"

	"alishop/alipay/wire"
)

func TestCleanReceiver(t *testing.T) {
	t.Parallel()
	good := Receiver{Name: " 张三 ", Phone: "+86 138-0013-8000", Address: " 浙江省杭州市西湖区文三路 100 号 "}
	r, err := CleanReceiver(good)
	if err != nil || r.Name != "张三" || r.Phone != "13800138000" || r.Address != "浙江省杭州市西湖区文三路 100 号" {
		t.Fatalf("%+v %v", r, err)
	}
	for _, c := range []struct {
		r      Receiver
		fields string
	}{
		{Receiver{}, "address name phone"},
		{Receiver{Name: "张三", Phone: "1380013800", Address: "北京市朝阳区"}, "phone"},
		{Receiver{Name: "张三", Phone: "12800138000", Address: "北京市朝阳区"}, "phone"},
		{Receiver{Name: "张三", Phone: "1380013800a", Address: "北京市朝阳区"}, "phone"},
		{Receiver{Name: "张三", Phone: "8613800138000x", Address: "北京市朝阳区"}, "phone"},
		{Receiver{Name: "张三", Phone: strings.Repeat("1", 40), Address: "北京市朝阳区"}, "phone"},
		{Receiver{Name: strings.Repeat("张", MaxReceiverName+1), Phone: "13800138000", Address: "北京市朝阳区"}, "name"},
		{Receiver{Name: "张\x00三", Phone: "13800138000", Address: "北京市朝阳区"}, "name"},
		{Receiver{Name: "张三", Phone: "13800138000", Address: "北京"}, "address"},
		{Receiver{Name: "张三", Phone: "13800138000", Address: "北京市朝阳区\n某路"}, "address"},
		{Receiver{Name: "张三", Phone: "13800138000", Address: strings.Repeat("路", MaxReceiverAddress+1)}, "address"},
		{Receiver{Name: "\xff", Phone: "13800138000", Address: "北京市朝阳区"}, "name"},
	} {
		_, err := CleanReceiver(c.r)
		e, ok := err.(*Error)
		if !ok || e.Code != EINVALID {
			t.Errorf("%+v: %v", c.r, err)
			continue
		}
		var got []string
		for _, f := range []string{"address", "name", "phone"} {
			if e.Fields[f] != "" {
				got = append(got, f)
			}
		}
		if strings.Join(got, " ") != c.fields {
			t.Errorf("%+v: fields %v, want %s", c.r, e.Fields, c.fields)
		}
	}
}

func TestCheckCheckout(t *testing.T) {
	t.Parallel()
	five := int64(5)
	zero := int64(0)
	rcv := Receiver{Name: "李四", Phone: "13912345678", Address: "上海市浦东新区世纪大道 1 号"}
	shipped := Goods{ID: 1, Name: "键盘", Price: 100, Shipping: true, Stock: &five}
	virtual := Goods{ID: 2, Name: "课程", Price: 100}
	for _, c := range []struct {
		name string
		g    Goods
		c    Checkout
		err  error  // a sentinel, or nil
		code string // the code otherwise
	}{
		{"shipped", shipped, Checkout{GoodsID: 1, Quantity: 5, Receiver: rcv}, nil, ""},
		{"past the stock", shipped, Checkout{GoodsID: 1, Quantity: 6, Receiver: rcv}, ErrOutOfStock, ECONFLICT},
		{"sold out", Goods{Name: "x", Price: 1, Stock: &zero}, Checkout{Quantity: 1}, ErrOutOfStock, ECONFLICT},
		{"no receiver", shipped, Checkout{GoodsID: 1, Quantity: 1}, nil, EINVALID},
		{"quantity 0", virtual, Checkout{GoodsID: 2}, nil, EINVALID},
		{"quantity 100", virtual, Checkout{GoodsID: 2, Quantity: 100}, nil, EINVALID},
		{"virtual", virtual, Checkout{GoodsID: 2, Quantity: 99, Receiver: rcv}, nil, ""},
		{"over MaxAmount", Goods{Name: "x", Price: wire.MaxAmount / 2}, Checkout{Quantity: 3}, nil, EINVALID},
		{"hidden", Goods{Name: "x", Price: 1, Hidden: true}, Checkout{Quantity: 1}, ErrGoodsHidden, ENOTFOUND},
	} {
		got, err := CheckCheckout(c.g, c.c)
		if ErrorCode(err) != c.code || (c.err != nil && err != c.err) {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.name == "virtual" && got.Receiver != (Receiver{}) {
			t.Errorf("virtual goods kept a receiver: %+v", got.Receiver)
		}
		if c.code == EINVALID {
			if e := err.(*Error); len(e.Fields) == 0 {
				t.Errorf("%s: no field named: %+v", c.name, e)
			}
		}
	}
}

func TestOrderSubject(t *testing.T) {
	t.Parallel()
	if s := OrderSubject(Order{Subject: "键盘", Quantity: 1}); s != "键盘" {
		t.Error(s)
	}
	if s := OrderSubject(Order{Subject: "A/B", Quantity: 3}); s != "A／B ×3" {
		t.Error(s)
	}
}
