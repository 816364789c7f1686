package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// Serve starts the admin port on addr (host:port), the same surface as libs/telemetry's admin endpoint:
// GET /metrics, and GET|PUT /log-level ({"level":"debug"}) changing level at runtime when level is not
// nil. It stops when ctx ends. A port that cannot be bound is logged, not fatal, as in libs/telemetry:
// the processor keeps aggregating without metrics. Returns the bound address ("" when listening failed).
func Serve(ctx context.Context, addr string, m *Metrics, level *slog.LevelVar, log *slog.Logger) string {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("metrics endpoint failed to start", "addr", addr, "err", err)
		return ""
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	if level != nil {
		mux.Handle("/log-level", logLevelHandler(level, log))
	}
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

// Pino's level names (what the Node services accept) mapped onto slog; trace and fatal have no slog
// level of their own, so they sit one step beyond debug and error.
var levels = map[string]slog.Level{
	"trace": slog.LevelDebug - 4, "debug": slog.LevelDebug, "info": slog.LevelInfo,
	"warn": slog.LevelWarn, "error": slog.LevelError, "fatal": slog.LevelError + 4, "silent": slog.LevelError + 8,
}

// LevelName is the pino name of l (for GET /log-level and LOG_LEVEL parsing).
func LevelName(l slog.Level) string {
	for name, v := range levels {
		if v == l {
			return name
		}
	}
	return strings.ToLower(l.String())
}

// ParseLevel reads a pino level name (LOG_LEVEL, PUT /log-level); ok is false for anything else.
func ParseLevel(s string) (slog.Level, bool) {
	l, ok := levels[strings.ToLower(strings.TrimSpace(s))]
	return l, ok
}

func logLevelHandler(level *slog.LevelVar, log *slog.Logger) http.Handler {
	reply := func(w http.ResponseWriter, status int, body any) {
		w.Header().Set("content-type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
	problem := func(w http.ResponseWriter, status int, code, msg string) {
		reply(w, status, map[string]string{"code": code, "message": msg})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			reply(w, http.StatusOK, map[string]string{"level": LevelName(level.Level())})
			return
		case http.MethodPut:
		default:
			w.Header().Set("allow", "GET, PUT")
			problem(w, http.StatusMethodNotAllowed, "TELEMETRY.METHOD_NOT_ALLOWED", "use GET or PUT")
			return
		}
		// Only from the host itself: with _METRICS_HOST=0.0.0.0 scrapers reach this port too.
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err != nil || !net.ParseIP(host).IsLoopback() {
			problem(w, http.StatusForbidden, "TELEMETRY.ADMIN_LOOPBACK_ONLY", "the log level can be changed from the host itself only")
			return
		}
		var body struct {
			Level string `json:"level"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1024)).Decode(&body); err != nil {
			problem(w, http.StatusBadRequest, "TELEMETRY.INVALID_BODY", `expected a JSON body like {"level":"debug"}`)
			return
		}
		l, ok := ParseLevel(body.Level)
		if !ok {
			problem(w, http.StatusBadRequest, "TELEMETRY.INVALID_LOG_LEVEL", "level must be one of trace, debug, info, warn, error, fatal, silent")
			return
		}
		level.Set(l)
		log.Warn("log level changed at runtime", "level", LevelName(l))
		reply(w, http.StatusOK, map[string]string{"level": LevelName(l)})
	})
}
