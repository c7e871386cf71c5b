package server

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/cairnlabs/cairn/internal/memgen"
)

// BenchmarkRemember is store.BenchmarkPut through the API: POST
// /v1/memories over keep-alive connections, into an empty store, at 1 and
// 8 clients. Its profile against the store's says what HTTP adds.
func BenchmarkRemember(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			ts, _ := newAPI(b)
			gen := memgen.New(1)
			bodies := make([]string, b.N)
			for i := range bodies {
				bodies[i] = fmt.Sprintf(`{"text":%q,"tags":["bench"]}`, gen.Text())
			}
			var next sync.Mutex
			i := 0
			b.ResetTimer()
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					for {
						next.Lock()
						if i >= b.N {
							next.Unlock()
							return
						}
						body := bodies[i]
						i++
						next.Unlock()
						if code, resp := call(b, ts, http.MethodPost, "/v1/memories", body); code != http.StatusCreated {
							b.Errorf("%d %s", code, resp)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
		})
	}
}
