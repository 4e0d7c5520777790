module alishop/interop

go 1.26.0

require (
	alishop v0.0.0
	github.com/go-pay/gopay v1.5.123
	github.com/smartwalle/alipay/v3 v3.2.30
)

require (
	github.com/go-pay/crypto v0.0.3 // indirect
	github.com/go-pay/util v0.0.4 // indirect
	github.com/go-pay/xlog v0.0.3 // indirect
	github.com/go-pay/xtime v0.0.2 // indirect
	github.com/smartwalle/ncrypto v1.0.4 // indirect
	github.com/smartwalle/ngx v1.1.1 // indirect
	github.com/smartwalle/nsign v1.0.9 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace alishop => ../
