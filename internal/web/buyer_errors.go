package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"alishop/internal/shop"
)

// The buyer's error pages say what happened to the order or the goods and
// offer the step that fits: 重新购买 for an order that can no longer be
// paid, 查看订单 for one that is already paid, the storefront for goods
// that cannot be bought.

// orderFailed answers a buyer's request about an order that failed with err.
func (s *Server) orderFailed(w http.ResponseWriter, r *http.Request, o shop.Order, err error) {
	switch shop.ErrorCode(err) {
	case shop.ENOTFOUND:
		s.renderErrorPage(w, r, http.StatusNotFound, errorPage{Heading: "找不到这个订单",
			Message: "订单号可能有误。在本浏览器中下的订单都可以在“我的订单”里找到。",
			Next:    []nextStep{{Text: "查看我的订单", Href: "/orders"}, {Text: "返回首页", Href: "/", ID: "home"}}})
		return
	case shop.ECONFLICT:
		if o.OutTradeNo == "" {
			break
		}
		view := nextStep{Text: "查看订单", Href: "/orders/" + url.PathEscape(o.OutTradeNo), ID: "view-order"}
		if o.Status == shop.StatusUnpaid || o.Status == shop.StatusClosed {
			heading := "订单已关闭"
			if o.Status == shop.StatusUnpaid {
				heading = "订单已过支付时间"
			}
			s.renderErrorPage(w, r, http.StatusConflict, errorPage{Heading: heading,
				Message: "这笔订单没有付款，已不能继续付款。如仍想要这件商品，请重新购买。",
				Next:    []nextStep{s.buyAgainStep(o), view}})
			return
		}
		view.ID = ""
		s.renderErrorPage(w, r, http.StatusConflict, errorPage{Heading: "订单已付款",
			Message: "这笔订单已经付过款，无需再次付款。", Next: []nextStep{view}})
		return
	}
	s.fail(w, r, err)
}

// buyAgainStep is 重新购买 of o's goods: straight to the cashier for one
// of virtual goods (as the order's page offers), else 确认订单.
func (s *Server) buyAgainStep(o shop.Order) nextStep {
	if !o.Shipping && o.Quantity <= 1 {
		return nextStep{Text: "重新购买", Post: "/orders", Fields: map[string]string{"goods_id": strconv.FormatInt(o.GoodsID, 10)}, ID: "buy-again"}
	}
	return nextStep{Text: "重新购买", Href: buyAgain(o), ID: "buy-again"}
}

// goodsFailed answers a purchase of goods that cannot be bought.
func (s *Server) goodsFailed(w http.ResponseWriter, r *http.Request, err error) {
	if shop.ErrorCode(err) != shop.ENOTFOUND {
		s.fail(w, r, err)
		return
	}
	heading := "商品已下架"
	if !errors.Is(err, shop.ErrGoodsHidden) {
		heading = "找不到这件商品"
	}
	s.renderErrorPage(w, r, http.StatusNotFound, errorPage{Heading: heading,
		Message: "这件商品目前不能购买，没有创建订单。看看店里的其他商品吧。",
		Next:    []nextStep{{Text: "返回商品", Href: "/"}}})
}
