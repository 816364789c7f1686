package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve starts GET /metrics on addr (host:port) and stops it when ctx ends. A port that cannot be
// bound is logged, not fatal, as in libs/telemetry: the processor keeps aggregating without metrics.
// It returns the bound address ("" when listening failed), useful with port 0 in tests.
func Serve(ctx context.Context, addr string, m *Metrics, log *slog.Logger) string {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("metrics endpoint failed to start", "addr", addr, "err", err)
		return ""
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics endpoint stopped", "addr", addr, "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	log.Info("metrics endpoint listening", "addr", ln.Addr().String())
	return ln.Addr().String()
}
