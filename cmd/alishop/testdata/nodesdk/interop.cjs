// Drives `alishop sandbox` with the official Alipay Node.js SDK (npm
// alipay-sdk). The Go test TestSandboxNodeSDK installs the SDK, starts the
// sandbox and runs this script once per mode with a JSON configuration in
// ALISHOP_NODESDK_CONFIG. Each call prints one JSON line:
// {"call": "...", "ok": true|false, "detail": "..."}.
'use strict';
const http = require('node:http');
const { AlipaySdk } = require('alipay-sdk');

const cfg = JSON.parse(process.env.ALISHOP_NODESDK_CONFIG);
const root = cfg.root; // http://127.0.0.1:PORT/
const tag = cfg.mode + Date.now().toString(36);

function report(call, ok, detail) {
  console.log(JSON.stringify({ call: cfg.mode + ' ' + call, ok, detail: String(detail) }));
}

async function step(call, fn) {
  try {
    const detail = await fn();
    report(call, true, detail ?? '');
  } catch (err) {
    report(call, false, (err && (err.stack || err.message)) || err);
  }
}

function expect(cond, what) {
  if (!cond) throw new Error('expected ' + what);
}

// A notify_url receiver: the sandbox posts notifications here.
const notes = [];
const waiters = [];
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', c => { body += c; });
  req.on('end', () => {
    const params = Object.fromEntries(new URLSearchParams(body));
    notes.push(params);
    res.end('success');
    while (waiters.length) waiters.shift()();
  });
});

async function note(outTradeNo, status) {
  return noteWhere(p => p.out_trade_no === outTradeNo && p.trade_status === status, status + ' notification for ' + outTradeNo);
}

async function noteWhere(match, what) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const n = notes.find(match);
    if (n) return n;
    if (Date.now() > deadline) throw new Error('no ' + what);
    await new Promise(r => { waiters.push(r); setTimeout(r, 200); });
  }
}

// oauthCode issues a 支付宝登录 auth code of the default buyer for this app.
async function oauthCode(scope) {
  const res = await fetch(root + 'api/oauth/codes', {
    method: 'POST', body: new URLSearchParams({ app_id: cfg.appId, buyer: 'buyer@sandbox.com', scope }),
  });
  const r = await res.json();
  expect(res.status === 200 && r.auth_code && r.user_id, 'an auth_code from api/oauth/codes, got ' + res.status + ' ' + JSON.stringify(r));
  return r;
}

// signAgreement opens a page.sign URL and signs on the sign page as the default buyer.
async function signAgreement(url) {
  const res = await fetch(url, { redirect: 'manual' });
  const page = res.headers.get('location') || '';
  expect(res.status === 303 && page.includes('/agreement/'), 'a 303 to the sign page, got ' + res.status + ' ' + page);
  const signed = await fetch(page, {
    method: 'POST', redirect: 'manual',
    body: new URLSearchParams({ login: 'buyer@sandbox.com', password: '111111', action: 'sign' }),
  });
  const text = await signed.text();
  expect(signed.status === 200 && text.includes('签约成功'), 'signing: 签约成功, got ' + signed.status);
}

// pay pays a trade as the buyer through the sandbox's control API.
async function pay(outTradeNo) {
  const res = await fetch(root + 'api/trades/pay', {
    method: 'POST',
    body: new URLSearchParams({ app_id: cfg.appId, out_trade_no: outTradeNo }),
  });
  expect(res.status === 200, 'HTTP 200 from api/trades/pay, got ' + res.status + ' ' + await res.text());
}

// payCode issues a payment code (付款码) of the default buyer through the control API.
async function payCode() {
  const res = await fetch(root + 'api/paycodes', { method: 'POST', body: new URLSearchParams({ buyer: 'buyer@sandbox.com' }) });
  const r = await res.json();
  expect(res.status === 200 && r.auth_code, 'an auth_code from api/paycodes, got ' + res.status + ' ' + JSON.stringify(r));
  return r.auth_code;
}

// openCashier follows a page-pay URL: the trade exists once the cashier opens.
async function openCashier(url) {
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status === 303 && (res.headers.get('location') || '').includes('/cashier/'),
    'a 303 to the cashier, got ' + res.status + ' ' + res.headers.get('location'));
  return res.headers.get('location');
}

