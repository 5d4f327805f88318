//go:build tools

// Package tools records the main package this wrapper builds (OPA's CLI is the
// module root), so that `go mod tidy` keeps its dependencies.
package tools

import _ "github.com/open-policy-agent/opa"
