package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"alishop/alipay"
	"alishop/alipay/sandbox"
	"alishop/internal/shop"
)

// sandboxAppID is the app id the embedded sandbox registers for the shop,
// in the style of the open platform's sandbox app ids.
const sandboxAppID = "9021000000000001"

// startSandbox creates the embedded sandbox, registers the shop's app with
// generated keys, and points the client at it over HTTP.
func startSandbox(ctx context.Context, cfg *serveConfig, publicURL string, log *slog.Logger, acfg *alipay.Config, m *shop.Merchant) (*sandbox.Sandbox, error) {
	key, created, err := loadOrCreateAppKey(filepath.Join(cfg.data, "keys"))
	if err != nil {
		return nil, fmt.Errorf("app keys: %w", err)
	}
	if created {
		log.Info("generated app keys for the built-in sandbox", "dir", filepath.Join(cfg.data, "keys"))
	}
	sb, err := newSandbox(sandbox.Config{
		DataDir: filepath.Join(cfg.data, "sandbox"),
		BaseURL: publicURL + "/sandbox/",
		Logger:  log.With("component", "sandbox"),
		// The shop's listener may face a network: only this machine may
		// drive the simulator (pay trades, read the trade list, reset).
		ControlLoopbackOnly: true,
	})
	if err != nil {
		return nil, err
	}
	app, err := sb.RegisterApp(sandboxAppID, &key.PublicKey)
	if err != nil {
		sb.Close()
		return nil, err
	}
	sb.Start(ctx)
	acfg.AppID = app.AppID
	acfg.PrivateKey = key
	acfg.AlipayPublicKey = sb.PublicKey()
	acfg.Gateway = publicURL + "/sandbox/gateway.do"
	m.AppID, m.SellerID = app.AppID, app.SellerID
	return sb, nil
}

// loadOrCreateAppKey returns the app key pair of the built-in sandbox mode,
// generating it into dir on first start.
func loadOrCreateAppKey(dir string) (*rsa.PrivateKey, bool, error) {
	priv := filepath.Join(dir, "app_private_key.pem")
	if _, err := os.Stat(priv); err == nil {
		k, err := alipay.LoadPrivateKeyFile(priv)
		return k, false, err
	}
	if err := privateDir(dir); err != nil {
		return nil, false, err
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, false, err
	}
	der := x509.MarshalPKCS1PrivateKey(k)
	if err := writeFileAtomic(priv, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, false, err
	}
	if err := writeFileAtomic(filepath.Join(dir, "app_public_key.pem"), alipay.PublicKeyPEM(&k.PublicKey), 0o600); err != nil {
		return nil, false, err
	}
	return k, true, nil
}

// demoGoods are put on sale the first time the shop runs with the built-in
// sandbox, like the tutorial's goods table.
// They are virtual goods with unlimited stock, bought straight from their
// card; the courses carry a delivery note, shown on the order page once
// paid. Shipped goods and stock are set in the admin's goods form.
var demoGoods = []struct{ name, price, desc, note string }{
	{"Python全栈开发课程", "369.00", "从基础语法到 Web 开发与部署，120 节视频课，附源码与练习。", "课程观看地址：https://example.com/courses/python（演示）\n激活码：PY-DEMO-2026"},
	{"Django实战教程", "88.00", "用 Django 一步步做出一个完整的网上商店。", "教程下载地址：https://example.com/courses/django（演示）"},
	{"算法导论（第三版）", "128.50", "经典算法教材，精装中文版。", ""},
	{"机械键盘", "3788.00", "87 键热插拔，铝合金外壳，三模连接。", ""},
	{"支付测试商品", "0.01", "一分钱体验完整的支付流程。", ""},
}

func addDemoGoods(ctx context.Context, svc *shop.Service) error {
	for _, g := range demoGoods {
		if err := svc.SaveGoods(ctx, &shop.Goods{Name: g.name, Price: alipay.MustAmount(g.price), Description: g.desc, DeliveryNote: g.note}); err != nil {
			return err
		}
	}
	return nil
}
