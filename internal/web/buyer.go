package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"alishop/internal/shop"
)

// The 我的订单 list is kept in the buyer's browser, not in an account: a
// cookie holding the numbers of the orders made in that browser, newest
// first, signed with the shop's cookie key (HMAC-SHA256) so it cannot be
// edited to name other orders. It is HttpOnly and SameSite=Lax, holds at most
// maxMyOrders numbers (under 1 KB) and lasts myOrdersAge.
const (
	myOrdersCookie = "alishop_orders"
	maxMyOrders    = 20
	myOrdersAge    = 90 * 24 * 60 * 60 // seconds
)

type buyerCookie struct {
	key    []byte
	secure bool
}

func (b buyerCookie) mac(list string) string {
	m := hmac.New(sha256.New, b.key)
	m.Write([]byte("my-orders\x00" + list))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// orders returns the order numbers of the request's cookie, newest first;
// none when it is missing, malformed or not signed with our key.
func (b buyerCookie) orders(r *http.Request) []string {
	c, err := r.Cookie(myOrdersCookie)
	if err != nil || len(c.Value) > 4096 {
		return nil
	}
	list, sig, ok := strings.Cut(c.Value, "~")
	if !ok || list == "" || !hmac.Equal([]byte(sig), []byte(b.mac(list))) {
		return nil
	}
	var out []string
	for _, no := range strings.Split(list, ".") {
		if shop.ValidOutTradeNo(no) && !slices.Contains(out, no) && len(out) < maxMyOrders {
			out = append(out, no)
		}
	}
	return out
}

// has reports whether the request's cookie holds outTradeNo: the browser
// made the order, or looked it up with its phone number. It is the buyer's
// access to what the order page shows of the receiver, the shipment and
// the delivery, and to 确认收货.
func (b buyerCookie) has(r *http.Request, outTradeNo string) bool {
	return slices.Contains(b.orders(r), outTradeNo)
}

// add puts outTradeNo first in the cookie, dropping the oldest past
// maxMyOrders.
func (b buyerCookie) add(w http.ResponseWriter, r *http.Request, outTradeNo string) {
	list := []string{outTradeNo}
	for _, no := range b.orders(r) {
		if no != outTradeNo && len(list) < maxMyOrders {
			list = append(list, no)
		}
	}
	v := strings.Join(list, ".")
	http.SetCookie(w, &http.Cookie{Name: myOrdersCookie, Value: v + "~" + b.mac(v), Path: "/", MaxAge: myOrdersAge,
		HttpOnly: true, Secure: b.secure, SameSite: http.SameSiteLaxMode})
}

// channelOf picks how the buyer pays: the form or query field channel
// ("wap" or "page") when given, else wap pay for a phone's browser (its
// User-Agent says Mobile, Android, iPhone, iPad or iPod) and page pay for
// everything else.
func channelOf(r *http.Request) shop.Channel {
	switch r.FormValue("channel") {
	case "wap":
		return shop.ChannelWap
	case "page":
		return shop.ChannelPage
	}
	ua := r.UserAgent()
	for _, s := range []string{"Mobi", "Android", "iPhone", "iPad", "iPod"} {
		if strings.Contains(ua, s) {
			return shop.ChannelWap
		}
	}
	return shop.ChannelPage
}

// payOrder is POST /orders/{out_trade_no}/pay (继续付款): 303 to a freshly
// signed gateway URL for the same order and time_expire. Knowing the
// unguessable order number is enough, as for the order page: paying an
// order is harmless to its owner, and a buyer may continue on another
// device from the order's link.
func (s *Server) payOrder(w http.ResponseWriter, r *http.Request) {
	if s.limitCheckout(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	o, payURL, err := s.svc.ContinuePayment(r.Context(), r.PathValue("out_trade_no"), channelOf(r))
	if err != nil {
		s.orderFailed(w, r, o, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, payURL, http.StatusSeeOther)
}

// favicon is GET /favicon.ico, for browsers that ask for it whatever the
// page's icon link says.
func favicon(w http.ResponseWriter, r *http.Request) {
	b, err := staticFiles.ReadFile("static/favicon.svg")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Write(b)
}

// CookieKeySetting is the settings key of the key that signs buyers'
// cookies.
const CookieKeySetting = "cookie_key"

// Settings is what EnsureCookieKey needs from storage.
type Settings interface {
	Setting(ctx context.Context, key string) (string, error)
	AddSettingIfMissing(ctx context.Context, key, value string) (bool, error)
}

// EnsureCookieKey returns the shop's cookie key, generating and storing it
// on first start; processes sharing one database share the key.
func EnsureCookieKey(ctx context.Context, st Settings) ([]byte, error) {
	b := make([]byte, 32)
	rand.Read(b)
	if _, err := st.AddSettingIfMissing(ctx, CookieKeySetting, hex.EncodeToString(b)); err != nil {
		return nil, err
	}
	v, err := st.Setting(ctx, CookieKeySetting)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("web: stored %s is not a 32-byte hex key", CookieKeySetting)
	}
	return key, nil
}
