package wasmhost_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost"
)

func TestScratch(t *testing.T) {
	ctx := context.Background()
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	files, _ := filepath.Glob("/work/shared/fixtures/components/*.wasm")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		c, err := rt.Load(ctx, b)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		t.Logf("%s:\n%s", f, c.World().WIT())
	}
	b, _ := os.ReadFile("/work/shared/fixtures/components/adder.component.wasm")
	c, err := rt.Load(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := c.Instantiate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := inst.Func("docs:adder/add@0.1.0#add")
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.Call(ctx, uint32(2), uint32(3))
	t.Log(res, err)
}
