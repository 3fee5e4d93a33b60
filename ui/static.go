package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"cartera/assets"
)

// staticFiles serves the embedded static/ folder under content-hashed names
// (app.3f2a1b9c.css), so browsers may cache them for a year and still see a
// new version the moment it ships.
type staticFiles struct {
	byHashed map[string]staticFile // hashed name → file
	urls     map[string]string     // plain name → URL
}

type staticFile struct {
	data  []byte
	ctype string
}

func loadStatic() (*staticFiles, error) {
	sf := &staticFiles{byHashed: map[string]staticFile{}, urls: map[string]string{}}
	err := fs.WalkDir(assets.FS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(assets.FS, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(data)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:])[:12] + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		sf.byHashed[hashed] = staticFile{data: data, ctype: ct}
		sf.urls[name] = "/static/" + hashed
		return nil
	})
	return sf, err
}

// url returns the hashed URL of a static file; templates call it as asset.
func (sf *staticFiles) url(name string) string {
	if u, ok := sf.urls[name]; ok {
		return u
	}
	return "/static/missing/" + name
}

func (sf *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	f, ok := sf.byHashed[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(f.data)
}
