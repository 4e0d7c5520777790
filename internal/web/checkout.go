package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"alishop/alipay"
	"alishop/internal/shop"
)

// The buyer's way to an order: the goods page (GET /goods/{id}) with a
// quantity and 立即购买, 确认订单 (GET /checkout?goods_id=&quantity=) with
// the total and, for shipped goods, the receiver's form, and 提交订单
// (POST /orders). Virtual goods may also be bought straight from the home
// page's card (POST /orders with goods_id only).

// goodsDetail is GET /goods/{id}: the goods page; hidden goods are the
// Chinese 404 page.
func (s *Server) goodsDetail(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.goodsFailed(w, r, shop.ErrGoodsNotFound)
		return
	}
	g, err := s.svc.Goods(r.Context(), id)
	if err == nil && g.Hidden {
		err = shop.ErrGoodsHidden
	}
	if err != nil {
		s.goodsFailed(w, r, err)
		return
	}
	data := map[string]any{"Goods": g, "Nav": "home"}
	s.addGallery(r, g, data)
	s.render(w, r, http.StatusOK, "goods_detail", g.Name, data)
}

// galleryPicture is one of the goods page's pictures: its version, its
// position (1 the main one) and whether it is the one shown large.
type galleryPicture struct {
	Version string
	N       int
	Shown   bool
}

// addGallery puts the goods' pictures into the goods page's data when
// there are several: the one shown large is ?picture=N (1–6; the main
// one when absent or out of range), the others are links to the same page
// showing them, so the gallery works without JavaScript.
func (s *Server) addGallery(r *http.Request, g shop.Goods, data map[string]any) {
	ps, err := s.svc.GoodsPictures(r.Context(), g.ID)
	if err != nil {
		s.log.Error("goods pictures", "id", g.ID, "err", err)
		return
	}
	if len(ps) < 2 {
		return
	}
	shown := 1
	if n, err := strconv.Atoi(r.URL.Query().Get("picture")); err == nil && n >= 1 && n <= len(ps) {
		shown = n
	}
	gallery := make([]galleryPicture, len(ps))
	for i, p := range ps {
		gallery[i] = galleryPicture{Version: p.Version, N: i + 1, Shown: i+1 == shown}
	}
	data["Gallery"] = gallery
	data["Shown"] = ps[shown-1].Version
}

// checkoutForm is 确认订单 as shown: the goods, the quantity and total,
// and what the buyer typed with a message per invalid field.
type checkoutForm struct {
	Goods    shop.Goods
	Quantity int
	Total    alipay.Amount
	Receiver shop.Receiver
	Errors   map[string]string
	Error    string // a message about the whole form
}

// parseQuantity reads a quantity field: "" is 1; anything not a whole
// number of 1 to shop.MaxQuantity is 0 (invalid).
func parseQuantity(v string) int {
	v = strings.TrimSpace(v)
	if v == "" {
		return 1
	}
	q, err := strconv.Atoi(v)
	if err != nil || q < 1 || q > shop.MaxQuantity {
		return 0
	}
	return q
}

// checkoutPage is GET /checkout?goods_id=N&quantity=Q: 确认订单. Goods that
// cannot be bought get the 404 page, too few left the 409 库存不足 page.
func (s *Server) checkoutPage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.URL.Query().Get("goods_id"), 10, 64)
	if err != nil || id <= 0 {
		s.goodsFailed(w, r, shop.ErrGoodsNotFound)
		return
	}
	g, err := s.svc.Goods(r.Context(), id)
	if err != nil {
		s.goodsFailed(w, r, err)
		return
	}
	f := checkoutForm{Goods: g, Quantity: parseQuantity(r.URL.Query().Get("quantity"))}
	if err := shop.CheckQuantity(g, f.Quantity); err != nil {
		s.checkoutFailed(w, r, f, err)
		return
	}
	s.renderCheckout(w, r, http.StatusOK, f)
}

func (s *Server) renderCheckout(w http.ResponseWriter, r *http.Request, status int, f checkoutForm) {
	if f.Quantity > 0 {
		f.Total = f.Goods.Price * alipay.Amount(f.Quantity)
	}
	s.render(w, r, status, "checkout", "确认订单", map[string]any{"Form": f, "Nav": "home"})
}

