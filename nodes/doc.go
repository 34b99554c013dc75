// Package nodes makes wbox nodes one system over NATS: the embedded NATS
// server, the cluster token, membership, and remote arrows (a box on one
// node calling a box on another). NATS is the only network between nodes:
// nothing here does consensus or transport of its own.
//
// Layering: nodes sits above the kernel (it may import kernel and
// wasmhost); the kernel never imports nodes. The kernel sees a remote box
// as a native task (see Remote); a local box is served to the cluster by a
// responder (see Node.Serve).
//
// # NATS
//
// Start runs, by default, an in-process nats-server with JetStream (store
// in DataDir/nats), its client port on 127.0.0.1 (Config.Listen). The node
// talks to it in process (nats.InProcessServer), not over TCP.
//
//   - Single node: nothing to configure. JetStream runs standalone.
//   - Cluster: the first node accepts routes (Config.ClusterListen, CLI
//     --cluster-listen); the others Join its route URL (--join
//     nats://host:port, repeatable: list several nodes, so a restarted
//     node finds the cluster while one of them is down). Every embedded
//     server then runs JetStream clustered: the meta group needs a
//     majority of the servers that ever joined, so JetStream state is
//     fault tolerant from three nodes on (two nodes tolerate no loss; a
//     seed alone has no JetStream until a second node joins). Core NATS —
//     membership and remote calls — needs no quorum and keeps working on
//     any connected part of the cluster.
//   - External: --nats URL uses an existing NATS cluster and starts no
//     server (credentials: the token, or --creds).
//
// A seed routes to itself: nats-server refuses clustered JetStream without
// a configured route, and recognizes and drops a route to itself.
//
// # Token
//
// One shared secret, the cluster token, guards the cluster: clients of
// every embedded server must present it (NATS token auth), and routes
// between servers authenticate with it (user "wbox", the token as
// password). A node that joins nobody creates DataDir/cluster.token (mode
// 0600, 256 random bits) the first time; a node that joins must be given it
// (--token, $WBOX_CLUSTER_TOKEN or --token-file) and stores it in its own
// data directory for its restarts. A server given the wrong token is
// refused by the others: Start fails with ErrRefused (the refused route
// is recognized in the server's log), and it never appears among their
// routes or members.
//
// # Membership
//
// Every node publishes a heartbeat (JSON: name, a per-run ID, labels,
// capacity, the boxes it serves, its addresses, its interval) on
// wbox.<cluster>.members.beat.<name> every Config.Heartbeat (1s), and at
// once when what it serves changes. A member silent for MissedBeats (3) of
// its own intervals is lost; a node that closes says bye and is forgotten
// at once; a starting node says hello and everyone beats, so it knows the
// cluster within a round trip (a node that joins waits for that: hearing a
// member proves its route works both ways). Node.Members is this node's
// view, Node.Where(box) the members serving a box, Node.MembersChanged
// signals changes. Heartbeats are core NATS, not a JetStream KV with TTL:
// membership must work without a JetStream quorum (two nodes, or the
// majority side lost), which is exactly when failover needs it. Liveness is
// judged on the receiver's clock only. Routes ping every second (three
// missed pings close them), so a vanished server's subscriptions leave the
// cluster within seconds too.
//
// # Cluster state
//
// Component binaries live in the JetStream object store wbox_components,
// named by the hex of their sha256 digest (Node.PutComponent,
// Node.Component: fetched on demand, checked against the digest, cached in
// DataDir/components). Jobs only one node may do (the reconciler) take a
// lease in the KV bucket wbox_leases (Node.Campaign): the key holds the
// holder's name, is renewed every third of LeaseTTL with a compare-and-set
// on its revision, and expires LeaseTTL after the last renewal (the
// bucket's TTL), so a dead holder is replaced within about LeaseTTL plus a
// poll. JetStream state needs a majority of the servers: a minority side of
// a partition can neither take nor keep a lease. Both stores are replicated
// on three servers once the cluster has three (Config.Replicas).
//
// # Desired state, placement, reconciler
//
// The KV bucket wbox_state holds the cluster's desired state: key
// deployment (a Deployment: the topology's text, its components' digests,
// its Tasks as placement sees them, who deployed it when; the bucket keeps
// DeploymentHistory revisions: Node.Deployments) and key assignment (an
// Assignment: the nodes each task runs on, and why). Node.Deploy stores a
// deployment; every write is announced on wbox.<cluster>.state.changed
// (Node.StateChanged). The bucket, like the leases bucket, is created by
// the first deployment, so it gets as many replicas as the cluster has
// then; buckets are only ever created by nodes, never updated (a node that
// just started knows few members and would shrink them), and the
// reconciler grows their replicas up to three as the cluster grows.
//
// Place is the placement: a pure, deterministic function of the tasks, the
// live members and the previous assignment (pins and labels, capacity,
// instances spread over nodes, boxes beside the drivers they are bound
// to, sticky: nothing moves back when a member returns). Node.Reconcile
// runs on every node; the one holding the lease ReconcilerLease places the
// deployment whenever it, the members or the routes change, and writes the
// assignment with a compare-and-set. Node.LiveMembers is the members minus
// those whose server's route to this one closed (a killed process is
// noticed at once, not after three heartbeats). The reconciler asks
// JetStream to move the leaders of the state and leases streams to its
// own server, so another node's death never stalls its writes while those
// streams elect a leader. Applying an assignment (a node's kernel running
// its share, stand-ins for the rest) is the CLI's: cmd/wbox/cluster.go.
//
// # Remote arrows
//
// An arrow whose target runs on another node crosses NATS, one
// request-reply per call. The importing node's kernel runs a stand-in for
// the remote box: a native task of kind RemoteKind (Node.RemoteDriver,
// type Remote) named like the box, so the arrows to the box do not change
// when it moves between nodes. Its Bind gives every function of the
// interface a host function that encodes the arguments (package
// nodes/internal/wire: wRPC's component-model value encoding), sends them
// to the function's subject and decodes the results. The node that runs
// the box answers with Node.Serve, which calls the box through its kernel
// (kernel.Kernel.Call). Local arrows never touch NATS.
//
//	subject  wbox.<cluster>.call.<box>.<interface>.<function>
//	         (dots inside a name written '_': one token per name)
//	queue    wbox.call.<box>: several nodes serving one box share its calls
//	headers  Wbox-Deadline  the caller's deadline, Unix nanoseconds; the
//	                        callee runs the call with it
//	         Wbox-Chain     boxes the call came through (A → B → A is
//	                        refused as kernel.ErrReentrant, not deadlocked)
//	body     the parameters, encoded one after the other
//	answer   the results, encoded one after the other; or an error: header
//	         Wbox-Error (the kernel error kind: "trap", "overloaded", ...),
//	         Wbox-Node (who answered), body the message
//
// Errors of remote calls are *kernel.TaskError with a *RemoteError inside:
// ErrUnreachable (NATS knows no responder: the node is gone or the box is
// placed nowhere; reported at once, kernel.ErrUnavailable), ErrTimeout (no
// answer before the deadline; kernel.ErrCancelled), ErrRemote (the remote
// kernel's error, with its kind: errors.Is(err, kernel.ErrTrap) works
// across nodes), ErrWire (bad values; nothing was sent).
//
// Limits, waiting on the kernel:
//   - A box whose call through a remote arrow fails traps, and the kernel
//     fails and restarts it (the kernel recognizes only its own forwarders'
//     errors as ErrArrow; natively bound functions can only trap).
//   - Wbox-Chain holds the boxes a call crossed nodes through, plus the
//     box calling the stand-in; boxes the call passed through locally
//     before that are not known (the kernel's call chain is private), so
//     A → C (local) → B (remote) → A is not recognized.
//   - Resources cannot cross nodes (as they cannot cross box arrows yet).
//
// # TLS
//
// With Config.TLSCert, TLSKey and TLSCA (--tls-cert, --tls-key, --tls-ca)
// every listener of the embedded server — clients, routes, leaf nodes —
// requires TLS and a client certificate signed by the cluster CA, and the
// node checks every server it connects to (routes, hubs, --nats) against
// the CA and the name TLSServerName, which every node certificate
// carries: a certificate vouches for "a node of this cluster", not for an
// address (home nodes move). NewCA and NewNodeCert (`wbox certs`) make
// them. The token is still required on top. The node's own connection to
// its server is in process and skips TLS.
//
// # Leaf nodes
//
// An edge node behind NAT cannot accept routes. It connects out instead,
// as a NATS leaf node, to a hub that listens for leaf nodes
// (Config.LeafListen, --leaf-listen; Config.Leaf, --leaf on the edge),
// authenticated like a route (the token; TLS when configured). Core NATS
// crosses the leaf connection both ways, so membership and remote arrows
// work as between routed nodes. The edge's server runs no JetStream: its
// cluster state (component store, leases) is the hub cluster's JetStream,
// reached through the JetStream domain every embedded server declares
// (the cluster's name). Leaf and Join exclude each other.
package nodes
