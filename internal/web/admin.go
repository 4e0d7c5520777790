package web

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
)

const sessionCookie = "alishop_session"

// ordersPerPage is the admin list's page size.
const ordersPerPage = 20

func (s *Server) isAdmin(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return false
	}
	ok, err := s.admin.ValidSession(r.Context(), c.Value)
	if err != nil {
		s.log.Error("session check", "err", err)
		return false
	}
	return ok
}

// requireAdmin redirects to the login page unless the request carries a
// live admin session.
func (s *Server) requireAdmin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.isAdmin(r) {
			http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// safeNext keeps a post-login redirect on the admin pages of this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/admin/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/admin/orders"
	}
	return next
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.isAdmin(r) {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	data := map[string]any{"Next": safeNext(r.URL.Query().Get("next")), "Admin": false}
	if r.URL.Query().Get("out") != "" {
		data["Notice"] = "已退出登录。"
	}
	s.render(w, r, http.StatusOK, "login", "管理员登录", data)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	user, password, next := r.PostFormValue("username"), r.PostFormValue("password"), safeNext(r.PostFormValue("next"))
	hash, err := s.admin.Setting(r.Context(), PasswordSetting)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Both parts are always checked, so the answer and its timing do not
	// tell which one was wrong. Checks are throttled per client address.
	key := clientKey(r)
	end, retry, err := s.logins.begin(r.Context(), key)
	if err != nil {
		return // the client went away
	}
	if end == nil {
		s.log.Warn("admin login throttled", "client", clientString(r))
		s.tooMany(w, r, retry, "登录失败次数过多，请稍后再试。")
		return
	}
	okPass, err := CheckPassword(hash, password)
	if err != nil {
		end()
		s.fail(w, r, err)
		return
	}
	okUser := subtle.ConstantTimeCompare([]byte(user), []byte(AdminUser)) == 1
	if okUser && okPass {
		s.logins.succeeded(key)
	} else {
		s.logins.failed(key)
	}
	end()
	if !okUser || !okPass {
		s.log.Warn("admin login failed", "client", clientString(r))
		s.render(w, r, http.StatusUnauthorized, "login", "管理员登录",
			map[string]any{"Next": next, "Error": shop.ErrBadLogin.Message, "Admin": false})
		return
	}
	token := NewToken()
	if err := s.admin.CreateSession(r.Context(), token, s.ttl); err != nil {
		s.fail(w, r, err)
		return
	}
	s.setSessionCookie(w, token)
	s.log.Info("admin logged in", "client", clientString(r))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.admin.DeleteSession(r.Context(), c.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/admin/login?out=1", http.StatusSeeOther)
}

// setSessionCookie gives the browser the admin session token.
func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.ttl.Seconds())})
}

