// Package assets holds pkttap-web's static files (the page's JavaScript
// modules, CSS, icon), embedded in the binary so the server needs nothing
// beside it and the UI needs no build step: app.js is the entry module and
// imports the others from js/ (one job each: API client, packet list,
// details tree, bytes, filter bar and its completion, live dialog,
// preferences, the Why panel). explorer.html is the Filter explorer's
// page, with js/explorer.js as its module.
package assets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
	"sync"
)

//go:embed static
var files embed.FS

// FS returns the static files, rooted at the folder that holds them.
func FS() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic("assets: " + err.Error()) // "static" is embedded above: cannot happen
	}
	return sub
}

// etags holds a strong ETag per file, from its content: the page's
// modules are revalidated on every load (no-cache) and a 304 keeps that
// cheap.
var etags = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	_ = fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(FS(), p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[p] = `"` + hex.EncodeToString(sum[:12]) + `"`
		return nil
	})
	return m
})

// Handler serves the static files. Mount it under a prefix with
// http.StripPrefix. Every file is revalidated on each use (Cache-Control:
// no-cache) against its ETag, so a page never mixes the modules of two
// builds; JavaScript is served as text/javascript, which module scripts
// require.
func Handler() http.Handler {
	fsrv := http.FileServerFS(FS())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		if tag, ok := etags()[strings.TrimPrefix(r.URL.Path, "/")]; ok {
			w.Header().Set("ETag", tag)
		}
		fsrv.ServeHTTP(w, r)
	})
}
