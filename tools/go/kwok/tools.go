//go:build tools

// Package tools records the main packages this wrapper builds, so that
// `go mod tidy` keeps their dependencies.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
