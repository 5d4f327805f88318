# No privileged containers, and privilege escalation explicitly switched off
# (the Pod Security "restricted" profile's rule: unset means allowed).
package edgefleetprivileged

containers contains c if some c in input.review.object.spec.containers

containers contains c if some c in input.review.object.spec.initContainers

containers contains c if some c in input.review.object.spec.ephemeralContainers

violation contains {"msg": msg} if {
	some c in containers
	c.securityContext.privileged == true
	msg := sprintf("container %q must not be privileged", [c.name])
}

violation contains {"msg": msg} if {
	some c in containers
	object.get(c, ["securityContext", "allowPrivilegeEscalation"], true) != false
	msg := sprintf("container %q must set securityContext.allowPrivilegeEscalation: false", [c.name])
}
