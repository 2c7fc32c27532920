package framing_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/notmod/notmod/internal/framing"
)

// An origin answers with a transfer coding net/http refuses; through the
// wrapped transport the content is read until the origin closes the
// connection (RFC 9112 §6.3).
func ExampleWrap() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nas sent")
		}
	}()

	rt := framing.Wrap(&http.Transport{ResponseHeaderTimeout: 10 * time.Second})
	defer rt.CloseIdleConnections()
	resp, err := (&http.Client{Transport: rt}).Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, resp.ContentLength, resp.Header["Transfer-Encoding"])
	fmt.Printf("%s\n", body)
	// Output:
	// 200 OK -1 []
	// as sent
}

func ExampleReframe() {
	head := "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 12\r\nCache-Control: max-age=60\r\n\r\n"
	out, r := framing.Reframe([]byte(head), http.MethodGet)
	fmt.Println(r.Status, r.Framing)
	fmt.Printf("%q\n", out)

	head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	out, r = framing.Reframe([]byte(head), http.MethodGet)
	fmt.Println(r.Status, r.Framing)
	fmt.Printf("%q\n", out)
	// Output:
	// 200 until-close
	// "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\n\r\n"
	// 200 chunked
	// "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
}
