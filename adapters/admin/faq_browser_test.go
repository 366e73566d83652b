package admin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idicbot/idicbot/adapters/webchat/webchattest"
)

// TestBrowserFAQ edits the shop's FAQ as an owner would on a phone
// (390×844), in Vietnamese: cards with nothing off screen, an answer
// changed, an entry added (its missing English answer explained beside
// the field), a customer question tried before saving, a delete that asks
// first, and the save, which the bot answers from at the next message.
func TestBrowserFAQ(t *testing.T) {
	e := newEnv(t)
	ctx := webchattest.NewBrowser(t)
	p := browserPage{t, ctx}
	eval1, waitText, do := p.eval, p.waitText, p.do
	// keyOf is the card key of the entry whose id input holds id.
	keyOf := func(id string) string {
		t.Helper()
		k := eval1(`(() => { const c = [...document.querySelectorAll('#faq-entries .faq-entry')].find((c) => c.querySelector('input').value === ` + jsString(id) + `); return c ? c.dataset.key : ""; })()`)
		if k == "" {
			t.Fatalf("no card for the entry %q", id)
		}
		return k
	}

	do("log in and open the FAQ",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(e.srv.URL+"/admin"),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="vi"] #token`)),
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.SendKeys(chromedp.CSS("#name"), "Lan"),
		chromedp.Submit(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(`#offers tr[data-offer="welcome-new"]`)),
		chromedp.Click(chromedp.CSS("#nav-faq")),
		chromedp.WaitVisible(chromedp.CSS("#faq-entries .faq-entry")),
	)
	waitText("#nav-faq", "Hỏi đáp")
	waitText("#faq-version", "theo tệp knowledge.yaml")
	p.sideways("the FAQ")

	const codVI = "Dạ có ạ, shop nhận COD toàn quốc, kiểm tra hàng rồi mới trả tiền."
	cod := keyOf("cod")
	do("change the COD answer", fill("#faq-"+cod+"-answer-vi", codVI))

	// A new entry, first without its English answer.
	const parkingVI = "Shop có chỗ gửi xe máy miễn phí ngay trước cửa ạ."
	do("add an entry", chromedp.Click(chromedp.CSS("#faq-add")))
	k := eval1(`document.querySelector('#faq-entries .faq-entry:last-child').dataset.key`)
	do("fill it",
		fill("#faq-"+k+"-id", "parking"),
		fill("#faq-"+k+"-questions", "có chỗ gửi xe không\ngửi xe máy ở đâu\nco cho dau xe ko\nis there parking\nwhere can I park"),
		fill("#faq-"+k+"-answer-vi", parkingVI),
	)
	waitText("#faq-err-"+k+"-answer-en", "cần câu trả lời bằng tiếng Anh")
	if got := eval1(`document.querySelector('#faq-` + k + `-answer-en').getAttribute('aria-invalid') || ""`); got != "true" {
		t.Fatalf("the empty English answer is not marked invalid: %q", got)
	}
	do("write the English answer", fill("#faq-"+k+"-answer-en", "Free motorbike parking in front of the shop."))
	_, err := chromedp.Run(ctx, chromedp.PollFunction[bool](`() => document.querySelector('#faq-err-`+k+`-answer-en').textContent === ""`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("the problem stayed after the fix: %v", err)
	}

	// Try a customer's question with the edits, before saving.
	do("try a question",
		fill("#faq-try-q", "shop ơi có chỗ để xe máy ko"),
		chromedp.Click(chromedp.CSS("#faq-try-button")),
	)
	waitText("#faq-try-pick", "“parking”")
	waitText("#faq-try-vi", parkingVI)
	if got := strings.Join(e.chat("before", "shop có chỗ gửi xe không"), "\n"); strings.Contains(got, parkingVI) {
		t.Fatalf("trying a question changed the bot: %q", got)
	}

	// Delete asks first: one click changes nothing.
	inv := keyOf("invoice")
	do("click delete once", chromedp.Click(chromedp.CSS(`.faq-entry[data-key="`+inv+`"] .faq-delete`)))
	waitText(`.faq-entry[data-key="`+inv+`"] .faq-delete`, "Xoá thật?")
	do("confirm the delete", chromedp.Click(chromedp.CSS(`.faq-entry[data-key="`+inv+`"] .faq-delete`)))
	if n := eval1(`String(document.querySelectorAll('.faq-entry[data-key="` + inv + `"]').length)`); n != "0" {
		t.Fatalf("the deleted entry is still shown")
	}

	do("save", chromedp.Click(chromedp.CSS("#faq-save")))
	waitText("#faq-version", "phiên bản 1")
	waitText(`#faq-versions tr[data-version="1"]`, "Lan")

	if got := strings.Join(e.chat("after", "shop có chỗ gửi xe không"), "\n"); got != parkingVI {
		t.Fatalf("after the save the bot says %q", got)
	}
	if got := strings.Join(e.chat("after2", "có ship cod không shop"), "\n"); got != codVI {
		t.Fatalf("the changed COD answer: %q", got)
	}
	if e.core.Knowledge().Entry("invoice") != nil {
		t.Fatal("the deleted entry is still live")
	}
}
