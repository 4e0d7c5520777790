package interop

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/go-pay/gopay"
	gp "github.com/go-pay/gopay/alipay"
	gp3 "github.com/go-pay/gopay/alipay/v3"
)

// gopayV3Identity drives 支付宝登录 and agreements with gopay's v3 client
// (the sign page through its v2 client, which has page.sign): 7 lines.
func gopayV3Identity(t *testing.T, r *reporter, sb *sandboxProc, a *app, c *gp3.ClientV3, v2 *gopayRun, notes *notifyReceiver) {
	var token, userID string
	r.step("SystemOauthToken (code, then refresh_token)", func() (string, error) {
		code, uid := sb.oauthCode(t, a.id, "auth_user")
		q, err := c.SystemOauthToken(ctx(t), gopay.BodyMap{"grant_type": "authorization_code", "code": code})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		again, err := c.SystemOauthToken(ctx(t), gopay.BodyMap{"grant_type": "authorization_code", "code": code})
		if err != nil {
			return "", err
		}
		if err := check(again.StatusCode == http.StatusBadRequest && again.ErrResponse.Code == "isv.code-invalid", "the used code → 400 isv.code-invalid, got %d %s", again.StatusCode, again.ErrResponse.Code); err != nil {
			return "", err
		}
		rq, err := c.SystemOauthToken(ctx(t), gopay.BodyMap{"grant_type": "refresh_token", "refresh_token": q.RefreshToken})
		if err != nil {
			return "", err
		}
		if err := v3OK(rq.StatusCode, rq.ErrResponse); err != nil {
			return "", err
		}
		token, userID = rq.AccessToken, uid
		return "user " + q.UserId + "; code again → " + again.ErrResponse.Code, check(q.UserId == uid && rq.AccessToken != "" && rq.AccessToken != q.AccessToken, "user %s and a new token on refresh", uid)
	})
	r.step("UserInfoShare", func() (string, error) {
		q, err := c.UserInfoShare(ctx(t), gopay.BodyMap{"auth_token": token})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		return q.NickName + " " + q.Avatar, check(q.UserId == userID && q.NickName != "" && q.Avatar != "", "user_id, nick_name and avatar, got %+v", q)
	})
	var agreementNo string
	r.step("agreement page.sign (gopay v2) → buyer signs", func() (string, error) {
		ext := uniq("G3G")
		params, err := v2.c.UserAgreementPageSign(ctx(t), gopay.BodyMap{"personal_product_code": "GENERAL_WITHHOLDING_P", "product_code": "GENERAL_WITHHOLDING",
			"sign_scene": "INDUSTRY|DIGITAL_MEDIA", "external_agreement_no": ext, "access_params": map[string]string{"channel": "ALIPAYAPP"},
			"notify_url": notes.url()})
		if err != nil {
			return "", err
		}
		if err := signAgreement(sb.gateway() + "?" + params); err != nil {
			return "", err
		}
		f, _, err := notes.waitFor("dut_user_sign for "+ext, func(f url.Values) bool {
			return f.Get("external_agreement_no") == ext && f.Get("notify_type") == "dut_user_sign"
		})
		if err != nil {
			return "", err
		}
		agreementNo = f.Get("agreement_no")
		return "agreement " + agreementNo, nil
	})
	r.step("UserAgreementQuery (GET)", func() (string, error) {
		q, err := c.UserAgreementQuery(ctx(t), gopay.BodyMap{"agreement_no": agreementNo, "alipay_user_id": userID})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
			return "", err
		}
		return q.Status + " " + q.AgreementNo, check(q.Status == "NORMAL" && q.AgreementNo == agreementNo, "NORMAL")
	})
	r.lacks("deduction (trade/pay with agreement_params)", "ClientV3.TradePay refuses to send without auth_code and scene")
	r.step("UserAgreementPageUnSign → dut_user_unsign verified", func() (string, error) {
		q, err := c.UserAgreementPageUnSign(ctx(t), gopay.BodyMap{"agreement_no": agreementNo, "alipay_user_id": userID, "notify_url": notes.url()})
		if err != nil {
			return "", err
		}
		if err := v3OK(q.StatusCode, q.ErrResponse); err != nil {
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
		return bm.GetString("status"), v2.verifyNotify(bm)
	})
	r.step("UserAgreementQuery after unsign → 4xx", func() (string, error) {
		q, err := c.UserAgreementQuery(ctx(t), gopay.BodyMap{"agreement_no": agreementNo, "alipay_user_id": userID})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("HTTP %d %s", q.StatusCode, q.ErrResponse.Code), check(q.StatusCode == http.StatusBadRequest && q.ErrResponse.Code != "", "400 with a code")
	})
}
