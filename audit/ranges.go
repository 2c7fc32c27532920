// RFC 9110 §13.1.5 and §14: Range, and If-Range deciding between a part
// and the whole.

package audit

import (
	"fmt"
	"net/http"
)

// ranges sends a Range request for the first byte and, when the server
// answers it with 206, the If-Range probes: the current strong tag,
// another tag, and the current tag marked weak.
func (r *run) ranges(get *Exchange, v validators) {
	if len(get.content) == 0 {
		return
	}
	p := map[string]*Exchange{}
	p["range"] = r.send("range", http.MethodGet, fields("Range", "bytes=0-0"), nil)
	if p["range"].status() == http.StatusPartialContent {
		if v.etagOK && !v.etag.Weak() {
			p["if-range-match"] = r.send("if-range-match", http.MethodGet, fields("Range", "bytes=0-0", "If-Range", string(v.etag)), nil)
		}
		p["if-range-other"] = r.send("if-range-other", http.MethodGet, fields("Range", "bytes=0-0", "If-Range", tagA), nil)
		if v.etagOK {
			weak := v.etag
			if !weak.Weak() {
				weak = "W/" + weak
			}
			p["if-range-weak"] = r.send("if-range-weak", http.MethodGet, fields("Range", "bytes=0-0", "If-Range", string(weak)), nil)
		}
	}
	checkRanges(&r.f, get, v, p)
}

// checkRanges judges the Range and If-Range probes (RFC 9110 §13.1.5,
// §14.2, §15.3.7).
func checkRanges(f *findings, get *Exchange, v validators, p map[string]*Exchange) {
	rng := p["range"]
	if rng == nil || rng.Response == nil {
		return
	}
	switch st := rng.status(); {
	case st == http.StatusPartialContent && len(rng.content) == 1 && rng.content[0] == get.content[0]:
		f.add("range-supported", OK, "RFC 9110 §14.2, §15.3.7",
			fmt.Sprintf("Range: bytes=0-0 got 206 Partial Content with the first byte (Content-Range %s).", orAbsent(rng.header().Get("Content-Range"))), "range")
	case st == http.StatusPartialContent:
		f.add("range-wrong-part", Must, "RFC 9110 §15.3.7.1",
			fmt.Sprintf("Range: bytes=0-0 got 206 with %d bytes of content that are not the first byte of the representation (Content-Range %s).", len(rng.content), orAbsent(rng.header().Get("Content-Range"))), "range")
	default:
		f.add("range-unsupported", Info, "RFC 9110 §14.2",
			fmt.Sprintf("Range: bytes=0-0 got %d: the server does not answer range requests here, so If-Range was not probed.", st), "range")
	}
	if ex := p["if-range-match"]; ex != nil && ex.Response != nil {
		switch st := ex.status(); {
		case st == http.StatusPartialContent:
			f.add("if-range-match-partial", OK, "RFC 9110 §13.1.5",
				fmt.Sprintf("Range with If-Range %s, the current strong tag, got 206 Partial Content.", v.etag), ex.Name)
		case changedTag(ex, v.etag):
			f.add("if-range-representation-changed", Info, "RFC 9110 §13.1.5",
				fmt.Sprintf("Range with If-Range %s got %d with another ETag: the representation changed between probes.", v.etag, st), ex.Name)
		default:
			f.add("if-range-match-ignored", Should, "RFC 9110 §13.1.5",
				fmt.Sprintf("Range with If-Range %s, the current strong tag, got %d; when If-Range matches, the server should send the range, or resumed downloads start over.", v.etag, st), ex.Name)
		}
	}
	if ex := p["if-range-other"]; ex != nil && ex.Response != nil {
		if st := ex.status(); st == http.StatusPartialContent {
			f.add("if-range-other-honoured", Must, "RFC 9110 §13.1.5",
				"Range with If-Range naming a tag the representation does not have got 206; the condition is false, so the server must ignore Range and send the whole representation, or the client splices parts of two versions.", ex.Name)
		} else if st == http.StatusOK {
			f.add("if-range-other-full", OK, "RFC 9110 §13.1.5",
				"Range with If-Range naming another tag got 200 with the whole representation.", ex.Name)
		}
	}
	if ex := p["if-range-weak"]; ex != nil && ex.Response != nil {
		if st := ex.status(); st == http.StatusPartialContent {
			f.add("if-range-weak-honoured", Must, "RFC 9110 §13.1.5, §8.8.3.2",
				fmt.Sprintf("Range with If-Range %s, a weak tag, got 206; If-Range compares strongly, a weak tag never matches, so the server must send the whole representation.", ex.Request.Header.Get("If-Range")), ex.Name)
		} else if st == http.StatusOK {
			f.add("if-range-weak-full", OK, "RFC 9110 §13.1.5",
				"Range with If-Range naming a weak tag got 200 with the whole representation.", ex.Name)
		}
	}
}
