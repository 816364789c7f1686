package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
)

// testPKI is a CA, a server certificate it signed for IP 127.0.0.1 (like the dev broker's) and a client
// certificate, as PEM files in a temporary directory.
type testPKI struct {
	dir, ca, cert, key, otherKey, serverCert, serverKey string
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	p := testPKI{dir: dir}
	write := func(name string, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	newKey := func() (*ecdsa.PrivateKey, []byte) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return k, der
	}
	caKey, _ := newKey()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	p.ca = write("ca.crt", "CERTIFICATE", caDER)
	leaf := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, []byte) {
		k, keyDER := newKey()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: fmt.Sprint("leaf ", serial)}, NotBefore: time.Now().Add(-time.Hour),
			NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caTmpl, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, keyDER
	}
	certDER, keyDER := leaf(2, x509.ExtKeyUsageClientAuth, nil)
	p.cert, p.key = write("client.crt", "CERTIFICATE", certDER), write("client.key", "PRIVATE KEY", keyDER)
	_, otherDER := newKey()
	p.otherKey = write("other.key", "PRIVATE KEY", otherDER)
	srvDER, srvKeyDER := leaf(3, x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")})
	p.serverCert, p.serverKey = write("server.crt", "CERTIFICATE", srvDER), write("server.key", "PRIVATE KEY", srvKeyDER)
	return p
}

// file writes content to a new file of dir and returns its path.
func file(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// clientOpts builds a (never connected) franz-go client from the config's KafkaOpts and reads back what it
// will dial with: the TLS config and the SASL mechanism's name ("" for none).
func clientOpts(t *testing.T, c *Config) (*tls.Config, string) {
	t.Helper()
	cl, err := kgo.NewClient(c.KafkaOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tlsCfg, _ := cl.OptValue(kgo.DialTLSConfig).(*tls.Config)
	mechs, _ := cl.OptValue(kgo.SASL).([]sasl.Mechanism)
	if len(mechs) > 1 {
		t.Fatalf("%d SASL mechanisms", len(mechs))
	}
	if len(mechs) == 0 {
		return tlsCfg, ""
	}
	return tlsCfg, mechs[0].Name()
}

// The combinations libs/kafka kafkaSecurityFromEnv accepts, applied to the franz-go client.
func TestKafkaSecurityValid(t *testing.T) {
	pki := newTestPKI(t)
	dir := t.TempDir()
	for name, c := range map[string]struct {
		env       map[string]string
		protocol  string
		tls       bool
		mechanism string // SASL mechanism of the client, "" for none
		user      string
		pass      string
		rootCAs   bool // RootCAs from KAFKA_TLS_CA_FILE (else the system's)
		clientTLS bool // a client certificate (mTLS)
	}{
		"default PLAINTEXT":             {map[string]string{}, "PLAINTEXT", false, "", "", "", false, false},
		"blank protocol: default":       {map[string]string{"KAFKA_SECURITY_PROTOCOL": " "}, "PLAINTEXT", false, "", "", "", false, false},
		"mechanism unused by PLAINTEXT": {map[string]string{"KAFKA_SASL_MECHANISM": "PLAIN"}, "PLAINTEXT", false, "", "", "", false, false},
		"SSL with system roots":         {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SSL"}, "SSL", true, "", "", "", false, false},
		"SSL with a CA file":            {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_TLS_CA_FILE": pki.ca}, "SSL", true, "", "", "", true, false},
		"mTLS":                          {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_TLS_CA_FILE": pki.ca, "KAFKA_TLS_CERT_FILE": pki.cert, "KAFKA_TLS_KEY_FILE": pki.key}, "SSL", true, "", "", "", true, true},
		"SASL_SSL SCRAM-SHA-512 default": {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "svc", "KAFKA_SASL_PASSWORD": "pw",
			"KAFKA_TLS_CA_FILE": pki.ca}, "SASL_SSL", true, "SCRAM-SHA-512", "svc", "pw", true, false},
		"SASL_SSL with mTLS too": {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "svc", "KAFKA_SASL_PASSWORD": "pw",
			"KAFKA_TLS_CERT_FILE": pki.cert, "KAFKA_TLS_KEY_FILE": pki.key}, "SASL_SSL", true, "SCRAM-SHA-512", "svc", "pw", false, true},
		"SASL_PLAINTEXT SCRAM-SHA-256": {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
			"KAFKA_SASL_USERNAME": "svc", "KAFKA_SASL_PASSWORD": "pw"}, "SASL_PLAINTEXT", false, "SCRAM-SHA-256", "svc", "pw", false, false},
		"PLAIN over SASL_SSL": {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN",
			"KAFKA_SASL_USERNAME": "svc", "KAFKA_SASL_PASSWORD": "pw"}, "SASL_SSL", true, "PLAIN", "svc", "pw", false, false},
		"password from _FILE, trailing newline dropped": {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "svc",
			"KAFKA_SASL_PASSWORD_FILE": file(t, dir, "pw1", "s3cret\n")}, "SASL_SSL", true, "SCRAM-SHA-512", "svc", "s3cret", false, false},
		"_FILE: CRLF dropped, other whitespace kept": {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "svc",
			"KAFKA_SASL_PASSWORD_FILE": file(t, dir, "pw2", " s3 cret \r\n")}, "SASL_SSL", true, "SCRAM-SHA-512", "svc", " s3 cret ", false, false},
		"_FILE: only one newline dropped": {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "svc",
			"KAFKA_SASL_PASSWORD_FILE": file(t, dir, "pw3", "pw\n\n")}, "SASL_SSL", true, "SCRAM-SHA-512", "svc", "pw\n", false, false},
		"username and protocol from _FILE, empty direct value ignored": {map[string]string{"KAFKA_SECURITY_PROTOCOL_FILE": file(t, dir, "proto", "SASL_SSL\n"),
			"KAFKA_SASL_USERNAME": "", "KAFKA_SASL_USERNAME_FILE": file(t, dir, "user", "tessera-admin\n"), "KAFKA_SASL_PASSWORD": "pw"},
			"SASL_SSL", true, "SCRAM-SHA-512", "tessera-admin", "pw", false, false},
		"CA path from _FILE": {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_TLS_CA_FILE_FILE": file(t, dir, "ca-path", pki.ca+"\n")},
			"SSL", true, "", "", "", true, false},
	} {
		c.env["KAFKA_BROKERS"] = "127.0.0.1:19092"
		cfg, err := Load(env(c.env))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		k := cfg.Kafka
		if k.Protocol != c.protocol || k.Username != c.user || string(k.Password) != c.pass {
			t.Errorf("%s: protocol %q user %q password %q; want %q %q %q", name, k.Protocol, k.Username, string(k.Password), c.protocol, c.user, c.pass)
		}
		tlsCfg, mech := clientOpts(t, cfg)
		if (tlsCfg != nil) != c.tls || mech != c.mechanism {
			t.Errorf("%s: client TLS %v SASL %q; want %v %q", name, tlsCfg != nil, mech, c.tls, c.mechanism)
		}
		if tlsCfg == nil {
			continue
		}
		if tlsCfg.MinVersion != tls.VersionTLS12 || (tlsCfg.RootCAs != nil) != c.rootCAs || (len(tlsCfg.Certificates) == 1) != c.clientTLS {
			t.Errorf("%s: TLS min %x, own roots %v, client certificates %d", name, tlsCfg.MinVersion, tlsCfg.RootCAs != nil, len(tlsCfg.Certificates))
		}
	}
}

