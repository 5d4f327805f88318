package edgefleetlimitratio

params := {"maxRatio": {"cpu": 5, "memory": 4}}

review(spec) := {"parameters": params, "review": {"object": {"kind": "Pod", "spec": spec}}}

c(name, req, lim) := {"name": name, "resources": {"requests": req, "limits": lim}}

test_cases_numbers_at_the_bound if {
	# the logistics case: 200m/256Mi -> 1000m/1Gi, exactly 5x and 4x
	count(violation) == 0 with input as review({"containers": [c("a", {"cpu": "200m", "memory": "256Mi"}, {"cpu": "1000m", "memory": "1Gi"})]})
}

test_milli_quantities_at_the_bound if {
	# the Redis exporter sidecar: 20m -> 100m is exactly 5x, though 0.02 * 5 < 0.1 in OPA's arithmetic
	count(violation) == 0 with input as review({"containers": [c("exporter", {"cpu": "20m", "memory": "32Mi"}, {"cpu": "100m", "memory": "64Mi"})]})
	count(violation) == 1 with input as review({"containers": [c("exporter", {"cpu": "20m", "memory": "32Mi"}, {"cpu": "101m", "memory": "64Mi"})]})
}

test_cpu_ratio_exceeded if {
	v := violation with input as review({"containers": [c("a", {"cpu": "50m", "memory": "64Mi"}, {"cpu": "251m", "memory": "128Mi"})]})
	v == {{"msg": "container \"a\": cpu limit 251m is more than 5 x its request 50m"}}
}

test_memory_ratio_exceeded_in_init_container if {
	v := violation with input as review({"containers": [], "initContainers": [c("i", {"cpu": 1, "memory": "64Mi"}, {"cpu": 1, "memory": "257Mi"})]})
	count(v) == 1
}

test_zero_request_with_limit if {
	count(violation) == 1 with input as review({"containers": [c("a", {"cpu": "0"}, {"cpu": "10m"})]})
}

test_missing_request_ignored if {
	count(violation) == 0 with input as review({"containers": [c("a", {}, {"cpu": "10"})]})
}
