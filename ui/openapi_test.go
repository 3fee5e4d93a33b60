package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"cartera/ui"
)

// TestAPI_OpenAPI keeps the reference true: every API route is documented
// and every documented operation exists, the document is valid JSON with
// the OpenAPI shape, the reference page renders, and every documented
// example request answers the documented status against a real server.
func TestAPI_OpenAPI(t *testing.T) {
	e := mustServer(t)
	admin := e.mustSetupAdmin()
	ctx := context.Background()
	tok, _, err := e.st.CreateToken(ctx, admin, admin.UserID, "docs")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("routes and document agree", func(t *testing.T) {
		routes := e.ui.APIRoutes()
		documented := ui.APIDocumented()
		for _, r := range routes {
			if !slices.Contains(documented, r) {
				t.Errorf("route %s is not in the API reference (ui/openapi.go)", r)
			}
		}
		for _, d := range documented {
			if !slices.Contains(routes, d) {
				t.Errorf("the reference documents %s, which no route serves", d)
			}
		}
	})
	t.Run("the document", func(t *testing.T) {
		resp, err := http.Get(e.srv.URL + "/api/v1/openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, err)
		}
		paths, _ := doc["paths"].(map[string]any)
		if doc["openapi"] != "3.1.0" || len(paths) < 20 || paths["/workflows/{id}"] == nil {
			t.Fatalf("document: openapi %v, %d paths", doc["openapi"], len(paths))
		}
		code, body := e.newBrowser().get("/api/docs")
		if code != 200 || !strings.Contains(body, "PATCH /api/v1/workflows/{id}") {
			t.Fatalf("reference page: %d", code)
		}
	})
	t.Run("every example works", func(t *testing.T) {
		vars := map[string]string{}
		fill := func(s string) string {
			for k, v := range vars {
				s = strings.ReplaceAll(s, "{"+k+"}", v)
			}
			return s
		}
		for _, ex := range ui.APIExamples() {
			path, body, form, file, status, save := ex.Fields()
			path, body = fill(path), fill(body)
			var got int
			var out map[string]any
			// An import runs in the background: its undo waits for it.
			for try := 0; try < 50; try++ {
				var rd io.Reader
				ctype := ""
				if body != "" {
					rd, ctype = strings.NewReader(body), "application/json"
				}
				if form != nil {
					var buf bytes.Buffer
					mw := multipart.NewWriter(&buf)
					for k, v := range form {
						mw.WriteField(k, v)
					}
					fw, _ := mw.CreateFormFile("file", "contacts.csv")
					fw.Write([]byte(file))
					mw.Close()
					rd, ctype = &buf, mw.FormDataContentType()
				}
				got, out = e.apiContent(ex.Method, "/api/v1"+path, tok, ctype, rd)
				if got == status || got != http.StatusConflict {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if got != status {
				t.Errorf("%s %s (example %s): %d, documented %d: %v", ex.Method, ex.Op, path, got, status, out)
				continue
			}
			if save != "" {
				name, member, _ := strings.Cut(save, ":")
				if member == "" {
					member = "id"
				}
				var v any = out
				for part := range strings.SplitSeq(member, ".") {
					switch x := v.(type) {
					case map[string]any:
						v = x[part]
					case []any:
						i, _ := strconv.Atoi(part)
						if i < len(x) {
							v = x[i]
						} else {
							v = nil
						}
					}
				}
				id, _ := v.(string)
				if data, _ := out["data"].([]any); id == "" && member == "id" && len(data) > 0 {
					first, _ := data[0].(map[string]any) // an upload answers a list
					id, _ = first["id"].(string)
				}
				if id == "" {
					t.Fatalf("%s %s: no %s to save as %s: %v", ex.Method, path, member, name, out)
				}
				vars[name] = id
			}
		}
	})
}
