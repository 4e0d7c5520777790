package alipay_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"time"

	"alishop/alipay"
)

func ExampleClient_AuthorizeURL() {
	c := exampleClient(alipay.ProductionGateway)
	// state is random per login and kept in a cookie; the callback compares it.
	u, err := c.AuthorizeURL(alipay.AuthorizeRequest{Scopes: []alipay.Scope{alipay.ScopeAuthBase},
		RedirectURI: "https://shop.example/auth/alipay/callback", State: "k3Jx9"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u)
	// Output: https://openauth.alipay.com/oauth2/publicAppAuthorize.htm?app_id=9021000122689420&redirect_uri=https%3A%2F%2Fshop.example%2Fauth%2Falipay%2Fcallback&scope=auth_base&state=k3Jx9
}

func ExampleClient_SystemOauthToken() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.system.oauth.token": `{"code":"10000","msg":"Success","access_token":"20240102acb1c2d3","alipay_user_id":"2088102177846880","auth_start":"2024-01-02 15:04:05","expires_in":1296000,"re_expires_in":2592000,"refresh_token":"20240102acr9s8t7","user_id":"2088102177846880"}`,
	})
	defer stop()
	tok, err := c.SystemOauthToken(context.Background(), alipay.SystemOauthTokenRequest{Code: "4b203fe6c11548bcabd8da5bb087a83b"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(alipay.MaskUserID(tok.UserID), tok.ExpiresIn, tok.ReExpiresIn)
	// Output: 2088****6880 360h0m0s 720h0m0s
}

func ExampleClient_UserInfoShare() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.user.info.share": `{"code":"20001","msg":"Insufficient Token Permissions","sub_code":"aop.auth-token-time-out","sub_msg":"访问令牌已过期"}`,
	})
	defer stop()
	_, err := c.UserInfoShare(context.Background(), "20240102acb1c2d3")
	if alipay.IsAuthTokenInvalid(err) {
		fmt.Println("refresh the token or sign the buyer in again")
	}
	// Output: refresh the token or sign the buyer in again
}

func ExampleClient_UserAgreementPageSignURL() {
	c := exampleClient(alipay.ProductionGateway)
	u, err := c.UserAgreementPageSignURL(alipay.AgreementPageSignRequest{
		SignScene: "INDUSTRY|DIGITAL_MEDIA", ExternalAgreementNo: "member42",
		PeriodRule: &alipay.PeriodRule{PeriodType: "MONTH", Period: 1, ExecuteTime: time.Date(2024, 2, 1, 0, 0, 0, 0, alipay.Beijing), SingleAmount: 1500},
	})
	if err != nil {
		log.Fatal(err)
	}
	q, _ := url.Parse(u)
	fmt.Println(q.Query().Get("method"))
	fmt.Println(q.Query().Get("biz_content"))
	// Output:
	// alipay.user.agreement.page.sign
	// {"personal_product_code":"CYCLE_PAY_AUTH_P","product_code":"CYCLE_PAY_AUTH","sign_scene":"INDUSTRY|DIGITAL_MEDIA","external_agreement_no":"member42","access_params":{"channel":"ALIPAYAPP"},"period_rule_params":{"period_type":"MONTH","period":1,"execute_time":"2024-02-01","single_amount":"15.00"}}
}

func ExampleClient_UserAgreementQuery() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.user.agreement.query": `{"code":"10000","msg":"Success","agreement_no":"20240102000000000001","external_agreement_no":"member42","personal_product_code":"CYCLE_PAY_AUTH_P","principal_id":"2088102177846880","sign_scene":"INDUSTRY|DIGITAL_MEDIA","sign_time":"2024-01-02 15:04:05","status":"NORMAL"}`,
	})
	defer stop()
	a, err := c.UserAgreementQuery(context.Background(), alipay.AgreementRef{AgreementNo: "20240102000000000001"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Status, a.ExternalAgreementNo, a.SignTime.Format(time.DateTime))
	// Output: NORMAL member42 2024-01-02 15:04:05
}

func ExampleClient_UserAgreementUnsign() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.user.agreement.unsign": `{"code":"40004","msg":"Business Failed","sub_code":"USER_AGREEMENT_NOT_EXIST","sub_msg":"用户协议不存在"}`,
	})
	defer stop()
	_, err := c.UserAgreementUnsign(context.Background(), alipay.AgreementUnsignRequest{AgreementRef: alipay.AgreementRef{AgreementNo: "20240102000000000001"}})
	if alipay.IsAgreementNotExist(err) {
		fmt.Println("already ended")
	}
	// Output: already ended
}

func ExampleClient_VerifyAgreementNotification() {
	alipayKey, _ := alipay.LoadPrivateKeyFile("testdata/keys/test_1.pem")
	c := exampleClient(alipay.ProductionGateway)
	p := map[string]string{"notify_type": "dut_user_sign", "notify_id": "n1", "notify_time": "2024-01-02 15:04:06", "app_id": "9021000122689420",
		"agreement_no": "20240102000000000001", "external_agreement_no": "member42", "status": "NORMAL", "alipay_user_id": "2088102177846880",
		"sign_time": "2024-01-02 15:04:05", "personal_product_code": "CYCLE_PAY_AUTH_P", "sign_type": "RSA2"}
	p["sign"], _ = alipay.Sign(alipayKey, alipay.SignTypeRSA2, alipay.SignContent(p, alipay.RuleV1))
	form := []byte(alipay.EncodeForm(p)) // the POST body as received

	if alipay.IsAgreementNotification(form) {
		n, err := c.VerifyAgreementNotification(form)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(n.NotifyType, n.Status, n.AgreementNo)
	}
	// Output: dut_user_sign NORMAL 20240102000000000001
}

func ExampleClient_TradePay_deduction() {
	c, stop := exampleAlipay(map[string]string{
		"alipay.trade.pay": `{"code":"10000","msg":"Success","buyer_logon_id":"buy***@sandbox.com","buyer_user_id":"2088102177846880","gmt_payment":"2024-01-02 15:04:05","out_trade_no":"sub_202402","total_amount":"15.00","trade_no":"2024010222001400000000000009"}`,
	})
	defer stop()
	// A monthly charge under the buyer's signed agreement: no code, no password.
	res, err := c.TradePay(context.Background(), alipay.TradePayRequest{OutTradeNo: "sub_202402", TotalAmount: 1500, Subject: "会员月费",
		AgreementNo: "20240102000000000001", ProductCode: alipay.ProductCodeCyclePay})
	if err != nil {
		log.Fatal(err) // an unknown outcome: TradeQuery, then repeat with the same out_trade_no
	}
	fmt.Println(res.Paid(), res.TotalAmount)
	// Output: true 15.00
}
