// Package kv is wbox's key-value driver: a kernel.Native task keeping its
// data in one bbolt database (go.etcd.io/bbolt) in the driver's data
// directory, or in a cluster's JetStream (below), and exporting
//
//   - wasi:keyvalue/store, atomics and batch @0.2.0-draft2, the standard
//     interfaces (WIT in wit/deps/wasi-keyvalue);
//   - wbox:kv/store@0.1.0 (wit/wbox-kv.wit), wbox's small string store,
//     which reads and writes the bucket "default" of the same data.
//
// # Namespaces and buckets
//
// Every box holding an arrow to the driver gets its own namespace; the
// setting namespaces puts several boxes in one shared namespace. Inside a
// namespace, open(identifier) gives the bucket of that name (1 to 255
// bytes; created on its first write). In the file, a namespace is a
// top-level bbolt bucket ("box/NAME" or "shared/NAME") holding a nested
// bucket per identifier.
//
//	drivers:
//	  kv:
//	    kind: kv
//	    file: kv.db                      # optional, the default
//	    namespaces: {shop: [web, worker]} # optional
//
// # Semantics
//
// increment stores the number as its decimal ASCII text, so a plain get
// of a counter returns "5" (and increment of a value that is not a decimal
// integer fails). A cas remembers the value cas.new saw; swap stores the
// new value only if the key still holds exactly that value (or is still
// absent), else it fails with cas-failed and a new cas at the current
// value. Comparing values, not versions, means a key changed and changed
// back (A → B → A) is not a conflict. Batches are not atomic as a whole, as
// the WIT allows, but each runs in one transaction.
//
// The bucket resource belongs to the store interface; atomics and batch
// take borrows of it, so a box's three wasi:keyvalue arrows must go to the
// same kv driver: a handle from another driver fails the call with an
// error saying so. Handles live in per-instance tables, found through the
// instance's own bucket type (dropped with the instance).
//
// # Durability and speed
//
// A write returns once its transaction is committed and fsync'd: every
// acknowledged write survives a crash. Writes are group-committed: one
// writer goroutine runs all writes queued while the previous commit was
// syncing in one transaction, so concurrent writers share an fsync
// (bench/kv_test.go measures it against raw bbolt). Reads are bbolt read
// transactions, concurrent with each other and the writer.
//
// Limits: keys up to MaxKeyBytes, values up to MaxValueBytes, batches up
// to MaxBatchKeys keys; larger ones fail with an error naming the limit.
//
// # Backend jetstream
//
// The setting backend: jetstream (jetstream.go) keeps the data in a
// JetStream key-value bucket, wbox_kv_<driver>, so that the driver can run
// on every node of a cluster and a box that moves after a failover reads
// the same data. The JetStream handle comes from the node through
// NewFactory(Options{JetStream, Replicas}) (cmd/wbox registers it on
// cluster nodes); New, the factory of a node alone, refuses the setting.
// A key K of bucket B in namespace NS is the JetStream key
// E(NS).E(B).E(K), E being unpadded base64url. Reads take a key's last
// message from the bucket's stream; writes publish with the key's expected
// revision and a message ID, retried while JetStream elects a stream
// leader. So increment and cas are revision-checked (A → B → A is a
// conflict here); batches are loops. Keys are limited to
// MaxJetStreamKeyBytes (they travel in a NATS subject), values to
// MaxJetStreamValueBytes.
//
// The driver owns its database file (or its JetStream bucket) and nothing
// else; it must not import the linker or nodes.
package kv
