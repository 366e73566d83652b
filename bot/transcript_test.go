package bot_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
)

var update = flag.Bool("update", false, "rewrite golden transcripts with what the bot says now")

// env is the kit's core (bottest.NewCore) with the names this package's
// tests use, and a message counter for say.
type env struct {
	t     testing.TB
	kit   *bottest.Env
	db    *boltstore.DB
	core  *bot.Core
	disp  *bot.Dispatcher
	rec   *bottest.Recorder
	clock *bottest.Clock
	seq   int
}

func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := configs.Files.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func newEnv(tb testing.TB, dir string) *env { return buildEnv(tb, dir, nil) }

// buildEnv is newEnv with a chance to change the core's options (an
// assistant, for example) before the core is built. The stored segment
// rules stay unloaded, as a restart test expects.
func buildEnv(tb testing.TB, dir string, tune func(*bot.Options)) *env {
	tb.Helper()
	opts := []bottest.Option{bottest.InDir(dir), bottest.NoStoredSegmentRules()}
	if tune != nil {
		opts = append(opts, bottest.CoreOptions(tune))
	}
	k := bottest.NewCore(tb, opts...)
	return &env{t: tb, kit: k, db: k.DB, core: k.Core, disp: k.Disp, rec: k.Rec, clock: k.Clock}
}

// close closes the core and checks the store, before cleanup would.
func (e *env) close() { e.kit.Close() }

// say sends one inbound event and returns what the bot sent back.
func (e *env) say(in bot.Inbound) (bot.Result, []*crm.OutboxItem) {
	e.t.Helper()
	ctx := context.Background()
	if in.Channel == "" {
		in.Channel = crm.ChannelWeb
	}
	if in.UserID == "" {
		in.UserID = "s1"
	}
	if in.MessageID == "" {
		e.seq++
		in.MessageID = fmt.Sprintf("%s-%d", in.UserID, e.seq)
	}
	if in.Kind == "" {
		in.Kind = crm.KindText
	}
	res, err := e.core.Handle(ctx, in)
	if err != nil {
		e.t.Fatalf("handle %q: %v", in.Text, err)
	}
	if err := e.disp.Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
	return res, e.rec.Take()
}

func (e *env) customer(ch crm.Channel, user string) *crm.Customer {
	e.t.Helper()
	var c *crm.Customer
	if err := e.db.View(context.Background(), func(tx crm.Tx) error {
		var err error
		c, err = tx.FindCustomerByIdentity(ch, user)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// TestConversations replays testdata/conversations/*.txt. In a transcript:
//
//	> text              the customer writes text
//	> [2]               the customer presses button 2 of the bot's last buttons
//	> (photo)           the customer sends a photo (sticker, voice, file …)
//	< text              a line the bot must answer ("< " + line for each line)
//	<   [label]         a button under the previous bot message
//	@now 2026-11-29     the clock (date, or RFC 3339)
//	@advance 90d        move the clock forward (d, h)
//	@order 1500000 [REF [PRODUCT…]] a sale recorded for this customer (with its reference and lines)
//	@address TEXT       assert the customer's saved address
//	@handoff yes        assert whether a person is asked for (yes, no)
//	@sentiment negative assert the customer's sentiment
//	@optedout false     assert whether offers are off
//	@business           mark the customer as a business
//	@birthday 1990-11-05
//	@locale en          the channel's language hint for the next messages
//	@user NAME          switch to another customer (web chat session NAME)
//	@segment NAME       assert the customer's segment
//	# comment
func TestConversations(t *testing.T) {
	files, _ := filepath.Glob("testdata/conversations/*.txt")
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			runTranscript(t, f)
		})
	}
}

