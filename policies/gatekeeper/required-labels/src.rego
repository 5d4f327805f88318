# Every Pod (and, through expansion, every workload's Pod template) carries the
# labels dashboards, NetworkPolicies and PDB selectors rely on.
package edgefleetrequiredlabels

violation contains {"msg": msg} if {
	some key in input.parameters.labels
	object.get(input.review.object, ["metadata", "labels", key], "") == ""
	msg := sprintf("Pod must carry the label %q", [key])
}
