package edgefleetprivileged

review(spec) := {"parameters": {}, "review": {"object": {"kind": "Pod", "spec": spec}}}

hardened := {"allowPrivilegeEscalation": false, "privileged": false}

test_hardened_compliant if {
	count(violation) == 0 with input as review({"containers": [{"name": "a", "securityContext": hardened}], "initContainers": [{"name": "i", "securityContext": hardened}]})
}

test_privileged_refused if {
	v := violation with input as review({"containers": [{"name": "a", "securityContext": {"privileged": true, "allowPrivilegeEscalation": false}}]})
	v == {{"msg": "container \"a\" must not be privileged"}}
}

test_escalation_unset_refused if {
	v := violation with input as review({"containers": [], "ephemeralContainers": [{"name": "e"}]})
	v == {{"msg": "container \"e\" must set securityContext.allowPrivilegeEscalation: false"}}
}

test_escalation_true_refused if {
	count(violation) == 1 with input as review({"containers": [{"name": "a", "securityContext": {"allowPrivilegeEscalation": true}}]})
}
