package shop

import (
	"strings"
	"unicode/utf8"
)

// Profile is what the shop says about itself to buyers: its name (every
// page's header and title), the customer-service contact and the ICP
// record number (the footer), and the after-sales policy (its own page).
type Profile struct {
	Name    string `json:"name"`
	Contact string `json:"contact,omitempty"` // a phone number, a WeChat id or a sentence
	Policy  string `json:"policy,omitempty"`  // lines of text
	ICP     string `json:"icp,omitempty"`     // e.g. 京ICP备12345678号-1
}

// Bounds of the profile's fields, in characters.
const (
	MaxShopName    = 32
	MaxShopContact = 100
	MaxShopPolicy  = 2000
	MaxShopICP     = 40
)

// ProfileError is a refused profile field: which one (name, contact,
// policy, icp) and why, to be shown next to it.
type ProfileError struct {
	Field string
	Err   *Error
}

func (e *ProfileError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *ProfileError) Unwrap() error { return e.Err }

// CleanProfile trims the fields of p (the policy's line ends become "\n")
// and checks them: the name 1 to MaxShopName characters, the others
// bounded, all valid text without control characters (the policy may hold
// line breaks). The error is a *ProfileError.
func CleanProfile(p Profile) (Profile, error) {
	p.Name = strings.TrimSpace(p.Name)
	p.Contact = strings.TrimSpace(p.Contact)
	p.Policy = strings.TrimSpace(strings.ReplaceAll(p.Policy, "\r\n", "\n"))
	p.ICP = strings.TrimSpace(p.ICP)
	for _, f := range []struct {
		field, label, value string
		max                 int
		lines               bool
	}{
		{"name", "店铺名称", p.Name, MaxShopName, false},
		{"contact", "客服联系方式", p.Contact, MaxShopContact, false},
		{"policy", "售后政策", p.Policy, MaxShopPolicy, true},
		{"icp", "ICP 备案号", p.ICP, MaxShopICP, false},
	} {
		bad := func(format string, args ...any) error {
			return &ProfileError{Field: f.field, Err: Errorf(EINVALID, format, args...)}
		}
		switch {
		case f.field == "name" && f.value == "":
			return p, bad("请填写店铺名称")
		case !utf8.ValidString(f.value):
			return p, bad("%s不是有效文字", f.label)
		case utf8.RuneCountInString(f.value) > f.max:
			return p, bad("%s不能超过 %d 个字", f.label, f.max)
		}
		for _, r := range f.value {
			if (r < ' ' && !(f.lines && r == '\n')) || r == 0x7f {
				return p, bad("%s含有控制字符", f.label)
			}
		}
	}
	return p, nil
}
