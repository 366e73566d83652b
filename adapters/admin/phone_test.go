package admin_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/idicbot/idicbot/adapters/webchat/webchattest"
)

// TestBrowserPhone uses the admin as an owner would on a phone (390×844),
// in Vietnamese, the default: the offers are cards with nothing off
// screen, Pause asks before it stops an offer, an offer is edited with its
// preview (a field inserted from the list, an eligibility condition built
// from pick-lists, mistakes explained in plain words), a segment rule is
// built from pick-lists and saved, and the language switch turns the page
// English and back.
func TestBrowserPhone(t *testing.T) {
	e := newEnv(t)
	ctx := webchattest.NewBrowser(t)
	p := browserPage{t, ctx}
	eval1, waitText, do, sideways := p.eval, p.waitText, p.do, p.sideways

	do("log in",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(e.srv.URL+"/admin"),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="vi"] #token`)),
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.SendKeys(chromedp.CSS("#name"), "Lan"),
		chromedp.Submit(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(`#offers tr[data-offer="welcome-new"]`)),
	)
	waitText("#nav-offers", "Ưu đãi")

	// Cards: nothing wider than the screen, every row's numbers and its
	// button on screen, each value named beside it.
	offscreen := eval1(`(() => {
		const w = document.documentElement.clientWidth, bad = [];
		if (document.documentElement.scrollWidth > w) bad.push("page " + document.documentElement.scrollWidth);
		for (const el of document.querySelectorAll('.scroll')) if (el.scrollWidth > el.clientWidth) bad.push("scroll box " + el.scrollWidth);
		for (const el of document.querySelectorAll('#offers td.num, #offers .status-btn, #offers .offer-link')) {
			const r = el.getBoundingClientRect();
			if (r.width === 0 || r.left < 0 || r.right > w) bad.push(el.className + " " + el.textContent + " at " + r.left + "–" + r.right);
		}
		return bad.join("; ");
	})()`)
	if offscreen != "" {
		t.Fatalf("on a 390px screen: %s", offscreen)
	}
	if got := eval1(`getComputedStyle(document.querySelector('#offers tr[data-offer="welcome-new"]')).display`); got != "block" {
		t.Fatalf("an offer row displays as %q on a phone, want a card (block)", got)
	}
	if got := eval1(`getComputedStyle(document.querySelector('#offers tr[data-offer="welcome-new"] td:nth-child(6)'), '::before').content`); got != `"Đã hiện"` {
		t.Fatalf("the shown count is labelled %s, want \"Đã hiện\"", got)
	}
	waitText(`#offers tr[data-offer="welcome-new"]`, "Khách mới") // the segment by its label
	waitText(`#offers tr[data-offer="welcome-new"] .badge`, "đang chạy")
	sideways("the offers")

	// Pause asks first.
	btn := `#offers tr[data-offer="winback"] .status-btn`
	do("pause once", chromedp.Click(chromedp.CSS(btn)))
	waitText(btn, "Tạm dừng thật?")
	if o := e.getOffer("winback"); o.Status != "active" {
		t.Fatalf("one press paused the offer: %s", o.Status)
	}
	do("pause twice", chromedp.Click(chromedp.CSS(btn)))
	waitText(`#offers tr[data-offer="winback"] .badge`, "tạm dừng")
	if o := e.getOffer("winback"); o.Status != "paused" {
		t.Fatalf("confirmed pause left the offer %s", o.Status)
	}

	// Edit with preview: a field from the list, a condition from pick-lists.
	vi := `[id="f-templates.vi"]`
	do("open the offer", eval(`location.hash = "#/offer/welcome-new"`), chromedp.WaitVisible(chromedp.CSS(vi)))
	waitText("#preview-vi", "Chào mừng")
	if w := eval1(`String(document.documentElement.scrollWidth)`); w != "390" && w != eval1(`String(document.documentElement.clientWidth)`) {
		wide := eval1(`[...document.querySelectorAll('#view *')].filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth).slice(0, 8).map((el) => el.tagName + "#" + el.id + "." + el.className + " " + Math.round(el.getBoundingClientRect().right)).join("; ")`)
		t.Fatalf("the editor is %spx wide on a phone: %s", w, wide)
	}
	do("insert a field",
		eval(`const a = document.querySelector('`+vi+`'); a.focus(); a.value = "Chào "; a.selectionStart = a.selectionEnd = a.value.length`),
		fill("#insert-field", "{{.FirstName}}"))
	if got := eval1(`document.querySelector('` + vi + `').value`); got != "Chào {{.FirstName}}" {
		t.Fatalf("the template after inserting a field = %q", got)
	}
	waitText("#preview-vi", "Chào ")
	do("build a condition",
		fill("#elig-builder-fact", "order_count"), fill("#elig-builder-op", "=="), fill("#elig-builder-value", "0"),
		chromedp.Click(chromedp.CSS("#elig-builder-add")),
		fill("#elig-builder-fact", "tags"), fill("#elig-builder-op", "hasnt"), fill("#elig-builder-value", "B2B"),
		chromedp.Click(chromedp.CSS("#elig-builder-add")))
	if got, want := eval1(`document.getElementById('f-eligibility').value`), `order_count == 0 && !("b2b" in tags)`; got != want {
		t.Fatalf("eligibility built from the lists = %q, want %q", got, want)
	}
	waitText("#preview-out", "sẽ được hiện ngay")
	sideways("the offer editor")
	// Mistakes in plain words, with the valid names.
	do("a misspelt field", fill(vi, "Chào {{.Nickname}}"))
	waitText(`[id="err-templates.vi"]`, "không có trường .Nickname")
	waitText(`[id="err-templates.vi"]`, "FirstName")
	do("an unfinished condition", fill("#f-eligibility", "order_count == 0 &&"))
	waitText("#err-eligibility", "chưa viết xong")
	do("fix both", fill(vi, "Chào {{.FirstName}}, mã {{.Code}}"), fill("#f-eligibility", "order_count == 0"))
	waitText("#preview-vi", "mã WELCOME10")
	do("save", chromedp.Click(chromedp.CSS("#save")))
	waitText("#version", "đã lưu: phiên bản 2")
	if o := e.getOffer("welcome-new"); o.Templates["vi"] != "Chào {{.FirstName}}, mã {{.Code}}" || o.Eligibility != "order_count == 0" {
		t.Fatalf("saved offer: %q, eligibility %q", o.Templates["vi"], o.Eligibility)
	}

	do("the history", eval(`location.hash = "#/offer/welcome-new/history"`), chromedp.WaitVisible(chromedp.CSS(`#versions tr[data-version="2"]`)))
	waitText(`#versions tr[data-version="1"] .rollback-btn`, "Quay về v1")
	sideways("the history")

	// A segment rule from pick-lists.
	row := `#segments tr[data-segment="potential"]`
	do("open segments", eval(`location.hash = "#/segments"`), chromedp.WaitVisible(chromedp.CSS(row+" .seg-edit")))
	waitText(row, "Khách tiềm năng")
	sideways("the segments")
	do("build the rule",
		chromedp.Click(chromedp.CSS(row+" .seg-edit")),
		clear(row+" textarea"),
		fill("#builder-potential-fact", "order_count"), fill("#builder-potential-op", "=="), fill("#builder-potential-value", "0"),
		chromedp.Click(chromedp.CSS("#builder-potential-add")),
		fill("#builder-potential-fact", "messages_30d"), fill("#builder-potential-op", ">="), fill("#builder-potential-value", "1"),
		chromedp.Click(chromedp.CSS("#builder-potential-add")),
		fill("#builder-potential-fact", "is_business"), fill("#builder-potential-op", "false"), fill("#builder-potential-join", "||"),
		chromedp.Click(chromedp.CSS("#builder-potential-add")),
		fill("#builder-potential-fact", "total_spent"), fill("#builder-potential-op", "<"), fill("#builder-potential-value", "1.000.000"),
		fill("#builder-potential-join", "&&"),
		chromedp.Click(chromedp.CSS("#builder-potential-add")))
	sideways("the rule editor")
	const built = `(order_count == 0 && messages_30d >= 1 || !is_business) && total_spent < 1000000`
	if got := eval1(`document.querySelector('` + row + ` textarea').value`); got != built {
		t.Fatalf("rule built from the lists = %q, want %q", got, built)
	}
	// The raw expression stays editable; errors read plainly.
	do("an unfinished rule", clear(row+" textarea"), chromedp.SendKeys(chromedp.CSS(row+" textarea"), "order_count == 0 &&"),
		chromedp.Click(chromedp.CSS(row+" .seg-preview")))
	waitText(row+" .seg-result", "dòng 1, cột")
	waitText(row+" .seg-result", "quy tắc chưa viết xong")
	do("an unknown fact", clear(row+" textarea"), chromedp.SendKeys(chromedp.CSS(row+" textarea"), "nickname == 1"),
		chromedp.Click(chromedp.CSS(row+" .seg-preview")))
	waitText(row+" .seg-result", "không có dữ liệu “nickname”")
	waitText(row+" .seg-result", "order_count, total_spent")
	do("the built rule", clear(row+" textarea"), chromedp.SendKeys(chromedp.CSS(row+" textarea"), built),
		chromedp.Click(chromedp.CSS(row+" .seg-preview")))
	waitText(row+" .seg-result", "khách sẽ vào nhóm")
	do("save the rule", chromedp.Click(chromedp.CSS(row+" .seg-save")))
	waitText("#toast", "Đã lưu quy tắc của Khách tiềm năng")
	segs, err := e.core.SegmentAdmin().SegmentList(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		if s.Name == "potential" && s.Rule != built {
			t.Fatalf("saved rule %q, want %q", s.Rule, built)
		}
	}

	// The bot's phrases: the form of address and a phrase of the shop's
	// own, previewed, saved as a version, said to the next customer.
	do("open the phrases", eval(`location.hash = "#/messages"`), chromedp.WaitVisible(chromedp.CSS(`[data-phrase="unknown"]`)))
	waitText("#msg-version", "theo tệp messages.yaml")
	waitText("#said-unknown-vi", "Mình chưa hiểu ý bạn lắm")
	sideways("the phrases")
	do("address the customer as anh/chị", fill("#addr-self", "em"), fill("#addr-customer", "anh/chị"))
	waitText("#said-unknown-vi", "Em chưa hiểu ý anh/chị lắm")
	waitText("#said-greeting-vi", "Xin chào %s! Em là trợ lý của %s. Anh/chị muốn xem")
	do("a phrase without its %s", fill("#msg-greeting-vi", "Chào!"))
	waitText("#msg-error", "phrases.greeting.vi")
	do("fix it, write the thanks", fill("#msg-greeting-vi", "Dạ em chào %s ạ! Em là trợ lý của %s."),
		fill("#msg-thanks-vi", "Dạ không có chi ạ, anh/chị cần gì cứ nhắn em nha!"))
	waitText("#said-greeting-vi", "Dạ em chào %s ạ!")
	if got := eval1(`document.getElementById('msg-error').textContent`); got != "" {
		t.Fatalf("an error stays after the fix: %q", got)
	}
	do("save the phrases", chromedp.Click(chromedp.CSS("#msg-save")))
	waitText("#msg-version", "phiên bản 1")
	waitText(`#msg-versions tr[data-version="1"]`, "Lan (web)")
	if got := strings.Join(e.chat("phrases", "cảm ơn shop"), "\n"); !strings.Contains(got, "Dạ không có chi ạ, anh/chị cần gì cứ nhắn em nha!") {
		t.Fatalf("after the save the bot says %q", got)
	}
	if got := strings.Join(e.chat("phrases2", "xin chào"), "\n"); !strings.Contains(got, "Dạ em chào anh/chị ạ! Em là trợ lý của") {
		t.Fatalf("the greeting after the save: %q", got)
	}

	// The language switch: English, on the same view, then back to
	// Vietnamese.
	do("to English", chromedp.Click(chromedp.CSS("#lang-switch")), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #messages-view`)))
	waitText("#messages-view h1", "Bot's phrases")
	waitText("#msg-version", "version 1")
	do("English offers", eval(`location.hash = "#/offers"`), chromedp.WaitVisible(chromedp.CSS(`#offers`)))
	waitText("#nav-offers", "Offers")
	waitText(`#offers tr[data-offer="winback"] .badge`, "paused")
	waitText(`#offers tr[data-offer="welcome-new"]`, "New")
	do("to Vietnamese", chromedp.Click(chromedp.CSS("#lang-switch")), chromedp.WaitVisible(chromedp.CSS(`html[lang="vi"] #offers`)))
	waitText("#nav-offers", "Ưu đãi")
	if got := eval1(`document.querySelector('#offers').textContent`); strings.Contains(got, "Pause") {
		t.Fatalf("Vietnamese list still shows English: %q", got)
	}
}
