package bot

import (
	"fmt"
	"strings"

	"github.com/idicbot/idicbot/crm"
)

// phrases the bot says, per language. %s/%d verbs are filled by say.
var phrases = map[string]map[string]string{
	"vi": {
		"greeting":              "Xin chào %s! Mình là trợ lý của %s. Bạn muốn xem sản phẩm, hỏi giá hay xem khuyến mãi ạ?",
		"start_source":          "Cảm ơn bạn đã ghé %s qua %s!",
		"start_thanks":          "Cảm ơn bạn đã ghé %s!",
		"owned":                 "Bạn đã có %s rồi ạ.",
		"goes_with":             "Sản phẩm thường dùng kèm:",
		"after_order":           "Bạn vừa mua %s — khách thường mua thêm:",
		"order_dropped":         "Đã hủy yêu cầu đặt hàng vừa rồi. Khi nào cần bạn cứ nhắn mình nhé.",
		"next_up":               "Nếu muốn lên đời, shop có:",
		"owned_nothing":         "Bạn cần thêm phụ kiện gì cứ nhắn mình nhé.",
		"products_intro":        "Shop có các sản phẩm này:",
		"product_line":          "• %s: %s",
		"catalog_intro":         "Shop đang bán %s. Một vài sản phẩm nổi bật:",
		"range_intro":           "Trong tầm giá %s, shop có:",
		"range_none":            "Shop chưa có sản phẩm %s. Gần nhất là:",
		"range_under":           "dưới %s",
		"range_over":            "trên %s",
		"range_around":          "khoảng %s",
		"range_between":         "từ %s đến %s",
		"price_ask":             "Bạn muốn hỏi giá sản phẩm nào ạ? Ví dụ: \"giá iPhone 15\".",
		"buy_product":           "Tuyệt vời! Bạn muốn đặt %s.",
		"buy_generic":           "Tuyệt vời! Bạn muốn đặt sản phẩm nào ạ?",
		"buy_category":          "Tuyệt vời! Bạn muốn đặt %s nào ạ? Shop đang có:",
		"ask_phone":             "Bạn để lại số điện thoại để nhân viên gọi xác nhận đơn nhé.",
		"will_call":             "Nhân viên sẽ gọi bạn qua số %s để xác nhận trong ít phút.",
		"contact_saved":         "Cảm ơn bạn! Mình đã lưu %s.",
		"contact_order":         "Cảm ơn bạn! Nhân viên sẽ gọi số %s để xác nhận đơn hàng.",
		"contact_bad":           "Số điện thoại này có vẻ chưa đúng, bạn kiểm tra lại giúp mình nhé.",
		"opt_out":               "Đã tắt tin nhắn ưu đãi cho bạn. Bạn vẫn có thể hỏi mình bất cứ lúc nào. Muốn nhận lại ưu đãi, nhắn \"đăng ký lại\".",
		"opt_in":                "Đã bật lại tin nhắn ưu đãi cho bạn. 🎉",
		"opted_out_promo":       "Bạn đang tắt nhận ưu đãi. Nhắn \"đăng ký lại\" nếu muốn nhận khuyến mãi nhé.",
		"no_promo":              "Hiện chưa có ưu đãi mới dành cho bạn, shop sẽ báo ngay khi có nhé!",
		"handoff":               "Mình đã báo nhân viên, họ sẽ trả lời bạn ngay trong cuộc trò chuyện này. Trong lúc chờ, mình tạm dừng gửi ưu đãi.",
		"handoff_again":         "Nhân viên đã nhận được yêu cầu của bạn và sẽ trả lời sớm nhất.",
		"thanks":                "Không có gì ạ! Bạn cần gì cứ nhắn mình nhé.",
		"media":                 "Cảm ơn bạn đã gửi! Mình chỉ đọc được tin nhắn chữ, bạn nhắn giúp mình nội dung cần hỏi nhé.",
		"unknown":               "Mình chưa hiểu ý bạn lắm. Bạn có thể hỏi giá sản phẩm (ví dụ \"giá iPhone 15\"), xem \"khuyến mãi\", \"đặt hàng\", hoặc nhắn \"gặp nhân viên\" để nói chuyện với người thật.",
		"accepted":              "Tuyệt vời, mình đã ghi nhận ưu đãi \"%s\" cho bạn!",
		"accepted_code":         "Mã của bạn: %s. Dùng khi đặt hàng nhé.",
		"declined":              "Không sao ạ! Khi nào cần bạn cứ nhắn mình nhé.",
		"more_default":          "Ưu đãi \"%s\" áp dụng cho bạn đến khi hết hạn. Bạn cần thêm thông tin gì cứ hỏi mình nhé.",
		"offer_gone":            "Ưu đãi này đã kết thúc. Nhắn \"khuyến mãi\" để xem ưu đãi hiện có nhé.",
		"offer_not_yours":       "Ưu đãi này hiện không áp dụng cho bạn. Nhắn \"khuyến mãi\" để xem ưu đãi dành cho bạn nhé.",
		"claim_hint":            "(Nếu bạn từng nhắn shop qua Telegram, Zalo hoặc Messenger bằng số/email này, shop sẽ gửi mã xác nhận 6 số tới đó; nhập mã vào đây để nối lịch sử mua hàng.)",
		"code_message":          "Mã xác nhận của bạn tại %s: %s (hết hạn sau %d phút). Ai đó vừa nhập số điện thoại hoặc email của bạn trong khung chat của shop. Nếu là bạn, hãy nhập mã này ở đó. Nếu không phải bạn, bỏ qua tin nhắn này; đừng gửi mã cho ai.",
		"code_ok":               "Đã xác nhận! Lịch sử mua hàng của bạn đã được nối với cuộc trò chuyện này.",
		"code_wrong":            "Mã xác nhận chưa đúng, bạn kiểm tra lại giúp mình nhé (còn %d lần thử).",
		"code_expired":          "Mã xác nhận đã hết hạn hoặc đã dùng hết số lần thử. Bạn nhập lại số điện thoại để nhận mã mới nhé.",
		"btn_accept":            "✅ Nhận ưu đãi",
		"btn_more":              "ℹ️ Xem thêm",
		"btn_decline":           "❌ Để sau",
		"friend":                "bạn",
		"complaint":             "Mình rất xin lỗi vì trải nghiệm không tốt này 🙏 Mình đã chuyển ngay cho nhân viên xử lý ưu tiên, họ sẽ liên hệ bạn trong cuộc trò chuyện này. Bạn gửi giúp mình mã đơn và ảnh hoặc video sản phẩm (nếu có) để xử lý nhanh hơn nhé.",
		"complaint_again":       "Mình rất xin lỗi 🙏 Nhân viên đã nhận yêu cầu của bạn và sẽ ưu tiên trả lời sớm nhất.",
		"order_last":            "Đơn gần nhất của bạn: %s, %s, đặt ngày %s.",
		"order_ref":             "Đơn %s của bạn: %s, đặt ngày %s.",
		"order_check":           "Mình đã nhờ nhân viên kiểm tra tình trạng giao hàng, họ sẽ báo bạn ngay tại đây.",
		"order_ask":             "Mình chưa tìm thấy đơn hàng nào của bạn. Bạn gửi giúp mình mã đơn hoặc số điện thoại đặt hàng nhé; mình đã báo nhân viên kiểm tra giúp bạn.",
		"order_ref_unknown":     "Mình đã ghi nhận mã đơn %s và nhờ nhân viên kiểm tra, họ sẽ báo bạn ngay tại đây.",
		"order_no_ref":          "không mã",
		"cancel_order":          "Mình đã ghi nhận yêu cầu hủy đơn%s. Nhân viên sẽ xác nhận với bạn ngay trong cuộc trò chuyện này.",
		"change_order":          "Mình đã ghi nhận yêu cầu thay đổi đơn%s. Nhân viên sẽ xác nhận với bạn ngay trong cuộc trò chuyện này.",
		"objection_cheaper":     "Mình hiểu ạ. Cùng loại, shop có lựa chọn tiết kiệm hơn:",
		"objection_offer":       "Mình hiểu ạ. Shop đang có ưu đãi dành cho bạn:",
		"objection_none":        "Mình hiểu ạ. Đây đang là mức giá tốt nhất của shop; khi có ưu đãi mới shop sẽ báo bạn nhé.",
		"avail_in":              "%s: còn hàng.",
		"avail_out":             "%s: tạm hết hàng.",
		"avail_options":         "Còn hàng: %s.",
		"avail_none_left":       "Các lựa chọn khác cũng đang tạm hết, shop sẽ báo bạn khi có hàng nhé.",
		"avail_ask":             "Bạn hỏi sản phẩm nào ạ? Ví dụ: \"iPhone 15 còn màu đen không\".",
		"address_saved":         "Mình đã lưu địa chỉ giao hàng: %s. Nhân viên sẽ xác nhận lại khi gọi cho bạn nhé.",
		"address_ask":           "Bạn gửi giúp mình địa chỉ đầy đủ (số nhà, đường, phường/xã, quận/huyện, tỉnh/thành) nhé.",
		"smalltalk":             "Mình là trợ lý tự động của %s 😊 Mình có thể giúp bạn xem sản phẩm, hỏi giá, khuyến mãi, đơn hàng, hoặc nối bạn với nhân viên.",
		"clarify":               "Có phải bạn muốn hỏi về %s không ạ? Bạn nói rõ hơn giúp mình, hoặc nhắn \"gặp nhân viên\" để nói chuyện với người thật.",
		"clarify_two":           "Bạn muốn hỏi về %s hay %s ạ? Bạn nói rõ hơn giúp mình, hoặc nhắn \"gặp nhân viên\" để nói chuyện với người thật.",
		"topic_price":           "giá sản phẩm",
		"topic_product":         "sản phẩm của shop",
		"topic_availability":    "tình trạng còn hàng",
		"topic_promotion":       "khuyến mãi",
		"topic_buy":             "đặt hàng",
		"topic_order_status":    "tình trạng đơn hàng",
		"topic_cancel_order":    "hủy đơn hàng",
		"topic_change_order":    "thay đổi đơn hàng",
		"topic_complaint":       "sản phẩm lỗi hoặc giao hàng chưa tốt",
		"topic_handoff":         "gặp nhân viên",
		"topic_price_objection": "giá tốt hơn",
		"topic_opt_out":         "tắt tin ưu đãi",
		"topic_address":         "địa chỉ giao hàng",
		"edit_ignored":          "",
	},
	"en": {
		"greeting":              "Hello %s! I'm the assistant of %s. Would you like to see products, ask a price or check our promotions?",
		"start_source":          "Thanks for finding %s through %s!",
		"start_thanks":          "Thanks for stopping by %s!",
		"owned":                 "You already have %s.",
		"goes_with":             "Customers often add:",
		"after_order":           "You recently bought %s — customers often add:",
		"order_dropped":         "Done, I've dropped that order. Write any time you need something.",
		"next_up":               "If you'd like to upgrade, we have:",
		"owned_nothing":         "Just tell me if you need anything to go with it.",
		"products_intro":        "Here is what we have:",
		"product_line":          "• %s: %s",
		"catalog_intro":         "We sell %s. A few favourites:",
		"range_intro":           "Here is what we have %s:",
		"range_none":            "We have nothing %s. The closest:",
		"range_under":           "under %s",
		"range_over":            "over %s",
		"range_around":          "around %s",
		"range_between":         "from %s to %s",
		"price_ask":             "Which product would you like a price for? For example: \"price of iPhone 15\".",
		"buy_product":           "Great choice! You'd like to order %s.",
		"buy_generic":           "Great! Which product would you like to order?",
		"buy_category":          "Great! Which of our %s would you like? We have:",
		"ask_phone":             "Please share your phone number so a colleague can call to confirm the order.",
		"will_call":             "A colleague will call you at %s to confirm within minutes.",
		"contact_saved":         "Thank you! I saved %s.",
		"contact_order":         "Thank you! A colleague will call %s to confirm your order.",
		"contact_bad":           "That phone number doesn't look right, could you check it?",
		"opt_out":               "Done: you won't get promotional messages any more. You can still ask me anything. To get offers again, write \"subscribe\".",
		"opt_in":                "Offers are back on for you. 🎉",
		"opted_out_promo":       "You turned offers off. Write \"subscribe\" to get promotions again.",
		"no_promo":              "There's no new offer for you right now — we'll tell you as soon as there is!",
		"handoff":               "I've told a colleague; they will answer you right here. Meanwhile I won't send you any offers.",
		"handoff_again":         "A colleague has your request and will answer as soon as possible.",
		"thanks":                "You're welcome! Write any time.",
		"media":                 "Thanks for sending that! I can only read text, so please tell me what you need in words.",
		"unknown":               "Sorry, I didn't quite get that. You can ask for a price (e.g. \"price of iPhone 15\"), our \"promotions\", \"order\" something, or write \"talk to a human\".",
		"accepted":              "Great, the offer \"%s\" is yours!",
		"accepted_code":         "Your code: %s. Use it when you order.",
		"declined":              "No problem! Write any time you need something.",
		"more_default":          "The offer \"%s\" is yours until it ends. Ask me anything about it.",
		"offer_gone":            "That offer has ended. Write \"promotions\" to see current ones.",
		"offer_not_yours":       "That offer isn't available to you. Write \"promotions\" to see the ones that are.",
		"claim_hint":            "(If you have written to us on Telegram, Zalo or Messenger with this number or email, we will send a 6-digit code there; type it here to join your purchase history.)",
		"code_message":          "Your verification code at %s: %s (expires in %d minutes). Someone just typed your phone number or email in the shop's chat. If it was you, type this code there. If not, ignore this message and never share the code.",
		"code_ok":               "Verified! Your purchase history is now joined to this conversation.",
		"code_wrong":            "That code isn't right, please check it (%d tries left).",
		"code_expired":          "That code has expired or has no tries left. Type your phone number again to get a new one.",
		"btn_accept":            "✅ Accept",
		"btn_more":              "ℹ️ Tell me more",
		"btn_decline":           "❌ Not now",
		"friend":                "there",
		"complaint":             "I'm very sorry about this 🙏 I've passed it to a colleague as a priority; they will get back to you right here. Please send your order number and a photo or video of the product, if you can, so we can sort it out faster.",
		"complaint_again":       "I'm very sorry 🙏 A colleague has your request and will answer you first thing.",
		"order_last":            "Your latest order: %s, %s, placed on %s.",
		"order_ref":             "Your order %s: %s, placed on %s.",
		"order_check":           "I've asked a colleague to check where it is; they will tell you right here.",
		"order_ask":             "I can't find an order of yours yet. Please send the order number or the phone number you ordered with; I've asked a colleague to check.",
		"order_ref_unknown":     "I've noted order %s and asked a colleague to check it; they will tell you right here.",
		"order_no_ref":          "no number",
		"cancel_order":          "I've noted your request to cancel order%s. A colleague will confirm with you right here.",
		"change_order":          "I've noted your request to change order%s. A colleague will confirm with you right here.",
		"objection_cheaper":     "I understand. In the same category we have cheaper options:",
		"objection_offer":       "I understand. Here is an offer for you:",
		"objection_none":        "I understand. That is our best price right now; we'll tell you when there is a new offer.",
		"avail_in":              "%s: in stock.",
		"avail_out":             "%s: out of stock right now.",
		"avail_options":         "In stock: %s.",
		"avail_none_left":       "The other options are out of stock too; we'll tell you when they are back.",
		"avail_ask":             "Which product do you mean? For example: \"is the iPhone 15 in black?\"",
		"address_saved":         "I've saved your delivery address: %s. A colleague will confirm it when they call.",
		"address_ask":           "Please send your full address (number, street, ward, district, city).",
		"smalltalk":             "I'm the automated assistant of %s 😊 I can help with products, prices, promotions and orders, or put you through to a colleague.",
		"clarify":               "Do you mean %s? Could you tell me a bit more, or write \"talk to a human\" to reach a person.",
		"clarify_two":           "Do you mean %s or %s? Could you tell me a bit more, or write \"talk to a human\" to reach a person.",
		"topic_price":           "a price",
		"topic_product":         "our products",
		"topic_availability":    "whether it is in stock",
		"topic_promotion":       "promotions",
		"topic_buy":             "placing an order",
		"topic_order_status":    "where your order is",
		"topic_cancel_order":    "cancelling an order",
		"topic_change_order":    "changing an order",
		"topic_complaint":       "a problem with a product or delivery",
		"topic_handoff":         "talking to a colleague",
		"topic_price_objection": "a better price",
		"topic_opt_out":         "turning offers off",
		"topic_address":         "a delivery address",
		"edit_ignored":          "",
	},
}

