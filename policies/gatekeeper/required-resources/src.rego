# Every container (init containers included: they are scheduled against the
# same node) must request and limit each required resource with a quantity the
# API server would accept.
package edgefleetrequiredresources

containers contains c if some c in input.review.object.spec.containers

containers contains c if some c in input.review.object.spec.initContainers

violation contains {"msg": msg} if {
	some c in containers
	some kind in ["requests", "limits"]
	some resource in input.parameters.resources
	not valid_quantity(object.get(c, ["resources", kind, resource], null))
	msg := sprintf("container %q must set resources.%s.%s", [c.name, kind, resource])
}

valid_quantity(q) if {
	is_number(q)
	q >= 0
}

valid_quantity(q) if {
	is_string(q)
	n := units.parse(q)
	n >= 0
}
