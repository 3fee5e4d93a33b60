package ui

// Test-only views of unexported parts, for the external test package.

// APIRoutes lists the router's API operations as "METHOD /path".
func (s *Server) APIRoutes() []string { return s.apiRoutes() }

// APIExample is one documented example request with its operation.
type APIExample struct {
	Method, Op string
	apiExample
}

// APIDocumented lists the documented operations as "METHOD /path".
func APIDocumented() []string {
	var out []string
	for _, op := range apiOps {
		out = append(out, op.Method+" "+op.Path)
	}
	return out
}

// APIExamples lists every documented example, in order.
func APIExamples() []APIExample {
	var out []APIExample
	for _, op := range apiOps {
		for _, ex := range op.Examples {
			out = append(out, APIExample{Method: op.Method, Op: op.Path, apiExample: ex})
		}
	}
	return out
}

// Fields of an example, for the external test package.
func (e APIExample) Fields() (path, body string, form map[string]string, file string, status int, save string) {
	return e.Path, e.Body, e.Form, e.File, e.Status, e.Save
}
