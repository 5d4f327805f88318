package edgefleettrackerruntime

params := {
	"runtimeClassName": "wasmedge",
	"nodeSelector": {"node-type": "edge"},
	"namespaces": ["edgefleet-trackers"],
	"label": {"key": "app.kubernetes.io/component", "value": "tracker"},
}

review(metadata, spec) := {"parameters": params, "review": {"object": {"kind": "Pod", "metadata": metadata, "spec": spec}}}

good_spec := {"runtimeClassName": "wasmedge", "nodeSelector": {"node-type": "edge"}, "containers": [{"name": "t", "image": "x"}]}

test_tracker_namespace_compliant if {
	count(violation) == 0 with input as review({"namespace": "edgefleet-trackers"}, good_spec)
}

test_tracker_namespace_from_review if {
	inp := {"parameters": params, "review": {"namespace": "edgefleet-trackers", "object": {"kind": "Pod", "metadata": {}, "spec": {"containers": []}}}}
	count(violation) == 2 with input as inp
}

test_tracker_label_without_runtime_class if {
	v := violation with input as review({"namespace": "default", "labels": {"app.kubernetes.io/component": "tracker"}}, {"nodeSelector": {"node-type": "edge"}})
	count(v) == 1
	some m in v
	contains(m.msg, "runtimeClassName \"wasmedge\"")
}

test_tracker_wrong_node_selector if {
	v := violation with input as review({"namespace": "edgefleet-trackers"}, {"runtimeClassName": "wasmedge", "nodeSelector": {"node-type": "server"}})
	count(v) == 1
	some m in v
	contains(m.msg, "nodeSelector node-type=edge")
}

test_non_tracker_ignored if {
	count(violation) == 0 with input as review({"namespace": "default", "labels": {"app.kubernetes.io/component": "redis"}}, {"containers": []})
}
