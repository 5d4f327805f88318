# Bounds limit / request per container and resource, so the burst a container
# may take stays within what a small node can absorb before evicting.
package edgefleetlimitratio

containers contains c if some c in input.review.object.spec.containers

containers contains c if some c in input.review.object.spec.initContainers

quantity(q) := q if is_number(q)

quantity(q) := units.parse(q) if is_string(q)

violation contains {"msg": msg} if {
	some c in containers
	some resource, max_ratio in input.parameters.maxRatio
	request := quantity(c.resources.requests[resource])
	limit := quantity(c.resources.limits[resource])
	limit > request * max_ratio
	msg := sprintf("container %q: %s limit %v is more than %v x its request %v", [c.name, resource, c.resources.limits[resource], max_ratio, c.resources.requests[resource]])
}
