# The two commands of the README, and their helpers.
SHELL := /bin/bash
.PHONY: lab lab-down test test-unit bootstrap

# Brings up the lab region: toolchain, lab hosts, then `pulumi up` on the lab stack.
lab:
	bash lab/up.sh

# Tears the lab region down: `pulumi destroy`, then the lab hosts.
lab-down:
	bash lab/down.sh

# Every check: typecheck, lint, format, unit, policy, shell, previews, integration.
test:
	bash scripts/test.sh

test-unit:
	bash scripts/deps.sh && eval "$$(tools/bootstrap.sh --env)" && npx jest --selectProjects unit

bootstrap:
	tools/bootstrap.sh
