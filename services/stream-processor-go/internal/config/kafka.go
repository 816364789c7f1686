package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// SecurityProtocols lists the accepted KAFKA_SECURITY_PROTOCOL values (Kafka's security.protocol names, as
// libs/kafka kafka-security.ts accepts them: upper case only, so one env file means the same to both).
var SecurityProtocols = []string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}

// SASLMechanisms lists the accepted KAFKA_SASL_MECHANISM values.
var SASLMechanisms = []string{"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"}

// KafkaSecurity is how every client of the processor authenticates to the brokers: the KAFKA_SECURITY_PROTOCOL,
// KAFKA_SASL_* and KAFKA_TLS_* variables, read with the rules of libs/kafka kafkaSecurityFromEnv so the Go service
// reaches a SASL_SSL (or mTLS) cluster with the same environment as the Node ones. Default PLAINTEXT.
type KafkaSecurity struct {
	Protocol string
	// Mechanism is KAFKA_SASL_MECHANISM (default SCRAM-SHA-512), used by the SASL_* protocols only.
	Mechanism string
	Username  string
	Password  Secret
	// CAFile, CertFile, KeyFile are PEM files: the CA bundle the brokers' certificates must chain to (unset: the
	// system's roots) and the client certificate for mTLS. Read by Load, so a bad file stops the boot.
	CAFile, CertFile, KeyFile string
	tls                       *tls.Config
}

// TLS reports whether the protocol encrypts (SSL, SASL_SSL).
func (k KafkaSecurity) TLS() bool { return k.Protocol == "SSL" || k.Protocol == "SASL_SSL" }

// SASL reports whether the protocol authenticates with SASL (SASL_PLAINTEXT, SASL_SSL).
func (k KafkaSecurity) SASL() bool { return k.Protocol == "SASL_PLAINTEXT" || k.Protocol == "SASL_SSL" }

