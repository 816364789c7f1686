// Command stream-processor-go is the Go implementation of the analytics aggregate stage
// (same contracts and window keys as services/stream-processor). Bootstrap only.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/tessera/tessera/services/stream-processor-go/internal/config"
	"github.com/tessera/tessera/services/stream-processor-go/internal/metrics"
	"github.com/tessera/tessera/services/stream-processor-go/internal/processor"
	"github.com/tessera/tessera/services/stream-processor-go/internal/tracing"
	"go.opentelemetry.io/otel/trace"
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

	// Spans: OTEL_TRACES_EXPORTER etc., validated by config.FromEnv (internal/tracing).
	tp, err := tracing.NewProvider(ctx, cfg.Tracing, tracing.Options{})
	if err != nil {
		log.Error("invalid configuration", "err", err)
		os.Exit(2)
	}
	tracing.Install(tp, log)
	log.Info("tracing", "exporters", cfg.Tracing.Exporters, "sampler", cfg.Tracing.Sampler)

	m := metrics.New()
	if cfg.MetricsAddr != "" {
		metrics.Serve(ctx, cfg.MetricsAddr, m, level, log)
	}
	stopProfile := startCPUProfile(cfg.CPUProfile, log)
	code := run(ctx, cfg, log, m, tp)
	stopProfile()
	// Flush the spans still batched (the last transactions') before exiting, bounded so a dead collector
	// cannot hold the shutdown.
	flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := tp.Shutdown(flushCtx); err != nil {
		log.Warn("flushing spans failed", "err", err)
	}
	cancel()
	if code != 0 {
		os.Exit(code)
	}
}

func run(ctx context.Context, cfg *config.Config, log *slog.Logger, m *metrics.Metrics, tp trace.TracerProvider) int {
	p, err := processor.New(cfg, log, m, tp)
	if err != nil {
		log.Error("startup failed", "err", err)
		return 1
	}
	if err := p.Run(ctx); err != nil {
		log.Error("processor failed", "err", err)
		return 1
	}
	return 0
}

// startCPUProfile writes a pprof CPU profile of the run to file (go tool pprof -top <binary> <file>); the returned
// function ends it. Nothing when file is "".
func startCPUProfile(file string, log *slog.Logger) func() {
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		log.Warn("no CPU profile", "file", file, "err", err)
		return func() {}
	}
	log.Info("writing a CPU profile", "file", file)
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}
