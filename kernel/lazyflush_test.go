package kernel

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A delayed flush writes the response while the handler still runs; header
// changes after the commit (trailers) reach the client at the end, and no
// flush happens after finish.
func TestLazyFlusher(t *testing.T) {
	flushed := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := &lazyFlusher{ResponseWriter: w}
		defer f.finish()
		f.Header().Set("Content-Type", "text/plain")
		f.WriteHeader(200)
		f.Write([]byte("first;"))
		http.NewResponseController(f).Flush()
		<-flushed // the client read "first;" before the handler ends
		f.Header().Set(http.TrailerPrefix+"X-Done", "yes")
		f.Write([]byte("second"))
		http.NewResponseController(f).Flush()
		http.NewResponseController(f).Flush()
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first;" {
		t.Fatalf("first chunk %q, %v", buf, err)
	}
	close(flushed)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "second" || resp.Trailer.Get("X-Done") != "yes" {
		t.Fatalf("rest %q (%v), trailer %v", rest, err, resp.Trailer)
	}
	// A flush asked for just before finish is dropped, not run later.
	f := &lazyFlusher{ResponseWriter: httptest.NewRecorder()}
	f.Write([]byte("x"))
	f.FlushError()
	f.finish()
	time.Sleep(3 * flushDelay)
	if f.ResponseWriter.(*httptest.ResponseRecorder).Flushed {
		t.Fatal("flushed after finish")
	}
}
