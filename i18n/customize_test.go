package i18n_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cartera/i18n"
	"cartera/store"
)

// customizeKey matches the customization pages' message keys in Go code
// and templates.
var customizeKey = regexp.MustCompile(`"(customize\.[a-z0-9_.]+)"`)

// TestCatalogs_CustomizeKeys checks that every customization key used in
// the code and templates, and every key the pages build at run time
// (field types, picklist names, option kinds, per-language labels, store
// errors), exists in Catalan, Spanish and English.
func TestCatalogs_CustomizeKeys(t *testing.T) {
	b := mustBundle(t)
	keys := map[string]string{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == ".git" || n == "node_modules" || n == "vendor" || n == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".html")) || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range customizeKey.FindAllStringSubmatch(string(data), -1) {
			if !strings.HasSuffix(m[1], ".") {
				keys[m[1]] = path
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 50 {
		t.Fatalf("found only %d customization keys; is the scan broken?", len(keys))
	}
	for _, k := range store.CustomKinds {
		keys["customize.kind."+string(k)] = "store.CustomKinds"
	}
	for _, l := range store.EditablePicklists {
		keys["customize.list."+l] = "store.EditablePicklists"
	}
	for _, k := range []string{"open", "won", "lost", "resolved", "closed"} {
		keys["customize.stage_kind."+k] = "option kinds"
		keys["error.kind_missing."+k] = "store.SavePicklist"
	}
	for _, l := range i18n.Languages {
		keys["customize.field.label_"+l] = "per-language labels"
		keys["customize.field.help_"+l] = "per-language labels"
	}
	keys["field.pipeline"] = "store.Def(opportunities)"
	keys["opt.pipeline.default"] = "pipelines"
	for k, where := range keys {
		for _, l := range i18n.Languages {
			if !b.Has(l, k) {
				t.Errorf("%s uses key %q, missing in %s", where, k, l)
			}
		}
	}
}
