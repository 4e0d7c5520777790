package interop

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	sw "github.com/smartwalle/alipay/v3"
)

// smartwalleIdentity drives 支付宝登录 (authorize URL, oauth token, user
// info) and agreements (page sign, query, deduction, unsign) with
// smartwalle: 8 lines.
func smartwalleIdentity(t *testing.T, r *reporter, sb *sandboxProc, a *app, c *sw.Client, notes *notifyReceiver) {
	r.step("PublicAppAuthorize URL → authorize page", func() (string, error) {
		u, err := c.PublicAppAuthorize([]string{"auth_user"}, "http://127.0.0.1:1/login", "st")
		if err != nil {
			return "", err
		}
		return sb.openAuthorize(u.String())
	})
	var token, userID string
	r.step("SystemOauthToken (authorization_code, then refresh_token)", func() (string, error) {
		code, uid := sb.oauthCode(t, a.id, "auth_user")
		q, err := c.SystemOauthToken(ctx(t), sw.SystemOauthToken{GrantType: "authorization_code", Code: code})
		if err != nil {
			return "", err
		}
		if err := check(q.UserId == uid && q.AccessToken != "" && q.RefreshToken != "", "user_id %s with tokens, got %+v", uid, q); err != nil {
			return "", err
		}
		again, err := c.SystemOauthToken(ctx(t), sw.SystemOauthToken{GrantType: "authorization_code", Code: code})
		if err != nil {
			return "", err
		}
		if err := check(again.SubCode == "isv.code-invalid", "a used code to answer isv.code-invalid, got %s %s", again.Code, again.SubCode); err != nil {
			return "", err
		}
		rq, err := c.SystemOauthToken(ctx(t), sw.SystemOauthToken{GrantType: "refresh_token", RefreshToken: q.RefreshToken})
		if err != nil {
			return "", err
		}
		token, userID = rq.AccessToken, rq.UserId
		return fmt.Sprintf("user %s, token expires in %d s; code again → %s", q.UserId, q.ExpiresIn, again.SubCode),
			check(rq.UserId == uid && rq.AccessToken != "" && rq.AccessToken != q.AccessToken, "a new access token for the same user")
	})
	r.step("UserInfoShare", func() (string, error) {
		q, err := c.UserInfoShare(ctx(t), sw.UserInfoShare{AuthToken: token})
		if err != nil {
			return "", err
		}
		if err := swCode(q.Error, "10000"); err != nil {
			return "", err
		}
		if err := check(q.UserId == userID && q.NickName != "" && q.Avatar != "", "user_id, nick_name and avatar, got %+v", q); err != nil {
			return "", err
		}
		resp, err := http.Get(q.Avatar)
		if err != nil {
			return "", err
		}
		resp.Body.Close()
		return q.NickName + " " + q.Avatar, check(resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Type") == "image/png", "the avatar served as a PNG")
	})
	var agreementNo string
	r.step("AgreementPageSign URL → buyer signs → dut_user_sign verified", func() (string, error) {
		p := sw.AgreementPageSign{NotifyURL: notes.url(), ProductCode: "GENERAL_WITHHOLDING", PersonalProductCode: "GENERAL_WITHHOLDING_P",
			SignScene: "INDUSTRY|DIGITAL_MEDIA", ExternalAgreementNo: uniq("SWG"), AccessParams: &sw.AccessParams{Channel: "ALIPAYAPP"}}
		u, err := c.AgreementPageSign(p)
		if err != nil {
			return "", err
		}
		if err := signAgreement(u.String()); err != nil {
			return "", err
		}
		form, _, err := notes.waitFor("dut_user_sign for "+p.ExternalAgreementNo, func(f url.Values) bool {
			return f.Get("external_agreement_no") == p.ExternalAgreementNo && f.Get("notify_type") == "dut_user_sign"
		})
		if err != nil {
			return "", err
		}
		if err := c.VerifySign(ctx(t), form); err != nil {
			return "", fmt.Errorf("VerifySign: %w", err)
		}
		agreementNo = form.Get("agreement_no")
		return "agreement " + agreementNo + " " + form.Get("status"), check(form.Get("status") == "NORMAL", "status NORMAL")
	})
	r.step("AgreementQuery", func() (string, error) {
		q, err := c.AgreementQuery(ctx(t), sw.AgreementQuery{AgreementNo: agreementNo})
		if err != nil {
			return "", err
		}
		if err := swCode(q.Error, "10000"); err != nil {
			return "", err
		}
		return q.Status + " " + q.SignTime, check(q.Status == "NORMAL" && q.AgreementNo == agreementNo, "NORMAL")
	})
	r.step("TradePay with agreement_params (deduction)", func() (string, error) {
		p := sw.TradePay{AgreementParams: &sw.AgreementParams{AgreementNo: agreementNo}}
		p.OutTradeNo, p.TotalAmount, p.Subject, p.ProductCode = uniq("SWD"), "9.90", "smartwalle deduction", "GENERAL_WITHHOLDING"
		q, err := c.TradePay(ctx(t), p)
		if err != nil {
			return "", err
		}
		if err := swCode(q.Error, "10000"); err != nil {
			return "", err
		}
		return q.TradeNo + " " + q.TotalAmount, check(q.TotalAmount == "9.90" && q.BuyerUserId == userID, "9.90 charged to the agreement's buyer")
	})
	r.step("AgreementUnsign → dut_user_unsign verified", func() (string, error) {
		q, err := c.AgreementUnsign(ctx(t), sw.AgreementUnsign{NotifyURL: notes.url(), AgreementNo: agreementNo})
		if err != nil {
			return "", err
		}
		if err := swCode(q.Error, "10000"); err != nil {
			return "", err
		}
		form, _, err := notes.waitAgreement(agreementNo, "dut_user_unsign")
		if err != nil {
			return "", err
		}
		if err := c.VerifySign(ctx(t), form); err != nil {
			return "", fmt.Errorf("VerifySign: %w", err)
		}
		return form.Get("status"), check(form.Get("status") == "UNSIGN", "status UNSIGN")
	})
	r.step("AgreementQuery after unsign", func() (string, error) {
		q, err := c.AgreementQuery(ctx(t), sw.AgreementQuery{AgreementNo: agreementNo})
		if err != nil {
			return "", err
		}
		return q.SubCode, check(string(q.Code) == "40004" && q.SubCode != "", "a 40004 refusal, got %s %s", q.Code, q.SubCode)
	})
}
