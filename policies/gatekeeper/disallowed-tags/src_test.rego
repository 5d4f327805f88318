package edgefleetdisallowedtags

params := {"tags": ["latest"]}

review(images) := {"parameters": params, "review": {"object": {"kind": "Pod", "spec": {"containers": [{"name": sprintf("c%d", [i]), "image": img} | some i, img in images]}}}}

test_pinned_images_allowed if {
	count(violation) == 0 with input as review([
		"redis:7.2",
		"localhost:5000/app:1.0",
		"registry.example.com/x@sha256:0123",
		"registry.example.com/x:latest@sha256:0123",
	])
}

test_latest_refused if {
	v := violation with input as review(["registry.example.com/industrial-iot:latest"])
	v == {{"msg": "container \"c0\" image \"registry.example.com/industrial-iot:latest\" uses a disallowed tag [\"latest\"]"}}
}

test_untagged_refused_even_with_registry_port if {
	v := violation with input as review(["localhost:5000/app", "redis"])
	count(v) == 2
}

test_init_and_ephemeral_containers_checked if {
	inp := {"parameters": params, "review": {"object": {"spec": {"initContainers": [{"name": "i", "image": "busybox"}], "ephemeralContainers": [{"name": "e", "image": "busybox:latest"}]}}}}
	count(violation) == 2 with input as inp
}
