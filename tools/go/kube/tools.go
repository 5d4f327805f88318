//go:build tools

// Package tools records the main packages this wrapper builds, so that
// `go mod tidy` keeps their dependencies.
package tools

import (
	_ "github.com/open-policy-agent/gatekeeper/v3/cmd/gator"
	_ "github.com/open-policy-agent/opa"
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
