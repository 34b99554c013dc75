package kv

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

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
type jsStore struct {
	kv jetstream.KeyValue
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
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      name,
		Description: "wbox kv driver " + driver,
		History:     1,
		Replicas:    max(1, replicas),
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("JetStream bucket %s: %w", name, err)
	}
	return &jsStore{kv: kv}, nil
}

var enc = base64.RawURLEncoding

func jsPrefix(ns, bucket string) string {
	return enc.EncodeToString([]byte(ns)) + "." + enc.EncodeToString([]byte(bucket)) + "."
}

func jsKey(ns, bucket, key string) string { return jsPrefix(ns, bucket) + enc.EncodeToString([]byte(key)) }

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

// entry returns key's value and revision (had false when absent).
func (s *jsStore) entry(ctx context.Context, k string) (casState, error) {
	e, err := s.kv.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return casState{}, nil
	}
	if err != nil {
		return casState{}, err
	}
	v := e.Value()
	if v == nil {
		v = []byte{}
	}
	return casState{had: true, val: v, rev: e.Revision()}, nil
}

// write stores val under k if k is still as seen (absent, or at seen.rev).
func (s *jsStore) write(ctx context.Context, k string, seen casState, val []byte) error {
	var err error
	if seen.had {
		_, err = s.kv.Update(ctx, k, val, seen.rev)
	} else {
		_, err = s.kv.Create(ctx, k, val)
	}
	return err
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
	_, err := s.kv.Put(ctx, jsKey(ns, bucket, key), val)
	return err
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
		err = s.kv.Delete(ctx, k, jetstream.LastRevision(c.rev))
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
	lister, err := s.kv.ListKeysFiltered(ctx, prefix+">")
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
