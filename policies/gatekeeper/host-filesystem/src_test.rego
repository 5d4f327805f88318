package edgefleethostfilesystem

sqlite := {"pathPrefix": "/var/lib/industrial-iot/", "readOnly": false}

logs := {"pathPrefix": "/var/log", "readOnly": true}

params := {"allowedHostPaths": [sqlite, logs]}

review(paths) := {"parameters": params, "review": {"object": {"kind": "Pod", "spec": {
	"containers": [{"name": "app", "volumeMounts": [{"name": sprintf("v%d", [i]), "mountPath": sprintf("/m%d", [i])} | some i, _ in paths]}],
	"volumes": array.concat(
		[{"name": sprintf("v%d", [i]), "hostPath": {"path": p, "type": "DirectoryOrCreate"}} | some i, p in paths],
		[{"name": "cfg", "configMap": {"name": "x"}}],
	),
}}}}

# A Pod with one hostPath volume "varlog" at `path` and the given containers.
pod(path, spec) := {"parameters": params, "review": {"object": {"kind": "Pod", "spec": object.union(spec, {"volumes": [{"name": "varlog", "hostPath": {"path": path}}]})}}}

ro := {"name": "varlog", "mountPath": "/var/log", "readOnly": true}

rw := {"name": "varlog", "mountPath": "/var/log"}

test_allowed_paths if {
	count(violation) == 0 with input as review(["/var/lib/industrial-iot", "/var/lib/industrial-iot/", "/var/lib/industrial-iot/db"])
}

test_sibling_prefix_refused if {
	v := violation with input as review(["/var/lib/industrial-iot2"])
	v == {{"msg": "volume \"v0\" mounts hostPath \"/var/lib/industrial-iot2\", outside the allowed prefixes [/var/lib/industrial-iot/, /var/log (read-only)]"}}
}

test_traversal_and_relative_refused if {
	count(violation) == 3 with input as review(["/var/lib/industrial-iot/../../etc", "var/lib/industrial-iot", "/"])
}

test_traversal_under_read_only_prefix_refused if {
	v := violation with input as pod("/var/log/../lib", {"containers": [{"name": "a", "volumeMounts": [ro]}]})
	v == {{"msg": "volume \"varlog\" mounts hostPath \"/var/log/../lib\", outside the allowed prefixes [/var/lib/industrial-iot/, /var/log (read-only)]"}}
}

test_read_only_mounts_allowed if {
	count(violation) == 0 with input as pod("/var/log", {
		"containers": [{"name": "fluent-bit", "volumeMounts": [ro]}],
		"initContainers": [{"name": "init", "volumeMounts": [object.union(ro, {"mountPath": "/logs"})]}],
	})
	count(violation) == 0 with input as pod("/var/log/pods/", {"containers": [{"name": "a", "volumeMounts": [ro]}, {"name": "b"}]})
}

test_writable_mount_of_read_only_prefix_refused if {
	v := violation with input as pod("/var/log", {"containers": [{"name": "fluent-bit", "volumeMounts": [rw]}]})
	v == {{"msg": "container \"fluent-bit\" mounts hostPath volume \"varlog\" (\"/var/log\") without readOnly: true; its prefix is allowed read-only"}}
}

test_readonly_false_refused if {
	v := violation with input as pod("/var/log/containers", {"containers": [{"name": "a", "volumeMounts": [object.union(ro, {"readOnly": false})]}]})
	count(v) == 1
}

test_every_container_kind_must_mount_read_only if {
	v := violation with input as pod("/var/log", {
		"containers": [{"name": "reader", "volumeMounts": [ro]}],
		"initContainers": [{"name": "init", "volumeMounts": [rw]}],
		"ephemeralContainers": [{"name": "debug", "volumeMounts": [rw]}],
	})
	v == {
		{"msg": "container \"init\" mounts hostPath volume \"varlog\" (\"/var/log\") without readOnly: true; its prefix is allowed read-only"},
		{"msg": "container \"debug\" mounts hostPath volume \"varlog\" (\"/var/log\") without readOnly: true; its prefix is allowed read-only"},
	}
}

test_unmounted_volume_under_read_only_prefix_refused if {
	v := violation with input as pod("/var/log", {"containers": [{"name": "a", "volumeMounts": [{"name": "other", "mountPath": "/x"}]}]})
	v == {{"msg": "hostPath volume \"varlog\" (\"/var/log\") lies under a read-only prefix and no container mounts it readOnly: true"}}
}

test_writable_entry_wins_over_read_only if {
	writable_var := {"allowedHostPaths": [{"pathPrefix": "/var", "readOnly": false}, logs]}
	count(violation) == 0 with input as pod("/var/log", {"containers": [{"name": "a", "volumeMounts": [rw]}]})
		with input.parameters as writable_var
}

test_writable_prefix_needs_no_read_only_mount if {
	count(violation) == 0 with input as pod("/var/lib/industrial-iot/db", {"containers": [{"name": "a", "volumeMounts": [rw]}]})
}

test_volume_without_host_path_string_ignored if {
	count(violation) == 0 with input as {"parameters": params, "review": {"object": {"kind": "Pod", "spec": {
		"containers": [{"name": "a"}],
		"volumes": [{"name": "d", "emptyDir": {}}, {"name": "h", "hostPath": {}}],
	}}}}
}
