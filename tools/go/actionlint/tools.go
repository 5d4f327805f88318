//go:build tools

// Package tools records the main packages this wrapper builds, so that
// `go mod tidy` keeps their dependencies.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
