package admin

import (
	"net/http"
	"net/url"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/i18n"
)

// LangCookie holds the language an admin reads the page in ("vi", the
// default, or "en"): a per-browser choice made with the switch in the
// page's header (GET /admin/lang?to=en), readable by the page's script.
const LangCookie = "idicbot_lang"

// pageMessages are the texts of the pages the server renders (the app
// itself is rendered by admin.js, which holds its own catalog).
var pageMessages = []i18n.Message{
	{ID: "title", VI: "Quản trị idicbot", EN: "idicbot admin"},
	{ID: "off.title", VI: "Trang quản trị idicbot đang tắt", EN: "idicbot admin is off"},
	{ID: "off.message", VI: "Trang quản trị đang tắt: chưa cấu hình token quản trị. Đặt %[1]s là một chuỗi bí mật dài, ngẫu nhiên (ví dụ `openssl rand -hex 32`) trong môi trường của idicbot rồi khởi động lại; sau đó đăng nhập ở /admin bằng token đó.", EN: "The admin is off: no admin token is configured. Set %[1]s to a long random secret (for example `openssl rand -hex 32`) in idicbot's environment and restart; then log in at /admin with that token."},
	{ID: "login.token", VI: "Token quản trị", EN: "Admin token"},
	{ID: "login.name", VI: "Tên của bạn", EN: "Your name"},
	{ID: "login.nameHint", VI: "(hiện trong lịch sử thay đổi)", EN: "(shown in the change history)"},
	{ID: "login.submit", VI: "Đăng nhập", EN: "Log in"},
	{ID: "login.crossSite", VI: "Đã từ chối đăng nhập từ trang khác.", EN: "Cross-site login refused."},
	{ID: "login.badForm", VI: "Không đọc được biểu mẫu.", EN: "Could not read the form."},
	{ID: "login.wrong", VI: "Sai token quản trị.", EN: "Wrong admin token."},
	{ID: "login.notStored", VI: "Chưa lưu được phiên đăng nhập; hãy thử lại.", EN: "The login could not be stored; try again."},
	{ID: "login.braked", VI: "Địa chỉ của bạn đã nhập sai token quá nhiều lần: thử lại sau %[1]s giây.", EN: "Too many wrong admin tokens from your address: try again in %[1]s seconds."},
	{ID: "nav.offers", VI: "Ưu đãi", EN: "Offers"},
	{ID: "nav.segments", VI: "Nhóm khách", EN: "Segments"},
	{ID: "nav.messages", VI: "Câu của bot", EN: "Bot's phrases"},
	{ID: "nav.campaigns", VI: "Chiến dịch", EN: "Campaigns"},
	{ID: "nav.dashboard", VI: "Báo cáo", EN: "Reports"},
	{ID: "nav.faq", VI: "Hỏi đáp", EN: "FAQ"},
	{ID: "nav.backup", VI: "Sao lưu", EN: "Backup"},
	{ID: "logout", VI: "Đăng xuất", EN: "Log out"},
	{ID: "loading", VI: "Đang tải…", EN: "Loading…"},
	{ID: "lang.switch", VI: "English", EN: "Tiếng Việt"},
	{ID: "lang.label", VI: "Ngôn ngữ", EN: "Language"},
}

