package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/drivers/blob"
	httpdriver "github.com/wbox-dev/wbox/drivers/http"
	"github.com/wbox-dev/wbox/kernel"
)

// BenchmarkStaticSite: GETs of a 1 KiB page and a 1 MiB file over
// 127.0.0.1 with keep-alive, 4 client goroutines, from the static-site box
// (components/static-site, Go) behind the http driver, its files read
// through an arrow from a read-only blob driver: the path `wbox up
// examples/static-site/topology.yaml` runs. Baselines, interleaved with it
// in the same run: nginx (Debian nginx-light, one worker, sendfile; the
// sub-benchmark skips when nginx is not installed) and Go's
// http.FileServer on the same directory. x is wbox-ns/op over base-ns/op.
// bench/static-site.sh measures the same against nginx with wrk.
func BenchmarkStaticSite(b *testing.B) {
	site := b.TempDir()
	small := bytes.Repeat([]byte("<p>static-site vs nginx</p>\n"), 37)[:1024]
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 31)
	}
	os.WriteFile(filepath.Join(site, "index.html"), small, 0o644)
	os.WriteFile(filepath.Join(site, "big.bin"), big, 0o644)

	k := newKernelWith(b, map[string]kernel.DriverFactory{httpdriver.Kind: httpdriver.Factory, blob.Kind: blob.New})
	addr := freeTCPAddr(b)
	err := k.Apply(context.Background(), &kernel.Plan{
		StartDrivers: []kernel.DriverSpec{
			{Name: "files", Kind: blob.Kind, Settings: map[string]any{"dir": site, "readonly": true, "shared": true}},
			{Name: "web", Kind: httpdriver.Kind, Settings: map[string]any{"listen": addr, "routes": []any{map[string]any{"path": "/", "box": "site"}}}},
		},
		Start: []kernel.BoxSpec{{
			Name: "site", Wasm: readComponent(b, "static-site"), Instances: 1,
			Arrows: []kernel.Arrow{{Import: blob.Interface, Target: "files", Export: blob.Interface}},
		}},
	})
	if err != nil {
		b.Fatal(err)
	}
	waitListening(b, addr)
	wbox := "http://" + addr

	gofs := startFileServer(b, site)
	nginx, nginxErr := startNginx(b, site)

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	for _, base := range []struct{ name, url string }{{"nginx", nginx}, {"gofs", gofs}} {
		for _, f := range []struct {
			name, path string
			want       []byte
		}{{"1KiB", "/index.html", small}, {"1MiB", "/big.bin", big}} {
			b.Run(base.name+"/"+f.name, func(b *testing.B) {
				if base.url == "" {
					b.Skipf("nginx: %v", nginxErr)
				}
				for _, u := range []string{base.url, wbox} {
					if got := fetch(b, client, u+f.path); !bytes.Equal(got, f.want) {
						b.Fatalf("%s%s: %d bytes, not the file", u, f.path, len(got))
					}
				}
				load := httpLoad(b, client, 4)
				load(base.url+f.path, 8)
				load(wbox+f.path, 8)
				pair(b, 8, func(n int) { load(base.url+f.path, n) }, func(n int) { load(wbox+f.path, n) })
			})
		}
	}
}

func fetch(b *testing.B, c *http.Client, url string) []byte {
	res, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		b.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	return body
}

func freeTCPAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitListening(b *testing.B, addr string) {
	for deadline := time.Now().Add(20 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("nothing listens on %s: %v", addr, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startFileServer serves dir with http.FileServer and returns its URL.
func startFileServer(b *testing.B, dir string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// startNginx runs nginx (one worker, sendfile, no access log) on dir and
// returns its URL, or "" and why not.
func startNginx(b *testing.B, dir string) (string, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			return "", fmt.Errorf("not installed (apt-get install nginx-light)")
		}
		bin = "/usr/sbin/nginx"
	}
	prefix := b.TempDir()
	addr := freeTCPAddr(b)
	user := ""
	if os.Getuid() == 0 {
		user = "user root;" // its worker must read the test's files
	}
	conf := fmt.Sprintf(`worker_processes 1;
daemon off;
%s
pid %[2]s/nginx.pid;
error_log %[2]s/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  types { text/html html; application/octet-stream bin; }
  client_body_temp_path %[2]s/body;
  proxy_temp_path %[2]s/proxy;
  fastcgi_temp_path %[2]s/fastcgi;
  uwsgi_temp_path %[2]s/uwsgi;
  scgi_temp_path %[2]s/scgi;
  server { listen %[3]s; root %[4]s; }
}
`, user, prefix, addr, dir)
	if err := os.WriteFile(filepath.Join(prefix, "nginx.conf"), []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", prefix, "-c", filepath.Join(prefix, "nginx.conf"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", err
	}
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return "http://" + addr, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("nginx does not listen on %s: %s", addr, strings.TrimSpace(stderr.String()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