// Opts are the franz-go dial and SASL options of the protocol; none for PLAINTEXT.
func (k KafkaSecurity) Opts() []kgo.Opt {
	var opts []kgo.Opt
	if k.TLS() {
		c := k.tls
		if c == nil { // not from Load: system roots, no client certificate
			c = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		opts = append(opts, kgo.DialTLSConfig(c)) // franz-go clones it per dial and sets ServerName to the broker host
	}
	if k.SASL() {
		var m sasl.Mechanism
		switch k.Mechanism {
		case "PLAIN":
			m = plain.Auth{User: k.Username, Pass: string(k.Password)}.AsMechanism()
		case "SCRAM-SHA-256":
			m = scram.Auth{User: k.Username, Pass: string(k.Password)}.AsSha256Mechanism()
		default:
			m = scram.Auth{User: k.Username, Pass: string(k.Password)}.AsSha512Mechanism()
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts
}

// KafkaOpts are the options every franz-go client of the processor starts from (the transactional session, the
// state restore, the Kafka test's own clients): the seed brokers and the security settings, in one place.
func (c *Config) KafkaOpts() []kgo.Opt {
	return append([]kgo.Opt{kgo.SeedBrokers(c.Brokers...)}, c.Kafka.Opts()...)
}

// Secret is a value that fmt, slog and JSON print as [redacted], so logging a Config leaks no password.
type Secret string

func (Secret) String() string               { return "[redacted]" }
func (Secret) GoString() string             { return `"[redacted]"` }
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

func (r *reader) kafkaSecurity() KafkaSecurity {
	k := KafkaSecurity{
		Protocol:  r.envOrFile("KAFKA_SECURITY_PROTOCOL", false),
		Mechanism: r.envOrFile("KAFKA_SASL_MECHANISM", false),
		Username:  r.envOrFile("KAFKA_SASL_USERNAME", true),
		Password:  Secret(r.envOrFile("KAFKA_SASL_PASSWORD", true)),
		CAFile:    r.envOrFile("KAFKA_TLS_CA_FILE", false),
		CertFile:  r.envOrFile("KAFKA_TLS_CERT_FILE", false),
		KeyFile:   r.envOrFile("KAFKA_TLS_KEY_FILE", false),
	}
	if k.Protocol == "" {
		k.Protocol = "PLAINTEXT"
	}
	if k.Mechanism == "" {
		k.Mechanism = "SCRAM-SHA-512"
	}
	switch {
	case !slices.Contains(SecurityProtocols, k.Protocol):
		r.fail("KAFKA_SECURITY_PROTOCOL", fmt.Sprintf("expected one of %s, got %q", strings.Join(SecurityProtocols, ", "), k.Protocol))
	case !slices.Contains(SASLMechanisms, k.Mechanism):
		r.fail("KAFKA_SASL_MECHANISM", fmt.Sprintf("expected one of %s, got %q", strings.Join(SASLMechanisms, ", "), k.Mechanism))
	// The Node messages, but naming the variable actually missing.
	case k.SASL() && k.Username == "":
		r.fail("KAFKA_SASL_USERNAME", k.Protocol+" needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)")
	case k.SASL() && k.Password == "":
		r.fail("KAFKA_SASL_PASSWORD", k.Protocol+" needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)")
	case k.SASL() && !k.TLS() && k.Mechanism == "PLAIN":
		r.fail("KAFKA_SASL_MECHANISM", "PLAIN sends the password in clear: use it only with KAFKA_SECURITY_PROTOCOL=SASL_SSL")
	case k.CertFile != "" && k.KeyFile == "":
		r.fail("KAFKA_TLS_KEY_FILE", "set KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE together")
	case k.KeyFile != "" && k.CertFile == "":
		r.fail("KAFKA_TLS_CERT_FILE", "set KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE together")
	case !k.TLS() && (k.CAFile != "" || k.CertFile != ""):
		r.fail("KAFKA_SECURITY_PROTOCOL", fmt.Sprintf("TLS files are set but KAFKA_SECURITY_PROTOCOL=%s does not use TLS (SSL or SASL_SSL)", k.Protocol))
	case k.TLS():
		k.tls = r.kafkaTLS(k)
	}
	return k
}

// kafkaTLS builds the dial config: TLS 1.2 at least, the CA file as the only roots when set (as kafkajs's `ca`
// replaces Node's defaults), and the client certificate.
func (r *reader) kafkaTLS(k KafkaSecurity) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if k.CAFile != "" {
		pem, ok := r.readFile("KAFKA_TLS_CA_FILE", "KAFKA_TLS_CA_FILE", k.CAFile)
		if !ok {
			return nil
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			r.fail("KAFKA_TLS_CA_FILE", fmt.Sprintf("%s holds no PEM certificate", k.CAFile))
			return nil
		}
	}
	if k.CertFile != "" {
		cert, ok1 := r.readFile("KAFKA_TLS_CERT_FILE", "KAFKA_TLS_CERT_FILE", k.CertFile)
		key, ok2 := r.readFile("KAFKA_TLS_KEY_FILE", "KAFKA_TLS_KEY_FILE", k.KeyFile)
		if !ok1 || !ok2 {
			return nil
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			r.fail("KAFKA_TLS_CERT_FILE", fmt.Sprintf("%s with KAFKA_TLS_KEY_FILE=%s is not a PEM certificate and its key: %v", k.CertFile, k.KeyFile, err))
			return nil
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c
}

// envOrFile reads name, or the file named by name_FILE (the Docker/Kubernetes secrets convention of libs/config
// loadConfig): its content without the trailing newline. Empty (or blank) counts as unset; setting both is an error.
// Secrets are taken as they are, other values trimmed like every other variable here.
func (r *reader) envOrFile(name string, secret bool) string {
	v, _ := r.lookup(name)
	if !secret || strings.TrimSpace(v) == "" {
		v = strings.TrimSpace(v)
	}
	path, _ := r.lookup(name + "_FILE")
	if path = strings.TrimSpace(path); path == "" {
		return v
	}
	if v != "" {
		r.fail(name, fmt.Sprintf("is set both directly and as %s_FILE; set only one", name))
		return ""
	}
	data, ok := r.readFile(name, name+"_FILE", path)
	if !ok {
		return ""
	}
	s := strings.TrimSuffix(string(data), "\n")
	if len(s) < len(data) {
		s = strings.TrimSuffix(s, "\r")
	}
	if !secret {
		s = strings.TrimSpace(s)
	}
	return s
}

// readFile reads the file that fileVar names, failing on name (the setting) with the path and the cause as
// loadConfig words it; never the content.
func (r *reader) readFile(name, fileVar, path string) ([]byte, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		r.fail(name, fmt.Sprintf("%s=%s cannot be read (%v)", fileVar, path, err))
		return nil, false
	}
	return data, true
}
