// Package assets embeds the web UI's templates, static files and message
// catalogs into the binary, so an office with no internet serves everything.
package assets

import "embed"

// FS holds templates/, static/ and i18n/.
//
//go:embed templates static i18n
var FS embed.FS
