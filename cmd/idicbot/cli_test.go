package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/crm"
)

// parseCmd runs ParseFlags (and Run when it accepts the line) in an empty
// environment with dir as the working data directory.
func parseCmd(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errw bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, &errw
	m.Getenv = func(k string) string { return env[k] }
	err = m.ParseFlags(args)
	if err == nil && (m.Command == "version" || m.Command == "completion") {
		err = m.Run(context.Background())
	}
	if cerr := m.Close(); cerr != nil {
		t.Fatalf("close: %v", cerr)
	}
	return out.String(), errw.String(), err
}

// TestCommandLine: help is on stdout and per command, usage errors exit 2,
// and a refused line has created nothing.
func TestCommandLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	tests := []struct {
		name     string
		args     []string
		exit     int
		stdout   []string // each must be in stdout
		notOut   []string
		errWants string // in the error
	}{
		{"general help", []string{"--help"}, 0, []string{"Commands:", "import ", "customer ", "idicbot help import"}, nil, ""},
		{"help word", []string{"help"}, 0, []string{"Commands:"}, nil, ""},
		{"help on a command", []string{"help", "import"}, 0, []string{"Usage: idicbot import [flags] customers|orders FILE", "-errors file", "Examples:", "--errors loi.csv"}, []string{"Commands:"}, ""},
		{"import -h", []string{"import", "-h"}, 0, []string{"Usage: idicbot import", "-errors", "-data directory"}, []string{"-dry-run", "-addr"}, ""},
		{"serve -h", []string{"serve", "-h"}, 0, []string{"Usage: idicbot serve [flags]\n", "-check", "-addr", "/readyz", "idicbot serve --check"}, []string{"-errors"}, ""},
		{"offers --help after args", []string{"offers", "import", "x.yaml", "--help"}, 0, []string{"-dry-run", "idicbot offers import offers.yaml --dry-run"}, nil, ""},
		{"customer -h", []string{"customer", "-h"}, 0, []string{"erase ID --yes", "-yes"}, nil, ""},
		{"version -h", []string{"version", "-h"}, 0, []string{"Usage: idicbot version [flags]"}, []string{"-data"}, ""},
		{"unknown command", []string{"frobnicate"}, 2, nil, nil, `unknown command "frobnicate" (see 'idicbot help')`},
		{"flags without a command are serve's", []string{"--data", dir, "--check", "x"}, 2, nil, nil, `serve takes no arguments, got "x"`},
		{"a flag serve lacks", []string{"--frob"}, 2, nil, nil, "serve: flag provided but not defined: -frob"},
		{"help on an unknown command", []string{"help", "nope"}, 2, nil, nil, `help: unknown command "nope"`},
		{"import without arguments", []string{"import", "--data", dir}, 2, nil, nil, "import needs what to import and a file"},
		{"import a wrong kind", []string{"import", "--data", dir, "products", "p.csv"}, 2, nil, nil, `unknown kind "products"`},
		{"unknown flag", []string{"import", "--data", dir, "--frob", "customers", "c.csv"}, 2, nil, nil, "flag provided but not defined: -frob (see 'idicbot import -h')"},
		{"flag of another command", []string{"backup", "--data", dir, "--dry-run", "b.db"}, 2, nil, nil, "-dry-run"},
		{"backup without file", []string{"backup", "--data", dir}, 2, nil, nil, "backup needs the FILE to write"},
		{"check with an argument", []string{"check", "--data", dir, "now"}, 2, nil, nil, `check takes no arguments, got "now"`},
		{"serve with an argument", []string{"serve", "--data", dir, "8080"}, 2, nil, nil, "serve takes no arguments"},
		{"offers without action", []string{"offers", "--data", dir}, 2, nil, nil, "offers needs export, or import FILE"},
		{"offers export --dry-run", []string{"offers", "--data", dir, "export", "--dry-run"}, 2, nil, nil, "--dry-run goes with import"},
		{"customer bad id", []string{"customer", "--data", dir, "export", "bob"}, 2, nil, nil, `"bob" is not a customer id`},
		{"erase without --yes", []string{"customer", "--data", dir, "erase", "42"}, 2, nil, nil, "add --yes to confirm"},
		{"erase with --yes before the id", []string{"customer", "--data", dir, "erase", "--yes", "42"}, 0, nil, nil, ""},
		{"errors file over the input", []string{"import", "--data", dir, "orders", "o.csv", "--errors", "./o.csv"}, 2, nil, nil, "would overwrite the file imported"},
		{"a flag needs its value", []string{"import", "customers", "c.csv", "--errors"}, 2, nil, nil, "flag needs an argument: -errors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, err := parseCmd(t, nil, tt.args...)
			if got := ExitCode(err); got != tt.exit {
				t.Fatalf("exit %d, want %d (err %v)", got, tt.exit, err)
			}
			if tt.errWants != "" && (err == nil || !strings.Contains(err.Error(), tt.errWants)) {
				t.Errorf("error %v, want %q in it", err, tt.errWants)
			}
			if tt.exit == 2 && crm.ErrorCode(err) != crm.EINVALID {
				t.Errorf("code %q, want EINVALID", crm.ErrorCode(err))
			}
			for _, w := range tt.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notOut {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
			if stderr != "" {
				t.Errorf("stderr = %q, want nothing (main prints the error)", stderr)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("parsing %v created %s (%v)", tt.args, dir, err)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		out, _, err := parseCmd(t, nil, args...)
		if err != nil || !strings.HasPrefix(out, "idicbot ") || !strings.Contains(out, "go1.") {
			t.Errorf("%v: %q, %v", args, out, err)
		}
	}
}

// TestBuildInfo: the version stamped with -ldflags wins; without it the
// module version and the VCS stamp the toolchain recorded are used.
func TestBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-04T22:00:00Z"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		name    string
		stamped string
		bi      *debug.BuildInfo
		want    string
	}{
		{"stamped", "v1.4.0", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			"idicbot v1.4.0 (commit 0123456789ab-dirty, 2026-12-04T22:00:00Z) go1.26.8"},
		{"go install @version", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.3.2"}},
			"idicbot v1.3.2 go1.26.8"},
		{"a checkout", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs[:2]},
			"idicbot devel (commit 0123456789ab, 2026-12-04T22:00:00Z) go1.26.8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readBuildInfo(tt.stamped, tt.bi, true).String(); !strings.HasPrefix(got, tt.want+" ") {
				t.Fatalf("%q, want %q + platform", got, tt.want)
			}
		})
	}
}