// Refused like kafkaSecurityFromEnv and loadConfig refuse them, each error naming the variable to fix.
func TestKafkaSecurityInvalid(t *testing.T) {
	pki := newTestPKI(t)
	dir := t.TempDir()
	pwFile := file(t, dir, "pw", "s3cret\n")
	missing := filepath.Join(dir, "missing")
	saslEnv := func(m map[string]string) map[string]string {
		out := map[string]string{"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "svc", "KAFKA_SASL_PASSWORD": "pw"}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	for name, c := range map[string]struct {
		env    map[string]string
		varb   string
		reason string // a fragment of the reason
	}{
		"unknown protocol":            {map[string]string{"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL", `expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL, got "TLS"`},
		"lower case, as Node refuses": {map[string]string{"KAFKA_SECURITY_PROTOCOL": "sasl_ssl"}, "KAFKA_SECURITY_PROTOCOL", "expected one of"},
		"unknown mechanism":           {saslEnv(map[string]string{"KAFKA_SASL_MECHANISM": "GSSAPI"}), "KAFKA_SASL_MECHANISM", `got "GSSAPI"`},
		"SASL without a username":     {saslEnv(map[string]string{"KAFKA_SASL_USERNAME": ""}), "KAFKA_SASL_USERNAME", "SASL_SSL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"},
		"SASL without a password":     {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "svc"}, "KAFKA_SASL_PASSWORD", "SASL_PLAINTEXT needs"},
		"blank password":              {saslEnv(map[string]string{"KAFKA_SASL_PASSWORD": "  "}), "KAFKA_SASL_PASSWORD", "needs"},
		"PLAIN in clear":              {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "svc", "KAFKA_SASL_PASSWORD": "pw"}, "KAFKA_SASL_MECHANISM", "only with KAFKA_SECURITY_PROTOCOL=SASL_SSL"},
		"certificate without its key": {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_TLS_CERT_FILE": pki.cert}, "KAFKA_TLS_KEY_FILE", "together"},
		"key without its certificate": {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_TLS_KEY_FILE": pki.key}, "KAFKA_TLS_CERT_FILE", "together"},
		"CA file with PLAINTEXT":      {map[string]string{"KAFKA_TLS_CA_FILE": pki.ca}, "KAFKA_SECURITY_PROTOCOL", "KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS"},
		"client cert with SASL_PLAINTEXT": {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "svc", "KAFKA_SASL_PASSWORD": "pw",
			"KAFKA_TLS_CERT_FILE": pki.cert, "KAFKA_TLS_KEY_FILE": pki.key}, "KAFKA_SECURITY_PROTOCOL", "does not use TLS"},
		"password set twice":           {saslEnv(map[string]string{"KAFKA_SASL_PASSWORD_FILE": pwFile}), "KAFKA_SASL_PASSWORD", "is set both directly and as KAFKA_SASL_PASSWORD_FILE; set only one"},
		"password file unreadable":     {saslEnv(map[string]string{"KAFKA_SASL_PASSWORD": "", "KAFKA_SASL_PASSWORD_FILE": missing}), "KAFKA_SASL_PASSWORD", "KAFKA_SASL_PASSWORD_FILE=" + missing + " cannot be read (no such file or directory)"},
		"username file unreadable":     {saslEnv(map[string]string{"KAFKA_SASL_USERNAME": "", "KAFKA_SASL_USERNAME_FILE": missing}), "KAFKA_SASL_USERNAME", "KAFKA_SASL_USERNAME_FILE=" + missing},
		"protocol file unreadable":     {map[string]string{"KAFKA_SECURITY_PROTOCOL_FILE": missing}, "KAFKA_SECURITY_PROTOCOL", "cannot be read"},
		"CA file missing":              {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_TLS_CA_FILE": missing}, "KAFKA_TLS_CA_FILE", "KAFKA_TLS_CA_FILE=" + missing + " cannot be read"},
		"CA path's _FILE missing":      {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_TLS_CA_FILE_FILE": missing}, "KAFKA_TLS_CA_FILE", "KAFKA_TLS_CA_FILE_FILE=" + missing},
		"CA file not PEM":              {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_TLS_CA_FILE": pwFile}, "KAFKA_TLS_CA_FILE", "holds no PEM certificate"},
		"key file missing":             {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_TLS_CERT_FILE": pki.cert, "KAFKA_TLS_KEY_FILE": missing}, "KAFKA_TLS_KEY_FILE", "cannot be read"},
		"key of another certificate":   {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_TLS_CERT_FILE": pki.cert, "KAFKA_TLS_KEY_FILE": pki.otherKey}, "KAFKA_TLS_CERT_FILE", "is not a PEM certificate and its key"},
		"certificate file holds a key": {map[string]string{"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_TLS_CERT_FILE": pki.key, "KAFKA_TLS_KEY_FILE": pki.key}, "KAFKA_TLS_CERT_FILE", "is not a PEM certificate"},
	} {
		c.env["KAFKA_BROKERS"] = "a:1"
		_, err := Load(env(c.env))
		var cfgErr *Error
		if !errors.As(err, &cfgErr) || cfgErr.Var != c.varb || !strings.Contains(cfgErr.Reason, c.reason) {
			t.Errorf("%s: got %v; want %s: …%s…", name, err, c.varb, c.reason)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the secret: %v", name, err)
		}
	}
}

// The password never shows when a Config is printed or logged as JSON.
func TestKafkaPasswordRedacted(t *testing.T) {
	cfg, err := Load(env(map[string]string{"KAFKA_BROKERS": "a:1", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "svc", "KAFKA_SASL_PASSWORD": "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	text, _ := cfg.Kafka.Password.MarshalText()
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg.Kafka.Password), string(text)} {
		if strings.Contains(s, "s3cret") || !strings.Contains(s, "[redacted]") {
			t.Errorf("password shown: %s", s)
		}
	}
}

// The TLS config verifies a broker certificate signed by KAFKA_TLS_CA_FILE for IP 127.0.0.1 (the dev broker's SAN),
// with ServerName set to the dialed host as franz-go does, and presents the client certificate; without the CA file
// (system roots) the same broker is refused.
func TestKafkaTLSHandshake(t *testing.T) {
	pki := newTestPKI(t)
	srvCert, err := tls.LoadX509KeyPair(pki.serverCert, pki.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, _ := os.ReadFile(pki.ca)
	clientCAs := x509.NewCertPool()
	clientCAs.AppendCertsFromPEM(caPEM)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: clientCAs})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peers := make(chan int, 4)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			tc := conn.(*tls.Conn)
			if tc.Handshake() == nil {
				peers <- len(tc.ConnectionState().PeerCertificates)
			}
			conn.Close()
		}
	}()
	dial := func(m map[string]string) error {
		m["KAFKA_BROKERS"] = ln.Addr().String()
		cfg, err := Load(env(m))
		if err != nil {
			t.Fatal(err)
		}
		c, _ := clientOpts(t, cfg)
		c = c.Clone()
		c.ServerName = "127.0.0.1"
		conn, err := tls.Dial("tcp", ln.Addr().String(), c)
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Handshake()
	}
	if err := dial(map[string]string{"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_TLS_CA_FILE": pki.ca, "KAFKA_TLS_CERT_FILE": pki.cert, "KAFKA_TLS_KEY_FILE": pki.key}); err != nil {
		t.Fatalf("mTLS with the CA file: %v", err)
	}
	if n := <-peers; n != 1 {
		t.Errorf("broker saw %d client certificates, want 1", n)
	}
	var unknown x509.UnknownAuthorityError
	if err := dial(map[string]string{"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"}); !errors.As(err, &unknown) {
		t.Errorf("system roots: got %v, want an unknown authority", err)
	}
}
