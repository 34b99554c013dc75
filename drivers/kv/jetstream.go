package kv

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// MaxJetStreamKeyBytes is the longest key the JetStream backend takes: its
// key travels base64url-encoded in a NATS subject, whose length the server
// bounds (4 KiB by default).
const MaxJetStreamKeyBytes = 2048

// MaxJetStreamValueBytes is the largest value the JetStream backend takes:
// a message, with its headers, must fit the server's max_payload (1 MiB by
// default).
const MaxJetStreamValueBytes = MaxValueBytes - 8<<10

// jsStore keeps a kv driver's data in one JetStream key-value bucket,
// wbox_kv_<driver>. A wasi:keyvalue key k in bucket b of namespace ns is
// the JetStream key E(ns).E(b).E(k), E being unpadded base64url, so any
// bytes fit the keys JetStream allows ([-/_=.a-zA-Z0-9]).
//
// Reads and writes go to the bucket's stream directly: a read takes the
// key's last message (value and revision, or a delete marker); a write is
// a message with the expected last revision of its key and a message ID,
// so that a write retried while JetStream elects a new stream leader (a
// node died) is stored once (the stream's duplicate window is 2 minutes).
type jsStore struct {
	kv     jetstream.KeyValue
	js     jetstream.JetStream
	stream jetstream.Stream
	subj   string // "$KV.<bucket>."
}

