package main

import (
	"bufio"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests here build the real binary the way `make build` does and run it
// as the Dockerfile and the systemd unit say, since CI has neither Docker
// nor systemd. They take a minute on a cold cache: -short skips them.

const testVersion = "v0.0.0-deploytest"

var built struct {
	once sync.Once
	path string
	err  error
}

// staticBinary builds cmd/idicbot with CGO_ENABLED=0 and a stamped version.
func staticBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "idicbot-build-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "idicbot")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+testVersion, "-o", built.path, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.path != "" {
		os.RemoveAll(filepath.Dir(built.path))
	}
	os.Exit(code)
}

// TestStaticBinary: the release build has no ELF interpreter (it runs on
// scratch, distroless or any Linux), no dynamic libraries, and says its
// stamped version.
func TestStaticBinary(t *testing.T) {
	bin := staticBinary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("%s has a %s program header: dynamically linked", bin, p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("links %v", libs)
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil || !strings.HasPrefix(string(out), "idicbot "+testVersion+" ") {
			t.Fatalf("%v: %q %v", args, out, err)
		}
	}
	// Usage errors exit 2 from the real process too.
	if err := exec.Command(bin, "import").Run(); exitStatus(err) != 2 {
		t.Fatalf("idicbot import: %v, want exit status 2", err)
	}
}

func exitStatus(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// dockerfile is what the test needs of the Dockerfile's final stage.
type dockerfile struct {
	env         map[string]string
	entrypoint  []string
	cmd         []string
	healthcheck []string
	volume      string
	user        string
}

func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d dockerfile
	jsonArray := func(s string) []string {
		var v []string
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatalf("%s: %q is not an exec-form JSON array: %v", path, s, err)
		}
		return v
	}
	// Continuation lines joined; only the last FROM's stage counts.
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "FROM":
			d = dockerfile{env: map[string]string{}}
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				d.env[k] = v
			}
		case "ENTRYPOINT":
			d.entrypoint = jsonArray(rest)
		case "CMD":
			d.cmd = jsonArray(rest)
		case "HEALTHCHECK":
			_, c, ok := strings.Cut(rest, "CMD ")
			if !ok {
				t.Fatalf("HEALTHCHECK without CMD: %q", rest)
			}
			d.healthcheck = jsonArray(c)
		case "VOLUME":
			d.volume = rest
		case "USER":
			d.user = rest
		}
	}
	return d
}

