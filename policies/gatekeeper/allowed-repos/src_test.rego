package edgefleetallowedrepos

params := {"registries": ["docker.io/library", "quay.io/", "registry.example.com", "localhost:5000"]}

review(images) := {"parameters": params, "review": {"object": {"kind": "Pod", "spec": {
	"containers": [{"name": sprintf("c%d", [i]), "image": img} | some i, img in images],
	"initContainers": [{"name": "init", "image": "quay.io/prometheus/busybox:1.36"}],
}}}}

test_normalisation if {
	repository("redis:7.2@sha256:abc") == "redis"
	normalized("redis") == "docker.io/library/redis"
	normalized("grafana/grafana") == "docker.io/grafana/grafana"
	normalized("localhost/app") == "localhost/app"
	normalized("localhost:5000/team/app") == "localhost:5000/team/app"
}

test_allowed_images if {
	count(violation) == 0 with input as review(["redis:7.2", "registry.example.com/industrial-iot:1.0.0", "quay.io/prometheus/prometheus:v2.54.1", "localhost:5000/app:1", "docker.io/library"])
}

test_registry_prefix_needs_path_boundary if {
	v := violation with input as review(["registry.example.com.evil.io/industrial-iot:1.0.0"])
	count(v) == 1
}

test_other_docker_hub_namespace_refused if {
	v := violation with input as review(["grafana/grafana:11.2.0", "ghcr.io/x/y:1"])
	count(v) == 2
}

test_ephemeral_container_checked if {
	inp := {"parameters": params, "review": {"object": {"spec": {"ephemeralContainers": [{"name": "dbg", "image": "evil.io/busybox:1"}]}}}}
	count(violation) == 1 with input as inp
}
