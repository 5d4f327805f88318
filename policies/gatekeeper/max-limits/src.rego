# A Pod's limits must fit one node of the site's size class: the sum of its
# containers' limits, and each init container's limits (init containers run one
# at a time), at most the node's allocatable CPU and memory. Missing or
# malformed limits are the required-resources policy's business.
package edgefleetmaxlimits

spec := input.review.object.spec

cpu_millis(q) := q * 1000 if is_number(q)

cpu_millis(q) := units.parse(q) * 1000 if is_string(q)

memory_mib(q) := q / 1048576 if is_number(q)

memory_mib(q) := units.parse(q) / 1048576 if is_string(q)

total_cpu := sum([cpu_millis(c.resources.limits.cpu) | some c in spec.containers])

total_memory := sum([memory_mib(c.resources.limits.memory) | some c in spec.containers])

violation contains {"msg": msg} if {
	total_cpu > input.parameters.maxCpuMillis
	msg := sprintf("containers limit %vm CPU in total; a %s node allows at most %vm", [total_cpu, input.parameters.sizeClass, input.parameters.maxCpuMillis])
}

violation contains {"msg": msg} if {
	total_memory > input.parameters.maxMemoryMiB
	msg := sprintf("containers limit %vMi memory in total; a %s node allows at most %vMi", [total_memory, input.parameters.sizeClass, input.parameters.maxMemoryMiB])
}

violation contains {"msg": msg} if {
	some c in spec.initContainers
	cpu := cpu_millis(c.resources.limits.cpu)
	cpu > input.parameters.maxCpuMillis
	msg := sprintf("init container %q limits %vm CPU; a %s node allows at most %vm", [c.name, cpu, input.parameters.sizeClass, input.parameters.maxCpuMillis])
}

violation contains {"msg": msg} if {
	some c in spec.initContainers
	memory := memory_mib(c.resources.limits.memory)
	memory > input.parameters.maxMemoryMiB
	msg := sprintf("init container %q limits %vMi memory; a %s node allows at most %vMi", [c.name, memory, input.parameters.sizeClass, input.parameters.maxMemoryMiB])
}
