package crm_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

func defaultSegments(t *testing.T) *crm.Segments {
	t.Helper()
	data, err := os.ReadFile("../configs/segments.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := crm.ParseSegments("segments.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDefaultSegments(t *testing.T) {
	segs := defaultSegments(t)
	now := date(2026, 11, 10)
	withOrders := func(amounts []int64, first time.Time, every time.Duration) *crm.Customer {
		c := &crm.Customer{CreatedAt: first}
		c.Stats.FirstSeen = first
		for i, a := range amounts {
			c.Stats.RecordOrder(a, first.Add(time.Duration(i)*every))
		}
		return c
	}
	day := 24 * time.Hour
	tests := []struct {
		name string
		c    *crm.Customer
		want string
	}{
		{"stranger", &crm.Customer{CreatedAt: now}, "new"},
		{"first purchase", withOrders([]int64{500000}, now.AddDate(0, 0, -5), day), "new"},
		{"asked about a product", &crm.Customer{CreatedAt: now, Interests: []string{"iphone-15"}}, "potential"},
		{"chatty without orders", func() *crm.Customer {
			c := &crm.Customer{CreatedAt: now}
			for i := 0; i < 5; i++ {
				c.Stats.RecordMessageIn(now.AddDate(0, 0, -i))
			}
			return c
		}(), "potential"},
		{"two orders", withOrders([]int64{500000, 700000}, now.AddDate(0, 0, -20), 10*day), "loyal"},
		{"vip by spend", withOrders([]int64{21000000}, now.AddDate(0, 0, -3), day), "vip"},
		{"vip by frequency and spend", withOrders([]int64{2e6, 2e6, 2e6, 2e6, 2e6}, now.AddDate(0, 0, -50), 10*day), "vip"},
		{"one order 61 days ago", withOrders([]int64{500000}, now.AddDate(0, 0, -61), day), "at_risk"},
		{"regular every 45 days, last 80 days ago: not yet", withOrders([]int64{1e6, 1e6, 1e6}, now.AddDate(0, 0, -170), 45*day), "loyal"},
		{"regular every 45 days, last 95 days ago: at risk", withOrders([]int64{1e6, 1e6, 1e6}, now.AddDate(0, 0, -185), 45*day), "at_risk"},
		{"business flag beats vip", func() *crm.Customer { c := withOrders([]int64{30e6}, now, day); c.IsBusiness = true; return c }(), "business"},
		{"b2b tag", &crm.Customer{CreatedAt: now, Tags: []string{"b2b"}}, "business"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := segs.Classify(tt.c, now)
			if err != nil {
				t.Fatal(err)
			}
			if a.Name != tt.want {
				t.Fatalf("segment = %s (rule %q), want %s", a.Name, a.Rule, tt.want)
			}
		})
	}
}

func TestSegmentApplyKeepsSince(t *testing.T) {
	segs := defaultSegments(t)
	t0 := date(2026, 1, 1)
	c := &crm.Customer{CreatedAt: t0}
	if mv := segs.Apply(c, t0, "message"); mv == nil || mv.To != "new" || c.Segment.Since != t0 {
		t.Fatalf("first apply: %+v %+v", mv, c.Segment)
	}
	if mv := segs.Apply(c, t0.AddDate(0, 0, 5), "message"); mv != nil {
		t.Fatalf("no change expected, got %+v", mv)
	}
	if c.Segment.Since != t0 {
		t.Fatalf("since moved to %s", c.Segment.Since)
	}
	c.Stats.RecordOrder(1e6, t0.AddDate(0, 0, 6))
	c.Stats.RecordOrder(1e6, t0.AddDate(0, 0, 7))
	mv := segs.Apply(c, t0.AddDate(0, 0, 7), "order")
	if mv == nil || mv.From != "new" || mv.To != "loyal" || c.Segment.Rule != "order_count >= 2" {
		t.Fatalf("move = %+v, segment %+v", mv, c.Segment)
	}
}

func TestBadSegmentFileNamesFileRuleAndReason(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"syntax", "segments:\n  - name: vip\n    rule: 'total_spent >>= 1'\n  - name: new\n    rule: 'true'\n", `rules.yaml: segment "vip": rule "total_spent >>= 1"`},
		{"unknown fact", "segments:\n  - name: vip\n    rule: 'money > 1'\n", `segment "vip"`},
		{"not boolean", "segments:\n  - name: vip\n    rule: 'total_spent + 1'\n", `segment "vip"`},
		{"unknown key", "segments:\n  - name: vip\n    rul: 'true'\n", "rules.yaml"},
		{"duplicate", "segments:\n  - name: a\n    rule: 'true'\n  - name: a\n    rule: 'true'\n", "defined twice"},
		{"empty", "segments: []\n", "no segments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := crm.ParseSegments("rules.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(crm.ErrorMessage(err), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestPhoneAndEmail(t *testing.T) {
	for in, want := range map[string]string{
		"0912 345 678": "+84912345678", "+84912345678": "+84912345678", "84912345678": "+84912345678",
		"0912.345.678": "+84912345678", "(028) 3822 1234": "+842838221234", "+1 650 253 0000": "+16502530000",
	} {
		if got, err := crm.NormalizePhone(in); err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"12345", "abc", "", "0000000000"} {
		if _, err := crm.NormalizePhone(bad); crm.ErrorCode(err) != crm.EINVALID {
			t.Errorf("NormalizePhone(%q): want EINVALID, got %v", bad, err)
		}
	}
	if got := crm.FindPhone("sdt của mình là 0912.345.678 nhé"); got != "+84912345678" {
		t.Errorf("FindPhone = %q", got)
	}
	if got := crm.FindEmail("email: An.Nguyen@Example.com."); got != "an.nguyen@example.com" {
		t.Errorf("FindEmail = %q", got)
	}
	if got := crm.MaskText("gọi 0912345678 hoặc an@example.com"); strings.Contains(got, "345") || strings.Contains(got, "an@") {
		t.Errorf("MaskText left personal data: %q", got)
	}
	if got, want := crm.Fold("Nguyễn Văn Ánh  ĐÀO"), "nguyen van anh dao"; got != want {
		t.Errorf("Fold = %q, want %q", got, want)
	}
}
