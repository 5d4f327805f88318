# hostPath volumes only under an allow-listed prefix (the factory case's SQLite
# directory), matched on a path boundary; relative paths and `..` segments are
# refused because they make the prefix test meaningless.
package edgefleethostfilesystem

violation contains {"msg": msg} if {
	some v in input.review.object.spec.volumes
	path := v.hostPath.path
	not allowed(path)
	msg := sprintf("volume %q mounts hostPath %q, outside the allowed prefixes %v", [v.name, path, input.parameters.allowedHostPaths])
}

traversal(path) if ".." in split(path, "/")

allowed(path) if {
	startswith(path, "/")
	not traversal(path)
	clean := trim_right(path, "/")
	some prefix in input.parameters.allowedHostPaths
	p := trim_right(prefix, "/")
	under(clean, p)
}

under(path, prefix) if path == prefix

under(path, prefix) if startswith(path, concat("", [prefix, "/"]))
