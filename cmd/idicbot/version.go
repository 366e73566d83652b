package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// version is stamped at build time (make build, make release):
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/idicbot
//
// Left empty, BuildInfo falls back to what the Go toolchain recorded (the
// module version of `go install …@v1.2.3`, or the VCS revision).
var version string

// BuildInfo says which build is running: in `idicbot version`, the
// start-up log line and the idicbot_build_info metric.
type BuildInfo struct {
	Version   string // v1.2.3, or "devel"
	Revision  string // VCS commit, "" if unknown
	Time      string // commit time (RFC 3339), "" if unknown
	Modified  bool   // built from a tree with uncommitted changes
	GoVersion string
	Platform  string // GOOS/GOARCH
}

// readBuildInfo returns the stamped version and what the toolchain recorded.
func readBuildInfo(stamped string, bi *debug.BuildInfo, ok bool) BuildInfo {
	b := BuildInfo{Version: stamped, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if ok && bi != nil {
		b.GoVersion = bi.GoVersion
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "devel"
	}
	return b
}

// currentBuild is this binary's BuildInfo.
func currentBuild() BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	return readBuildInfo(version, bi, ok)
}

// String is the line `idicbot version` prints.
func (b BuildInfo) String() string {
	s := "idicbot " + b.Version
	if b.Revision != "" {
		rev := b.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if b.Modified {
			rev += "-dirty"
		}
		s += " (commit " + rev
		if b.Time != "" {
			s += ", " + b.Time
		}
		s += ")"
	}
	return fmt.Sprintf("%s %s %s", s, b.GoVersion, b.Platform)
}

// registerBuildInfo adds idicbot_build_info: always 1, its labels say which
// build runs, so a dashboard can show a rollout.
func registerBuildInfo(reg prometheus.Registerer, b BuildInfo) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "idicbot_build_info",
		Help: "Always 1; the labels name the running build.",
		ConstLabels: prometheus.Labels{
			"version": b.Version, "revision": b.Revision, "goversion": b.GoVersion,
		},
	})
	g.Set(1)
	reg.MustRegister(g)
}
