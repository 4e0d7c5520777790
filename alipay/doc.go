// Package alipay is a client for Alipay's open platform: the gateway
// (gateway.do, "v2") and OpenAPI v3.
//
// It signs requests (RSA2 = SHA256withRSA, or RSA = SHA1withRSA for old
// apps), verifies synchronous responses over the exact bytes of the response
// node, verifies asynchronous notifications and return redirects, and
// supports public-key certificate mode, AES content encryption and OpenAPI
// v3 (signed Authorization header, answers signed in headers). It uses the
// standard library only. The
// protocol facts it relies on, with their public sources, are in the
// repository's docs/PROTOCOL.md.
//
// The protocol's data (requests and results, amounts, times, codes and
// states, errors, raw answers, notifications, forms) is defined in package
// [alishop/alipay/wire], which holds no keys and does no I/O; this package
// re-exports all of it under the same names (an [Amount] is a wire.Amount),
// so a caller needs this one import, and code that only speaks the
// protocol, such as a shop's domain, can import wire without net/http.
//
// # Money and time
//
// Money is an integer number of fen ([Amount]); it is written to and read
// from the wire as an exact yuan string ("88.88"), never as a float.
// Timestamps are [time.Time] values; on the wire they are Beijing time in a
// fixed +08:00 zone ([Beijing]), so the package works on servers in any time
// zone and without tzdata.
//
// # Configuration
//
// A [Client] needs the app id, the app private key ([LoadPrivateKeyFile]
// reads PKCS#1 or PKCS#8, PEM or the one-line base64 of Alipay's key tool;
// any [crypto.Signer] with an RSA key, such as a KMS or HSM key, will do) and
// one way to verify Alipay: Alipay's public key (支付宝公钥, key mode) or
// [Certificates] from [LoadCertificates] (certificate mode). The gateway is
// "production" by default, "sandbox", or any URL such as an offline
// simulator's ([ResolveGateway]). The HTTP client and the clock (Config.Now,
// Config.Sleep) are injectable, and every call takes a context.
//
// # Calls, answers and errors
//
// Every call follows one pattern: a method named after the Alipay method it
// calls, taking a context and one request struct named after it, and
// returning a result named after it:
//
//	alipay.trade.precreate             Client.TradePrecreate(ctx, TradePrecreateRequest) (*TradePrecreateResult, error)
//	alipay.trade.create                Client.TradeCreate(ctx, TradeCreateRequest) (*TradeCreateResult, error)
//	alipay.trade.pay                   Client.TradePay(ctx, TradePayRequest) (*TradePayResult, error)
//	alipay.trade.query                 Client.TradeQuery(ctx, TradeQueryRequest) (*TradeQueryResult, error)
//	alipay.trade.refund                Client.TradeRefund(ctx, TradeRefundRequest) (*TradeRefundResult, error)
//	alipay.trade.fastpay.refund.query  Client.TradeFastPayRefundQuery(ctx, TradeFastPayRefundQueryRequest) (*TradeFastPayRefundQueryResult, error)
//	alipay.trade.close                 Client.TradeClose(ctx, TradeCloseRequest) (*TradeCloseResult, error)
//	alipay.trade.cancel                Client.TradeCancel(ctx, TradeCancelRequest) (*TradeCancelResult, error)
//	alipay.data.dataservice.bill.downloadurl.query
//	                                   Client.BillDownloadURLQuery(ctx, BillDownloadURLQueryRequest) (*BillDownloadURLQueryResult, error)
//	alipay.fund.trans.uni.transfer     Client.FundTransUniTransfer(ctx, FundTransUniTransferRequest) (*FundTransUniTransferResult, error)
//	alipay.fund.trans.common.query     Client.FundTransCommonQuery(ctx, FundTransCommonQueryRequest) (*FundTransCommonQueryResult, error)
//	alipay.fund.account.query          Client.FundAccountQuery(ctx, FundAccountQueryRequest) (*FundAccountQueryResult, error)
//	alipay.data.bill.balance.query     Client.DataBillBalanceQuery(ctx, DataBillBalanceQueryRequest) (*DataBillBalanceQueryResult, error)
//	alipay.trade.royalty.relation.bind, .unbind, .batchquery
//	                                   Client.TradeRoyaltyRelationBind / Unbind / BatchQuery(ctx, …Request) (*…Result, error)
//	alipay.trade.order.settle          Client.TradeOrderSettle(ctx, TradeOrderSettleRequest) (*TradeOrderSettleResult, error)
//	alipay.trade.order.settle.query    Client.TradeOrderSettleQuery(ctx, TradeOrderSettleQueryRequest) (*TradeOrderSettleQueryResult, error)
//	any other method                   Client.Call(ctx, CallRequest, out) (*Response, error)
//
// Page and wap pay make no call: [Client.TradePagePayURL],
// [Client.TradeWapPayURL] and [Client.TradePagePayForm] sign a
// [TradePagePayRequest] for the buyer's browser to carry to the gateway.
// App pay makes none either: [Client.TradeAppPayOrder] signs the order
// string the merchant's app hands to the Alipay app, and
// [Client.VerifyTradeAppPayResult] verifies the result the Alipay app hands
// back ([TradeAppPayResult], [TradeAppPayResult.Check]).
//
// Face-to-face payment (当面付) with the buyer's payment code is one call,
// [Client.TradePay], whose answer may say that the trade waits for the
// buyer (10003, [TradePayResult.WaitingForBuyer]), and a state machine
// around it that a counter should use instead: [Client.FaceToFacePay]
// charges the code, follows a waiting or unknown payment with queries
// every few seconds until it is paid or closed or a deadline passes (30 s),
// and then cancels it, reporting the cancel's action (close or refund). Its
// waits use Config.Sleep and Config.Now, so tests need not sleep.
// Every result carries the answer as received in its Raw field (a
// [*Response]: status, headers, exact body), and [ResponseOf] returns it
// from an error that followed an answer, so the bytes Alipay sent can be
// stored and verified again later with [Client.DecodeResponse].
//
// [OutcomeOf] classifies how a call ended ([Outcome]: ok, business error,
// gateway error, unknown, transport error), and Config.OnCall, when set,
// receives a [CallReport] (method, protocol, outcome, duration) for every
// call sent, so metrics need not read Alipay's wire codes.
//
// A business or gateway error is an [*Error] with a [Code], Msg, a
// [SubCode] and SubMsg; an unsigned error (Alipay does not sign some, such as
// isv.invalid-app-id) has Unverified set and is never trusted by
// [HasSubCode]. A call whose effect at Alipay is unknown (network error,
// timeout, non-200, code 20000, ACQ.SYSTEM_ERROR, a response that does not
// verify or cannot be read) returns an error for which [IsUnknownOutcome] is
// true: repeat it with the same parameters or query before deciding anything.
// States and codes are typed, each constant prefixed by its type
// ([TradeStatus], [TradeStatus.Paid], [Code], [SubCode], [ProductCode],
// [RefundStatus], [CancelAction]).
//
// # OpenAPI v3
//
// Config.API chooses the protocol of the server-side calls with one
// setting: [APIv2] (the default) or [APIv3]. Under v3, the calls above
// go to …/v3/alipay/… next to gateway.do ([V3Route] names each route) with
// the same typed parameters and results; each request carries a signed Authorization
// header ([V3Authorization]), and each answer is checked over its
// alipay-timestamp, alipay-nonce and body ([VerifyV3Response]) with
// Alipay's key, or in certificate mode with the loaded certificate named by
// alipay-sn. A v3 error answer is an [*Error] whose SubCode and SubMsg hold
// the v3 code and message, with HTTPStatus and TraceID; the unknown-outcome
// rules are the v2 ones (a 5xx, a timeout, a SYSTEM_ERROR-class code, an
// answer that does not verify). Page and wap pay stay v2 page requests.
//
// # Notifications and returns
//
// [Client.VerifyNotification] is the one way to verify what Alipay sends to
// the merchant: the raw body of a notify_url POST or the raw query of a
// return_url redirect, decoded exactly once and verified under [RuleV1]. It
// returns a
// typed [Notification]; [Notification.Check] then compares app_id, seller_id
// and the amount with the merchant's own data ([*MismatchError] names the
// field), and [AckNotification] writes the exact "success" reply. Treat a
// return as a hint and confirm with [Client.TradeQuery].
//
// # Exported names
//
//   - Client: [New], [Config], [API] ([APIv2], [APIv3]), [Client],
//     [ResolveGateway], [ProductionGateway],
//     [SandboxGateway], [Certificates] ([ParseCertificates], [LoadCertificates],
//     [Certificates.AddAlipayCert], [Certificates.AppCertSN],
//     [Certificates.RootCertSN]), [Client.DownloadAlipayCert],
//     [AlipayCertDownloadMethod].
//   - Calls: [Client.TradePagePayURL], [Client.TradeWapPayURL],
//     [Client.TradePagePayForm] ([TradePagePayRequest]);
//     [Client.TradePrecreate] ([TradePrecreateRequest],
//     [TradePrecreateResult]); [Client.TradeCreate] ([TradeCreateRequest],
//     [TradeCreateResult]); [Client.TradeQuery] ([TradeQueryRequest],
//     [TradeQueryResult]); [Client.TradeRefund] ([TradeRefundRequest],
//     [TradeRefundResult]); [Client.TradeFastPayRefundQuery]
//     ([TradeFastPayRefundQueryRequest], [TradeFastPayRefundQueryResult],
//     [TradeFastPayRefundQueryResult.Refunded], [RefundStatus]
//     ([RefundStatusSuccess])); [Client.TradeClose] ([TradeCloseRequest],
//     [TradeCloseResult]); [Client.TradeCancel] ([TradeCancelRequest],
//     [TradeCancelResult], [CancelAction] ([CancelActionClose],
//     [CancelActionRefund])); [Client.BillDownloadURLQuery]
//     ([BillDownloadURLQueryRequest], [BillDownloadURLQueryResult]);
//     [Client.Call] ([CallRequest]).
//   - Face-to-face: [Client.TradePay] ([TradePayRequest], [Scene]
//     ([SceneBarCode], [SceneSecurityCode]), [TradePayResult],
//     [TradePayResult.Paid]); [Client.FaceToFacePay]
//     ([FaceToFacePayRequest], [FaceToFacePayResult], [FaceToFaceStatus]
//     ([FaceToFaceStatusPaid], [FaceToFaceStatusClosed],
//     [FaceToFaceStatusCancelled]), [DefaultFaceToFaceWait],
//     [DefaultFaceToFacePollInterval]).
//   - Money out: [Client.FundTransUniTransfer]
//     ([FundTransUniTransferRequest], [FundTransUniTransferResult],
//     [Participant], [IdentityType] ([IdentityUserID], [IdentityLogonID]),
//     [TransferStatus], [ProductCodeTransAccountNoPwd],
//     [BizSceneDirectTransfer], [MinTransferAmount]);
//     [Client.FundTransCommonQuery] ([FundTransCommonQueryRequest],
//     [FundTransCommonQueryResult]); [Client.FundAccountQuery]
//     ([FundAccountQueryRequest], [FundAccountQueryResult],
//     [AccountTypeAcctrans]); [Client.DataBillBalanceQuery]
//     ([DataBillBalanceQueryRequest], [DataBillBalanceQueryResult]). Every
//     transfer is idempotent by its OutBizNo: an unknown outcome is settled
//     by FundTransCommonQuery (SubCodeOrderNotExist: nothing was paid) or by
//     sending the same request again.
//   - 分账: [Client.TradeRoyaltyRelationBind]
//     ([TradeRoyaltyRelationBindRequest]), [Client.TradeRoyaltyRelationUnbind]
//     ([TradeRoyaltyRelationUnbindRequest]) ([TradeRoyaltyRelationResult],
//     [RoyaltyReceiver], [RoyaltyAccountType]); [Client.TradeRoyaltyRelationBatchQuery]
//     ([TradeRoyaltyRelationBatchQueryRequest],
//     [TradeRoyaltyRelationBatchQueryResult]); [Client.TradeOrderSettle]
//     ([TradeOrderSettleRequest], [RoyaltyParameter], [TradeOrderSettleResult]),
//     idempotent by OutRequestNo; [Client.TradeOrderSettleQuery]
//     ([TradeOrderSettleQueryRequest], [TradeOrderSettleQueryResult],
//     [RoyaltyDetail], [IsSettleNotExist]).
//   - App pay: [Client.TradeAppPayOrder] ([TradeAppPayRequest]),
//     [Client.VerifyTradeAppPayResult] ([TradeAppPayResult],
//     [TradeAppPayResult.Check]).
//   - Outcomes: [Outcome] ([OutcomeOK], [OutcomeBusinessError],
//     [OutcomeGatewayError], [OutcomeUnknown], [OutcomeTransportError],
//     [Outcome.String]), [OutcomeOf], [CallReport] (Config.OnCall).
//   - Answers: [Response], [ResponseOf], [Client.DecodeResponse],
//     [ExtractResponse], [RawResponse], [ResponseNode],
//     [VerifyResponseContent].
//   - Errors: [Error], [Code] ([CodeSuccess], [CodeUserPaying],
//     [CodeUnavailable], [CodeBusinessFailed]), [SubCode] ([SubCodeTradeNotExist],
//     [SubCodeTradeStatusError], [SubCodeSystemError], [SubCodeBillNotExist];
//     the fund calls' [SubCodePayerBalanceNotEnough], [SubCodePayeeNotExist],
//     [SubCodePayeeUserInfoError], [SubCodePaymentInfoInconsistency],
//     [SubCodeTransferMinAmount], [SubCodeOrderNotExist],
//     [SubCodeFundSystemError]; 分账's [SubCodeRoyaltyReceiverInvalid],
//     [SubCodeAllocAmountValidateError], [SubCodeDiscordantRepeatRequest],
//     [SubCodeUserNotExist], [SubCodeTradeSettleError]),
//     [HasSubCode], [IsTradeNotExist], [IsUnknownOutcome], [ErrUnknownOutcome],
//     [ErrUnsigned], [ErrSignature], [ErrBadResponse], [ErrDuplicateNode],
//     [ErrUnknownCertSN], [ErrInvalidParam], [ErrCertificate],
//     [ErrAppKeyAsAlipayKey], [ErrDecrypt], [KeyError].
//   - Trades: [TradeStatus] ([TradeStatusWaitBuyerPay], [TradeStatusSuccess],
//     [TradeStatusFinished], [TradeStatusClosed]), [ProductCode]
//     ([ProductCodePagePay], [ProductCodeWapPay], [ProductCodeQRCode],
//     [ProductCodeFaceToFace], [ProductCodeAppPay]).
//   - Notifications: [Client.VerifyNotification], [Notification],
//     [Notification.Check], [Expect], [MismatchError], [AckNotification],
//     [MaxNotifyBody], [ErrBadNotification], [ErrCharset], [ErrMultiValued].
//   - Signatures: [Sign], [Verify], [SignType] ([SignTypeRSA2],
//     [SignTypeRSA]), [SignContent] with a [Rule] ([RuleV1], [RuleV2],
//     [RuleV2KeepWhitespace], [RuleV2KeepEmpty]), [EncodeForm], [ParseForm].
//   - OpenAPI v3: [V3Route], [V3Request] ([V3Request.AuthString],
//     [V3Request.SignContent]), [V3Authorization], [V3Scheme],
//     [V3ResponseSignContent], [VerifyV3Response].
//   - Keys and certificates: [ParsePrivateKey], [ParsePublicKey],
//     [LoadPrivateKeyFile], [LoadPublicKeyFile], [MarshalPublicKey],
//     [PublicKeyPEM], [SameKey], [CertSN], [RootCertSN].
//   - AES: [DecodeAESKey], [EncryptContent], [DecryptContent].
//   - Money and time: [Amount] ([ParseAmount], [MustAmount], [MaxAmount],
//     [ErrAmount]), [FormatTime], [ParseTime], [TimeLayout], [Beijing].
//
// # The common Alipay integration problems, and what this package does
//
// These are the problems users of other SDKs report most. Each has a test,
// TestProblemNN.
//
//  1. Verification always fails because the app's own public key was
//     configured as Alipay's: [New] and [ParseCertificates] return
//     [ErrAppKeyAsAlipayKey]; a private key given as a public key is named.
//  2. The sandbox moved: [SandboxGateway] is the current
//     openapi-sandbox.dl.alipaydev.com URL; any URL may be configured.
//  3. Certificate mode calls that forget app_cert_sn/alipay_root_cert_sn:
//     both are added to (and signed in) every request, page pay included, and
//     New checks that the app certificate matches the private key.
//  4. isv.invalid-signature with "correct" keys: PKCS#1, PKCS#8, PEM and bare
//     base64 all load to the same key; wrong kinds (EC, public, encrypted)
//     are named with the file; RSA2 keys under 2048 bits are refused;
//     [SignContent] and `alishop sign` show the exact string signed.
//  5. sign_type handling: notifications and returns use rule v1 (sign and
//     sign_type left out, [RuleV1]); requests use rule v2 ([RuleV2]); a
//     sign_type other than the app's is refused.
//  6. Double URL-decoding: forms are decoded exactly once by [ParseForm]
//     (equal to url.ParseQuery; fuzzed), from the raw body or raw query.
//  7. Trimming: values are never trimmed; only empty or whitespace-only
//     values are left out, as Alipay does.
//  8. Extra keys: only the POST body is verified (not the URL query or
//     cookies); a key given twice is rejected ([ErrMultiValued]).
//  9. GBK: requests always send charset=utf-8 in the URL query; a GBK
//     notification or response is verified over its raw bytes and then
//     refused with [ErrCharset] / [ErrBadResponse] if it holds non-ASCII text,
//     never returned garbled.
//  10. Response extraction: the node is located with a JSON tokenizer and its
//     exact bytes are verified, whatever the key order or spacing; duplicate
//     nodes ([ErrDuplicateNode]) and trailing data are rejected; the Java
//     SDK's `\/` fallback is applied; error_response is the fallback node.
//  11. return_url in certificate mode has no alipay_cert_sn: every loaded
//     Alipay certificate is tried.
//  12. Time zones: [FormatTime] uses the fixed [Beijing] zone whatever
//     time.Local is; no tzdata is needed.
//  13. Repeated notifications: [AckNotification] writes exactly "success";
//     Notification.NotifyID is stable across retries for idempotent handling.
//  14. Full-refund notifications (TRADE_CLOSED, gmt_refund with milliseconds)
//     verify like any other: every received field is verified, nothing is
//     assumed about which fields are present.
//  15. alipay_cert_sn: the response's SN selects the Alipay certificate
//     ([Certificates.AddAlipayCert] for rotation); an unknown SN is reported
//     as [ErrUnknownCertSN], and [Client.DownloadAlipayCert] fetches the new
//     certificate, trusting it only if it chains to the root bundle; an
//     unsigned alipay_cert_sn added to a notification does not break it. SNs
//     follow the SDKs (first certificate of a chain file; RSA-signed roots
//     only for the root SN): [CertSN], [RootCertSN].
package alipay
