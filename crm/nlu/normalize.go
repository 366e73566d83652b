package nlu

import (
	"strings"

	"github.com/idicbot/idicbot/crm"
)

// shorthand maps folded chat shorthand to the folded words it stands for
// (see docs/understanding.md). Words are replaced one by one; an empty
// value drops the word (a particle that says nothing of the intent).
var shorthand = map[string]string{
	// negation and yes/no
	"ko": "khong", "k": "khong", "kh": "khong", "hok": "khong", "khum": "khong",
	"hem": "khong", "kg": "khong", "khg": "khong", "hk": "khong", "khon": "khong",
	"dk": "duoc", "dc": "duoc",
	"oke": "ok", "oki": "ok", "okie": "ok", "okay": "ok", "uh": "ok", "uhm": "ok", "um": "ok",
	// people
	"e": "em", "c": "chi", "chj": "chi", "mik": "minh", "mk": "minh", "mjk": "minh",
	"mh": "minh", "ad": "shop", "add": "shop", "admin": "shop", "sop": "shop",
	// things
	"sp": "san pham", "sdt": "so dien thoai", "dt": "dien thoai", "dthoai": "dien thoai",
	"ib": "inbox", "ck": "chuyen khoan", "bh": "bao hanh", "tg": "thoi gian", "hnay": "hom nay",
	"sz": "size", "auth": "chinh hang", "hd": "hoa don", "dh": "don hang",
	"sip": "ship", "fs": "freeship",
	// question words
	"bn": "bao nhieu", "bnh": "bao nhieu", "nhiu": "nhieu", "bnhieu": "bao nhieu", "j": "gi", "ji": "gi",
	"ntn": "nhu the nao", "z": "vay", "v": "vay", "bjo": "bao gio",
	// glue and particles
	"r": "roi", "vs": "voi", "cx": "cung", "ns": "noi", "nt": "nhan tin", "trc": "truoc",
	"thik": "thich", "lm": "lam", "ak": "", "ah": "", "nhe": "", "ne": "",
	"oi": "", "nhi": "", "hen": "", "di": "", "please": "",
	"pls": "", "plz": "", "u": "you", "ur": "your", "thx": "thanks", "tks": "thanks",
	"thank": "thanks", "tk": "thanks", "cmon": "cam on", "camon": "cam on", "iu": "yeu",
	"wa": "qua", "qa": "qua", "kq": "ket qua", "nhju": "nhieu", "lun": "luon", "hum": "hom",
	"mn": "moi nguoi", "bik": "biet", "bit": "biet", "ng": "nguoi", "ngta": "nguoi ta",
	"khoong": "khong", "dduowcj": "duoc", "im": "i am", "dont": "do not", "cant": "can not", "wont": "will not",
	"whats": "what is", "wheres": "where is", "hows": "how is", "isnt": "is not",
}

// dcAddress: "dc" is địa chỉ (an address) before these words, được elsewhere.
var dcAddress = map[string]bool{"giao": true, "nha": true, "nhan": true, "cua": true, "la": true, "moi": true, "shop": true, "cua hang": true, "o": true}

// particle are words that end a question ("… hông ạ", "… ko shop").
var particle = map[string]bool{"a": true, "ak": true, "ah": true, "shop": true, "ad": true, "z": true, "v": true, "vay": true, "nhi": true, "ta": true, "ha": true, "ban": true, "em": true, "chi": true, "anh": true}

// apostrophes spells out English contractions before the text is split
// into words, so that "don't" is not read as "đơn" (order).
var apostrophes = strings.NewReplacer("’", "'", "can't", "can not", "won't", "will not", "n't", " not", "i'm", "i am", "'s", " is", "'ll", " will", "'d", " would", "'ve", " have", "'re", " are")

// Normalize folds text (lower case, no diacritics) and expands chat
// shorthand, so that "sp e mua bi loi" and "sản phẩm em mua bị lỗi" read
// the same. The result is words of letters and digits joined by spaces.
func Normalize(text string) string {
	return strings.Join(normalizeWords(crm.Words(apostrophes.Replace(crm.Fold(text)))), " ")
}

func normalizeWords(words []string) []string {
	out := make([]string, 0, len(words)+4)
	for i, w := range words {
		if w == "dc" || w == "dia" && i+1 < len(words) && words[i+1] == "chi" {
			if w == "dc" && (i+1 < len(words) && dcAddress[words[i+1]] || i > 0 && (words[i-1] == "doi" || words[i-1] == "sai")) {
				out = append(out, "dia", "chi")
				continue
			}
		}
		if w == "hong" && (i == len(words)-1 || particle[words[i+1]]) && (i == 0 || words[i-1] != "mau") {
			out = append(out, "khong") // "còn không hông", not the colour "hồng"
			continue
		}
		r, ok := shorthand[w]
		switch {
		case !ok:
			out = append(out, w)
		case r == "":
		default:
			out = append(out, strings.Fields(r)...)
		}
	}
	// A closing "ạ" says nothing of the intent ("xin chào ạ").
	for len(out) > 1 && (out[len(out)-1] == "a" || out[len(out)-1] == "ah") {
		out = out[:len(out)-1]
	}
	return out
}
