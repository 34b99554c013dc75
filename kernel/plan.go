package kernel

// Plan is what a deploy changes on a node, computed by the linker as the
// difference between a desired Spec and what the kernel runs (Snapshot).
// The kernel applies it all or nothing: if any new or restarted task fails
// to start, everything it started is stopped again and the old tasks keep
// serving.
type Plan struct {
	// Start are boxes that do not run yet.
	Start []BoxSpec
	// Restart are boxes whose component, config, limits, instances or WASI
	// grants changed: they are replaced by new instances.
	Restart []BoxSpec
	// Rewire are boxes whose arrows alone changed: their arrows are swapped
	// in place and they keep running.
	Rewire []BoxSpec
	// Stop are boxes to stop.
	Stop []string
	// Keep are boxes that stay untouched.
	Keep []string

	StartDrivers   []DriverSpec
	RestartDrivers []DriverSpec
	StopDrivers    []string
	KeepDrivers    []string

	// Reasons explains each action by task name, e.g. "component changed
	// sha256:ab.. -> sha256:cd..".
	Reasons map[string]string
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool {
	return len(p.Start)+len(p.Restart)+len(p.Rewire)+len(p.Stop)+
		len(p.StartDrivers)+len(p.RestartDrivers)+len(p.StopDrivers) == 0
}
