// Package assets holds pkttap-web's static files (JavaScript, CSS, icon),
// embedded in the binary so the server needs nothing beside it and the UI
// needs no build step.
package assets

import (
	"embed"
	"io/fs"
	"net/http"
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

// Handler serves the static files. Mount it under a prefix with
// http.StripPrefix.
func Handler() http.Handler {
	fsrv := http.FileServerFS(FS())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		fsrv.ServeHTTP(w, r)
	})
}
