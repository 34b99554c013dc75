// Command httpbaseline is the baseline of bench/http-wrk.sh: a plain Go
// net/http server answering as wbox's HTTP boxes do (http-go's text echo
// under /go, http-hello's JSON echo elsewhere), so wrk can compare a box
// behind wbox's http driver with the same bytes served natively.
//
//	go run ./bench/httpbaseline 127.0.0.1:9000
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	addr := "127.0.0.1:9000"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(hello), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func hello(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if rest, ok := strings.CutPrefix(r.URL.Path, "/go"); ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "%s %s x-hello=%s body=%d:%s", r.Method, rest, r.Header.Get("x-hello"), len(body), body[:min(len(body), 64)])
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"method": r.Method, "path": r.URL.Path, "query": "", "host": r.Host,
		"header": nil, "length": len(body), "body": string(body),
	})
}
