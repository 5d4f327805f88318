package edgefleethostfilesystem

params := {"allowedHostPaths": ["/var/lib/industrial-iot/"]}

review(paths) := {"parameters": params, "review": {"object": {"kind": "Pod", "spec": {"volumes": array.concat(
	[{"name": sprintf("v%d", [i]), "hostPath": {"path": p, "type": "DirectoryOrCreate"}} | some i, p in paths],
	[{"name": "cfg", "configMap": {"name": "x"}}],
)}}}}

test_allowed_paths if {
	count(violation) == 0 with input as review(["/var/lib/industrial-iot", "/var/lib/industrial-iot/", "/var/lib/industrial-iot/db"])
}

test_sibling_prefix_refused if {
	v := violation with input as review(["/var/lib/industrial-iot2"])
	v == {{"msg": "volume \"v0\" mounts hostPath \"/var/lib/industrial-iot2\", outside the allowed prefixes [\"/var/lib/industrial-iot/\"]"}}
}

test_traversal_and_relative_refused if {
	count(violation) == 3 with input as review(["/var/lib/industrial-iot/../../etc", "var/lib/industrial-iot", "/"])
}
