// Package tracing sets up the OpenTelemetry tracer provider of the service from the validated OTEL_*
// configuration (internal/config), with the exporters and sampler libs/telemetry gives the Node services.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/tessera/tessera/services/stream-processor-go/internal/config"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/exporters/zipkin"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ServiceName is service.name unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) says otherwise.
const ServiceName = "stream-processor-go"

// Version is service.version: set at link time (-ldflags "-X .../internal/tracing.Version=1.2.3"), else the
// module version of the build, else "0.0.0" (what the Node services report without npm_package_version).
var Version = ""

// Options are the parts tests replace.
type Options struct {
	// Console is where the console exporter writes (one JSON object per span); default os.Stderr, because
	// stdout carries the service's JSON log lines.
	Console io.Writer
	// Extra span processors (tests: a tracetest.SpanRecorder), beside the configured exporters.
	Extra []sdktrace.SpanProcessor
}

// NewProvider builds the tracer provider: one batching processor per OTLP/Zipkin exporter, a synchronous one
// for console, none for "none" (spans are still created with real ids, as NodeSDK's NoopSpanProcessor keeps
// them). Call Shutdown on the result to flush pending spans before the process exits.
func NewProvider(ctx context.Context, cfg config.Tracing, opts Options) (*sdktrace.TracerProvider, error) {
	res, err := Resource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sampler, err := Sampler(cfg)
	if err != nil {
		return nil, err
	}
	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSampler(sampler)}
	for _, name := range cfg.Exporters {
		switch name {
		case config.ExporterOTLP:
			// The exporter still reads OTEL_EXPORTER_OTLP_(TRACES_)HEADERS / _TIMEOUT / _COMPRESSION itself.
			exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.OTLPEndpoint))
			if err != nil {
				return nil, fmt.Errorf("otlp trace exporter: %w", err)
			}
			tpOpts = append(tpOpts, sdktrace.WithBatcher(exp))
		case config.ExporterZipkin:
			exp, err := zipkin.New(cfg.ZipkinEndpoint)
			if err != nil {
				return nil, fmt.Errorf("zipkin trace exporter: %w", err)
			}
			tpOpts = append(tpOpts, sdktrace.WithBatcher(exp))
		case config.ExporterConsole:
			w := opts.Console
			if w == nil {
				w = os.Stderr
			}
			exp, err := stdouttrace.New(stdouttrace.WithWriter(w))
			if err != nil {
				return nil, fmt.Errorf("console trace exporter: %w", err)
			}
			tpOpts = append(tpOpts, sdktrace.WithSyncer(exp))
		default:
			return nil, fmt.Errorf("trace exporter %q is not supported", name) // config.Load refuses it first
		}
	}
	for _, sp := range opts.Extra {
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(sp))
	}
	return sdktrace.NewTracerProvider(tpOpts...), nil
}

// Install makes tp the global provider and W3C trace context + baggage the global propagator (as NodeSDK
// does), and routes the SDK's own errors (e.g. an unreachable collector) to log, at most one a minute.
func Install(tp *sdktrace.TracerProvider, log *slog.Logger) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	otel.SetErrorHandler(&throttledHandler{log: log, every: time.Minute})
}

// Resource is service.name/service.version/deployment.environment.name plus the SDK's telemetry.sdk.*;
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override them (NodeSDK merges its env detector last too).
func Resource(ctx context.Context, cfg config.Tracing) (*resource.Resource, error) {
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(
			attribute.String("service.name", ServiceName),
			attribute.String("service.version", version()),
			attribute.String("deployment.environment.name", cfg.DeploymentEnvironment),
		),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	return res, nil
}

// Sampler is the head sampler of cfg.Sampler (names validated by config.Load).
func Sampler(cfg config.Tracing) (sdktrace.Sampler, error) {
	switch cfg.Sampler {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(cfg.SamplerRatio), nil
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SamplerRatio)), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER: unsupported sampler %q", cfg.Sampler)
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "0.0.0"
}

// throttledHandler logs the SDK's errors (export failures) at WARN, at most one per interval, so a missing
// collector is noticed without a line every batch.
type throttledHandler struct {
	log        *slog.Logger
	every      time.Duration
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func (h *throttledHandler) Handle(err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	h.mu.Lock()
	now := time.Now()
	if !h.last.IsZero() && now.Sub(h.last) < h.every {
		h.suppressed++
		h.mu.Unlock()
		return
	}
	suppressed := h.suppressed
	h.last, h.suppressed = now, 0
	h.mu.Unlock()
	h.log.Warn("opentelemetry error", "err", err, "suppressedSinceLast", suppressed)
}
