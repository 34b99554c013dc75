package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// The kv driver before bbolt kept its data as JSON ({box: {key: value}})
// in the file its setting file named. importLegacy moves such a file
// aside (to NAME.imported) and returns its entries, which Run writes into
// the new database at the same path, in the bucket DefaultBucket of each
// box's namespace: what wbox:kv/store reads. It returns nil, nil when path
// is not such a file.
func importLegacy(path string) (map[string]map[string]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return nil, nil // a bbolt file (or empty): not ours to touch
	}
	var data map[string]map[string]string
	if err := json.Unmarshal(b, &data); err != nil {
		return nil, fmt.Errorf("%s looks like the old driver's JSON but is not: %w", path, err)
	}
	if err := os.Rename(path, path+".imported"); err != nil {
		return nil, err
	}
	return data, nil
}

// writeLegacy stores the entries importLegacy read.
func (d *Driver) writeLegacy(ctx context.Context, st *store, data map[string]map[string]string) error {
	return st.update(ctx, func(tx *bolt.Tx) error {
		for box, kvs := range data {
			b, err := createBucket(tx, d.Namespace(box), DefaultBucket)
			if err != nil {
				return err
			}
			for k, v := range kvs {
				if err := checkKey(k); err != nil {
					return fmt.Errorf("box %q: %w", box, err)
				}
				if err := b.Put([]byte(k), []byte(v)); err != nil {
					return fmt.Errorf("box %q key %q: %w", box, k, err)
				}
			}
		}
		return nil
	})
}