// TestBashCompletion: the script is valid bash and completes commands,
// their words and their flags.
func TestBashCompletion(t *testing.T) {
	out, _, err := parseCmd(t, nil, "completion", "bash")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	script := filepath.Join(t.TempDir(), "idicbot.bash")
	if err := os.WriteFile(script, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	complete := func(words ...string) string {
		t.Helper()
		line := "source " + script + "; COMP_WORDS=(idicbot " + strings.Join(words, " ") + "); COMP_CWORD=" +
			fmt.Sprint(len(words)) + "; _idicbot; echo \"${COMPREPLY[*]}\""
		got, err := exec.Command("bash", "-c", line).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", words, err, got)
		}
		return strings.TrimSpace(string(got))
	}
	for _, tt := range []struct {
		words []string
		want  string
	}{
		{[]string{"im"}, "import"},
		{[]string{"c"}, "chat check customer completion"},
		{[]string{"import", "c"}, "customers"},
		{[]string{"import", "--e"}, "--errors"},
		{[]string{"serve", "--c"}, "--check --config"},
		{[]string{"customer", "e"}, "export erase"},
		{[]string{"help", "of"}, "offers"},
		{[]string{"completion", ""}, "bash"},
	} {
		if got := complete(tt.words...); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.words, got, tt.want)
		}
	}
	if out, _, err := parseCmd(t, nil, "completion", "zsh"); ExitCode(err) != 2 || out != "" {
		t.Errorf("completion zsh: %v %q", err, out)
	}
}