// freeAddr is a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProcess starts argv with env and returns a function that stops it
// with SIGTERM and returns its exit error and output.
func startProcess(t *testing.T, argv []string, env []string) (stop func() (string, error)) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	var out strings.Builder
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var (
		once    sync.Once
		exitErr error
	)
	stop = func() (string, error) {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case exitErr = <-done:
			case <-time.After(time.Minute):
				_ = cmd.Process.Kill()
				exitErr = fmt.Errorf("did not stop on SIGTERM within a minute (killed: %v)", <-done)
			}
		})
		mu.Lock()
		defer mu.Unlock()
		return out.String(), exitErr
	}
	t.Cleanup(func() { _, _ = stop() })
	return stop
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// waitReady runs probe until it succeeds; it fails the test after a minute.
func waitReady(t *testing.T, what string, probe func() error, output func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		err := probe()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never ready: %v\n%s", what, err, output())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestDockerfileRuns runs the image's ENTRYPOINT and CMD with its ENV (the
// data directory and the address moved to temp ones), waits until its own
// HEALTHCHECK passes, and stops it as `docker stop` does.
func TestDockerfileRuns(t *testing.T) {
	bin := staticBinary(t)
	d := parseDockerfile(t, filepath.Join("..", "..", "Dockerfile"))
	if len(d.entrypoint) == 0 || len(d.healthcheck) == 0 {
		t.Fatalf("Dockerfile lacks ENTRYPOINT or HEALTHCHECK: %+v", d)
	}
	if d.user == "" || strings.HasPrefix(d.user, "0") || strings.HasPrefix(d.user, "root") {
		t.Fatalf("the image runs as %q, want a non-root user", d.user)
	}
	if d.env["IDICBOT_DATA"] == "" || !strings.Contains(d.volume, d.env["IDICBOT_DATA"]) {
		t.Fatalf("IDICBOT_DATA %q is not the VOLUME %q", d.env["IDICBOT_DATA"], d.volume)
	}
	image := d.entrypoint[0] // the binary's path in the image
	subst := func(argv []string) []string {
		out := append([]string(nil), argv...)
		if out[0] == image {
			out[0] = bin
		}
		return out
	}
	data := t.TempDir()
	env := []string{"HOME=" + t.TempDir(), "IDICBOT_DATA=" + data, "IDICBOT_ADDR=" + freeAddr(t)}
	for k, v := range d.env {
		if k != "IDICBOT_DATA" && k != "IDICBOT_ADDR" {
			env = append(env, k+"="+v)
		}
	}
	argv := subst(append(append([]string(nil), d.entrypoint...), d.cmd...))
	stop := startProcess(t, argv, env)
	health := subst(d.healthcheck)
	var last []byte
	waitReady(t, "the container", func() error {
		var err error
		cmd := exec.Command(health[0], health[1:]...)
		cmd.Env = env
		last, err = cmd.CombinedOutput()
		return err
	}, func() string { out, _ := stop(); return out + "\nhealthcheck: " + string(last) })
	if !strings.Contains(string(last), "ready") {
		t.Fatalf("healthcheck printed %q", last)
	}
	out, err := stop()
	if err != nil {
		t.Fatalf("docker stop: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(data, "idicbot.db")); err != nil {
		t.Fatalf("no database in the volume: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"version":"`+testVersion+`"`) {
		t.Errorf("the start-up log does not name the version:\n%s", out)
	}
}

// systemdUnit is what the test needs of the unit's [Service] section.
type systemdUnit struct {
	execStart []string
	env       map[string]string
	settings  map[string][]string
}

func parseUnit(t *testing.T, path string) systemdUnit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := systemdUnit{env: map[string]string{}, settings: map[string][]string{}}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != "[Service]" {
			continue
		}
		u.settings[k] = append(u.settings[k], v)
		switch k {
		case "ExecStart":
			u.execStart = strings.Fields(v)
		case "Environment":
			for _, kv := range strings.Fields(v) {
				ek, ev, _ := strings.Cut(kv, "=")
				u.env[ek] = ev
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestSystemdUnitRuns runs the unit's ExecStart as systemd would: its
// Environment=, ${STATE_DIRECTORY} expanded, and a credential (the admin
// token) in $CREDENTIALS_DIRECTORY, which the bot must use.
func TestSystemdUnitRuns(t *testing.T) {
	bin := staticBinary(t)
	u := parseUnit(t, filepath.Join("..", "..", "deploy", "idicbot.service"))
	for _, k := range []string{"DynamicUser", "StateDirectory", "ProtectSystem", "NoNewPrivileges"} {
		if len(u.settings[k]) == 0 {
			t.Errorf("the unit lacks %s=", k)
		}
	}
	if len(u.execStart) == 0 {
		t.Fatal("no ExecStart")
	}
	state := t.TempDir()
	creds := t.TempDir()
	const token = "a-long-admin-token-from-a-credential-0123456789"
	if err := os.WriteFile(filepath.Join(creds, "IDICBOT_ADMIN_TOKEN"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	argv := make([]string, len(u.execStart))
	for i, a := range u.execStart {
		argv[i] = strings.ReplaceAll(a, "${STATE_DIRECTORY}", state)
	}
	argv[0] = bin
	addr := freeAddr(t)
	env := []string{"HOME=" + t.TempDir(), "STATE_DIRECTORY=" + state, "CREDENTIALS_DIRECTORY=" + creds}
	for k, v := range u.env {
		if k == "IDICBOT_ADDR" {
			v = addr // the unit's port may be taken on this machine
		}
		env = append(env, k+"="+v)
	}
	stop := startProcess(t, argv, env)
	get := func(path, bearer string) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	waitReady(t, "the service", func() error {
		code, err := get("/readyz", "")
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("/readyz %d", code)
		}
		return err
	}, func() string { out, _ := stop(); return out })
	if code, err := get("/api/admin/offers", token); err != nil || code != http.StatusOK {
		t.Errorf("admin with the credential's token: %d %v", code, err)
	}
	if code, err := get("/api/admin/offers", "wrong"); err != nil || code != http.StatusUnauthorized {
		t.Errorf("admin with a wrong token: %d %v", code, err)
	}
	out, err := stop()
	if err != nil {
		t.Fatalf("systemctl stop: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(state, "idicbot.db")); err != nil {
		t.Fatalf("no database in StateDirectory: %v", err)
	}
	if strings.Contains(out, token) {
		t.Fatalf("the log shows the admin token:\n%s", out)
	}
}
