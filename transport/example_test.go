package transport_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/notmod/notmod/transport"
)

// A client with the private cache asks the network once for a fresh
// response and answers the second request from the cache.
func Example() {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "rates: 1.08")
	}))
	defer origin.Close()

	tr, err := transport.New(transport.Options{})
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: tr}
	for i := 0; i < 2; i++ {
		resp, err := client.Get(origin.URL + "/rates")
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status := resp.Header.Get("Cache-Status")
		fmt.Println(string(body), status[:len("notmod-private; ")+3])
	}
	// Output:
	// rates: 1.08 notmod-private; fwd
	// rates: 1.08 notmod-private; hit
}
