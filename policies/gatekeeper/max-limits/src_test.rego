package edgefleetmaxlimits

params := {"sizeClass": "2c4g", "maxCpuMillis": 1650, "maxMemoryMiB": 3128}

review(spec) := {"parameters": params, "review": {"object": {"kind": "Pod", "spec": spec}}}

c(name, cpu, memory) := {"name": name, "resources": {"limits": {"cpu": cpu, "memory": memory}}}

test_fits_exactly if {
	count(violation) == 0 with input as review({"containers": [c("a", "1", "3000Mi"), c("b", "650m", "128Mi")]})
}

test_cpu_sum_too_big if {
	v := violation with input as review({"containers": [c("a", "1", "1Gi"), c("b", "651m", "1Gi")]})
	v == {{"msg": "containers limit 1651m CPU in total; a 2c4g node allows at most 1650m"}}
}

test_memory_too_big_numeric if {
	v := violation with input as review({"containers": [c("a", 1, 4294967296)]})
	v == {{"msg": "containers limit 4096Mi memory in total; a 2c4g node allows at most 3128Mi"}}
}

test_init_container_alone_too_big if {
	v := violation with input as review({"containers": [c("a", "100m", "64Mi")], "initContainers": [c("i", "2", "4Gi")]})
	count(v) == 2
}

test_init_container_fits if {
	count(violation) == 0 with input as review({"containers": [c("a", "1", "3Gi")], "initContainers": [c("i", "1", "3Gi")]})
}
