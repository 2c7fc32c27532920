// RFC 9110 §15.4.5: what a 304 (Not Modified) response carries.

package precond

import "net/http"

// isRepresentationField reports the fields that describe content a 304
// does not have (RFC 9110 §8.3 to §8.7, §14.3, §14.4, §15.4.5).
func isRepresentationField(name string) bool {
	switch name {
	case "Content-Type", "Content-Length", "Content-Encoding", "Content-Language",
		"Content-Range", "Content-Md5", "Content-Disposition", "Content-Digest",
		"Repr-Digest", "Digest", "Transfer-Encoding", "Trailer", "Accept-Ranges":
		return true
	}
	return false
}

// OmitFrom304 reports whether a 304 leaves out the field name (canonical
// form), which a 200 to the same request would carry: representation
// metadata always, Last-Modified when the response has an ETag
// (RFC 9110 §15.4.5). It is the rule [NotModifiedHeader] applies.
func OmitFrom304(name string, hasETag bool) bool {
	return isRepresentationField(name) || hasETag && name == "Last-Modified"
}

// NotModifiedHeader turns h, the header fields of the 200 response that
// would have been sent, into those of the equivalent 304 (RFC 9110
// §15.4.5), in place.
//
// It keeps Cache-Control, Content-Location, Date, ETag, Expires and Vary
// exactly as the 200 had them, and keeps Last-Modified only when there is
// no ETag. It removes the representation metadata that would describe a
// body the 304 does not have: Content-Type, Content-Length,
// Content-Encoding, Content-Language, Content-Range, digests,
// Transfer-Encoding, Trailer and Accept-Ranges. Other fields (Set-Cookie,
// CORS fields, Server-Timing, extension fields) are left as they are. h must
// use canonical keys. It does not allocate.
func NotModifiedHeader(h http.Header) {
	hasETag := len(h["Etag"]) > 0
	for k := range h {
		if OmitFrom304(k, hasETag) {
			delete(h, k)
		}
	}
}

// WriteNotModified sends a 304 (Not Modified) in place of the 200 whose
// header fields w holds, removing what [NotModifiedHeader] removes. It
// writes no content.
func WriteNotModified(w http.ResponseWriter) {
	NotModifiedHeader(w.Header())
	w.WriteHeader(http.StatusNotModified)
}

// WritePreconditionFailed sends a 412 (Precondition Failed) with no content
// (RFC 9110 §15.5.13). The representation metadata of the 200 that would
// have been sent is removed; the validators stay, since they tell the client
// what the current representation is.
func WritePreconditionFailed(w http.ResponseWriter) {
	h := w.Header()
	for k := range h {
		if isRepresentationField(k) {
			delete(h, k)
		}
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusPreconditionFailed)
}

// Write answers a request whose preconditions evaluated to o: a 304 for
// [NotModified], a 412 for [PreconditionFailed]. It reports whether it
// wrote a response; for [Proceed] and [IgnoreRange] it writes nothing.
func Write(w http.ResponseWriter, o Outcome) bool {
	switch o {
	case NotModified:
		WriteNotModified(w)
		return true
	case PreconditionFailed:
		WritePreconditionFailed(w)
		return true
	}
	return false
}
