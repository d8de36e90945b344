package assets

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

var (
	// importRe matches a static import: `import { a, b } from './x.js';`
	// or `import * as X from './x.js';`.
	importRe = regexp.MustCompile(`(?m)^import (?:\{([^}]*)\}|\* as ([\w$]+)) from '([^']+)';$`)
	// exportRe matches a named export declaration.
	exportRe = regexp.MustCompile(`(?m)^export (?:async )?(?:function\*? |const |let |class )([\w$]+)`)
)

// jsFiles returns the embedded JavaScript modules and their text.
func jsFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, err := fs.ReadFile(FS(), p)
		files[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["app.js"]; !ok || len(files) < 2 {
		t.Fatalf("embedded modules: %v", files)
	}
	return files
}

// TestModulesServed: browsers refuse a module script whose Content-Type
// is not JavaScript (the server also sends nosniff), so every module must
// be served as text/javascript, and revalidated (cheaply, by ETag) so a
// new binary's modules are never mixed with an old one's.
func TestModulesServed(t *testing.T) {
	h := Handler()
	for p := range jsFiles(t) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/"+p, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", p, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
			t.Errorf("%s: Content-Type %q, want text/javascript", p, ct)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s: Cache-Control %q, want no-cache", p, cc)
		}
		// Revalidation is a 304 without the body.
		tag := rec.Header().Get("ETag")
		req := httptest.NewRequest(http.MethodGet, "/"+p, nil)
		req.Header.Set("If-None-Match", tag)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if tag == "" || rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("%s: revalidation with ETag %q: status %d, %d bytes", p, tag, rec.Code, rec.Body.Len())
		}
	}
}

// TestModuleImports: every relative import names an embedded module and,
// for a named import, something that module exports (a browser would stop
// the whole page on a missing one).
func TestModuleImports(t *testing.T) {
	files := jsFiles(t)
	exports := map[string]map[string]bool{}
	for p, src := range files {
		exports[p] = map[string]bool{}
		for _, m := range exportRe.FindAllStringSubmatch(src, -1) {
			exports[p][m[1]] = true
		}
	}
	for p, src := range files {
		for _, m := range importRe.FindAllStringSubmatch(src, -1) {
			target := path.Join(path.Dir(p), m[3])
			ex, ok := exports[target]
			if !strings.HasPrefix(m[3], "./") || !ok {
				t.Errorf("%s imports %q: no such embedded module", p, m[3])
				continue
			}
			var used []string
			if m[1] != "" {
				used = strings.Split(m[1], ",")
			} else {
				// import * as X: the names used as X.name.
				for _, u := range regexp.MustCompile(regexp.QuoteMeta(m[2])+`\.([\w$]+)`).FindAllStringSubmatch(src, -1) {
					used = append(used, u[1])
				}
			}
			for _, name := range used {
				if name = strings.TrimSpace(name); !ex[name] {
					t.Errorf("%s imports %s from %s, which does not export it", p, name, m[3])
				}
			}
		}
	}
}
