# hostPath volumes only under an allow-listed prefix, with gatekeeper-library's
# K8sPSPHostFilesystem semantics: entries are {pathPrefix, readOnly}, matched on
# a path boundary; relative paths and `..` segments match no entry because they
# make the prefix test meaningless. A read-only entry admits a volume only if
# it is mounted, and every mount of it says readOnly: true: the log shipper
# reads /var/log, and a writable mount there could forge or erase other Pods'
# logs. A path that a writable entry also admits is writable (PSP's union).
package edgefleethostfilesystem

violation contains {"msg": msg} if {
	some v in host_volumes
	count(entries_for(v.hostPath.path)) == 0
	msg := sprintf("volume %q mounts hostPath %q, outside the allowed prefixes [%s]", [v.name, v.hostPath.path, allow_list])
}

violation contains {"msg": msg} if {
	some v in host_volumes
	read_only(v.hostPath.path)
	some c in containers
	some m in c.volumeMounts
	m.name == v.name
	object.get(m, "readOnly", false) != true
	msg := sprintf("container %q mounts hostPath volume %q (%q) without readOnly: true; its prefix is allowed read-only", [c.name, v.name, v.hostPath.path])
}

violation contains {"msg": msg} if {
	some v in host_volumes
	read_only(v.hostPath.path)
	not mounted(v.name)
	msg := sprintf("hostPath volume %q (%q) lies under a read-only prefix and no container mounts it readOnly: true", [v.name, v.hostPath.path])
}

host_volumes contains v if {
	some v in input.review.object.spec.volumes
	is_string(v.hostPath.path)
}

containers contains c if some c in input.review.object.spec.containers

containers contains c if some c in input.review.object.spec.initContainers

containers contains c if some c in input.review.object.spec.ephemeralContainers

mounted(name) if {
	some c in containers
	some m in c.volumeMounts
	m.name == name
}

entries_for(path) := {e |
	startswith(path, "/")
	not ".." in split(path, "/")
	some e in input.parameters.allowedHostPaths
	under(trim_right(path, "/"), trim_right(e.pathPrefix, "/"))
}

read_only(path) if {
	entries := entries_for(path)
	count(entries) > 0
	every e in entries {
		e.readOnly == true
	}
}

under(path, prefix) if path == prefix

under(path, prefix) if startswith(path, concat("", [prefix, "/"]))

allow_list := concat(", ", [describe(e) | some e in input.parameters.allowedHostPaths])

describe(e) := sprintf("%s (read-only)", [e.pathPrefix]) if {
	e.readOnly == true
} else := e.pathPrefix
