# Application authorization for the factory trackers, served by the per-site
# OPA and queried by trackers at POST /v1/data/edgefleet/authz/decision.
#
# Input: {"action": "collect"|"read", "site": "<site>",
#         "user": {"name": ..., "role": "operator"|"viewer"},
#         "device": {"id": ..., "type": "sensor"|...}}
# Data:  data.edgefleet.sites["<site>"].devices: the device ids allowed at a
#        site (shipped with the site's OPA, so the list works offline).
package edgefleet.authz

default allow := false

allow if {
	role_permits
	device_allowed
}

read_actions := {"read"}

read_roles := {"viewer", "operator"}

device_allowed if input.device.id in data.edgefleet.sites[input.site].devices

# Why a request was refused, for logs and for the tracker's error reply.
reasons contains "device is not on the site's allow-list" if not device_allowed

reasons contains sprintf("role %q may not %q", [input.user.role, input.action]) if not role_permits

# The factory case's rule: operators collect from sensors (and, added above,
# only from devices on the site's allow-list).
role_permits if {
	input.action == "collect"
	input.user.role == "operator"
	input.device.type == "sensor"
}

# Read-only access for viewers, and for operators, who need to see what they
# collect.
role_permits if {
	input.action in read_actions
	input.user.role in read_roles
}

decision := {"allow": allow, "reasons": reasons}
