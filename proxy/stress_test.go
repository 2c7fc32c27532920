package proxy_test

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRegressionRaceStress(t *testing.T) {
	var n atomic.Int64
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		v := n.Add(1)
		w.Header().Set("Cache-Control", "max-age=1, stale-while-revalidate=1000")
		w.Header().Set("Vary", "Accept-Language")
		w.Header().Set("Etag", `"`+r.Header.Get("Accept-Language")+strconv.FormatInt(v%3, 10)+`"`)
		if r.Header.Get("If-None-Match") != "" && v%2 == 0 {
			w.WriteHeader(304)
			return
		}
		io.WriteString(w, "body-"+r.Header.Get("Accept-Language"))
	}, envOptions{})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				e.clock.Advance(700 * time.Millisecond)
				time.Sleep(time.Millisecond)
			}
		}
	}()
	langs := []string{"en", "fr", "de"}
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 150; i++ {
				m := "GET"
				if i%5 == 0 {
					m = "HEAD"
				}
				lang := langs[(g+i)%3]
				r, err := e.fetch(m, "/s", "Accept-Language", lang)
				if err != nil {
					t.Error(err)
					return
				}
				if m == "GET" && r.code == 200 && r.body != "body-"+lang {
					t.Errorf("wrong variant: %q for %s", r.body, lang)
				}
			}
		}(g)
	}
	wg.Wait()
	close(stop)
}
