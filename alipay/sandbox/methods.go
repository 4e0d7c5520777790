package sandbox

import (
	"net/http"
	"strings"
	"time"

	"alishop/alipay"
)

// apiFunc answers an API method from the sandbox's state. It runs with s.mu
// held, at sandbox time now, and returns the response node.
type apiFunc func(s *Sandbox, req *gwReq, now time.Time) *node

// pageFunc answers a page method: the buyer's browser brings the signed
// request and is sent on to the cashier or shown an error page.
type pageFunc func(s *Sandbox, w http.ResponseWriter, req *gwReq)

// orderFunc creates the trade of an order string a merchant app hands to
// the Alipay app (app pay); it runs with s.mu held.
type orderFunc func(s *Sandbox, req *gwReq, now time.Time) (*trade, *node)

// method is one gateway method. Adding a method is one entry in methodTable
// plus its handler; an API method whose OpenAPI v3 route the client defines
// (alipay.V3Route) is served on that route too.
type method struct {
	name string
	api  apiFunc  // API methods: a signed JSON answer
	page pageFunc // page methods: a browser redirect or error page
	// order methods: an order string the Alipay app receives (app/pay),
	// never a gateway.do call
	order orderFunc
	// required lists biz_content fields an API call must carry; a missing
	// one is answered ACQ.INVALID_PARAMETER "缺少 <field>" before the
	// handler runs.
	required []string
	// v3Verb is the HTTP method of the method's OpenAPI v3 route, from
	// alipay.V3Route ("" = v2 only): POST sends biz_content as the JSON
	// body, GET as the query string.
	v3Verb string
}

var methodTable = []method{
	{name: "alipay.trade.page.pay", page: (*Sandbox).pagePay},
	{name: "alipay.trade.wap.pay", page: (*Sandbox).pagePay},
	{name: "alipay.trade.app.pay", order: (*Sandbox).appPayOrder},
	{name: "alipay.trade.precreate", api: (*Sandbox).precreate},
	{name: "alipay.trade.pay", api: (*Sandbox).tradePay}, // auth_code and scene unless a deduction (agreement_params)
	{name: "alipay.trade.create", api: (*Sandbox).create},
	{name: "alipay.trade.query", api: (*Sandbox).query},
	{name: "alipay.trade.refund", api: (*Sandbox).refund, required: []string{"refund_amount"}},
	{name: "alipay.trade.fastpay.refund.query", api: (*Sandbox).refundQuery, required: []string{"out_request_no"}},
	{name: "alipay.trade.close", api: (*Sandbox).closeAPI},
	{name: "alipay.trade.cancel", api: (*Sandbox).cancelAPI},
	{name: "alipay.data.dataservice.bill.downloadurl.query", api: (*Sandbox).billURL, required: []string{"bill_type", "bill_date"}},
	{name: "alipay.system.oauth.token", api: (*Sandbox).oauthToken},
	{name: "alipay.user.info.share", api: (*Sandbox).userInfoShare},
	{name: "alipay.user.agreement.page.sign", page: (*Sandbox).agreementPageSign},
	{name: "alipay.user.agreement.query", api: (*Sandbox).agreementQuery},
	{name: "alipay.user.agreement.unsign", api: (*Sandbox).agreementUnsign},
	{name: "alipay.fund.trans.uni.transfer", api: (*Sandbox).uniTransfer, required: []string{"out_biz_no", "trans_amount", "product_code"}},
	{name: "alipay.fund.trans.common.query", api: (*Sandbox).transferQuery},
	{name: "alipay.fund.account.query", api: (*Sandbox).accountQuery, required: []string{"alipay_user_id"}},
	{name: "alipay.data.bill.balance.query", api: (*Sandbox).billBalance},
	{name: "alipay.trade.royalty.relation.bind", api: (*Sandbox).relationBind},
	{name: "alipay.trade.royalty.relation.unbind", api: (*Sandbox).relationUnbind},
	{name: "alipay.trade.royalty.relation.batchquery", api: (*Sandbox).relationBatchQuery},
	{name: "alipay.trade.order.settle", api: (*Sandbox).orderSettle, required: []string{"out_request_no", "trade_no"}},
	{name: "alipay.trade.order.settle.query", api: (*Sandbox).orderSettleQuery},
	{name: alipay.AlipayCertDownloadMethod, api: (*Sandbox).certDownload, required: []string{"alipay_cert_sn"}},
}

// The table's indexes by v2 name and by v3 path, built in init: handlers
// (paying a trade builds its return URL) look methods up by name.
var methodsByName, methodsByV3Path map[string]*method

func init() { methodsByName, methodsByV3Path = indexMethods(methodTable) }

func indexMethods(table []method) (map[string]*method, map[string]*method) {
	byName, byPath := map[string]*method{}, map[string]*method{}
	for i := range table {
		m := &table[i]
		kinds := 0
		for _, set := range []bool{m.api != nil, m.page != nil, m.order != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 || byName[m.name] != nil {
			panic("sandbox: method table: " + m.name + " needs exactly one of api, page and order, and a unique name")
		}
		byName[m.name] = m
		if verb, path, ok := alipay.V3Route(m.name); ok && m.api != nil {
			m.v3Verb = verb
			byPath[path] = m
		}
	}
	return byName, byPath
}

// isPageMethod reports whether name is a page method of the table.
func isPageMethod(name string) bool {
	m := methodsByName[name]
	return m != nil && m.page != nil
}

// dispatch runs an API method and returns its response node.
func (s *Sandbox) dispatch(req *gwReq, m *method) *node {
	for _, k := range m.required {
		v, ok := req.bizString(k)
		if !ok {
			return invalidParam(k + " 格式错误")
		}
		if strings.TrimSpace(v) == "" {
			return invalidParam("缺少 " + k)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return m.api(s, req, s.now())
}
