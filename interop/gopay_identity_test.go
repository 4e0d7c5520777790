package interop

import (
	"fmt"
	"net/url"

	"github.com/go-pay/gopay"
	gp "github.com/go-pay/gopay/alipay"
)

// identity drives 支付宝登录 (oauth token, user info) and agreements (page
// sign, query, deduction, unsign) with gopay's v2 client: 8 lines.
func (g *gopayRun) identity(notes *notifyReceiver) {
	t, r, sb, a, c := g.t, g.r, g.sb, g.a, g.c
	r.lacks("authorize URL (publicAppAuthorize.htm)", "gopay has no builder for the authorize URL")
	r.lacks("SystemOauthToken", "it posts through an HTTP client of its own (SetHttpClient is not used), so it cannot reach a sandbox; the token is asked through PostAliPayAPISelfV2 below")
	var token, userID string
	r.step("alipay.system.oauth.token via PostAliPayAPISelfV2 (code, then refresh)", func() (string, error) {
		code, uid := sb.oauthCode(t, a.id, "auth_user")
		var rsp gp.SystemOauthTokenResponse
		raw, err := g.selfCall(gopay.BodyMap{"grant_type": "authorization_code", "code": code}, "alipay.system.oauth.token", &rsp)
		if err != nil {
			return "", err
		}
		if err := check(rsp.Response != nil && rsp.Response.UserId == uid && rsp.Response.RefreshToken != "", "user_id %s and tokens, got %s", uid, raw); err != nil {
			return "", err
		}
		var again gp.SystemOauthTokenResponse
		if _, err := g.selfCall(gopay.BodyMap{"grant_type": "refresh_token", "refresh_token": rsp.Response.RefreshToken}, "alipay.system.oauth.token", &again); err != nil {
			return "", err
		}
		if err := check(again.Response != nil && again.Response.AccessToken != "" && again.Response.AccessToken != rsp.Response.AccessToken, "a new access token"); err != nil {
			return "", err
		}
		token, userID = again.Response.AccessToken, uid
		return fmt.Sprintf("user %s, expires_in %d, refreshed", uid, rsp.Response.ExpiresIn), nil
	})
	r.step("UserInfoShare", func() (string, error) {
		q, err := c.UserInfoShare(ctx(t), token)
		if err != nil {
			return "", err
		}
		if err := g.verify(q.SignData, q.Sign); err != nil {
			return "", err
		}
		return q.Response.NickName + " " + q.Response.Avatar, check(q.Response.UserId == userID && q.Response.NickName != "" && q.Response.Avatar != "", "user_id, nick_name and avatar")
	})
	var agreementNo string
	r.step("UserAgreementPageSign → buyer signs → dut_user_sign verified", func() (string, error) {
		ext := uniq("GPG")
		params, err := c.UserAgreementPageSign(ctx(t), gopay.BodyMap{"personal_product_code": "GENERAL_WITHHOLDING_P", "product_code": "GENERAL_WITHHOLDING",
			"sign_scene": "INDUSTRY|DIGITAL_MEDIA", "external_agreement_no": ext, "access_params": map[string]string{"channel": "ALIPAYAPP"},
			"notify_url": notes.url()})
		if err != nil {
			return "", err
		}
		// gopay returns the signed parameters only; the page is the gateway URL with them.
		if err := signAgreement(sb.gateway() + "?" + params); err != nil {
			return "", err
		}
		_, req, err := notes.waitFor("dut_user_sign for "+ext, func(f url.Values) bool {
			return f.Get("external_agreement_no") == ext && f.Get("notify_type") == "dut_user_sign"
		})
		if err != nil {
			return "", err
		}
		bm, err := gp.ParseNotifyToBodyMap(req)
		if err != nil {
			return "", err
		}
		agreementNo = bm.GetString("agreement_no")
		return "agreement " + agreementNo, g.verifyNotify(bm)
	})
	r.step("UserAgreementQuery", func() (string, error) {
		q, err := c.UserAgreementQuery(ctx(t), gopay.BodyMap{"agreement_no": agreementNo})
		if err != nil {
			return "", err
		}
		if err := g.verify(q.SignData, q.Sign); err != nil {
			return "", err
		}
		return q.Response.Status, check(q.Response.Status == "NORMAL", "NORMAL")
	})
	r.step("TradePay with agreement_params (deduction)", func() (string, error) {
		q, err := c.TradePay(ctx(t), gopay.BodyMap{"out_trade_no": uniq("GPD"), "total_amount": "9.90", "subject": "gopay deduction",
			"product_code": "GENERAL_WITHHOLDING", "agreement_params": map[string]string{"agreement_no": agreementNo}})
		if err != nil {
			return "", err
		}
		if err := g.verify(q.SignData, q.Sign); err != nil {
			return "", err
		}
		return q.Response.TradeNo + " " + q.Response.TotalAmount, check(q.Response.Code == "10000" && q.Response.TotalAmount == "9.90" && q.Response.BuyerUserId == userID, "9.90 charged to the agreement's buyer")
	})
	r.step("UserAgreementPageUnSign → dut_user_unsign verified", func() (string, error) {
		q, err := c.UserAgreementPageUnSign(ctx(t), gopay.BodyMap{"agreement_no": agreementNo, "notify_url": notes.url()})
		if err != nil {
			return "", err
		}
		if err := g.verify(q.SignData, q.Sign); err != nil {
			return "", err
		}
		_, req, err := notes.waitAgreement(agreementNo, "dut_user_unsign")
		if err != nil {
			return "", err
		}
		bm, err := gp.ParseNotifyToBodyMap(req)
		if err != nil {
			return "", err
		}
		return bm.GetString("status"), g.verifyNotify(bm)
	})
	r.step("UserAgreementQuery after unsign → BizErr", func() (string, error) {
		_, err := c.UserAgreementQuery(ctx(t), gopay.BodyMap{"agreement_no": agreementNo})
		be, ok := gp.IsBizError(err)
		if !ok {
			return "", fmt.Errorf("a *BizErr, got %v", err)
		}
		return be.SubCode, check(be.Code == "40004", "40004")
	})
}

// selfCall makes a call through gopay's generic PostAliPayAPISelfV2 and
// checks the answer's signature over the node's raw bytes.
func (g *gopayRun) selfCall(bm gopay.BodyMap, method string, out any) (string, error) {
	var raw rawAnswer
	if err := g.c.PostAliPayAPISelfV2(ctx(g.t), bm, method, &raw); err != nil {
		return "", err
	}
	node, sign, err := signedNode(string(raw), method)
	if err != nil {
		return "", err
	}
	if err := g.verify(node, sign); err != nil {
		return "", err
	}
	return string(raw), jsonUnmarshal(raw, out)
}
