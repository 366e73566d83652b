package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/pgstore"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

// TestReplicaChild is not a test on its own: TestReplicasSurviveSIGKILL
// runs the test binary again with IDICBOT_REPLICA_CHILD=1, and this
// process then is `idicbot serve` on the environment it was given, until
// it is killed.
func TestReplicaChild(t *testing.T) {
	if os.Getenv("IDICBOT_REPLICA_CHILD") != "1" {
		t.Skip("helper process for TestReplicasSurviveSIGKILL")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	m := NewMain()
	if err := m.ParseFlags([]string{"serve"}); err != nil {
		t.Fatal(err)
	}
	err := m.Run(ctx)
	_ = m.Close()
	if err != nil {
		t.Fatal(err)
	}
}

// replicaProc is one `idicbot serve` child process.
type replicaProc struct {
	addr  string
	owner string
	cmd   *exec.Cmd
	done  chan struct{}
}

// killTrials is how many times TestReplicasSurviveSIGKILL kills a replica.
const killTrials = 20

// TestReplicasSurviveSIGKILL runs three `idicbot serve` processes on one
// PostgreSQL database, with web chat conversations spread over them, and
// kills one with SIGKILL at a random moment, 20 times (restarting it each
// time). A client retries a message on another replica until one
// acknowledges it, as the page does. In the end every message is logged
// exactly once and answered exactly once, the outbox is drained, and after
// each kill the dead replica's singletons (segment sweep, retention) were
// taken over by a live one.
func TestReplicasSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts processes for a minute or two")
	}
	dbURL := pgtest.URL(t)
	cfg := filepath.Join(t.TempDir(), "idicbot.yaml")
	if err := os.WriteFile(cfg, []byte(`webchat:
  sessions_per_ip_per_hour: 100000
  messages_per_minute: 10000
  message_burst: 1000
  reads_per_minute: 100000
`), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := t.TempDir()
	gen := 0
	start := func(i int) *replicaProc {
		t.Helper()
		gen++
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		p := &replicaProc{addr: addr, owner: fmt.Sprintf("replica%d-%d", i, gen), done: make(chan struct{})}
		p.cmd = exec.Command(os.Args[0], "-test.run=^TestReplicaChild$")
		logf, err := os.Create(filepath.Join(logs, p.owner+".log"))
		if err != nil {
			t.Fatal(err)
		}
		p.cmd.Stdout, p.cmd.Stderr = logf, logf
		p.cmd.Env = append(os.Environ(), "IDICBOT_REPLICA_CHILD=1", "IDICBOT_DATABASE_URL="+dbURL,
			"IDICBOT_ADDR="+addr, "IDICBOT_DATA="+t.TempDir(), "IDICBOT_CONFIG="+cfg,
			"IDICBOT_OUTBOX_OWNER="+p.owner, "IDICBOT_LEASE_TTL=1s")
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = p.cmd.Wait(); _ = logf.Close(); close(p.done) }()
		deadline := time.Now().Add(60 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return p
				}
			}
			select {
			case <-p.done:
				b, _ := os.ReadFile(filepath.Join(logs, p.owner+".log"))
				t.Fatalf("%s exited at start:\n%s", p.owner, b)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not healthy after 60s", p.owner)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	procs := make([]*replicaProc, 3)
	var mu sync.Mutex // guards procs
	for i := range procs {
		procs[i] = start(i)
	}
	t.Cleanup(func() {
		for _, p := range procs {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			<-p.done
		}
	})

	db, err := pgstore.Open(t.Context(), dbURL, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	heldBy := func(owner string) int {
		var n int
		if err := db.Pool().QueryRow(t.Context(), `SELECT count(*) FROM leases WHERE holder = $1 AND until > now()`, owner).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	rng := rand.New(rand.NewPCG(21, uint64(time.Now().UnixNano())))
	var sent []string // "session text"
	var sentMu sync.Mutex
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(session, id, text string) {
		body := fmt.Sprintf(`{"session":%q,"id":%q,"text":%q}`, session, id, text)
		for attempt := 0; ; attempt++ {
			mu.Lock()
			p := procs[rand.IntN(len(procs))]
			mu.Unlock()
			resp, err := client.Post("http://"+p.addr+"/webchat/messages", "application/json", strings.NewReader(body))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					sentMu.Lock()
					sent = append(sent, session+" "+text)
					sentMu.Unlock()
					return
				}
			}
			if attempt > 500 {
				t.Errorf("message %s/%s never acknowledged", session, id)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	takeovers := 0
	for trial := range killTrials {
		var clients sync.WaitGroup
		for c := range 4 {
			session := fmt.Sprintf("t%dc%d", trial, c)
			clients.Go(func() {
				for k := range 3 {
					post(session, fmt.Sprint("m", k), fmt.Sprintf("tin %d của %s", k, session))
				}
			})
		}
		victim := rng.IntN(len(procs))
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		mu.Lock()
		dead := procs[victim]
		mu.Unlock()
		held := heldBy(dead.owner)
		if err := dead.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-dead.done
		clients.Wait()
		if held > 0 {
			// Its singletons go to a live replica once its leases end.
			deadline := time.Now().Add(30 * time.Second)
			for heldBy(dead.owner) > 0 || livesHeld(t, db, dead.owner) < leaseCount(t, db) {
				if time.Now().After(deadline) {
					t.Fatalf("trial %d: the singletons of %s were not taken over", trial, dead.owner)
				}
				time.Sleep(50 * time.Millisecond)
			}
			takeovers++
		}
		p := start(victim)
		mu.Lock()
		procs[victim] = p
		mu.Unlock()
	}
	if takeovers == 0 {
		t.Error("no killed replica held a singleton: the takeover was never tested")
	}

	// Every acknowledged message once, every reply once, the outbox
	// drained (items leased to a killed replica wait for their lease, a
	// minute).
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var depth int64
		if err := db.View(t.Context(), func(tx crm.Tx) (err error) { depth, err = tx.OutboxDepth(); return err }); err != nil {
			t.Fatal(err)
		}
		if depth == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d outbox items still pending", depth)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(sent) != killTrials*4*3 {
		t.Fatalf("%d messages acknowledged, want %d", len(sent), killTrials*4*3)
	}
	if err := db.View(t.Context(), func(tx crm.Tx) error {
		for trial := range killTrials {
			for c := range 4 {
				session := fmt.Sprintf("t%dc%d", trial, c)
				cu, err := tx.FindCustomerByIdentity(crm.ChannelWeb, session)
				if err != nil || cu == nil {
					t.Errorf("session %s has no customer: %v", session, err)
					continue
				}
				is, err := tx.Interactions(cu.ID, 0, 0)
				if err != nil {
					return err
				}
				x, err := tx.CustomerRecords(cu.ID)
				if err != nil {
					return err
				}
				in := map[string]int{}
				out := map[crm.ID]bool{}
				for _, i := range is {
					if i.Direction == crm.Inbound {
						in[i.Text]++
					} else {
						out[i.ID] = true
					}
				}
				replies := map[crm.ID]int{} // logged reply → outbox items
				for _, it := range x.Outbox {
					replies[it.InteractionID]++
				}
				for id := range out {
					if replies[id] != 1 {
						t.Errorf("session %s: reply %d is in %d outbox items, want 1", session, id, replies[id])
					}
				}
				for k := range 3 {
					if text := fmt.Sprintf("tin %d của %s", k, session); in[text] != 1 {
						t.Errorf("%q logged %d times, want once", text, in[text])
					}
				}
				for _, it := range x.Outbox {
					if it.Status != crm.OutboxSent {
						t.Errorf("session %s: outbox item %d is %s, want sent", session, it.ID, it.Status)
					}
					if !out[it.InteractionID] {
						t.Errorf("session %s: outbox item %d sends no logged reply (%d)", session, it.ID, it.InteractionID)
					}
				}
				if len(x.Outbox) < 3 {
					t.Errorf("session %s: %d replies for 3 messages", session, len(x.Outbox))
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	problems, err := db.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d kills, %d with singletons taken over, %d messages", killTrials, takeovers, len(sent))
}

// leaseCount is how many singletons have a lease row.
func leaseCount(t *testing.T, db *pgstore.DB) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(t.Context(), `SELECT count(*) FROM leases`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// livesHeld is how many live leases are held by another holder than dead.
func livesHeld(t *testing.T, db *pgstore.DB, dead string) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(t.Context(), `SELECT count(*) FROM leases WHERE holder <> $1 AND until > now()`, dead).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
