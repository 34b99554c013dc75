package kv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/kernel"
)

func TestNamespacesAndPersistence(t *testing.T) {
	dir := t.TempDir()
	n, err := New(kernel.DriverSpec{Name: "kv", Kind: Kind, Settings: map[string]any{"file": "kv.json"}}, kernel.DriverEnv{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	d := n.(*Driver)
	if err := d.Set("a", "k", "1"); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := d.Get("b", "k"); ok {
		t.Fatalf("box b sees box a's key: %q", v)
	}
	if v, ok, _ := d.Get("a", "k"); !ok || v != "1" {
		t.Fatalf("get = %q %v", v, ok)
	}
	if ok, _ := d.Delete("a", "nope"); ok {
		t.Fatal("deleted a missing key")
	}
	d.Set("a", "j", "2")
	if ok, _ := d.Delete("a", "j"); !ok {
		t.Fatal("delete failed")
	}
	// A new driver on the same file sees the data.
	n2, _ := New(kernel.DriverSpec{Name: "kv", Kind: Kind, Settings: map[string]any{"file": "kv.json"}}, kernel.DriverEnv{DataDir: dir})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- n2.Run(ctx) }()
	if v, ok, err := n2.(*Driver).Get("a", "k"); !ok || v != "1" || err != nil {
		t.Fatalf("after reload: %q %v %v", v, ok, err)
	}
	if _, ok, _ := n2.(*Driver).Get("a", "j"); ok {
		t.Fatal("deleted key came back")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "kv.json")); err != nil {
		t.Fatal(err)
	}
}

func TestSettings(t *testing.T) {
	for settings, want := range map[string]map[string]any{
		"unknown setting \"flie\"":  {"flie": "x"},
		"relative file name":        {"file": "../x"},
		"relative file name inside": {"file": "/etc/x"},
	} {
		if _, err := New(kernel.DriverSpec{Name: "kv", Kind: Kind, Settings: want}, kernel.DriverEnv{}); err == nil || !strings.Contains(err.Error(), settings) {
			t.Errorf("%v: err = %v", want, err)
		}
	}
	n, err := New(kernel.DriverSpec{Name: "kv", Kind: Kind}, kernel.DriverEnv{})
	if err != nil {
		t.Fatal(err)
	}
	if it := n.Exports()[Interface]; it == nil || it.Func("get") == nil || it.Func("set") == nil || it.Func("delete") == nil {
		t.Fatalf("exports = %+v", n.Exports())
	}
}