// errorMessages are the core's errors (crm.Error phrases) as the page
// shows them in the admin's language; the API's bearer callers read the
// core's English.
var errorMessages = []i18n.Message{
	{ID: "err.messages_conflict", VI: "Câu trả lời của bot vừa được người khác lưu (giờ là phiên bản %[1]d); hãy tải lại rồi sửa lại.", EN: "The bot's phrases were saved meanwhile (now version %[1]d); reload and make your change again."},
	{ID: "err.messages_no_version", VI: "Không có phiên bản %[1]d của câu trả lời.", EN: "There is no version %[1]d of the bot's phrases."},
	{ID: "err.journeys_conflict", VI: "Các hành trình vừa được người khác lưu (giờ là phiên bản %[1]d); hãy tải lại rồi sửa lại.", EN: "The journeys were saved meanwhile (now version %[1]d); reload and make your change again."},
	{ID: "err.journey_id", VI: "Mã hành trình “%[1]s” trống, bị trùng hoặc có dấu cách hay dấu hai chấm.", EN: "The journey id %[1]q is empty, repeated or holds a space or colon."},
	{ID: "err.journey_days", VI: "Hành trình %[1]s: số ngày phải từ 1 trở lên.", EN: "Journey %[1]s: days must be at least 1."},
	{ID: "err.journey_hours", VI: "Hành trình %[1]s: số giờ phải từ 1 trở lên.", EN: "Journey %[1]s: hours must be at least 1."},
	{ID: "err.journey_segment", VI: "Hành trình %[1]s: cần chọn một nhóm và số ngày từ 1 trở lên.", EN: "Journey %[1]s: needs a segment and days of at least 1."},
	{ID: "err.journey_kind", VI: "Hành trình %[1]s: loại không hợp lệ.", EN: "Journey %[1]s: the kind is not one idicbot knows."},
	{ID: "err.journey_at", VI: "Hành trình %[1]s: giờ gửi phải có dạng HH:MM (ví dụ 09:00).", EN: "Journey %[1]s: the time must be HH:MM (09:00, say)."},
	{ID: "err.journey_message", VI: "Hành trình %[1]s: cần chọn một ưu đãi hoặc viết nội dung.", EN: "Journey %[1]s: needs an offer or a text."},
	{ID: "err.campaign_test_opted_out", VI: "Không gửi thử được: khách #%[1]s đã từ chối nhận tin.", EN: "No test sent: customer #%[1]s opted out."},
	{ID: "err.campaign_test_capped", VI: "Không gửi thử được: khách #%[1]s đã nhận đủ tin khuyến mãi gần đây.", EN: "No test sent: customer #%[1]s had enough promotions lately."},
	{ID: "err.campaign_test_no_channel", VI: "Không gửi thử được: khách #%[1]s không có kênh liên lạc.", EN: "No test sent: customer #%[1]s has no channel to reach them."},
	{ID: "err.campaign_test_window_closed", VI: "Không gửi thử được: khách #%[1]s ở ngoài khung giờ kênh cho phép gửi.", EN: "No test sent: customer #%[1]s is outside what the channel allows now."},
	{ID: "err.campaign_test_not_eligible", VI: "Không gửi thử được: khách #%[1]s không đủ điều kiện nhận ưu đãi.", EN: "No test sent: customer #%[1]s is not eligible for the offer."},
	{ID: "err.campaign_test_handoff", VI: "Không gửi thử được: khách #%[1]s đang nói chuyện với nhân viên.", EN: "No test sent: customer #%[1]s is talking with a person."},
	{ID: "err.campaign_test_no_message", VI: "Không gửi thử được: khách #%[1]s không hiển thị được nội dung cho khách này.", EN: "No test sent: customer #%[1]s gets no message: the template does not render for them."},
	{ID: "err.knowledge_conflict", VI: "Phần hỏi đáp vừa được người khác lưu (giờ là phiên bản %[1]d); hãy tải lại rồi sửa lại.", EN: "The FAQ entries were saved meanwhile (now version %[1]d); reload and make your change again."},
	{ID: "err.knowledge_no_version", VI: "Không có phiên bản %[1]d của phần hỏi đáp.", EN: "There is no version %[1]d of the FAQ entries."},
	{ID: "err.knowledge_no_entry", VI: "Không có câu hỏi đáp “%[1]s”.", EN: "There is no FAQ entry %[1]q."},
	{ID: "err.knowledge_invalid", VI: "Chưa lưu phần hỏi đáp: %[1]d vấn đề, hiện cạnh các ô.", EN: "The FAQ entries were not saved: %[1]d problem(s), shown by the fields."},
	{ID: "err.knowledge_question", VI: "Hãy viết một câu hỏi của khách để thử (tối đa %[1]d ký tự).", EN: "Write a customer's question to try (at most %[1]d characters)."},
	{ID: "err.customer_not_found", VI: "Không có khách nào khớp “%[1]s”.", EN: "No customer matches %[1]q."},
	{ID: "err.find_empty", VI: "Hãy nhập điều cần tìm: số điện thoại, tên, email, @tên hoặc mã khách.", EN: "Tell me what to look for: a phone, a name, an email, @username or a customer id."},
}

var pageCatalog = i18n.MustCatalog(pageMessages, errorMessages)

// errorText is a domain error's message: in the admin's language for the
// page (a session) when the catalog has its phrase, else the core's.
func (s *Server) errorText(r *http.Request, err error) string {
	if p, args := crm.ErrorPhrase(err); p != "" && pageCatalog.Has("err."+p) && s.session(r) != nil {
		return pageCatalog.Printer(langOf(r)).T("err."+p, args...)
	}
	return crm.ErrorMessage(err)
}

// langOf is the language the request's browser chose, Vietnamese unless
// it chose English.
func langOf(r *http.Request) i18n.Lang {
	if c, err := r.Cookie(LangCookie); err == nil {
		if l, ok := i18n.Parse(c.Value); ok {
			return l
		}
	}
	return i18n.Default
}

// pageData is what the page templates read: T prints a message in the
// reader's language, Lang is the html lang, Other the language the switch
// offers.
func pageData(r *http.Request, extra map[string]any) map[string]any {
	l := langOf(r)
	p := pageCatalog.Printer(l)
	other := i18n.English
	if l == i18n.English {
		other = i18n.Vietnamese
	}
	data := map[string]any{"Lang": string(l), "Other": string(other), "T": p.T}
	for k, v := range extra {
		data[k] = v
	}
	return data
}

// handleLang records the language choice in a cookie and goes back to the
// page (a plain link, so it works on the login page, without script).
func handleLang(w http.ResponseWriter, r *http.Request) {
	l, ok := i18n.Parse(r.URL.Query().Get("to"))
	if !ok {
		l = i18n.Default
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: string(l), Path: "/", SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https", MaxAge: int((365 * 24 * time.Hour) / time.Second)})
	back := "/admin"
	if f := r.URL.Query().Get("back"); f != "" {
		// Only a fragment of the page itself (#/offer/x), never elsewhere.
		if u, err := url.Parse(f); err == nil && u.Scheme == "" && u.Host == "" && u.Path == "" && u.Fragment != "" {
			back += "#" + u.Fragment
		}
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
