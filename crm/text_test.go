package crm

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Nguyễn Văn Ánh", "nguyen van anh"},
		{"ĐẶNG  thị\tHỒNG ", "dang thi hong"},
		{"  giá iPhone 15 bao nhiêu?", "gia iphone 15 bao nhieu?"},
		{"hello", "hello"},
		{"Hello  World", "hello world"},
		{"", ""},
		{"   ", ""},
		{"cảm ơn shop 😍😍", "cam on shop 😍😍"},
		{"e muốn mua ip 15\u00a0pro", "e muon mua ip 15 pro"},
		{"Nguye\u0302\u0303n", "nguyen"}, // typed with combining marks
		{"bad \xff byte", "bad \ufffd byte"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got, slow := Fold(tt.in), foldSlow(tt.in); got != slow {
			t.Errorf("Fold(%q) = %q, foldSlow = %q", tt.in, got, slow)
		}
	}
}

// Fold's table is foldSlow for every rune of the Basic Multilingual Plane,
// alone and between letters, and for random mixes of Vietnamese, marks,
// spaces and other scripts.
func TestFoldIsFoldSlow(t *testing.T) {
	for r := rune(0); r < 0x10000; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		for _, s := range []string{string(r), "A" + string(r) + "b", string(r) + "\u0301"} {
			if got, want := Fold(s), foldSlow(s); got != want {
				t.Fatalf("Fold(%q) = %q, foldSlow = %q", s, got, want)
			}
		}
	}
	pool := []rune("aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯ áàảãạấầẩẫậéèẻẽẹíìỉĩịóòỏõọúùủũụýỳỷỹỵ0123456789 \t\n?!.,😍한글\u0300\u0301\u0303\u0309\u0323\u0306\u00a0\u0345\u05b0\u1dc0İßǅ")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(24) {
			b.WriteRune(pool[rng.IntN(len(pool))])
		}
		s := b.String()
		if got, want := Fold(s), foldSlow(s); got != want {
			t.Fatalf("Fold(%q) = %q, foldSlow = %q", s, got, want)
		}
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"Nguyễn Văn Ánh", "giá bao nhiêu", "a\u0301\u0323", "\xff", "ǅ\u0345a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Fold(s), foldSlow(s); got != want {
			t.Errorf("Fold(%q) = %q, foldSlow = %q", s, got, want)
		}
	})
}

func BenchmarkFold(b *testing.B) {
	for _, s := range []string{"hello, how much is the macbook?", "Cho mình hỏi giá iPhone 15 Pro Max bao nhiêu vậy shop"} {
		b.Run(s[:5], func(b *testing.B) {
			for b.Loop() {
				Fold(s)
			}
		})
	}
}

func BenchmarkFoldSlow(b *testing.B) {
	for _, s := range []string{"hello, how much is the macbook?", "Cho mình hỏi giá iPhone 15 Pro Max bao nhiêu vậy shop"} {
		b.Run(s[:5], func(b *testing.B) {
			for b.Loop() {
				foldSlow(s)
			}
		})
	}
}
