package edgefleetrequiredresources

params := {"resources": ["cpu", "memory"]}

review(spec) := {"parameters": params, "review": {"object": {"kind": "Pod", "spec": spec}}}

full := {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}}

test_all_set_compliant if {
	count(violation) == 0 with input as review({"containers": [{"name": "a", "resources": full}], "initContainers": [{"name": "i", "resources": full}]})
}

test_numeric_quantities_compliant if {
	r := {"requests": {"cpu": 1, "memory": 67108864}, "limits": {"cpu": 2, "memory": 134217728}}
	count(violation) == 0 with input as review({"containers": [{"name": "a", "resources": r}]})
}

test_missing_everything if {
	count(violation) == 4 with input as review({"containers": [{"name": "a"}]})
}

test_missing_limit_on_init_container if {
	r := {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m"}}
	v := violation with input as review({"containers": [{"name": "a", "resources": full}], "initContainers": [{"name": "i", "resources": r}]})
	v == {{"msg": "container \"i\" must set resources.limits.memory"}}
}

test_malformed_and_negative_quantities if {
	r := {"requests": {"cpu": "lots", "memory": -1}, "limits": {"cpu": "200m", "memory": "128Mi"}}
	count(violation) == 2 with input as review({"containers": [{"name": "a", "resources": r}]})
}
