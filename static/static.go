// Package static holds aixin's embedded browser files: page templates,
// scripts and styles, the zh-CN and en message catalogues, and the OpenAPI
// document of the HTTP API. Nothing here is built; the files are served as
// they are.
package static

import "embed"

// FS holds every embedded file:
//
//	openapi.yaml    the OpenAPI 3 document of /api/v1, served at /api/v1/openapi.yaml
//	i18n/*.json     message catalogues, one flat key -> text object per language
//	templates/*.html html/template pages rendered by the handlers
//	assets/*        scripts and styles served under /static/
//
//go:embed openapi.yaml i18n templates assets
var FS embed.FS
