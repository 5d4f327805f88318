// Wrapper module for actionlint, the GitHub Actions workflow linter that CI
// and test/unit/config/workflows.test.ts run. Upstream carries no replace
// directives, so the wrapper only pins the release. Build with
// -ldflags "-X github.com/rhysd/actionlint.version=v1.7.12" (upstream's
// GoReleaser sets the same variable) so `actionlint -version` reports the pin.
module edgefleet.dev/tools/actionlint

go 1.25.0

require github.com/rhysd/actionlint v1.7.12

require (
	github.com/bmatcuk/doublestar/v4 v4.10.0 // indirect
	github.com/clipperhouse/uax29/v2 v2.7.0 // indirect
	github.com/fatih/color v1.19.0 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/mattn/go-runewidth v0.0.21 // indirect
	github.com/mattn/go-shellwords v1.0.12 // indirect
	github.com/robfig/cron/v3 v3.0.1 // indirect
	go.yaml.in/yaml/v4 v4.0.0-rc.3 // indirect
	golang.org/x/sync v0.20.0 // indirect
	golang.org/x/sys v0.42.0 // indirect
)
