package edgefleetrequiredlabels

params := {"labels": ["app.kubernetes.io/name", "app.kubernetes.io/part-of"]}

review(labels) := {"parameters": params, "review": {"object": {"kind": "Pod", "metadata": {"labels": labels}}}}

test_labelled_compliant if {
	count(violation) == 0 with input as review({"app.kubernetes.io/name": "tracker", "app.kubernetes.io/part-of": "edgefleet"})
}

test_missing_and_empty_labels if {
	v := violation with input as review({"app.kubernetes.io/name": ""})
	count(v) == 2
}

test_no_metadata if {
	count(violation) == 2 with input as {"parameters": params, "review": {"object": {"kind": "Pod"}}}
}