// jsBucketName is the JetStream bucket of driver name: JetStream bucket
// names allow [-_a-zA-Z0-9], anything else becomes '_'.
func jsBucketName(driver string) string {
	b := []byte("wbox_kv_" + driver)
	for i, c := range b {
		if !(c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

func openJetStream(ctx context.Context, js jetstream.JetStream, driver string, replicas int) (*jsStore, error) {
	name := jsBucketName(driver)
	// Every node's driver opens the bucket: the first creates it. Create
	// only, as the cluster's own state: never shrink an existing bucket
	// (a node may count fewer servers than the one that created it).
	kv, err := retrying(ctx, func(ctx context.Context) (jetstream.KeyValue, error) {
		for {
			kv, err := js.KeyValue(ctx, name)
			if !errors.Is(err, jetstream.ErrBucketNotFound) {
				return kv, err
			}
			kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
				Bucket:      name,
				Description: "wbox kv driver " + driver,
				History:     1,
				Replicas:    max(1, replicas),
				Storage:     jetstream.FileStorage,
			})
			if !errors.Is(err, jetstream.ErrBucketExists) {
				return kv, err
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("JetStream bucket %s: %w", name, err)
	}
	stream, err := retrying(ctx, func(ctx context.Context) (jetstream.Stream, error) { return js.Stream(ctx, "KV_"+name) })
	if err != nil {
		return nil, fmt.Errorf("JetStream bucket %s: its stream: %w", name, err)
	}
	return &jsStore{kv: kv, js: js, stream: stream, subj: "$KV." + name + "."}, nil
}

var enc = base64.RawURLEncoding

func jsPrefix(ns, bucket string) string {
	return enc.EncodeToString([]byte(ns)) + "." + enc.EncodeToString([]byte(bucket)) + "."
}

func jsKey(ns, bucket, key string) string {
	return jsPrefix(ns, bucket) + enc.EncodeToString([]byte(key))
}

func checkJSKey(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if len(key) > MaxJetStreamKeyBytes {
		return fmt.Errorf("key of %d bytes: keys are at most %d bytes with backend jetstream", len(key), MaxJetStreamKeyBytes)
	}
	return nil
}

func checkJSValue(v []byte) error {
	if len(v) > MaxJetStreamValueBytes {
		return fmt.Errorf("value of %d bytes: values are at most %d bytes with backend jetstream", len(v), MaxJetStreamValueBytes)
	}
	return nil
}

// conflict reports whether err is JetStream refusing a write because the
// key's revision is not the one expected.
func conflict(err error) bool {
	var api *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) ||
		errors.As(err, &api) && (api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// transient reports whether err may pass by itself: no stream leader for
// a moment (a node died and JetStream elects another), a timeout.
func transient(err error) bool {
	var api *jetstream.APIError
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &api) && (api.Code == 503)
}

// retrying runs f again while it fails transiently, until ctx ends.
func retrying[T any](ctx context.Context, f func(ctx context.Context) (T, error)) (T, error) {
	wait := 50 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		v, err := f(actx)
		cancel()
		if err == nil || !transient(err) || ctx.Err() != nil {
			if err != nil && ctx.Err() != nil {
				err = fmt.Errorf("%w (JetStream: %v)", ctx.Err(), err)
			}
			return v, err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		wait = min(2*wait, time.Second)
	}
}

// entry returns key's value and revision (had false when absent; rev is
// then its delete marker's, or 0 if it never existed).
func (s *jsStore) entry(ctx context.Context, k string) (casState, error) {
	m, err := retrying(ctx, func(ctx context.Context) (*jetstream.RawStreamMsg, error) {
		return s.stream.GetLastMsgForSubject(ctx, s.subj+k)
	})
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return casState{}, nil
	}
	if err != nil {
		return casState{}, err
	}
	if op := m.Header.Get("KV-Operation"); op == "DEL" || op == "PURGE" {
		return casState{rev: m.Sequence}, nil
	}
	v := m.Data
	if v == nil {
		v = []byte{}
	}
	return casState{had: true, val: v, rev: m.Sequence}, nil
}

// publish stores a message for key k (a value, or a delete marker when del)
// expecting k's last revision to be rev (any when rev < 0), retried with
// one message ID while JetStream is electing.
func (s *jsStore) publish(ctx context.Context, k string, val []byte, del bool, rev int64) error {
	id := nats.NewInbox() // (a unique name)
	_, err := retrying(ctx, func(ctx context.Context) (*jetstream.PubAck, error) {
		m := &nats.Msg{Subject: s.subj + k, Data: val, Header: nats.Header{}}
		if del {
			m.Header.Set("KV-Operation", "DEL")
		}
		opts := []jetstream.PublishOpt{jetstream.WithMsgID(id)}
		if rev >= 0 {
			opts = append(opts, jetstream.WithExpectLastSequencePerSubject(uint64(rev)))
		}
		return s.js.PublishMsg(ctx, m, opts...)
	})
	return err
}

// write stores val under k if k is still as seen (at seen.rev).
func (s *jsStore) write(ctx context.Context, k string, seen casState, val []byte) error {
	return s.publish(ctx, k, val, false, int64(seen.rev))
}

func (s *jsStore) get(ctx context.Context, ns, bucket, key string) ([]byte, bool, error) {
	if err := checkJSKey(key); err != nil {
		return nil, false, err
	}
	c, err := s.entry(ctx, jsKey(ns, bucket, key))
	return c.val, c.had, err
}

func (s *jsStore) exists(ctx context.Context, ns, bucket, key string) (bool, error) {
	_, ok, err := s.get(ctx, ns, bucket, key)
	return ok, err
}

func (s *jsStore) set(ctx context.Context, ns, bucket, key string, val []byte) error {
	if err := checkJSKey(key); err != nil {
		return err
	}
	if err := checkJSValue(val); err != nil {
		return err
	}
	return s.publish(ctx, jsKey(ns, bucket, key), val, false, -1)
}

// delete removes key, reporting whether it was there: it deletes the
// revision it read, so "was there" is exact under concurrent writers.
func (s *jsStore) delete(ctx context.Context, ns, bucket, key string) (bool, error) {
	if err := checkJSKey(key); err != nil {
		return false, err
	}
	k := jsKey(ns, bucket, key)
	for {
		c, err := s.entry(ctx, k)
		if err != nil || !c.had {
			return false, err
		}
		err = s.publish(ctx, k, nil, true, int64(c.rev))
		if err == nil {
			return true, nil
		}
		if !conflict(err) {
			return false, err
		}
	}
}

// increment reads the number and its revision and writes the sum at that
// revision, again on a conflict: concurrent increments from any node
// lose nothing.
func (s *jsStore) increment(ctx context.Context, ns, bucket, key string, delta int64) (int64, error) {
	if err := checkJSKey(key); err != nil {
		return 0, err
	}
	k := jsKey(ns, bucket, key)
	for {
		c, err := s.entry(ctx, k)
		if err != nil {
			return 0, err
		}
		var cur int64
		if c.had {
			cur, err = strconv.ParseInt(string(c.val), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("increment %q: %w (it holds %d bytes)", key, ErrNotInteger, len(c.val))
			}
		}
		if (delta > 0 && cur > maxInt64-delta) || (delta < 0 && cur < minInt64-delta) {
			return 0, fmt.Errorf("increment %q: %d + %d overflows a signed 64-bit integer", key, cur, delta)
		}
		n := cur + delta
		err = s.write(ctx, k, c, strconv.AppendInt(nil, n, 10))
		if err == nil {
			return n, nil
		}
		if !conflict(err) {
			return 0, err
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
	}
}

func (s *jsStore) casGet(ctx context.Context, ns, bucket, key string) (casState, error) {
	if err := checkJSKey(key); err != nil {
		return casState{}, err
	}
	return s.entry(ctx, jsKey(ns, bucket, key))
}

func (s *jsStore) casSwap(ctx context.Context, ns, bucket, key string, seen casState, val []byte) (bool, casState, error) {
	if err := checkJSValue(val); err != nil {
		return false, casState{}, err
	}
	k := jsKey(ns, bucket, key)
	err := s.write(ctx, k, seen, val)
	if err == nil {
		return true, casState{}, nil
	}
	if !conflict(err) {
		return false, casState{}, err
	}
	cur, err := s.entry(ctx, k)
	return false, cur, err
}

func (s *jsStore) getMany(ctx context.Context, ns, bucket string, keys []string) ([][]byte, []bool, error) {
	if len(keys) > MaxBatchKeys {
		return nil, nil, fmt.Errorf("%d keys: a batch has at most %d", len(keys), MaxBatchKeys)
	}
	vals, oks := make([][]byte, len(keys)), make([]bool, len(keys))
	for i, k := range keys {
		v, ok, err := s.get(ctx, ns, bucket, k)
		if err != nil {
			return nil, nil, fmt.Errorf("key %q: %w", k, err)
		}
		vals[i], oks[i] = v, ok
	}
	return vals, oks, nil
}

// setMany checks every pair, then stores them one by one: like bbolt's,
// the batch is not atomic as a whole (the WIT allows it), and here a
// failure part way leaves the pairs before it stored.
func (s *jsStore) setMany(ctx context.Context, ns, bucket string, keys []string, vals [][]byte) error {
	if len(keys) > MaxBatchKeys {
		return fmt.Errorf("%d keys: a batch has at most %d", len(keys), MaxBatchKeys)
	}
	for i, k := range keys {
		if err := checkJSKey(k); err != nil {
			return err
		}
		if err := checkJSValue(vals[i]); err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
	}
	for i, k := range keys {
		if err := s.set(ctx, ns, bucket, k, vals[i]); err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
	}
	return nil
}

func (s *jsStore) deleteMany(ctx context.Context, ns, bucket string, keys []string) error {
	if len(keys) > MaxBatchKeys {
		return fmt.Errorf("%d keys: a batch has at most %d", len(keys), MaxBatchKeys)
	}
	for _, k := range keys {
		if err := checkJSKey(k); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if _, err := s.delete(ctx, ns, bucket, k); err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
	}
	return nil
}

// listKeys reads every key of the bucket (JetStream lists by subject, not
// in order), sorts them by bytes and returns the page after cursor, as
// bbolt's does.
func (s *jsStore) listKeys(ctx context.Context, ns, bucket, cursor string) ([]string, string, error) {
	prefix := jsPrefix(ns, bucket)
	lister, err := retrying(ctx, func(context.Context) (jetstream.KeyLister, error) {
		return s.kv.ListKeysFiltered(ctx, prefix+">") // (the lister lives on in ctx)
	})
	if err != nil {
		return nil, "", err
	}
	defer lister.Stop()
	all := []string{}
	for k := range lister.Keys() {
		raw, err := enc.DecodeString(strings.TrimPrefix(k, prefix))
		if err != nil {
			return nil, "", fmt.Errorf("JetStream key %q is not one of ours: %w", k, err)
		}
		if key := string(raw); cursor == "" || key > cursor {
			all = append(all, key)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	slices.Sort(all)
	if len(all) > listPageKeys {
		return all[:listPageKeys], all[listPageKeys-1], nil
	}
	return all, "", nil
}

// close lets go of nothing: the JetStream connection is the cluster's.
func (s *jsStore) close() error { return nil }
