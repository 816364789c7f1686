// Command stream-processor-go is the Go implementation of the analytics aggregate stage
// (same contracts and window keys as services/stream-processor). Bootstrap only.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/tessera/tessera/services/stream-processor-go/internal/config"
	"github.com/tessera/tessera/services/stream-processor-go/internal/metrics"
	"github.com/tessera/tessera/services/stream-processor-go/internal/processor"
)

func main() {
	// A LevelVar so PUT /log-level on the metrics port changes it at runtime (pino names, as in Node).
	level := new(slog.LevelVar)
	if l, ok := metrics.ParseLevel(os.Getenv("LOG_LEVEL")); ok {
		level.Set(l)
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level})).With("service", "stream-processor-go")

	cfg, err := config.FromEnv()
	if err != nil {
		log.Error("invalid configuration", "err", err)
		os.Exit(2)
	}
	// SIGTERM (the local runner, Docker) and SIGINT stop polling; the open transaction ends and the
	// group is left cleanly, so the next owner starts from committed offsets at once.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	m := metrics.New()
	if cfg.MetricsAddr != "" {
		metrics.Serve(ctx, cfg.MetricsAddr, m, level, log)
	}
	p, err := processor.New(cfg, log, m)
	if err != nil {
		log.Error("startup failed", "err", err)
		os.Exit(1)
	}
	if err := p.Run(ctx); err != nil {
		log.Error("processor failed", "err", err)
		os.Exit(1)
	}
}