// adminOrders is GET /admin/orders: the orders newest first, a page at a
// time, filtered by state (status), a search (q: the start of an order
// number or Alipay trade number) and creation dates (from, to: yyyy-mm-dd,
// Beijing time, both days included), with the count of each state under
// the search and today's sales.
func (s *Server) adminOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	filter := truncate(q.Get("status"), 32)
	status, stage := filterParam(filter)
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 || page > 1_000_000 {
		page = 1
	}
	f := shop.OrderFilter{Status: status, Stage: stage, Offset: (page - 1) * ordersPerPage, Limit: ordersPerPage}
	query := truncate(q.Get("q"), shop.MaxOrderQuery)
	from, to := truncate(q.Get("from"), 10), truncate(q.Get("to"), 10)
	data := map[string]any{"Filter": filter, "Q": query, "From": from, "To": to,
		"Searching": query != "" || from != "" || to != "", "Admin": true, "Nav": "orders", "Refunds": s.refunds != nil}
	link := func(st string, p int) string {
		v := url.Values{}
		if st != "" {
			v.Set("status", st)
		}
		for k, x := range map[string]string{"q": query, "from": from, "to": to} {
			if x != "" {
				v.Set(k, x)
			}
		}
		if p > 1 {
			v.Set("page", strconv.Itoa(p))
		}
		if len(v) == 0 {
			return "/admin/orders"
		}
		return "/admin/orders?" + v.Encode()
	}
	data["FilterLink"] = func(st string) string { return link(st, 1) }
	data["Filters"] = orderFilters(nil, nil)
	data["CSVLink"] = "/admin/orders.csv" + strings.TrimPrefix(link(filter, 1), "/admin/orders")
	today, err := s.svc.SalesToday(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data["Today"] = today
	f.Query = query
	var bad error
	if f.From, bad = dayStart(from, 0); bad == nil {
		f.To, bad = dayStart(to, 1)
	}
	if bad != nil {
		data["SearchError"] = shop.ErrorMessage(bad)
		s.render(w, r, http.StatusUnprocessableEntity, "admin_orders", "订单管理", data)
		return
	}
	counts, all, err := s.svc.OrderCounts(r.Context(), f)
	if err == nil {
		var orders []shop.Order
		var total int
		var stages map[shop.Stage]int
		if stages, err = s.svc.OrderStageCounts(r.Context(), f); err == nil {
			orders, total, err = s.svc.ListOrders(r.Context(), f)
		}
		data["Orders"], data["Total"], data["AllCount"], data["ShowCounts"] = orders, total, all, true
		data["Filters"] = orderFilters(counts, stages)
		pages := max(1, (total+ordersPerPage-1)/ordersPerPage)
		data["Page"], data["Pages"] = page, pages
		if page > 1 {
			data["Prev"] = link(filter, page-1)
		}
		if page < pages {
			data["Next"] = link(filter, page+1)
		}
	}
	if shop.ErrorCode(err) == shop.EINVALID {
		data["SearchError"] = shop.ErrorMessage(err)
		s.render(w, r, http.StatusUnprocessableEntity, "admin_orders", "订单管理", data)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_orders", "订单管理", data)
}

// orderFilter is one entry of the order list's filter bar: a payment
// state or a fulfilment stage, with how many orders it holds.
type orderFilter struct {
	Key, Label string
	Count      int
}

// orderFilters are the filter bar's entries after 全部: the payment states,
// with the fulfilment stages of paid orders after 已支付.
func orderFilters(counts map[shop.Status]int, stages map[shop.Stage]int) []orderFilter {
	var out []orderFilter
	for _, st := range shop.Statuses() {
		out = append(out, orderFilter{string(st), st.Label(), counts[st]})
		if st == shop.StatusPaid {
			for _, sg := range shop.FulfilStages() {
				out = append(out, orderFilter{string(sg), sg.Label(), stages[sg]})
			}
		}
	}
	return out
}

// dayStart is the start of a day given as yyyy-mm-dd in Beijing time, plus
// days; zero for "".
func dayStart(day string, days int) (time.Time, error) {
	if day == "" {
		return time.Time{}, nil
	}
	d, err := time.ParseInLocation("2006-01-02", day, alipay.Beijing)
	if err != nil || d.Year() < 2000 || d.Year() > 9999 {
		return time.Time{}, shop.Errorf(shop.EINVALID, "日期应为 yyyy-mm-dd 格式，例如 2025-06-18")
	}
	return d.AddDate(0, 0, days), nil
}

func (s *Server) adminGoods(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Query().Get("done") {
	case "deleted":
		s.renderGoodsList(w, r, http.StatusOK, "商品已删除。", "")
	default:
		notice := ""
		if r.URL.Query().Get("saved") != "" {
			notice = "已保存"
		}
		s.renderGoodsList(w, r, http.StatusOK, notice, "")
	}
}

// renderGoodsList shows the goods, each with 编辑 and, for goods no order
// names, 删除.
func (s *Server) renderGoodsList(w http.ResponseWriter, r *http.Request, status int, notice, errText string) {
	goods, err := s.svc.ListGoods(r.Context(), true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ordered, err := s.svc.GoodsOrdered(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, "admin_goods", "商品管理", map[string]any{"Goods": goods, "Ordered": ordered, "Admin": true, "Nav": "goods",
		"Notice": notice, "Error": errText})
}

// deleteGoods is POST /admin/goods/{id}/delete: goods no order names are
// deleted with their picture; goods that orders name stay (they can be
// taken off sale instead).
func (s *Server) deleteGoods(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, shop.ErrGoodsNotFound)
		return
	}
	switch err := s.svc.DeleteGoods(r.Context(), id); {
	case errors.Is(err, shop.ErrGoodsOrdered):
		s.renderGoodsList(w, r, http.StatusConflict, "", shop.ErrorMessage(err))
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	s.log.Info("goods deleted", "id", id)
	http.Redirect(w, r, "/admin/goods?done=deleted", http.StatusSeeOther)
}

func (s *Server) goodsFromPath(r *http.Request) (shop.Goods, error) {
	idText := r.PathValue("id")
	if idText == "" {
		return shop.Goods{}, nil
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return shop.Goods{}, shop.ErrGoodsNotFound
	}
	return s.svc.Goods(r.Context(), id)
}

func (s *Server) goodsForm(w http.ResponseWriter, r *http.Request) {
	g, err := s.goodsFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	price := ""
	shipping := true // new goods are shipped unless the admin says otherwise
	if g.ID != 0 {
		price, shipping = g.Price.String(), g.Shipping
	}
	data := map[string]any{"Goods": g, "Name": g.Name, "Price": price, "Hidden": g.Hidden, "Description": g.Description,
		"Stock": stockText(g.Stock), "StockWas": stockText(g.Stock), "Shipping": shipping, "DeliveryNote": g.DeliveryNote,
		"Admin": true, "Nav": "goods"}
	s.addPictures(r, g, data)
	s.render(w, r, http.StatusOK, "admin_goods_form", goodsFormTitle(g), data)
}

// stockText is a stock in the goods form: "" for unlimited.
func stockText(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

// parseStock reads the goods form's stock: "" is unlimited (nil), else a
// whole number of 0 to shop.MaxStock (a negative one only as stock_was,
// what the form showed).
func parseStock(text string, allowNegative bool) (*int64, bool) {
	if text == "" {
		return nil, true
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n > shop.MaxStock || (n < 0 && !allowNegative) {
		return nil, false
	}
	return &n, true
}

func goodsFormTitle(g shop.Goods) string {
	if g.ID != 0 {
		return "编辑商品"
	}
	return "添加商品"
}

// goodsUpload is the goods form as submitted: multipart/form-data (with
// pictures) or, without pictures, url-encoded.
type goodsUpload struct {
	name, price, description string
	stock, stockWas          string
	deliveryNote             string
	hidden, shipping         bool
	pictures                 pictureForm
}

// readGoodsForm reads the goods form, turning each picture into its
// copies as it arrives (pictureForm.file): no temporary files, one upload
// in memory at a time.
func readGoodsForm(w http.ResponseWriter, r *http.Request) (goodsUpload, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxGoodsForm)
	var u goodsUpload
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		u.name, u.price, u.description = r.PostFormValue("name"), r.PostFormValue("price"), r.PostFormValue("description")
		u.hidden = r.PostFormValue("hidden") != ""
		for _, k := range []string{"seen", "main", "remove"} {
			for _, v := range r.PostForm[k] {
				u.pictures.field(k, v)
			}
		}
		u.stock, u.stockWas, u.deliveryNote = r.PostFormValue("stock"), r.PostFormValue("stock_was"), r.PostFormValue("delivery_note")
		u.shipping = r.PostFormValue("shipping") != ""
		return u, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return u, err
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return u, nil
		}
		if err != nil {
			return u, err
		}
		if name := part.FormName(); name == "pictures" || name == "image" {
			if err := u.pictures.file(part); err != nil {
				return u, err
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, 4<<10))
		if err != nil {
			return u, err
		}
		v := string(b)
		switch part.FormName() {
		case "name":
			u.name = v
		case "price":
			u.price = v
		case "description":
			u.description = v
		case "hidden":
			u.hidden = v != ""
		case "stock":
			u.stock = v
		case "stock_was":
			u.stockWas = v
		case "shipping":
			u.shipping = v != ""
		case "delivery_note":
			u.deliveryNote = v
		default:
			u.pictures.field(part.FormName(), v)
		}
	}
}

