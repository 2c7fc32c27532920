package byterange_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/notmod/notmod/internal/byterange"
)

// A middleware holding a complete 200 response answers a Range request.
func Example() {
	content := []byte("Hello, partial world!")
	h := http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"21"}}

	rs, err := byterange.Parse("bytes=7-13", int64(len(content)))
	switch {
	case errors.Is(err, byterange.ErrUnsatisfiable):
		byterange.Unsatisfiable(h, int64(len(content)))
		fmt.Println(http.StatusRequestedRangeNotSatisfiable)
		return
	case err != nil:
		fmt.Println(http.StatusOK, "full content")
		return
	}
	p, err := byterange.NewPlan(content, rs, h.Get("Content-Type"), "")
	if err != nil {
		fmt.Println(http.StatusOK, "full content")
		return
	}
	p.Header(h)
	fmt.Println(http.StatusPartialContent)
	fmt.Println("Content-Range:", h.Get("Content-Range"))
	fmt.Println("Content-Length:", h.Get("Content-Length"))
	var body strings.Builder
	p.WriteTo(&body)
	fmt.Println(body.String())
	// Output:
	// 206
	// Content-Range: bytes 7-13/21
	// Content-Length: 7
	// partial
}

// Several ranges give a multipart/byteranges body (CRLFs shown as line
// breaks).
func ExampleNewPlan_multipart() {
	content := []byte("0123456789")
	rs, _ := byterange.Parse("bytes=0-1,-2", int64(len(content)))
	p, _ := byterange.NewPlan(content, rs, "text/plain", "SEPARATOR")
	h := http.Header{}
	p.Header(h)
	fmt.Println("Content-Type:", h.Get("Content-Type"))
	fmt.Println("Content-Length:", h.Get("Content-Length"))
	var body strings.Builder
	p.WriteTo(&body)
	fmt.Print(strings.ReplaceAll(body.String(), "\r\n", "\n"))
	// Output:
	// Content-Type: multipart/byteranges; boundary=SEPARATOR
	// Content-Length: 163
	// --SEPARATOR
	// Content-Type: text/plain
	// Content-Range: bytes 0-1/10
	//
	// 01
	// --SEPARATOR
	// Content-Type: text/plain
	// Content-Range: bytes 8-9/10
	//
	// 89
	// --SEPARATOR--
}

// A range beyond the end gives a 416 with the current length.
func ExampleUnsatisfiable() {
	h := http.Header{"Content-Length": {"1234"}}
	_, err := byterange.Parse("bytes=5000-", 1234)
	if errors.Is(err, byterange.ErrUnsatisfiable) {
		byterange.Unsatisfiable(h, 1234)
	}
	fmt.Println(h)
	// Output:
	// map[Content-Range:[bytes */1234]]
}
