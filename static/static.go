package static

import (
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/notmod/notmod/precond"
)

// Options configures [New]. The zero value is ready to use.
type Options struct {
	// CacheControl is sent with every file; when empty, "no-cache", so
	// that caches and browsers revalidate each time and see 304s.
	CacheControl string

	// MaxTags bounds how many files' entity tags are remembered; zero means
	// 10000. A tag is recomputed when a file's size or modification time
	// changes.
	MaxTags int
}

// Handler serves files below one directory. It is safe for concurrent use.
type Handler struct {
	root *os.Root
	opts Options
	tags *otter.Cache[string, fileTag]
}

type fileTag struct {
	size    int64
	modTime time.Time
	etag    precond.ETag
}

// New returns a handler for the files below dir. Paths are resolved inside
// dir only: "..", and symbolic links leading out of it, are refused.
func New(dir string, o Options) (*Handler, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	if o.CacheControl == "" {
		o.CacheControl = "no-cache"
	}
	if o.MaxTags <= 0 {
		o.MaxTags = 10000
	}
	tags, err := otter.New(&otter.Options[string, fileTag]{MaximumSize: o.MaxTags})
	if err != nil {
		root.Close()
		return nil, err
	}
	return &Handler{root: root, opts: o, tags: tags}, nil
}

// Close releases the directory.
func (h *Handler) Close() error { return h.root.Close() }

// ServeHTTP serves GET and HEAD for the file named by the request path;
// a directory is served by its index.html. It answers conditional requests
// before reading the file (RFC 9110 §13.2.1) and Range with 206
// (§14). Other methods get 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "."
	}
	f, info, err := h.open(name)
	if err != nil {
		// Missing, unreadable or outside the directory: all look the same.
		http.NotFound(w, r)
		return
	}
	defer f.Close()

	etag, err := h.etag(name, f, info)
	if err != nil {
		http.Error(w, "cannot read file", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Cache-Control", h.opts.CacheControl)
	if ct := mime.TypeByExtension(filepath.Ext(info.Name())); ct != "" {
		hdr.Set("Content-Type", ct)
	}
	if precond.Check(w, r, precond.Validators{ETag: etag, LastModified: info.ModTime()}) {
		return
	}
	// ServeContent answers Range from the file without reading all of it;
	// the preconditions it re-evaluates give the answer Check gave.
	http.ServeContent(w, r, info.Name(), info.ModTime(), f)
}

// open opens name, or the index.html of the directory name.
func (h *Handler) open(name string) (*os.File, fs.FileInfo, error) {
	f, err := h.root.Open(name)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if info.IsDir() {
		f.Close()
		return h.open(path.Join(name, "index.html"))
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, fs.ErrNotExist
	}
	return f, info, nil
}

// etag returns the strong entity tag of the file's content, hashing it
// only when its size or modification time changed since the last time
// (RFC 9110 §8.8.3.1).
func (h *Handler) etag(name string, f *os.File, info fs.FileInfo) (precond.ETag, error) {
	if t, ok := h.tags.GetIfPresent(name); ok && t.size == info.Size() && t.modTime.Equal(info.ModTime()) {
		return t.etag, nil
	}
	tag, err := precond.ReaderETag(f)
	if err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	h.tags.Set(name, fileTag{size: info.Size(), modTime: info.ModTime(), etag: tag})
	return tag, nil
}
