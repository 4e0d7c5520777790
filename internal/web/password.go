package web

import (
	"fmt"
	"net/http"
	"unicode/utf8"
)

// passwordPage is GET /admin/password: the form to change the admin
// password.
func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	data := map[string]any{"Admin": true, "Nav": "settings"}
	if r.URL.Query().Get("changed") != "" {
		data["Notice"] = "密码已修改。其他设备上的登录已全部退出。"
	}
	s.render(w, r, http.StatusOK, "admin_password", "修改密码", data)
}

// changePassword is POST /admin/password (old_password, new_password and,
// from the page, confirm_password): the old password is checked (throttled
// like a login), the new one stored, every session ended, and this browser
// given a new one. A refused form changes nothing.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusRequestEntityTooLarge, "", "提交的内容太长。")
		return
	}
	old, next := r.PostForm.Get("old_password"), r.PostForm.Get("new_password")
	refuse := func(status int, field, msg string) {
		s.render(w, r, status, "admin_password", "修改密码", map[string]any{"Admin": true, "Nav": "settings",
			"Error": msg, "ErrorField": field})
	}
	switch {
	case old == "":
		refuse(http.StatusUnprocessableEntity, "old", "请输入当前密码")
		return
	case utf8.RuneCountInString(next) < MinPasswordLength:
		refuse(http.StatusUnprocessableEntity, "new", fmt.Sprintf("新密码至少需要 %d 个字符", MinPasswordLength))
		return
	case !utf8.ValidString(next) || len(next) > 1024:
		refuse(http.StatusUnprocessableEntity, "new", "新密码不是有效文字，或超过 1024 字节")
		return
	case r.PostForm.Has("confirm_password") && r.PostForm.Get("confirm_password") != next:
		refuse(http.StatusUnprocessableEntity, "confirm", "两次输入的新密码不一致")
		return
	}
	hash, err := s.admin.Setting(r.Context(), PasswordSetting)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	key := clientKey(r)
	end, retry, err := s.logins.begin(r.Context(), key)
	if err != nil {
		return // the client went away
	}
	if end == nil {
		s.log.Warn("admin password change throttled", "client", clientString(r))
		s.tooMany(w, r, retry, "密码错误次数过多，请稍后再试。")
		return
	}
	ok, err := CheckPassword(hash, old)
	if ok {
		s.logins.succeeded(key)
	} else if err == nil {
		s.logins.failed(key)
	}
	end()
	switch {
	case err != nil:
		s.fail(w, r, err)
		return
	case !ok:
		s.log.Warn("admin password change: wrong current password", "client", clientString(r))
		refuse(http.StatusUnprocessableEntity, "old", "当前密码不正确，密码未修改")
		return
	}
	h, err := HashPassword(next)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.admin.SetSetting(r.Context(), PasswordSetting, h); err != nil {
		s.fail(w, r, err)
		return
	}
	// Every session ends, this one too; this browser gets a new one, so
	// whoever else was logged in must log in again with the new password.
	if err := s.admin.DeleteAllSessions(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	token := NewToken()
	if err := s.admin.CreateSession(r.Context(), token, s.ttl); err != nil {
		s.fail(w, r, err)
		return
	}
	s.setSessionCookie(w, token)
	s.log.Info("admin password changed; sessions ended", "client", clientString(r))
	http.Redirect(w, r, "/admin/password?changed=1", http.StatusSeeOther)
}
