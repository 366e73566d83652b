package bot_test

import (
	"context"
	"testing"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

func TestSegmentRulePreviewAndSave(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	ctx := context.Background()
	// Three new customers; one of them wrote six messages (potential).
	e.greet("a")
	e.greet("b")
	for range 6 {
		e.say(bot.Inbound{UserID: "chatty", Text: "hello"})
	}
	if got := e.customer(crm.ChannelWeb, "chatty").Segment.Name; got != "potential" {
		t.Fatalf("chatty is %s", got)
	}
	// potential by 2+ messages: a and b move in (each sent one greeting… no:
	// they sent one message each, so only a rule on messages_30d >= 1 takes them).
	p, err := e.core.SegmentAdmin().PreviewSegmentRule(ctx, "potential", "order_count == 0 && messages_30d >= 1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Customers != 3 || p.Current != 1 || p.After != 3 || p.In != 2 || p.Out != 0 || p.Moves["new → potential"] != 2 {
		t.Fatalf("preview = %+v", p)
	}
	p, err = e.core.SegmentAdmin().PreviewSegmentRule(ctx, "potential", "false")
	if err != nil {
		t.Fatal(err)
	}
	if p.Out != 1 || p.In != 0 || p.Moves["potential → new"] != 1 {
		t.Fatalf("preview out = %+v", p)
	}
	if _, err := e.core.SegmentAdmin().PreviewSegmentRule(ctx, "potential", "messages_30d >="); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("bad rule: %v", err)
	}
	if _, err := e.core.SegmentAdmin().PreviewSegmentRule(ctx, "whales", "true"); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("unknown segment: %v", err)
	}
	old := e.core.Segments().Rule("potential").Rule
	res, err := e.core.SegmentAdmin().SaveSegmentRule(ctx, "potential", "order_count == 0 && messages_30d >= 1", old, "lan", bot.OriginWeb)
	if err != nil {
		t.Fatal(err)
	}
	if res.Moved != 2 || res.Segment.Count != 3 || res.Segment.Rule != "order_count == 0 && messages_30d >= 1" {
		t.Fatalf("save = %+v %+v", res, res.Segment)
	}
	if got := e.customer(crm.ChannelWeb, "a").Segment.Name; got != "potential" {
		t.Fatalf("a is %s after the save", got)
	}
	// A second save from the old rule is a conflict.
	if _, err := e.core.SegmentAdmin().SaveSegmentRule(ctx, "potential", "false", old, "binh", bot.OriginAPI); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("stale save: %v", err)
	}
	hist, err := e.core.SegmentAdmin().SegmentHistory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].By != "lan" || hist[0].From != old || hist[0].Moved != 2 {
		t.Fatalf("history = %+v", hist)
	}
	list, err := e.core.SegmentAdmin().SegmentList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 6 || list[4].Name != "potential" || list[4].Count != 3 || list[5].Count != 0 {
		t.Fatalf("list = %+v", list)
	}

	// After a restart the stored rules win over the file's.
	e.close()
	e2 := newEnv(t, dir)
	if got := e2.core.Segments().Rule("potential").Rule; got == "order_count == 0 && messages_30d >= 1" {
		t.Fatal("rules were stored before LoadSegmentRules")
	}
	if err := e2.core.LoadSegmentRules(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e2.core.Segments().Rule("potential").Rule; got != "order_count == 0 && messages_30d >= 1" {
		t.Fatalf("after LoadSegmentRules the rule is %q", got)
	}
}
