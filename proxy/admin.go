package proxy

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/notmod/notmod/httpcache"
)

// AdminOptions configures [Admin].
type AdminOptions struct {
	// Token, when not empty, must be sent as "Authorization: Bearer TOKEN"
	// with every admin request. Bind the admin listener to anything but
	// loopback only with a token.
	Token string

	// Metrics serves GET /metrics when not nil.
	Metrics http.Handler

	// Status, when not nil, adds its fields to GET /status.
	Status func() map[string]any

	// OnPurge, when not nil, is called after every successful purge with
	// the request's form values, so that purges can be fanned out to
	// other nodes.
	OnPurge func(form url.Values)
}

// Admin returns the handler of the admin listener:
//
//	POST /purge   url=URL | prefix=URL | tag=KEY, and soft=1 for a soft purge
//	GET  /metrics Prometheus metrics
//	GET  /status  a JSON status document
//
// A purge answers 200 with {"purged": N}, 400 for a malformed request and
// 501 when the store cannot list keys (prefix and tag purges).
func Admin(c *httpcache.Cache, o AdminOptions) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /purge", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "malformed form", http.StatusBadRequest)
			return
		}
		n, status, msg := Purge(r, c, r.Form)
		if status != http.StatusOK {
			http.Error(w, msg, status)
			return
		}
		if o.OnPurge != nil {
			o.OnPurge(r.Form)
		}
		writeJSON(w, map[string]any{"purged": n})
	})
	if o.Metrics != nil {
		mux.Handle("GET /metrics", o.Metrics)
	}
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		doc := map[string]any{"cache": c.Name(), "max_object_bytes": c.MaxObjectSize()}
		if o.Status != nil {
			for k, v := range o.Status() {
				doc[k] = v
			}
		}
		writeJSON(w, doc)
	})
	// Browsers on the operator's machine must not be able to purge
	// through a cross-site form: reject cross-origin requests.
	var h http.Handler = http.NewCrossOriginProtection().Handler(mux)
	if o.Token == "" {
		return h
	}
	want := []byte("Bearer " + o.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="notmod admin"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Purge carries out the purge described by form (url, prefix or tag, and
// soft) on c, and returns how many stored responses it affected, or an
// HTTP status and message for a request it cannot carry out.
func Purge(r *http.Request, c *httpcache.Cache, form url.Values) (n int, status int, msg string) {
	mode := httpcache.HardPurge
	if v := form.Get("soft"); v == "1" || v == "true" {
		mode = httpcache.SoftPurge
	}
	var err error
	switch {
	case form.Get("url") != "":
		u, perr := url.Parse(form.Get("url"))
		if perr != nil || u.Host == "" {
			return 0, http.StatusBadRequest, "url must be absolute, such as http://example.com/path"
		}
		n, err = c.PurgeURL(r.Context(), u, mode)
	case form.Get("prefix") != "":
		u, perr := url.Parse(form.Get("prefix"))
		if perr != nil || u.Host == "" {
			return 0, http.StatusBadRequest, "prefix must be absolute, such as http://example.com/static/"
		}
		p := u.EscapedPath()
		if u.RawQuery != "" || strings.HasSuffix(form.Get("prefix"), "?") {
			p += "?" + u.RawQuery
		}
		n, err = c.PurgePrefix(r.Context(), u, p, mode)
	case form.Get("tag") != "":
		n, err = c.PurgeTag(r.Context(), form.Get("tag"), mode)
	default:
		return 0, http.StatusBadRequest, "give url, prefix or tag"
	}
	switch {
	case err == nil:
		return n, http.StatusOK, ""
	case err == httpcache.ErrNoListing:
		return n, http.StatusNotImplemented, "this store cannot purge by prefix or tag"
	default:
		return n, http.StatusServiceUnavailable, "store error"
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
