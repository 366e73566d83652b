package telegramtest

import (
	"bytes"
	"maps"
	"mime/multipart"
	"strings"
	"testing"
)

// viaMime reads a form the slow, standard way, as parseParams falls back to.
func viaMime(t *testing.T, body []byte, boundary string) map[string]string {
	t.Helper()
	form, err := multipart.NewReader(bytes.NewReader(body), boundary).ReadForm(1 << 20)
	if err != nil {
		t.Fatalf("mime/multipart refuses the form: %v", err)
	}
	defer form.RemoveAll()
	out := map[string]string{}
	for k, v := range form.Value {
		out[k] = v[0]
	}
	for k := range form.File {
		out[k] = "<file>"
	}
	return out
}

func TestParseMultipartReadsWhatMimeReads(t *testing.T) {
	type part struct{ name, value, file string }
	cases := []struct {
		name  string
		parts []part
	}{
		{"sendMessage", []part{{name: "chat_id", value: "700000001"}, {name: "text", value: "Chào bạn! iPhone 15 giá 22.990.000 ₫"},
			{name: "reply_markup", value: `{"inline_keyboard":[[{"text":"Nhận ưu đãi","callback_data":"offer:accept:w"}]]}`}}},
		{"empty value", []part{{name: "chat_id", value: "1"}, {name: "text", value: ""}}},
		{"value with CRLF and dashes", []part{{name: "text", value: "line 1\r\n--not the boundary\r\nline 3\r\n"}}},
		{"quotes and backslash in a name", []part{{name: `we"ird\name`, value: "x"}}},
		{"repeated field: the first value", []part{{name: "text", value: "first"}, {name: "text", value: "second"}}},
		{"file part", []part{{name: "chat_id", value: "1"}, {name: "photo", file: "a.jpg", value: "\x89PNG\r\n\x1a\n"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for _, p := range tc.parts {
				var err error
				if p.file != "" {
					w, ferr := mw.CreateFormFile(p.name, p.file)
					if ferr == nil {
						_, err = w.Write([]byte(p.value))
					} else {
						err = ferr
					}
				} else {
					err = mw.WriteField(p.name, p.value)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			mw.Close()
			want := viaMime(t, buf.Bytes(), mw.Boundary())
			got := map[string]string{}
			if !parseMultipart(buf.Bytes(), mw.Boundary(), got) {
				t.Fatal("fast path refused a form Go's writer wrote")
			}
			if !maps.Equal(got, want) {
				t.Fatalf("fast path read %q, mime/multipart %q", got, want)
			}
		})
	}
}

func TestParseMultipartLeavesOtherShapesToMime(t *testing.T) {
	const b = "XyZ"
	field := "--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhi\r\n"
	cases := map[string]string{
		"preamble":                            "preamble\r\n" + field + "--XyZ--\r\n",
		"LF line ends":                        strings.ReplaceAll(field, "\r\n", "\n") + "--XyZ--\n",
		"another part header":                 "--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\nhi\r\n--XyZ--\r\n",
		"unquoted name":                       "--XyZ\r\nContent-Disposition: form-data; name=text\r\n\r\nhi\r\n--XyZ--\r\n",
		"no name":                             "--XyZ\r\nContent-Disposition: form-data\r\n\r\nhi\r\n--XyZ--\r\n",
		"not form-data":                       "--XyZ\r\nContent-Disposition: attachment; name=\"text\"\r\n\r\nhi\r\n--XyZ--\r\n",
		"no closing":                          field,
		"padding after close":                 field + "--XyZ-- trailing\r\n",
		"no parts (Go's writer's empty form)": "\r\n--XyZ--\r\n",
		"boundary with space":                 "--XyZ \r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhi\r\n--XyZ--\r\n",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			params := map[string]string{"from_query": "1"}
			if parseMultipart([]byte(body), b, params) {
				t.Fatalf("fast path took %q", body)
			}
			if len(params) != 1 {
				t.Fatalf("a refused form set params: %v", params)
			}
		})
	}
}

func TestParseMultipartFormOverQuery(t *testing.T) {
	body := "--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nfrom the form\r\n--XyZ--\r\n"
	params := map[string]string{"text": "from the query", "chat_id": "7"}
	if !parseMultipart([]byte(body), "XyZ", params) {
		t.Fatal("refused")
	}
	if params["text"] != "from the form" || params["chat_id"] != "7" {
		t.Fatalf("params %v", params)
	}
}
