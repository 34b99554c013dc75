package main

import (
	"testing"

	"kv-probe/gen/wasi/keyvalue/store"
)

// The probe's logic is its imports: the kv driver's tests run the built
// component (drivers/kv). This checks only the error text.
func TestErrText(t *testing.T) {
	if got := errText(store.Error{Tag: store.ErrorCaseOther, Other: "disk"}); got != "other: disk" {
		t.Fatalf("errText = %q", got)
	}
}
