package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"alishop/internal/shop"
)

// ProfileSetting is the settings key of the shop's profile (shop.Profile
// as JSON). Until the admin first saves the 设置 page, none is stored and
// the configured --shop-name is shown.
const ProfileSetting = "shop_profile"

// profileTTL is how long a process keeps the profile it read: a change made
// by another process serving the same shop shows within this time.
const profileTTL = 5 * time.Second

// profileCache is the profile last read, shared by every page of a process.
type profileCache struct {
	mu  sync.Mutex
	p   shop.Profile
	at  time.Time // when p was read; zero: never
	now func() time.Time
}

// loadProfile reads the stored profile; while none is stored (the admin
// has never saved 设置) it is the configured name. Reading never writes, so
// a page view leaves the database as it was.
func (s *Server) loadProfile(ctx context.Context) (shop.Profile, error) {
	v, err := s.admin.Setting(ctx, ProfileSetting)
	if errors.Is(err, shop.ErrNoSetting) {
		return shop.Profile{Name: s.shopName}, nil
	}
	if err != nil {
		return shop.Profile{}, err
	}
	var p shop.Profile
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return shop.Profile{}, err
	}
	if p.Name == "" {
		p.Name = s.shopName
	}
	return p, nil
}

// profile is the shop's profile for a page: read at most every profileTTL;
// when it cannot be read, the last one read (or the configured name) is
// shown and the failure logged, so that error pages still render.
func (s *Server) profile(ctx context.Context) shop.Profile {
	if s.admin == nil {
		return shop.Profile{Name: s.shopName}
	}
	c := &s.prof
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.at.IsZero() && now.Sub(c.at) < profileTTL && now.Sub(c.at) >= 0 {
		return c.p
	}
	p, err := s.loadProfile(ctx)
	if err != nil {
		s.log.Warn("reading the shop profile", "err", err)
		if c.at.IsZero() {
			return shop.Profile{Name: s.shopName}
		}
		return c.p
	}
	c.p, c.at = p, now
	return p
}

// setProfile stores p and makes this process show it at once.
func (s *Server) setProfile(ctx context.Context, p shop.Profile) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := s.admin.SetSetting(ctx, ProfileSetting, string(b)); err != nil {
		return err
	}
	s.prof.mu.Lock()
	s.prof.p, s.prof.at = p, s.prof.now()
	s.prof.mu.Unlock()
	return nil
}

// adminSettings is GET /admin/settings: the shop's profile in a form.
func (s *Server) adminSettings(w http.ResponseWriter, r *http.Request) {
	p, err := s.loadProfile(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Form": p, "Nav": "settings", "Admin": true}
	if r.URL.Query().Get("saved") != "" {
		data["Notice"] = "设置已保存。"
	}
	s.render(w, r, http.StatusOK, "admin_settings", "店铺设置", data)
}

// saveSettings is POST /admin/settings (name, contact, policy, icp): a
// refused field gets the form again with the reason next to it (422) and
// nothing is stored.
func (s *Server) saveSettings(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusRequestEntityTooLarge, "", "提交的设置太长，请删减后再保存。")
		return
	}
	in := shop.Profile{Name: r.PostFormValue("name"), Contact: r.PostFormValue("contact"),
		Policy: r.PostFormValue("policy"), ICP: r.PostFormValue("icp")}
	p, err := shop.CleanProfile(in)
	if err != nil {
		var pe *shop.ProfileError
		if !errors.As(err, &pe) {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusUnprocessableEntity, "admin_settings", "店铺设置", map[string]any{"Form": p, "Nav": "settings", "Admin": true,
			"Error": pe.Err.Message, "ErrorField": pe.Field})
		return
	}
	if err := s.setProfile(r.Context(), p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("shop settings saved")
	http.Redirect(w, r, "/admin/settings?saved=1", http.StatusSeeOther)
}

// policyPage is GET /policy: the after-sales policy (售后服务) and how to
// reach customer service.
func (s *Server) policyPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "policy", "售后服务", nil)
}
