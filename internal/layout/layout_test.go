// Package layout holds the test that keeps the package layout of
// DESIGN.md: each package imports only from its own layer or those below,
// and third-party modules only where they are allowed.
package layout

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/notmod/notmod"

// layers gives each package of the module its layer; packages not listed
// (tools under bench/) are not checked.
var layers = map[string]int{
	"internal/httplex":       0,
	"store":                  0,
	"internal/byterange":     0,
	"internal/framing":       0,
	"precond":                1,
	"cachecontrol":           1,
	"store/memory":           1,
	"store/disk":             1,
	"store/redis":            1,
	"store/storetest":        1,
	"store/tier":             1,
	"httpcache":              2,
	"static":                 2,
	"proxy":                  3,
	"fastproxy":              3,
	"transport":              3,
	"audit":                  3,
	"metrics":                3,
	"cmd/notmod":             4,
	"internal/layout":        4,
	"bench/storebench":       4,
	"bench/internal/fixture": 4,
}

// thirdParty lists, by module path prefix, the packages allowed to import
// it. xxhash is a pure hash function used where entity tags and keys are
// made; the others belong to the packages named for them (and httpsfv to
// the two that parse Structured Fields; otter also bounds static's table
// of entity tags).
var thirdParty = map[string][]string{
	"github.com/cespare/xxhash/v2":        {"*"},
	"github.com/dunglas/httpsfv":          {"cachecontrol", "audit"},
	"github.com/maypok86/otter/v2":        {"store/memory", "static"},
	"go.etcd.io/bbolt":                    {"store/disk"},
	"github.com/redis/go-redis/v9":        {"store/redis"},
	"github.com/prometheus/client_golang": {"metrics"},
	"github.com/valyala/fasthttp":         {"fastproxy"},
	"golang.org/x/sys":                    {"fastproxy"},
}

type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

func TestLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		layer, checked := layers[rel]
		if !checked {
			if !strings.HasPrefix(rel, "bench/") {
				t.Errorf("package %s has no layer: add it to layers", rel)
			}
			continue
		}
		seen++
		for _, imp := range p.Imports {
			switch {
			case strings.HasPrefix(imp, module+"/"):
				dep := strings.TrimPrefix(imp, module+"/")
				if l, ok := layers[dep]; ok && l > layer {
					t.Errorf("%s (layer %d) imports %s (layer %d): imports must point down", rel, layer, dep, l)
				}
			case !strings.Contains(strings.Split(imp, "/")[0], "."):
				// the standard library
			default:
				if !allowed(imp, rel) {
					t.Errorf("%s imports %s, which only its own leaf package may import", rel, imp)
				}
			}
		}
	}
	if seen < len(layers)-2 {
		t.Fatalf("only %d packages listed", seen)
	}
}

func allowed(imp, rel string) bool {
	for prefix, who := range thirdParty {
		if imp == prefix || strings.HasPrefix(imp, prefix+"/") {
			for _, w := range who {
				if w == "*" || w == rel {
					return true
				}
			}
			return false
		}
	}
	return false
}
