// Package testnats holds what tests that run embedded NATS servers share.
package testnats

import "go.uber.org/goleak"

// LeakOptions are the goroutines of nats-server 2.12.1 that outlive a
// server's Shutdown, for goleak.VerifyTestMain. The JetStream meta group of
// a clustered server that never saw a route (a seed alone, or one refused)
// returns from raft.run before its write-ahead log is stopped, so the log's
// flushers (and the access-time ticker it registered) keep running. Nothing
// of ours.
var LeakOptions = []goleak.Option{
	goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server.(*fileStore).flushStreamStateLoop"),
	goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server.(*msgBlock).flushLoop"),
	goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server/ats.Register.func1"),
}
