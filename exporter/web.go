package exporter

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v3"
)

// defaultExporterListen is loopback: a stranger must not reach /probe.
// 9479 is free among the well-known exporters' ports (blackbox 9115,
// node 9100, snmp 9116). Listening elsewhere is a choice, best made with
// --web.config.file (TLS, basic auth).
const defaultExporterListen = "127.0.0.1:9479"

// HTTP server bounds: a slow or idle client cannot hold a connection
// (and a --max-connections place) for long. ReadTimeout bounds reading
// the request only (net/http clears the deadline before the handler's
// background read, so a long probe is not cut). No WriteTimeout: a probe
// may take up to its module's timeout.
const (
	exporterReadHeaderTimeout = 5 * time.Second
	exporterReadTimeout       = 10 * time.Second
	exporterIdleTimeout       = 60 * time.Second
	exporterMaxHeaderBytes    = 16 << 10
)

// webConfig is --web.config.file in the Prometheus exporter-toolkit's
// format (tls_server_config, basic_auth_users, http_server_config): the
// ecosystem's convention, so the same file works for node_exporter.
type webConfig struct {
	path string
	tls  bool
}

// loadWebConfig validates the file now, so a bad one stops the start
// with a one-line error instead of failing the first scrape. The toolkit
// reads it again on every request: edits apply without a restart.
func loadWebConfig(path string) (webConfig, error) {
	if path == "" {
		return webConfig{}, nil
	}
	if err := web.Validate(path); err != nil {
		return webConfig{}, fmt.Errorf("--web.config.file %s: %v (the Prometheus exporter-toolkit web config: tls_server_config, basic_auth_users)", path, oneLine(err))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return webConfig{}, fmt.Errorf("--web.config.file %s: %v", path, err)
	}
	var f struct {
		TLS struct {
			Cert     string `yaml:"cert"`
			CertFile string `yaml:"cert_file"`
		} `yaml:"tls_server_config"`
	}
	_ = yaml.Unmarshal(data, &f) // web.Validate parsed it already
	return webConfig{path: path, tls: f.TLS.Cert != "" || f.TLS.CertFile != ""}, nil
}

// serveHTTP serves srv on ln through the toolkit (TLS and basic auth
// when the web config asks for them).
func (w webConfig) serveHTTP(ln net.Listener, srv *http.Server, logger *slog.Logger) error {
	listen, systemd, path := []string{ln.Addr().String()}, false, w.path
	return web.Serve(ln, srv, &web.FlagConfig{WebListenAddresses: &listen, WebSystemdSocket: &systemd, WebConfigFile: &path}, logger)
}

func newExporterServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: exporterReadHeaderTimeout, ReadTimeout: exporterReadTimeout,
		IdleTimeout: exporterIdleTimeout, MaxHeaderBytes: exporterMaxHeaderBytes,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
}

// reloadRefusal says why a reload request is refused, "" when it comes
// from the operator's own host: over a loopback address and not relayed (a
// reverse proxy on this host connects over loopback too, on behalf of
// anyone, and says so in a forwarding header; nginx adds none unless told).
func reloadRefusal(r *http.Request) string {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
		if len(r.Header.Values(h)) > 0 {
			return "POST /-/reload came through a proxy (" + h + "): it is accepted from the exporter's own host only: send SIGHUP to the exporter or POST from its own host"
		}
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err != nil || !ap.Addr().Unmap().IsLoopback() {
		return "POST /-/reload is accepted from loopback only: send SIGHUP to the exporter or POST from its own host"
	}
	return ""
}

// oneLine joins a multi-line error (yaml's) into one line.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
