package kernel

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"sort"
	"strings"
)

// Fingerprint identifies what a running box is made of: its component
// digest, config, limits, instances, restart policy, WASI and HTTP grants
// and instancing (Fresh), but not its arrows (see ArrowsFingerprint). Two
// specs with the same fingerprint run the same instances; a changed
// fingerprint means the box must be restarted, a changed ArrowsFingerprint
// alone that it can be rewired in place. Limits and Instances are hashed as given, so a changed
// kernel default does not restart anything.
func Fingerprint(b BoxSpec) string {
	h := sha256.New()
	field(h, "digest", specDigest(b))
	keys := make([]string, 0, len(b.Config))
	for k := range b.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field(h, "config", k, b.Config[k])
	}
	field(h, "instances", fmt.Sprint(max(b.Instances, 1)))
	field(h, "limits", fmt.Sprint(b.Limits.MemoryBytes), b.Limits.CallTimeout.String(), fmt.Sprint(b.Limits.MaxInFlight))
	field(h, "restart", b.Restart.Mode, b.Restart.Backoff.String(), b.Restart.MaxBackoff.String())
	w := b.WASI
	field(h, "stdio", fmt.Sprint(w.Stdout), fmt.Sprint(w.Stderr))
	keys = keys[:0]
	for k := range w.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field(h, "env", k, w.Env[k])
	}
	field(h, "args", w.Args...)
	for _, d := range w.Dirs {
		field(h, "dir", d.HostDir, d.GuestPath, fmt.Sprint(d.ReadOnly))
	}
	// Hashed only when set, so boxes without them keep their fingerprint.
	if len(b.HTTP.Allow) > 0 {
		allow := append([]string(nil), b.HTTP.Allow...)
		sort.Strings(allow)
		field(h, "http-allow", allow...)
	}
	if b.Fresh != nil {
		field(h, "fresh", fmt.Sprint(*b.Fresh))
	}
	return sum(h)
}

// ArrowsFingerprint identifies a box's arrows, in any order.
func ArrowsFingerprint(b BoxSpec) string {
	as := append([]Arrow(nil), b.Arrows...)
	sort.Slice(as, func(i, j int) bool { return as[i].Import < as[j].Import })
	h := sha256.New()
	for _, a := range as {
		field(h, "arrow", a.Import, a.Target, a.Export)
	}
	return sum(h)
}

// DriverFingerprint identifies a driver's kind and settings.
func DriverFingerprint(d DriverSpec) string {
	h := sha256.New()
	field(h, "kind", d.Kind)
	settings, err := json.Marshal(d.Settings) // sorts map keys
	if err != nil {
		settings = fmt.Appendf(nil, "%#v", d.Settings)
	}
	field(h, "settings", string(settings))
	return sum(h)
}

// field hashes a named list of strings unambiguously (length-prefixed).
func field(h hash.Hash, name string, vals ...string) {
	fmt.Fprintf(h, "%d:%s%d", len(name), name, len(vals))
	for _, v := range vals {
		fmt.Fprintf(h, ",%d:%s", len(v), v)
	}
	h.Write([]byte{';'})
}

func sum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)[:16]) }

// specDigest is the content address of a box's component: Digest, else the
// loaded component's, else the hash of Wasm.
func specDigest(b BoxSpec) string {
	switch {
	case b.Digest != "":
		return b.Digest
	case b.Component != nil:
		return b.Component.Digest()
	case b.Wasm != nil:
		s := sha256.Sum256(b.Wasm)
		return "sha256:" + hex.EncodeToString(s[:])
	}
	return ""
}

func shortDigest(d string) string {
	if rest, ok := strings.CutPrefix(d, "sha256:"); ok && len(rest) > 12 {
		return "sha256:" + rest[:12]
	}
	return d
}
