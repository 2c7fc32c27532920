// RFC 9110 §13.2.1: evaluating preconditions before doing the work.

package precond

import (
	"net/http"
	"time"
)

// Check answers r's preconditions from validators the handler knows
// cheaply, before it renders anything: a version number turned into an
// entity tag, a row's updated_at as the modification date.
//
// Check sets ETag and Last-Modified on w from v (the response, whatever it
// is, carries them) and evaluates the preconditions as [Evaluate] does.
// When they decide the answer, it writes the 304 or 412 and returns true:
// the handler must then return without writing anything. Otherwise it
// returns false and the handler renders the 200 as usual; under
// [Middleware], a Range request is then answered from that 200.
//
// When v.Date is zero it is taken as now, so that a Last-Modified more than
// a second old counts as a strong validator for If-Range (§8.8.2.2).
func Check(w http.ResponseWriter, r *http.Request, v Validators) bool {
	h := w.Header()
	if v.ETag != "" {
		h.Set("Etag", string(v.ETag))
	}
	if !v.LastModified.IsZero() {
		h.Set("Last-Modified", v.LastModified.UTC().Format(http.TimeFormat))
	}
	if v.Date.IsZero() {
		v.Date = time.Now()
	}
	return Write(w, Evaluate(r.Method, r.Header, v))
}
