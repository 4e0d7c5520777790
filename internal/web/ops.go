package web

import (
	"net/http"
)

// readyz is GET /readyz: 200 when the database answers and holds the
// current schema, 503 otherwise (for load balancers and orchestrators;
// /healthz is the liveness check).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.ready != nil {
		if err := s.ready(r.Context()); err != nil {
			s.log.Error("readiness check failed", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// LoopbackOnly serves h to clients on the loopback interface that did not
// come through a proxy (no Forwarded, X-Forwarded-For or X-Real-IP header,
// whoever sent it, trusted proxies included: a reverse proxy on the same
// host connects from loopback on behalf of anyone), and answers 404 to
// everyone else.
func LoopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackClient(r) {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func loopbackClient(r *http.Request) bool {
	for _, k := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
		if _, ok := r.Header[k]; ok {
			return false
		}
	}
	return peerAddr(r.RemoteAddr).IsLoopback()
}
