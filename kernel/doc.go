// Package kernel runs boxes and arrows on one node: it is wbox's
// microkernel.
//
// A Task is anything with exports the kernel can call: a component box (a
// pool of wasmhost instances) or a native Go task (a driver or
// multiplexer). An Arrow is a capability held by an importing box: the only
// way its import reaches another task's export. Calls across arrows on one
// node stay in process.
//
// The kernel owns tasks, their supervision (restart with backoff), quotas
// (memory, per-call deadline, calls in flight), arrows and the event log. It
// applies a Plan computed by package linker; it knows nothing of YAML,
// topology files or NATS, and must not import linker or nodes.
package kernel
