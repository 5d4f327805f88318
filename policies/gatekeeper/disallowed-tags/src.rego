# Images must be pinned: a digest, or a tag that is not on the disallowed list
# (`latest`). An image with neither tag nor digest means `latest` too.
package edgefleetdisallowedtags

containers contains c if some c in input.review.object.spec.containers

containers contains c if some c in input.review.object.spec.initContainers

containers contains c if some c in input.review.object.spec.ephemeralContainers

has_digest(image) if contains(image, "@")

# The tag sits after a colon in the last path segment (a colon earlier is a
# registry port, as in localhost:5000/app).
tag(image) := t if {
	parts := split(image, "/")
	last := parts[count(parts) - 1]
	contains(last, ":")
	t := split(last, ":")[1]
}

violation contains {"msg": msg} if {
	some c in containers
	not has_digest(c.image)
	not tag(c.image)
	msg := sprintf("container %q image %q has neither tag nor digest", [c.name, c.image])
}

violation contains {"msg": msg} if {
	some c in containers
	not has_digest(c.image)
	tag(c.image) in input.parameters.tags
	msg := sprintf("container %q image %q uses a disallowed tag %v", [c.name, c.image, input.parameters.tags])
}
