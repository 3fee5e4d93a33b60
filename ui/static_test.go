package ui_test

import (
	"io/fs"
	"regexp"
	"testing"

	"cartera/assets"
)

// TestStatic_AssetsExist fails when a template names a static file that is
// not embedded, which would otherwise render a dead link at run time.
func TestStatic_AssetsExist(t *testing.T) {
	re := regexp.MustCompile(`asset "([^"]+)"`)
	n := 0
	err := fs.WalkDir(assets.FS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(assets.FS, p)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(data), -1) {
			n++
			if _, err := fs.Stat(assets.FS, "static/"+m[1]); err != nil {
				t.Errorf("%s uses asset %q, which is not in assets/static", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Fatalf("found only %d asset references; is the scan broken?", n)
	}
}
