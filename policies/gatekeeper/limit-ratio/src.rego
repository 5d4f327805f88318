# Bounds limit / request per container and resource, so the burst a container
# may take stays within what a small node can absorb before evicting.
package edgefleetlimitratio

containers contains c if some c in input.review.object.spec.containers

containers contains c if some c in input.review.object.spec.initContainers

quantity(q) := q if is_number(q)

quantity(q) := units.parse(q) if is_string(q)

# OPA's arithmetic is not exact decimal: units.parse("20m") * 5 comes out just
# under units.parse("100m"), which refused the Redis exporter's 20m -> 100m
# (exactly 5x). Whole nano-units compare as CrossGuard's exceeds() does.
nano(x) := round(x * 1000000000)

violation contains {"msg": msg} if {
	some c in containers
	some resource, max_ratio in input.parameters.maxRatio
	request := quantity(c.resources.requests[resource])
	limit := quantity(c.resources.limits[resource])
	nano(limit) > nano(request * max_ratio)
	msg := sprintf("container %q: %s limit %v is more than %v x its request %v", [c.name, resource, c.resources.limits[resource], max_ratio, c.resources.requests[resource]])
}
