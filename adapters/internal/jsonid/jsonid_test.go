package jsonid

import "testing"

func TestLiteral(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{`"7813306842916204155"`, "7813306842916204155", false},
		{`7813306842916204155`, "7813306842916204155", false}, // would round as float64
		{`  " PAGE_ID " `, "PAGE_ID", false},
		{`1767225600123`, "1767225600123", false},
		{`1.5e3`, "1.5e3", false},
		{`true`, "true", false},
		{`null`, "", false},
		{``, "", false},
		{`{"id":1}`, "", true},
		{`[1]`, "", true},
		{`"unterminated`, "", true},
	} {
		got, err := Literal([]byte(tc.in))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Literal(%s) = %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}
