package alipay

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
)

// ErrDecrypt is returned for ciphertext that does not decrypt.
var ErrDecrypt = errors.New("alipay: AES content does not decrypt")

func checkAESKey(key []byte) error {
	switch len(key) {
	case 16, 24, 32:
		return nil
	}
	return fmt.Errorf("alipay: AES key is %d bytes; want 16, 24 or 32 (the console shows it base64-encoded: decode it first)", len(key))
}

// DecodeAESKey decodes the base64 AES key shown on the open platform.
func DecodeAESKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("alipay: AES key is not base64: %w", err)
	}
	return k, checkAESKey(k)
}

// EncryptContent encrypts plaintext as Alipay's encrypt_type=AES does:
// AES-CBC, an IV of 16 zero bytes, PKCS#7 padding, base64.
func EncryptContent(key, plaintext []byte) (string, error) {
	if err := checkAESKey(key); err != nil {
		return "", err
	}
	block, _ := aes.NewCipher(key)
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := make([]byte, len(plaintext)+pad)
	copy(buf, plaintext)
	copy(buf[len(plaintext):], bytes.Repeat([]byte{byte(pad)}, pad))
	cipher.NewCBCEncrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// DecryptContent reverses EncryptContent.
func DecryptContent(key []byte, ciphertext string) ([]byte, error) {
	if err := checkAESKey(key); err != nil {
		return nil, err
	}
	buf, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil || len(buf) == 0 || len(buf)%aes.BlockSize != 0 {
		return nil, ErrDecrypt
	}
	block, _ := aes.NewCipher(key)
	cipher.NewCBCDecrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(buf, buf)
	pad := int(buf[len(buf)-1])
	if pad == 0 || pad > aes.BlockSize || pad > len(buf) {
		return nil, ErrDecrypt
	}
	for _, b := range buf[len(buf)-pad:] {
		if int(b) != pad {
			return nil, ErrDecrypt
		}
	}
	return buf[:len(buf)-pad], nil
}
