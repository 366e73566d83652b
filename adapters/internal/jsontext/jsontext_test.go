package jsontext

import (
	encjson "encoding/json"
	"testing"
	"unicode/utf8"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// FuzzLoneSurrogate checks the surrogate scanner against a JSON decoder
// that refuses unpaired surrogates itself: on a valid UTF-8 JSON text,
// they agree.
func FuzzLoneSurrogate(f *testing.F) {
	for _, s := range []string{`"a"`, `"\ud800"`, `"\udc00"`, `"\ud83d\ude00"`, `"\ud83d\u0041"`, `"\\ud800"`,
		`{"text":"x\uD83D"}`, `["\ud800\udc00", "\\\ud800"]`, `"\u0000"`, `{"a":"\"\ud800"}`, `"\uDBFF\uDFFF"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) || !encjson.Valid(b) {
			return
		}
		var v any
		err := json.Unmarshal(b, &v, jsontext.AllowDuplicateNames(true))
		if got := LoneSurrogate(b); (got != "") != (err != nil) {
			t.Fatalf("LoneSurrogate(%q) = %q, but the strict decoder says %v", b, got, err)
		}
	})
}

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		body string
		ok   bool
	}{
		{`{"text":"xin chào"}`, true},
		{`{"text":"\ud83d\ude00"}`, true},
		{`{"text":"\\ud800"}`, true},
		{"{\"text\":\"\xff\"}", false},
		{`{"text":"\ud800"}`, false},
		{`{"text":"\udc00x"}`, false},
	} {
		if err := Check([]byte(tt.body)); (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want ok %v", tt.body, err, tt.ok)
		}
	}
}
