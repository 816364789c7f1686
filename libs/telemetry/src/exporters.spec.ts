import { DEFAULT_ZIPKIN_ENDPOINT, traceExporterNames, traceSpanProcessors, zipkinEndpoint } from './exporters';
import { TelemetryConfigError } from './telemetry-config.error';

describe('traceExporterNames', () => {
  it('defaults to none without an OTLP endpoint and to otlp with one', () => {
    expect(traceExporterNames({})).toEqual(['none']);
    expect(traceExporterNames({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toEqual(['otlp']);
    expect(traceExporterNames({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toEqual(['otlp']);
  });

  it('honours OTEL_TRACES_EXPORTER as a comma list (spaces, case and repeats ignored)', () => {
    expect(traceExporterNames({ OTEL_TRACES_EXPORTER: 'zipkin' })).toEqual(['zipkin']);
    expect(traceExporterNames({ OTEL_TRACES_EXPORTER: ' Zipkin , otlp,zipkin', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' })).toEqual([
      'zipkin',
      'otlp',
    ]);
    expect(traceExporterNames({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' })).toEqual(['none']);
  });

  it('refuses an unknown exporter, naming the variable', () => {
    expect(() => traceExporterNames({ OTEL_TRACES_EXPORTER: 'zipkin,jaeger' })).toThrow(TelemetryConfigError);
    expect(() => traceExporterNames({ OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(/OTEL_TRACES_EXPORTER: unknown exporter jaeger/);
  });

  it('refuses none combined with a real exporter', () => {
    expect(() => traceExporterNames({ OTEL_TRACES_EXPORTER: 'none,zipkin' })).toThrow(/cannot be combined/);
  });
});

describe('zipkinEndpoint', () => {
  it('defaults to the local Zipkin and accepts an http(s) URL', () => {
    expect(zipkinEndpoint({})).toBe(DEFAULT_ZIPKIN_ENDPOINT);
    expect(zipkinEndpoint({ OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://zipkin:9411/api/v2/spans' })).toBe('http://zipkin:9411/api/v2/spans');
  });

  it('refuses a value that is not an http(s) URL', () => {
    expect(() => zipkinEndpoint({ OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'zipkin:9411' })).toThrow(/OTEL_EXPORTER_ZIPKIN_ENDPOINT/);
    expect(() => zipkinEndpoint({ OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'not a url' })).toThrow(TelemetryConfigError);
  });
});

describe('traceSpanProcessors', () => {
  it('builds one processor per exporter and none for none', async () => {
    const processors = traceSpanProcessors(['zipkin', 'otlp'], {});
    expect(processors).toHaveLength(2);
    expect(traceSpanProcessors(['none'], {})).toEqual([]);
    await Promise.all(processors.map((p) => p.shutdown()));
  });
});