async function main() {
  await new Promise(r => server.listen(0, '127.0.0.1', r));
  const notifyUrl = 'http://127.0.0.1:' + server.address().port + '/notify';
  // The SDK rewrites the object it is given: each SDK gets a fresh one.
  const config = (over = {}) => {
    const c = {
      appId: cfg.appId,
      privateKey: cfg.privateKey,
      keyType: cfg.keyType,
      gateway: root + 'gateway.do',
      endpoint: root.replace(/\/$/, ''),
      timeout: 10000,
    };
    if (cfg.mode === 'cert') {
      c.appCertContent = cfg.appCert;
      c.alipayPublicCertContent = cfg.alipayCert;
      c.alipayRootCertContent = cfg.alipayRootCert;
    } else {
      c.alipayPublicKey = cfg.alipayPublicKey;
    }
    return Object.assign(c, over);
  };
  const sdk = new AlipaySdk(config());
  if (cfg.mode === 'cert') {
    await step('SDK certificate SNs equal the sandbox\'s', () => {
      expect(sdk.config.appCertSn === cfg.appCertSN, 'app_cert_sn ' + cfg.appCertSN + ', SDK has ' + sdk.config.appCertSn);
      expect(sdk.config.alipayCertSn === cfg.alipayCertSN, 'alipay_cert_sn ' + cfg.alipayCertSN + ', SDK has ' + sdk.config.alipayCertSn);
      expect(sdk.config.alipayRootCertSn === cfg.alipayRootCertSN, 'alipay_root_cert_sn ' + cfg.alipayRootCertSN + ', SDK has ' + sdk.config.alipayRootCertSn);
      return sdk.config.appCertSn;
    });
  }

  // v2: exec (validateSign), pageExecute, checkNotifySign.
  const v2 = 'V2' + tag;
  await step('v2 exec alipay.trade.precreate', async () => {
    const r = await sdk.exec('alipay.trade.precreate', {
      notify_url: notifyUrl,
      bizContent: { out_trade_no: v2, total_amount: '12.34', subject: 'Node SDK v2' },
    }, { validateSign: true });
    expect(r.code === '10000' && r.qrCode.includes('/qr/'), 'code 10000 and a qr_code: ' + JSON.stringify(r));
    return r.qrCode;
  });
  await step('v2 exec alipay.trade.query (unpaid precreate)', async () => {
    const r = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: v2 } }, { validateSign: true });
    expect(r.code === '40004' && r.subCode === 'ACQ.TRADE_NOT_EXIST', 'ACQ.TRADE_NOT_EXIST: ' + JSON.stringify(r));
    return r.subCode;
  });
  await step('v2 pay (control API) and checkNotifySign', async () => {
    await pay(v2);
    const n = await note(v2, 'TRADE_SUCCESS');
    expect(sdk.checkNotifySign(n), 'checkNotifySign true');
    expect(sdk.checkNotifySignV2(n), 'checkNotifySignV2 true');
    expect(!sdk.checkNotifySign({ ...n, total_amount: '0.01' }), 'a changed amount to fail checkNotifySign');
    return n.notify_id;
  });
  let tradeNo = '';
  await step('v2 exec alipay.trade.query (paid)', async () => {
    const r = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: v2 } }, { validateSign: true });
    expect(r.code === '10000' && r.tradeStatus === 'TRADE_SUCCESS' && r.totalAmount === '12.34', 'TRADE_SUCCESS 12.34: ' + JSON.stringify(r));
    tradeNo = r.tradeNo;
    return r.tradeStatus + ' ' + r.tradeNo;
  });
  for (const [i, want] of [[1, 'Y'], [2, 'N']]) {
    await step('v2 exec alipay.trade.refund #' + i, async () => {
      const r = await sdk.exec('alipay.trade.refund', {
        bizContent: { trade_no: tradeNo, refund_amount: '2.00', out_request_no: 'R1' },
      }, { validateSign: true });
      expect(r.code === '10000' && r.fundChange === want && r.refundFee === '2.00', 'fund_change ' + want + ', refund_fee 2.00: ' + JSON.stringify(r));
      return 'fund_change ' + r.fundChange;
    });
  }
  await step('v2 exec alipay.trade.fastpay.refund.query', async () => {
    const r = await sdk.exec('alipay.trade.fastpay.refund.query', {
      bizContent: { out_trade_no: v2, out_request_no: 'R1' },
    }, { validateSign: true });
    expect(r.code === '10000' && r.refundAmount === '2.00', 'refund_amount 2.00: ' + JSON.stringify(r));
    return r.refundStatus;
  });
  const page = 'P' + tag;
  await step('v2 pageExecute GET alipay.trade.page.pay', async () => {
    const url = sdk.pageExecute('alipay.trade.page.pay', 'GET', {
      notify_url: notifyUrl,
      bizContent: { out_trade_no: page, total_amount: '3.00', subject: 'Node SDK page', product_code: 'FAST_INSTANT_TRADE_PAY' },
    });
    return await openCashier(url);
  });
  await step('v2 pageExecute POST form', async () => {
    const html = sdk.pageExecute('alipay.trade.page.pay', 'POST', {
      bizContent: { out_trade_no: page + 'F', total_amount: '3.00', subject: 'Node SDK form', product_code: 'FAST_INSTANT_TRADE_PAY' },
    });
    const action = /action="([^"]+)"/.exec(html)[1].replace(/&amp;/g, '&');
    const form = new URLSearchParams();
    for (const m of html.matchAll(/name="([^"]+)" value="([^"]*)"/g)) {
      form.set(m[1], m[2].replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
    }
    const res = await fetch(action, { method: 'POST', body: form, redirect: 'manual' });
    expect(res.status === 303, 'a 303 to the cashier, got ' + res.status + ' ' + await res.text());
    return res.headers.get('location');
  });
  await step('v2 exec alipay.trade.close', async () => {
    const r = await sdk.exec('alipay.trade.close', { bizContent: { out_trade_no: page } }, { validateSign: true });
    expect(r.code === '10000', 'code 10000: ' + JSON.stringify(r));
    return r.outTradeNo;
  });
  await step('v2 exec alipay.trade.close (again: error)', async () => {
    const r = await sdk.exec('alipay.trade.close', { bizContent: { out_trade_no: page } }, { validateSign: true });
    expect(r.code === '40004' && r.subCode === 'ACQ.TRADE_STATUS_ERROR', 'ACQ.TRADE_STATUS_ERROR: ' + JSON.stringify(r));
    return r.subCode;
  });

  // 当面付: alipay.trade.pay with the buyer's payment code from the sandbox's control API.
  const bar = 'B' + tag;
  await step('v2 exec alipay.trade.pay (12.00, within the no-password limit)', async () => {
    const r = await sdk.exec('alipay.trade.pay', {
      bizContent: { out_trade_no: bar, total_amount: '12.00', subject: 'Node SDK bar code', scene: 'bar_code', auth_code: await payCode() },
    }, { validateSign: true });
    expect(r.code === '10000' && r.totalAmount === '12.00' && r.buyerUserId && r.gmtPayment, 'code 10000, 12.00 paid: ' + JSON.stringify(r));
    return r.code + ' ' + r.tradeNo + ' buyer ' + r.buyerUserId;
  });
  const big = 'U' + tag;
  await step('v2 exec alipay.trade.pay (2500.00: 10003 USERPAYING)', async () => {
    const r = await sdk.exec('alipay.trade.pay', {
      notify_url: notifyUrl,
      bizContent: { out_trade_no: big, total_amount: '2500.00', subject: 'Node SDK bar code, large', scene: 'bar_code', auth_code: await payCode() },
    }, { validateSign: true });
    expect(r.code === '10003', 'code 10003: ' + JSON.stringify(r));
    return r.code + r.msg;
  });
  await step('USERPAYING: buyer confirms, exec query, checkNotifySign', async () => {
    await pay(big);
    const r = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: big } }, { validateSign: true });
    expect(r.tradeStatus === 'TRADE_SUCCESS' && r.totalAmount === '2500.00', 'TRADE_SUCCESS 2500.00: ' + JSON.stringify(r));
    const n = await note(big, 'TRADE_SUCCESS');
    expect(sdk.checkNotifySign(n), 'checkNotifySign true');
    return r.tradeStatus + ', notification verified';
  });
  await step('v3 curl POST /v3/alipay/trade/pay', async () => {
    const r = await sdk.curl('POST', '/v3/alipay/trade/pay', {
      body: { out_trade_no: 'B3' + tag, total_amount: '7.00', subject: 'Node SDK v3 bar code', scene: 'bar_code', auth_code: await payCode() },
    });
    expect(r.responseHttpStatus === 200 && r.data.total_amount === '7.00' && r.data.gmt_payment, 'HTTP 200, 7.00 paid: ' + JSON.stringify(r.data));
    return r.data.trade_no;
  });
  // App pay: the order string sdkExecute signs, handed to the sandbox playing the Alipay app.
  const appOrder = 'A' + tag;
  await step('sdkExecute alipay.trade.app.pay → Alipay app pays → checkResponseSign', async () => {
    const order = sdk.sdkExecute('alipay.trade.app.pay', {
      notify_url: notifyUrl,
      bizContent: { out_trade_no: appOrder, total_amount: '6.66', subject: 'Node SDK app', product_code: 'QUICK_MSECURITY_PAY' },
    });
    const res = await fetch(root + 'api/apppay', { method: 'POST', body: new URLSearchParams({ order }) });
    const r = await res.json();
    expect(res.status === 200 && r.resultStatus === '9000', 'resultStatus 9000: ' + JSON.stringify(r));
    // The synchronous result is checked like a gateway answer (this throws when it does not verify).
    sdk.checkResponseSign(r.result, 'alipay_trade_app_pay_response', JSON.parse(r.result).sign, '');
    expect(JSON.parse(r.result).alipay_trade_app_pay_response.out_trade_no === appOrder, 'the result to name ' + appOrder);
    return 'resultStatus ' + r.resultStatus + ', result verified';
  });
  await step('app pay: checkNotifySign, exec query', async () => {
    const n = await note(appOrder, 'TRADE_SUCCESS');
    expect(sdk.checkNotifySign(n), 'checkNotifySign true');
    const r = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: appOrder } }, { validateSign: true });
    expect(r.tradeStatus === 'TRADE_SUCCESS' && r.totalAmount === '6.66', 'TRADE_SUCCESS 6.66: ' + JSON.stringify(r));
    return r.tradeStatus + ' ' + r.totalAmount;
  });

  // 支付宝登录: an auth code from the control API, exchanged and refreshed; the buyer's info.
  let token = '';
  let userId = '';
  await step('v2 exec alipay.system.oauth.token (code; the code again; refresh_token)', async () => {
    const c = await oauthCode('auth_user');
    const r = await sdk.exec('alipay.system.oauth.token', { grantType: 'authorization_code', code: c.auth_code }, { validateSign: true });
    expect(r.userId === c.user_id && r.accessToken && r.refreshToken, 'user_id ' + c.user_id + ' and tokens: ' + JSON.stringify(r));
    const again = await sdk.exec('alipay.system.oauth.token', { grantType: 'authorization_code', code: c.auth_code }, { validateSign: true });
    expect(again.subCode === 'isv.code-invalid', 'the used code → isv.code-invalid: ' + JSON.stringify(again));
    const fresh = await sdk.exec('alipay.system.oauth.token', { grantType: 'refresh_token', refreshToken: r.refreshToken }, { validateSign: true });
    expect(fresh.accessToken && fresh.accessToken !== r.accessToken, 'a new access token: ' + JSON.stringify(fresh));
    token = fresh.accessToken;
    userId = c.user_id;
    return 'user ' + r.userId + ', code again → ' + again.subCode;
  });
  await step('v2 exec alipay.user.info.share', async () => {
    const r = await sdk.exec('alipay.user.info.share', { authToken: token }, { validateSign: true });
    expect(r.code === '10000' && r.userId === userId && r.nickName && r.avatar, 'user_id, nick_name, avatar: ' + JSON.stringify(r));
    return r.nickName + ' ' + r.avatar;
  });
  await step('v3 curl POST /v3/alipay/system/oauth/token and /v3/alipay/user/info/share', async () => {
    const c = await oauthCode('auth_base');
    const r = await sdk.curl('POST', '/v3/alipay/system/oauth/token', { body: { grant_type: 'authorization_code', code: c.auth_code } });
    expect(r.responseHttpStatus === 200 && r.data.user_id === c.user_id && r.data.access_token, 'HTTP 200 with user_id and token: ' + JSON.stringify(r.data));
    const u = await sdk.curl('POST', '/v3/alipay/user/info/share', { query: { auth_token: r.data.access_token }, body: {} });
    expect(u.responseHttpStatus === 200 && u.data.user_id === c.user_id && !u.data.nick_name, 'an auth_base token gives the user id only: ' + JSON.stringify(u.data));
    return 'user ' + u.data.user_id + ' (auth_base: no nick_name)';
  });
  // Agreements: page.sign signed by the buyer, query, a deduction, unsign.
  const ext = 'G' + tag;
  let agreementNo = '';
  await step('v2 pageExecute alipay.user.agreement.page.sign → buyer signs → checkNotifySign', async () => {
    const url = sdk.pageExecute('alipay.user.agreement.page.sign', 'GET', {
      notify_url: notifyUrl,
      bizContent: { personal_product_code: 'GENERAL_WITHHOLDING_P', product_code: 'GENERAL_WITHHOLDING', sign_scene: 'INDUSTRY|DIGITAL_MEDIA',
        external_agreement_no: ext, access_params: { channel: 'ALIPAYAPP' } },
    });
    await signAgreement(url);
    const n = await noteWhere(p => p.external_agreement_no === ext && p.notify_type === 'dut_user_sign', 'dut_user_sign for ' + ext);
    expect(sdk.checkNotifySign(n), 'checkNotifySign true');
    agreementNo = n.agreement_no;
    return 'agreement ' + n.agreement_no + ' ' + n.status;
  });
  await step('v2 exec alipay.user.agreement.query', async () => {
    const r = await sdk.exec('alipay.user.agreement.query', { bizContent: { agreement_no: agreementNo } }, { validateSign: true });
    expect(r.code === '10000' && r.status === 'NORMAL', 'NORMAL: ' + JSON.stringify(r));
    return r.status;
  });
  await step('v2 exec alipay.trade.pay with agreement_params (deduction)', async () => {
    const r = await sdk.exec('alipay.trade.pay', {
      bizContent: { out_trade_no: 'D' + tag, total_amount: '9.90', subject: 'Node SDK deduction', product_code: 'GENERAL_WITHHOLDING',
        agreement_params: { agreement_no: agreementNo } },
    }, { validateSign: true });
    expect(r.code === '10000' && r.totalAmount === '9.90' && r.buyerUserId === userId, '9.90 charged to the agreement\'s buyer: ' + JSON.stringify(r));
    return r.tradeNo;
  });
  await step('v3 curl POST /v3/alipay/user/agreement/unsign → checkNotifySign; GET query → 400', async () => {
    const r = await sdk.curl('POST', '/v3/alipay/user/agreement/unsign', { body: { agreement_no: agreementNo, notify_url: notifyUrl } });
    expect(r.responseHttpStatus === 200, 'HTTP 200: ' + JSON.stringify(r));
    const n = await noteWhere(p => p.agreement_no === agreementNo && p.notify_type === 'dut_user_unsign', 'dut_user_unsign for ' + agreementNo);
    expect(sdk.checkNotifySign(n) && n.status === 'UNSIGN', 'a verified UNSIGN notification');
    try {
      await sdk.curl('GET', '/v3/alipay/user/agreement/query', { query: { agreement_no: agreementNo } });
    } catch (err) {
      expect(err.responseHttpStatus === 400 && err.code === 'USER_AGREEMENT_NOT_EXIST', '400 USER_AGREEMENT_NOT_EXIST: ' + err.responseHttpStatus + ' ' + err.code);
      return n.status + ', then ' + err.code;
    }
    throw new Error('no error from the query after unsign');
  });

  // Money out: the merchant's balance, a transfer to a buyer (and its repeat), 分账 of a paid trade.
  const outBiz = 'T' + tag;
  let orderId = '';
  await step('v2 exec alipay.fund.account.query and alipay.data.bill.balance.query', async () => {
    const r = await sdk.exec('alipay.fund.account.query', { bizContent: { alipay_user_id: cfg.sellerId, account_type: 'ACCTRANS_ACCOUNT' } }, { validateSign: true });
    const b = await sdk.exec('alipay.data.bill.balance.query', {}, { validateSign: true });
    expect(r.code === '10000' && r.availableAmount && b.availableAmount === r.availableAmount, 'the same balance from both: ' + JSON.stringify(r) + ' ' + JSON.stringify(b));
    return 'available ' + r.availableAmount;
  });
  for (const i of [1, 2]) {
    await step('v2 exec alipay.fund.trans.uni.transfer #' + i + ' (same out_biz_no)', async () => {
      const r = await sdk.exec('alipay.fund.trans.uni.transfer', {
        bizContent: { out_biz_no: outBiz, trans_amount: '1.00', product_code: 'TRANS_ACCOUNT_NO_PWD', biz_scene: 'DIRECT_TRANSFER', order_title: 'Node SDK transfer',
          payee_info: { identity: 'buyer@sandbox.com', identity_type: 'ALIPAY_LOGON_ID', name: '沙箱买家' } },
      }, { validateSign: true });
      expect(r.code === '10000' && r.status === 'SUCCESS' && (i === 1 || r.orderId === orderId), 'SUCCESS (the first order_id again): ' + JSON.stringify(r));
      orderId = r.orderId;
      return r.status + ' order ' + r.orderId;
    });
  }
  await step('v3 curl POST /v3/alipay/fund/trans/uni/transfer (wrong real name: typed error); GET common/query', async () => {
    try {
      await sdk.curl('POST', '/v3/alipay/fund/trans/uni/transfer', {
        body: { out_biz_no: 'X' + tag, trans_amount: '1.00', product_code: 'TRANS_ACCOUNT_NO_PWD', biz_scene: 'DIRECT_TRANSFER', order_title: 'Node SDK wrong name',
          payee_info: { identity: 'buyer@sandbox.com', identity_type: 'ALIPAY_LOGON_ID', name: '别人' } },
      });
      throw new Error('no error');
    } catch (err) {
      expect(err.responseHttpStatus === 400 && err.code === 'PAYEE_USER_INFO_ERROR', '400 PAYEE_USER_INFO_ERROR: ' + err.responseHttpStatus + ' ' + err.code);
    }
    const q = await sdk.curl('GET', '/v3/alipay/fund/trans/common/query', { query: { order_id: orderId, product_code: 'TRANS_ACCOUNT_NO_PWD', biz_scene: 'DIRECT_TRANSFER' } });
    expect(q.data.status === 'SUCCESS' && q.data.trans_amount === '1.00', 'SUCCESS 1.00: ' + JSON.stringify(q.data));
    return 'PAYEE_USER_INFO_ERROR, then ' + q.data.status;
  });
  await step('v2 exec royalty.relation.bind, trade.order.settle, settle.query', async () => {
    const receiver = { type: 'loginName', account: 'buyer@sandbox.com', name: '沙箱买家', memo: 'partner' };
    const b = await sdk.exec('alipay.trade.royalty.relation.bind', { bizContent: { out_request_no: 'RB' + tag, receiver_list: [receiver] } }, { validateSign: true });
    expect(b.code === '10000' && b.resultCode === 'SUCCESS', 'bind SUCCESS: ' + JSON.stringify(b));
    const s = await sdk.exec('alipay.trade.order.settle', {
      bizContent: { out_request_no: 'S' + tag, trade_no: tradeNo,
        royalty_parameters: [{ royalty_type: 'transfer', trans_in_type: 'userId', trans_in: userId, amount: '1.00' }] },
    }, { validateSign: true });
    expect(s.code === '10000' && s.settleNo, 'a settle_no: ' + JSON.stringify(s));
    const q = await sdk.exec('alipay.trade.order.settle.query', { bizContent: { settle_no: s.settleNo } }, { validateSign: true });
    expect(q.code === '10000' && q.royaltyDetailList.length === 1 && q.royaltyDetailList[0].state === 'SUCCESS', 'one SUCCESS detail: ' + JSON.stringify(q));
    return 'settle_no ' + s.settleNo + ' ' + q.royaltyDetailList[0].state;
  });

  // v3: curl.
  const v3 = 'V3' + tag;
  await step('v3 curl POST /v3/alipay/trade/precreate', async () => {
    const r = await sdk.curl('POST', '/v3/alipay/trade/precreate', {
      body: { out_trade_no: v3, total_amount: '45.60', subject: 'Node SDK v3', notify_url: notifyUrl },
    });
    expect(r.responseHttpStatus === 200 && r.data.qr_code.includes('/qr/'), 'HTTP 200 and a qr_code: ' + JSON.stringify(r));
    return r.data.qr_code;
  });
  await step('v3 curl query (unpaid precreate: typed error)', async () => {
    try {
      await sdk.curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: v3 } });
    } catch (err) {
      expect(err.name === 'AlipayRequestError' && err.code === 'ACQ.TRADE_NOT_EXIST' && err.responseHttpStatus === 400 && err.traceId,
        'AlipayRequestError ACQ.TRADE_NOT_EXIST 400: ' + err.name + ' ' + err.code + ' ' + err.responseHttpStatus + ' ' + err.message);
      return err.code + ' ' + err.message;
    }
    throw new Error('no error');
  });
  await step('v3 pay (control API) and checkNotifySign', async () => {
    await pay(v3);
    const n = await note(v3, 'TRADE_SUCCESS');
    expect(sdk.checkNotifySign(n), 'checkNotifySign true');
    return n.notify_id;
  });
  await step('v3 curl POST /v3/alipay/trade/query', async () => {
    const r = await sdk.curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: v3 } });
    expect(r.data.trade_status === 'TRADE_SUCCESS' && r.data.total_amount === '45.60', 'TRADE_SUCCESS 45.60: ' + JSON.stringify(r.data));
    return r.data.trade_status + ' traceId ' + r.traceId;
  });
  for (const i of [1, 2]) {
    await step('v3 curl POST /v3/alipay/trade/refund #' + i, async () => {
      const r = await sdk.curl('POST', '/v3/alipay/trade/refund', {
        body: { out_trade_no: v3, refund_amount: '5.00', out_request_no: 'R1' },
      });
      expect(r.data.refund_fee === '5.00', 'refund_fee 5.00 (one refund): ' + JSON.stringify(r.data));
      return 'fund_change ' + r.data.fund_change;
    });
  }
  await step('v3 curl POST /v3/alipay/trade/fastpay/refund/query', async () => {
    const r = await sdk.curl('POST', '/v3/alipay/trade/fastpay/refund/query', { body: { out_trade_no: v3, out_request_no: 'R1' } });
    expect(r.data.refund_amount === '5.00', 'refund_amount 5.00: ' + JSON.stringify(r.data));
    return r.data.refund_status;
  });
  await step('v3 curl POST /v3/alipay/trade/refund (too much: typed error)', async () => {
    try {
      await sdk.curl('POST', '/v3/alipay/trade/refund', { body: { out_trade_no: v3, refund_amount: '99.00', out_request_no: 'R2' } });
    } catch (err) {
      expect(err.code === 'ACQ.REASON_TRADE_REFUND_FEE_ERR' && err.responseHttpStatus === 400, 'ACQ.REASON_TRADE_REFUND_FEE_ERR: ' + err.code);
      return err.code;
    }
    throw new Error('no error');
  });
  const page3 = 'Q' + tag;
  await step('v3 curl POST /v3/alipay/trade/close', async () => {
    await openCashier(sdk.pageExecute('alipay.trade.wap.pay', 'GET', {
      bizContent: { out_trade_no: page3, total_amount: '1.00', subject: 'Node SDK wap', product_code: 'QUICK_WAP_WAY' },
    }));
    const r = await sdk.curl('POST', '/v3/alipay/trade/close', { body: { out_trade_no: page3 } });
    expect(r.responseHttpStatus === 200 && r.data.out_trade_no === page3, 'HTTP 200: ' + JSON.stringify(r));
    const q = await sdk.curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: page3 } });
    expect(q.data.trade_status === 'TRADE_CLOSED', 'TRADE_CLOSED after close: ' + JSON.stringify(q.data));
    return q.data.trade_status;
  });
  await step('v3 curl unknown path (JSON 404)', async () => {
    try {
      await sdk.curl('POST', '/v3/alipay/trade/nothing', { body: {} });
    } catch (err) {
      expect(err.name === 'AlipayRequestError' && err.responseHttpStatus === 404 && err.code === 'NOT_FOUND', 'AlipayRequestError 404 NOT_FOUND: ' + err.name + ' ' + err.message);
      return err.code;
    }
    throw new Error('no error');
  });
  await step('v3 curl with another app key (401)', async () => {
    const other = new AlipaySdk(config({ privateKey: cfg.otherPrivateKey, keyType: 'PKCS1' }));
    try {
      await other.curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: v3 } });
    } catch (err) {
      expect(err.responseHttpStatus === 401 && err.code === 'isv.invalid-signature', '401 isv.invalid-signature: ' + err.responseHttpStatus + ' ' + err.code);
      return err.code;
    }
    throw new Error('no error');
  });
  await step('v3 curl answer not from the configured Alipay key is refused', async () => {
    // Key mode: another public key. Certificate mode: another certificate, whose SN alipay-sn does not match.
    const wrong = new AlipaySdk(cfg.mode === 'cert' ? config({ alipayPublicCertContent: cfg.appCert }) : config({ alipayPublicKey: cfg.otherPublicKey }));
    try {
      await wrong.curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: v3 } });
    } catch (err) {
      const want = cfg.mode === 'cert' ? 'response-alipay-sn-verify-error' : 'response-signature-verify-error';
      expect(err.code === want, want + ': ' + err.code + ' ' + err.message);
      return err.code;
    }
    throw new Error('no error');
  });
  if (cfg.aesKey) {
    const enc = new AlipaySdk(config({ encryptKey: cfg.aesKey }));
    // Without validateSign: the SDK looks for the signed node from its first "{", and an AES
    // answer's node is a JSON string (Alipay signs it with its quotes), so the SDK cannot check it.
    await step('v2 exec with needEncrypt (AES)', async () => {
      const r = await enc.exec('alipay.trade.query', { bizContent: { out_trade_no: v2 }, needEncrypt: true });
      expect(r.code === '10000' && r.tradeStatus === 'TRADE_SUCCESS', 'TRADE_SUCCESS: ' + JSON.stringify(r));
      return r.tradeStatus;
    });
    await step('v3 curl with needEncrypt (AES)', async () => {
      const r = await enc.curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: v3 }, needEncrypt: true });
      expect(r.data.trade_status === 'TRADE_SUCCESS', 'TRADE_SUCCESS: ' + JSON.stringify(r.data));
      return r.data.trade_status;
    });
  }
  await step('v3 curl GET bill download URL', async () => {
    // Bills cover complete days: note today's date, then move the sandbox clock two days on.
    const clock = await (await fetch(root + 'api/clock')).json();
    const day = clock.beijing.slice(0, 10);
    const adv = await fetch(root + 'api/clock/advance', { method: 'POST', body: new URLSearchParams({ d: '48h' }) });
    expect(adv.status === 200, 'api/clock/advance 200, got ' + adv.status);
    const r = await sdk.curl('GET', '/v3/alipay/data/dataservice/bill/downloadurl/query', { query: { bill_type: 'trade', bill_date: day } });
    const bill = await (await fetch(r.data.bill_download_url)).text();
    expect(bill.includes(v3) && bill.includes(v2), 'the bill of ' + day + ' to list ' + v2 + ' and ' + v3);
    return day + ' ' + bill.split('\n').length + ' lines';
  });
  server.close();
}

main().catch(err => { report('script', false, err.stack || err); process.exitCode = 1; });
