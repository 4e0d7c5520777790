package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"alishop/alipay"
)

// TestAESAnswerWritesSlashRaw: an encrypted answer is the base64 text as
// Alipay writes it, "/" unescaped, so that a client decoding the bytes
// between the quotes (smartwalle does) gets valid base64; the signature
// covers the quoted string as sent.
func TestAESAnswerWritesSlashRaw(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const appID, aesKey = "2021000000000019", "aYA0GP8JEW+D7/UFaskCWA=="
	if _, err := e.sb.RegisterAppWith(appID, &otherKey.PublicKey, AppOptions{AESKey: aesKey}); err != nil {
		t.Fatal(err)
	}
	key, _ := alipay.DecodeAESKey(aesKey)
	slashes := 0
	for i := range 6 {
		biz, err := alipay.EncryptContent(key, fmt.Appendf(nil, `{"out_trade_no":"aesraw%d","total_amount":"12.34","subject":"加密/斜杠"}`, i))
		if err != nil {
			t.Fatal(err)
		}
		req := e.formRequest(t, formCall{appID: appID, key: otherKey, method: "alipay.trade.precreate", biz: biz,
			extra: map[string]string{"encrypt_type": "AES"}})
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var top map[string]json.RawMessage
		if err := json.Unmarshal(body, &top); err != nil {
			t.Fatalf("answer %s: %v", body, err)
		}
		node := top["alipay_trade_precreate_response"]
		if len(node) < 2 || node[0] != '"' || node[len(node)-1] != '"' {
			t.Fatalf("encrypted node is not a JSON string: %s", body)
		}
		inner := node[1 : len(node)-1]
		if bytes.Contains(inner, []byte(`\`)) {
			t.Fatalf("the ciphertext is escaped: %s", inner)
		}
		slashes += bytes.Count(inner, []byte("/"))
		ct, err := base64.StdEncoding.DecodeString(string(inner))
		if err != nil || len(ct) == 0 {
			t.Fatalf("raw bytes between the quotes are not base64: %v", err)
		}
		plain, err := alipay.DecryptContent(key, string(inner))
		if err != nil || !strings.Contains(string(plain), `"code":"10000"`) {
			t.Fatalf("decrypted %s: %v", plain, err)
		}
		var sign string
		_ = json.Unmarshal(top["sign"], &sign)
		if alipay.Verify(e.sb.PublicKey(), alipay.SignTypeRSA2, node, sign) != nil {
			t.Fatal("the signature does not cover the quoted ciphertext as sent")
		}
	}
	if slashes == 0 {
		t.Fatal("no ciphertext held a '/': the test proved nothing")
	}
}
