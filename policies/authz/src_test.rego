package edgefleet.authz_test

import data.edgefleet.authz

sites := {"factory-a": {"devices": ["plc-1", "temp-7"]}, "factory-b": {"devices": ["temp-9"]}}

req(role, action, device_id, device_type) := {
	"action": action,
	"site": "factory-a",
	"user": {"name": "u", "role": role},
	"device": {"id": device_id, "type": device_type},
}

test_operator_collects_from_listed_sensor if {
	authz.allow with input as req("operator", "collect", "temp-7", "sensor") with data.edgefleet.sites as sites
}

test_default_deny_empty_input if {
	not authz.allow with input as {} with data.edgefleet.sites as sites
}

test_viewer_cannot_collect if {
	d := authz.decision with input as req("viewer", "collect", "temp-7", "sensor") with data.edgefleet.sites as sites
	d == {"allow": false, "reasons": {"role \"viewer\" may not \"collect\""}}
}

test_operator_cannot_collect_from_actuator if {
	not authz.allow with input as req("operator", "collect", "plc-1", "actuator") with data.edgefleet.sites as sites
}

test_viewer_reads if {
	authz.allow with input as req("viewer", "read", "plc-1", "actuator") with data.edgefleet.sites as sites
}

test_operator_reads if {
	authz.allow with input as req("operator", "read", "temp-7", "sensor") with data.edgefleet.sites as sites
}

test_viewer_cannot_write if {
	d := authz.decision with input as req("viewer", "write", "temp-7", "sensor") with data.edgefleet.sites as sites
	not d.allow
}

test_device_of_another_site_refused if {
	d := authz.decision with input as req("operator", "collect", "temp-9", "sensor") with data.edgefleet.sites as sites
	d == {"allow": false, "reasons": {"device is not on the site's allow-list"}}
}

test_unknown_site_refused if {
	inp := object.union(req("operator", "collect", "temp-7", "sensor"), {"site": "nowhere"})
	not authz.allow with input as inp with data.edgefleet.sites as sites
}

test_no_data_refuses if {
	not authz.allow with input as req("operator", "collect", "temp-7", "sensor") with data.edgefleet.sites as {}
}

test_allowed_decision_has_no_reasons if {
	d := authz.decision with input as req("operator", "collect", "temp-7", "sensor") with data.edgefleet.sites as sites
	d == {"allow": true, "reasons": set()}
}

test_viewer_read_decision_has_no_reasons if {
	d := authz.decision with input as req("viewer", "read", "plc-1", "actuator") with data.edgefleet.sites as sites
	d == {"allow": true, "reasons": set()}
}
