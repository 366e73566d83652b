package nlu_test

import (
	"strings"
	"testing"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/nlu"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Sp e mua bị lỗi", "san pham em mua bi loi"},
		{"ko mua đâu", "khong mua dau"},
		{"cod dc ko shop", "cod duoc khong shop"},
		{"đổi dc giao hàng", "doi dia chi giao hang"},
		{"còn màu hồng không", "con mau hong khong"},
		{"còn hàng hông ạ", "con hang khong"},
		{"mik cần sdt của ad", "minh can so dien thoai cua shop"},
		{"I don't need it", "i do not need it"},
		{"xin chào ạ", "xin chao"},
	}
	for _, tt := range tests {
		if got := nlu.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The messages of the issue that the keyword rules misread, each with what
// it means and what it names.
func TestAnalyzeIssueMessages(t *testing.T) {
	c := defaultClassifier(t)
	tests := []struct {
		text, intent string
		check        func(nlu.Result) string
	}{
		{"sp em mua bị lỗi, màn hình bị sọc", "complaint", nil},
		{"hủy đơn hàng", "cancel_order", nil},
		{"mắc quá, ko mua đâu", "price_objection", func(r nlu.Result) string {
			if !r.Negated {
				return "not negated"
			}
			return ""
		}},
		{"where is my order #1234", "order_status", func(r nlu.Result) string {
			if r.OrderRef != "1234" {
				return "ref " + r.OrderRef
			}
			return ""
		}},
		{"email mình là mua.hang@congtyabc.vn", "contact", func(r nlu.Result) string {
			if r.Email != "mua.hang@congtyabc.vn" {
				return "email " + r.Email
			}
			return ""
		}},
		{"ok e lấy 1 cái ip15", "buy", func(r nlu.Result) string {
			if len(r.Products) == 0 || r.Products[0].ID != "iphone-15" {
				return "no iphone-15"
			}
			return ""
		}},
		{"đừng nhắn khuyến mãi cho tôi nữa", "opt_out", nil},
		{"shop ơi có gì dưới 2 triệu không", "product", func(r nlu.Result) string {
			if !r.Greeted {
				return "greeting not seen"
			}
			return ""
		}},
		{"hello, anything under 5 million?", "product", nil},
		{"giao về 12 Lý Thường Kiệt giúp mình", "address", func(r nlu.Result) string {
			if r.Address != "12 Lý Thường Kiệt" {
				return "address " + r.Address
			}
			return ""
		}},
		{"tắt tin khuyến mãi đi", "opt_out", nil},
		{"bật lại tin khuyến mãi giúp mình", "opt_in", nil},
		{"can I send it back if I don't like it?", "faq:returns", nil},
	}
	for _, tt := range tests {
		r := c.Analyze(tt.text)
		if r.Intent != tt.intent || !c.Sure(r.Prediction) {
			t.Errorf("%q: %s (%.2f, sure %v), want %s", tt.text, r.Intent, r.Confidence, c.Sure(r.Prediction), tt.intent)
			continue
		}
		if tt.check != nil {
			if msg := tt.check(r); msg != "" {
				t.Errorf("%q: %s", tt.text, msg)
			}
		}
	}
}

func TestUnknownAndNumbers(t *testing.T) {
	c := defaultClassifier(t)
	for _, text := range []string{"123", "asdf qwerty", "500k"} {
		if r := c.Analyze(text); c.Sure(r.Prediction) {
			t.Errorf("%q: sure of %s (%.2f)", text, r.Intent, r.Confidence)
		}
	}
}

func TestParseIntents(t *testing.T) {
	tests := []struct{ yaml, err string }{
		{"intents:\n  - name: a\n    examples: [x]\n  - name: a\n    examples: [y]\n", ""},
		{"intents:\n  - examples: [x]\n", "name is required"},
		{"intents:\n  - name: a\n", "no examples"},
		{"intents:\n  - name: a\n    examples: [\" \"]\n", "empty"},
		{"intents:\n  - name: a\n    sample: [x]\n", "sample"},
	}
	for _, tt := range tests {
		in, err := nlu.ParseIntents("intents.yaml", []byte(tt.yaml))
		if tt.err == "" {
			if err != nil || len(in) != 1 || len(in[0].Examples) != 2 {
				t.Errorf("%q: %v, %+v: want one intent with both examples", tt.yaml, err, in)
			}
			continue
		}
		if err == nil || crm.ErrorCode(err) != crm.EINVALID || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%q: err %v, want EINVALID about %q", tt.yaml, err, tt.err)
		}
	}
}

// An example taught to two intents is refused: the classifier could not
// tell them apart.
func TestNewRefusesContradictoryExamples(t *testing.T) {
	_, err := nlu.New([]*nlu.Intent{{Name: "a", Examples: []string{"Giá bao nhiêu"}}, {Name: "b", Examples: []string{"gia bao nhieu"}}}, nil)
	if crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("err %v, want EINVALID", err)
	}
}

// A shop's own examples teach the classifier what the built-in ones do not.
func TestMergeTeachesNewIntent(t *testing.T) {
	base := []*nlu.Intent{{Name: "greeting", Examples: []string{"xin chào", "hello"}}, {Name: "price", Examples: []string{"giá bao nhiêu"}}}
	extra := []*nlu.Intent{{Name: "faq:tradein", Examples: []string{"thu cũ đổi mới", "có nhận máy cũ không", "trade in my old phone"}}}
	c, err := nlu.New(nlu.Merge(base, extra), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Analyze("shop nhận thu máy cũ không"); r.Intent != "faq:tradein" {
		t.Fatalf("read %s (%.2f), want faq:tradein", r.Intent, r.Confidence)
	}
}

// BenchmarkAnalyze: understanding one message (docs/performance.md).
func BenchmarkAnalyze(b *testing.B) {
	c := defaultClassifier(b)
	texts := []string{"xin chào", "giá iphone 15 bao nhiêu", "sp em mua bị lỗi, màn hình bị sọc", "phí ship ra Đà Nẵng bao nhiêu",
		"shop ơi có gì dưới 2 triệu không", "đơn #1234 của mình tới đâu rồi", "hello, how much is the macbook?", "sdt của mình là 0912345678"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Analyze(texts[i%len(texts)])
	}
}
