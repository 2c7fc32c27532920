package audit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/notmod/notmod/audit"
	"github.com/notmod/notmod/precond"
)

// An origin behind the precond middleware passes the audit: its
// If-None-Match findings are all fine, and no MUST is violated.
func ExampleAuditor_Check() {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("<h1>hello</h1>"))
	})
	srv := httptest.NewServer(precond.Middleware(page))
	defer srv.Close()

	a, err := audit.New(audit.Options{Client: srv.Client()})
	if err != nil {
		panic(err)
	}
	rep, err := a.Check(context.Background(), srv.URL)
	if err != nil {
		panic(err)
	}
	fmt.Println(rep.Status, rep.ETag, rep.Freshness.Shared.Seconds, rep.Freshness.Shared.Source)
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.ID, "inm-") {
			fmt.Println(f.Verdict, f.ID, f.Section)
		}
	}
	fmt.Println("violates a MUST:", rep.Failed())
	// Output:
	// 200 "7f5d8048c122527d" 60 max-age
	// ok inm-exact-matched RFC 9110 §13.1.2
	// ok inm-list-matched RFC 9110 §13.1.2
	// ok inm-other-full RFC 9110 §13.1.2
	// ok inm-star-matched RFC 9110 §13.1.2
	// ok inm-weak-matched RFC 9110 §13.1.2
	// violates a MUST: false
}