// checkoutFailed answers a checkout that err refused: 确认订单 again with
// the messages next to the fields (422), the 库存不足 page (409), the
// goods' 404 page, or the error page.
func (s *Server) checkoutFailed(w http.ResponseWriter, r *http.Request, f checkoutForm, err error) {
	var e *shop.Error
	switch {
	case errors.Is(err, shop.ErrOutOfStock):
		msg := "这件商品已售罄，没有创建订单。"
		if g, gerr := s.svc.Goods(r.Context(), f.Goods.ID); gerr == nil && !g.SoldOut() {
			msg = "这件商品只剩 " + strconv.FormatInt(g.Left(), 10) + " 件，不够本次购买的数量，没有创建订单。"
		}
		s.renderErrorPage(w, r, http.StatusConflict, errorPage{Heading: "库存不足", Message: msg,
			Next: []nextStep{{Text: "返回商品", Href: "/goods/" + strconv.FormatInt(f.Goods.ID, 10), ID: "back-goods"}, {Text: "看看其他商品", Href: "/", ID: "home"}}})
	case shop.ErrorCode(err) == shop.ENOTFOUND:
		s.goodsFailed(w, r, err)
	case errors.As(err, &e) && e.Code == shop.EINVALID && len(e.Fields) > 0:
		f.Errors = e.Fields
		if q, ok := e.Fields["quantity"]; ok {
			f.Error = q
		}
		s.renderCheckout(w, r, http.StatusUnprocessableEntity, f)
	case errors.Is(err, shop.ErrGoodsChanged):
		f.Error = shop.ErrorMessage(err)
		s.renderCheckout(w, r, http.StatusConflict, f)
	default:
		s.fail(w, r, err)
	}
}

// createOrder is POST /orders (form goods_id, quantity (default 1), for
// shipped goods name, phone and address; optional channel): it creates the
// order, adds it to the browser's 我的订单, and answers 303 See Other to
// the signed gateway URL (wap pay for phones, page pay otherwise; see
// channelOf). An invalid field gets 确认订单 again (422), too few left the
// 库存不足 page (409); nothing is stored then.
func (s *Server) createOrder(w http.ResponseWriter, r *http.Request) {
	if s.limitCheckout(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	id, err := strconv.ParseInt(r.PostFormValue("goods_id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, shop.Errorf(shop.EINVALID, "请选择要购买的商品"))
		return
	}
	c := shop.Checkout{GoodsID: id, Quantity: parseQuantity(r.PostFormValue("quantity")),
		Receiver: shop.Receiver{Name: r.PostFormValue("name"), Phone: r.PostFormValue("phone"), Address: r.PostFormValue("address")}}
	ch := channelOf(r)
	o, payURL, err := s.svc.Checkout(r.Context(), c, ch)
	if err != nil {
		f := checkoutForm{Goods: shop.Goods{ID: id}, Quantity: c.Quantity, Receiver: c.Receiver}
		if g, gerr := s.svc.Goods(r.Context(), id); gerr == nil {
			f.Goods = g
		} else if shop.ErrorCode(err) == shop.EINVALID {
			err = gerr
		}
		s.checkoutFailed(w, r, f, err)
		return
	}
	// The receiver's name, phone and address are never logged.
	s.log.Info("order created", "out_trade_no", o.OutTradeNo, "goods_id", o.GoodsID, "quantity", o.Quantity, "amount", o.Amount.String(), "channel", ch)
	s.buyers.add(w, r, o.OutTradeNo)
	if uid := s.buyerID(r); uid != "" {
		if err := s.alipayLogin.Claim(r.Context(), o.OutTradeNo, uid); err != nil {
			// The order stays in this browser's list; its payment names the buyer later.
			s.log.Error("recording the logged-in buyer of an order", "out_trade_no", o.OutTradeNo, "err", err)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, payURL, http.StatusSeeOther)
}

// buyAgain is the way to order goods again from a closed order: 确认订单
// with the order's goods and quantity.
func buyAgain(o shop.Order) string {
	q := url.Values{"goods_id": {strconv.FormatInt(o.GoodsID, 10)}}
	if o.Quantity > 1 {
		q.Set("quantity", strconv.Itoa(o.Quantity))
	}
	return "/checkout?" + q.Encode()
}
