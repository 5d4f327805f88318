//go:build tools

package tools

import _ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