func say(lang, key string, args ...any) string {
	p, ok := phrases[lang][key]
	if !ok {
		p = phrases["vi"][key]
	}
	if len(args) == 0 {
		return p
	}
	return fmt.Sprintf(p, args...)
}

// defaultCategoryNames name the categories of the built-in catalog when
// the shop's catalog does not (its "categories:" section).
var defaultCategoryNames = map[string]map[string]string{
	"vi": {"phone": "điện thoại", "laptop": "laptop", "accessory": "phụ kiện"},
	"en": {"phone": "phones", "laptop": "laptops", "accessory": "accessories"},
}

// categoryName is how answers name a category: the catalog's name for it,
// else the default, else its id.
func categoryName(cat *crm.Catalog, lang, c string) string {
	if cat != nil {
		if n := cat.CategoryName(lang, c); n != "" {
			return n
		}
	}
	if n, ok := defaultCategoryNames[lang][c]; ok {
		return n
	}
	return c
}

func productLines(lang string, ps []*crm.Product, max int) string {
	var b strings.Builder
	for i, p := range ps {
		if i == max {
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(say(lang, "product_line", p.DisplayName(lang), crm.VND(p.Price)))
	}
	return b.String()
}

func offerButtons(lang string, o *crm.CompiledOffer) []crm.Button {
	return buttonsOf(o, func(key string) string { return say(lang, key) })
}

// buttonsOf are an offer's buttons, each labelled with the phrase label
// gives for "btn_" and its kind.
func buttonsOf(o *crm.CompiledOffer, label func(key string) string) []crm.Button {
	kinds := o.ButtonKinds()
	var out []crm.Button
	if len(kinds) > 0 {
		out = make([]crm.Button, 0, len(kinds))
	}
	for _, k := range kinds {
		out = append(out, crm.Button{Label: label(buttonPhrase(k)), Payload: "offer:" + o.ID + ":" + k})
	}
	return out
}

// buttonPhrase is the id of the phrase that labels a button kind, a
// constant for the built-in kinds.
func buttonPhrase(kind string) string {
	switch kind {
	case crm.ButtonAccept:
		return "btn_" + crm.ButtonAccept
	case crm.ButtonMore:
		return "btn_" + crm.ButtonMore
	case crm.ButtonDecline:
		return "btn_" + crm.ButtonDecline
	}
	return "btn_" + kind
}

// parseOfferPayload splits "offer:<id>:<action>".
func parseOfferPayload(p string) (id, action string, ok bool) {
	parts := strings.Split(p, ":")
	if len(parts) != 3 || parts[0] != "offer" || parts[1] == "" {
		return "", "", false
	}
	switch parts[2] {
	case crm.ButtonAccept, crm.ButtonMore, crm.ButtonDecline:
		return parts[1], parts[2], true
	}
	return "", "", false
}