func (s *Server) saveGoods(w http.ResponseWriter, r *http.Request) {
	g, err := s.goodsFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(goodsFormTime))
	rc.SetWriteDeadline(time.Now().Add(goodsFormTime))
	u, err := readGoodsForm(w, r)
	name := strings.TrimSpace(u.name)
	priceText := strings.TrimSpace(u.price)
	desc := strings.TrimSpace(strings.ReplaceAll(u.description, "\r\n", "\n"))
	note := strings.TrimSpace(strings.ReplaceAll(u.deliveryNote, "\r\n", "\n"))
	stockIn, stockWasIn := strings.TrimSpace(u.stock), strings.TrimSpace(u.stockWas)
	formErr := func(status int, msg string) {
		data := map[string]any{"Goods": g, "Name": name, "Price": priceText, "Hidden": u.hidden, "Description": desc,
			"Stock": stockIn, "StockWas": stockWasIn, "Shipping": u.shipping, "DeliveryNote": note,
			"Error": msg, "Admin": true, "Nav": "goods"}
		s.addPictures(r, g, data)
		s.render(w, r, status, "admin_goods_form", goodsFormTitle(g), data)
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		formErr(http.StatusRequestEntityTooLarge, "图片太大：每张最大 10 MB，请压缩后再上传。商品未保存。")
		return
	case err != nil:
		formErr(http.StatusBadRequest, "表单提交不完整，请重试。")
		return
	}
	if status, msg := u.pictures.formError(); msg != "" {
		formErr(status, msg)
		return
	}
	price, err := alipay.ParseAmount(priceText)
	if err != nil {
		formErr(http.StatusUnprocessableEntity, "价格格式不正确：请输入以元为单位、最多两位小数的正数，例如 88.00")
		return
	}
	edit := u.pictures.edit()
	plan, err := s.svc.PlanPictures(r.Context(), g.ID, edit)
	if err != nil {
		switch shop.ErrorCode(err) {
		case shop.EINVALID:
			formErr(http.StatusUnprocessableEntity, shop.ErrorMessage(err))
		case shop.ECONFLICT:
			formErr(http.StatusConflict, shop.ErrorMessage(err)+"。商品未保存。")
		default:
			s.fail(w, r, err)
		}
		return
	}
	stock, ok := parseStock(stockIn, false)
	stockWas, okWas := parseStock(stockWasIn, true)
	if !ok || !okWas {
		formErr(http.StatusUnprocessableEntity, fmt.Sprintf("库存应为 0 到 %d 之间的整数，不限库存请留空", shop.MaxStock))
		return
	}
	g.Name, g.Price, g.Hidden, g.Description = name, price, u.hidden, desc
	g.Stock, g.Shipping, g.DeliveryNote = stock, u.shipping, note
	if err := s.svc.SaveGoodsForm(r.Context(), &g, stockWas); err != nil {
		switch shop.ErrorCode(err) {
		case shop.EINVALID:
			formErr(http.StatusUnprocessableEntity, shop.ErrorMessage(err))
			return
		case shop.ECONFLICT:
			formErr(http.StatusConflict, shop.ErrorMessage(err))
			return
		}
		s.fail(w, r, err)
		return
	}
	if !edit.Empty() {
		if err := s.svc.SetGoodsPictures(r.Context(), g.ID, edit.Seen, plan); err != nil {
			if shop.ErrorCode(err) == shop.ECONFLICT {
				formErr(http.StatusConflict, shop.ErrorMessage(err)+"。商品的其他内容已保存。")
				return
			}
			s.fail(w, r, err)
			return
		}
	}
	s.log.Info("goods saved", "id", g.ID, "price", g.Price.String(), "hidden", g.Hidden, "stock", stockText(g.Stock), "shipping", g.Shipping,
		"pictures", len(plan), "pictures_added", len(edit.Add))
	http.Redirect(w, r, "/admin/goods?saved=1", http.StatusSeeOther)
}

// addPictures puts the pictures of goods g into the goods form's data.
func (s *Server) addPictures(r *http.Request, g shop.Goods, data map[string]any) {
	if g.ID == 0 {
		return
	}
	ps, err := s.svc.GoodsPictures(r.Context(), g.ID)
	if err != nil {
		s.log.Error("goods pictures", "id", g.ID, "err", err)
		return
	}
	data["Pictures"], data["Seen"] = pictureViews(ps)
}
