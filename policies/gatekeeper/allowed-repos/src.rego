# Images only from allowed registries (or registry/path prefixes). Names are
# normalised the way the container runtime resolves them (`redis` is
# docker.io/library/redis) and matched on a path boundary, so
# `registry.example.com` does not admit `registry.example.com.evil.io/x`.
package edgefleetallowedrepos

containers contains c if some c in input.review.object.spec.containers

containers contains c if some c in input.review.object.spec.initContainers

containers contains c if some c in input.review.object.spec.ephemeralContainers

# The repository part of an image reference: no digest, no tag.
repository(image) := name if {
	parts := split(split(image, "@")[0], "/")
	n := count(parts)
	base := split(parts[n - 1], ":")[0]
	name := concat("/", array.concat(array.slice(parts, 0, n - 1), [base]))
}

is_registry_host(h) if contains(h, ".")

is_registry_host(h) if contains(h, ":")

is_registry_host("localhost")

normalized(name) := concat("/", ["docker.io", "library", name]) if not contains(name, "/")

normalized(name) := concat("/", ["docker.io", name]) if {
	contains(name, "/")
	not is_registry_host(split(name, "/")[0])
}

normalized(name) := name if {
	contains(name, "/")
	is_registry_host(split(name, "/")[0])
}

allowed(name) if {
	some prefix in input.parameters.registries
	p := trim_right(prefix, "/")
	name == p
}

allowed(name) if {
	some prefix in input.parameters.registries
	p := trim_right(prefix, "/")
	startswith(name, concat("", [p, "/"]))
}

violation contains {"msg": msg} if {
	some c in containers
	name := normalized(repository(c.image))
	not allowed(name)
	msg := sprintf("container %q image %q (%s) is not from an allowed registry %v", [c.name, c.image, name, input.parameters.registries])
}
