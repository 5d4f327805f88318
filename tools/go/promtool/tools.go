//go:build tools

// Package tools records the main package this wrapper builds.
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