func runTranscript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "")
	var out []string // the transcript as it happens
	var want []string
	user, locale := "s1", ""
	var lastButtons []crm.Button
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	for _, line := range lines {
		if strings.HasPrefix(line, "<") {
			want = append(want, line)
			continue
		}
		want = append(want, line)
		out = append(out, line)
		switch {
		case strings.HasPrefix(line, "> "):
			text := strings.TrimPrefix(line, "> ")
			in := bot.Inbound{UserID: user, Text: text, Locale: locale}
			if strings.HasPrefix(text, "(") && strings.HasSuffix(text, ")") {
				in.Kind, in.Text = text[1:len(text)-1], ""
			}
			if strings.HasPrefix(text, "[") && strings.HasSuffix(text, "]") {
				n, err := strconv.Atoi(text[1 : len(text)-1])
				if err != nil || n < 1 || n > len(lastButtons) {
					t.Fatalf("%s: no button %s", file, text)
				}
				in.Kind, in.Payload, in.Text = crm.KindButton, lastButtons[n-1].Payload, lastButtons[n-1].Label
			}
			_, sent := e.say(in)
			for _, it := range sent {
				for _, l := range strings.Split(it.Text, "\n") {
					out = append(out, "< "+l)
				}
				for _, b := range it.Buttons {
					out = append(out, "<   ["+b.Label+"]")
				}
				if it.RequestPhone {
					out = append(out, "<   [share phone]")
				}
				if len(it.Buttons) > 0 {
					lastButtons = it.Buttons
				}
			}
		case strings.HasPrefix(line, "@"):
			directive(t, e, line, &user, &locale)
		}
	}
	got, exp := strings.Join(out, "\n")+"\n", strings.Join(want, "\n")+"\n"
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != exp {
		t.Errorf("%s: transcript differs (go test ./bot -run TestConversations -update rewrites it)\n--- got\n%s\n--- want\n%s", file, got, exp)
	}
}

func directive(t *testing.T, e *env, line string, user, locale *string) {
	f := strings.Fields(line)
	arg := ""
	if len(f) > 1 {
		arg = f[1]
	}
	ctx := context.Background()
	cust := func() *crm.Customer {
		c := e.customer(crm.ChannelWeb, *user)
		if c == nil {
			// Directives before the first message create the customer.
			e.say(bot.Inbound{UserID: *user, Kind: crm.KindPhoto})
			c = e.customer(crm.ChannelWeb, *user)
		}
		return c
	}
	switch f[0] {
	case "@now":
		tm, err := time.Parse(time.RFC3339, arg)
		if err != nil {
			tm, err = time.ParseInLocation("2006-01-02", arg, e.clock.Now().Location())
			tm = tm.Add(10 * time.Hour)
		}
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		e.clock.Set(tm)
	case "@advance":
		n, _ := strconv.Atoi(strings.TrimRight(arg, "dh"))
		if strings.HasSuffix(arg, "d") {
			e.clock.Add(time.Duration(n) * 24 * time.Hour)
		} else {
			e.clock.Add(time.Duration(n) * time.Hour)
		}
	case "@order":
		amount, _ := strconv.ParseInt(arg, 10, 64)
		ref := ""
		if len(f) > 2 {
			ref = f[2]
		}
		var items []crm.OrderItem
		for _, id := range f[min(3, len(f)):] {
			items = append(items, crm.OrderItem{Product: id, Quantity: 1, Price: amount})
		}
		c := cust()
		if _, _, _, err := e.core.Reps().RecordOrder(ctx, crm.Order{CustomerID: c.ID, Amount: amount, Time: e.clock.Now(), Ref: ref, Items: items}, "test"); err != nil {
			t.Fatal(err)
		}
	case "@business", "@birthday":
		c := cust()
		if err := e.db.Update(ctx, func(tx crm.Tx) error {
			c, err := tx.Customer(c.ID)
			if err != nil {
				return err
			}
			if f[0] == "@business" {
				c.IsBusiness = true
			} else {
				b, err := time.Parse("2006-01-02", arg)
				if err != nil {
					return err
				}
				c.Birthday = &b
			}
			return tx.PutCustomer(c)
		}); err != nil {
			t.Fatal(err)
		}
	case "@locale":
		*locale = arg
	case "@user":
		*user = arg
	case "@address":
		want := strings.TrimSpace(strings.TrimPrefix(line, "@address"))
		if got := e.customer(crm.ChannelWeb, *user).Address; got != want {
			t.Errorf("%s: address is %q", line, got)
		}
	case "@handoff":
		got := "no"
		if e.customer(crm.ChannelWeb, *user).Handoff.Active {
			got = "yes"
		}
		if got != arg {
			t.Errorf("%s: handoff is %s", line, got)
		}
	case "@sentiment":
		if got := e.customer(crm.ChannelWeb, *user).Sentiment; got != arg {
			t.Errorf("%s: sentiment is %q", line, got)
		}
	case "@optedout":
		if got := strconv.FormatBool(e.customer(crm.ChannelWeb, *user).Consent.OptedOut); got != arg {
			t.Errorf("%s: opted out is %s", line, got)
		}
	case "@segment":
		if got := e.customer(crm.ChannelWeb, *user).Segment.Name; got != arg {
			t.Errorf("%s: segment is %q", line, got)
		}
	default:
		t.Fatalf("unknown directive %s", line)
	}
}
