package slack_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/slack"
	"github.com/idicbot/idicbot/crm"
)

// TestLangPerUserAndWorkspace: answers are Vietnamese until a rep asks for
// English; the choice is the rep's own, kept in the store; an admin sets a
// workspace's language, which a personal choice overrides.
func TestLangPerUserAndWorkspace(t *testing.T) {
	e := newEnv(t, false)
	lan := e.id("lan")
	contains(t, "default", e.crm(repUser, "lang").Text, "tiếng Việt")
	contains(t, "default card", e.crm(repUser, "customer "+lan).all(), "*Giá trị*\n2 đơn · tổng chi 4.000.000 ₫")

	contains(t, "set en", e.crm(repUser, "lang en").Text, "in English from now on")
	card := e.crm(repUser, "customer "+lan).all()
	contains(t, "english card", card, "*Value*\n2 orders · total spent: 4.000.000 ₫", "Loyal since", "*Consent*\naccepts offers")
	lacks(t, "english card", card, "Giá trị", "Khách thân thiết")
	if got, err := e.db.Lang(context.Background(), "slack:"+repUser); err != nil || got != "en" {
		t.Fatalf("stored choice = %q, %v; want en", got, err)
	}
	// Another rep still reads Vietnamese.
	contains(t, "other rep", e.crm(rep2User, "customer "+lan).all(), "*Giá trị*")
	contains(t, "bad lang", e.crm(repUser, "lang fr").Text, "Vietnamese (`vi`) and English (`en`)")
	contains(t, "core error in English", e.crm(repUser, "segment gold").Text, `There is no segment "gold". Segments: business, vip`)

	// The workspace: admins only.
	contains(t, "rep sets workspace", e.crm(rep2User, "lang en workspace").Text, "Chỉ quản trị viên")
	contains(t, "admin sets workspace", e.crm(adminUser, "lang en workspace").Text, "answers this workspace in English")
	contains(t, "workspace english", e.crm(rep2User, "stats").all(), "Stats: today", "*Customers*: 4")
	contains(t, "own choice wins", e.crm(repUser, "lang vi").Text, "tiếng Việt")
	contains(t, "own choice wins", e.crm(repUser, "stats").all(), "Thống kê: hôm nay")
	// The handoff card follows the workspace.
	e.say(crm.ChannelWeb, "w-lan", "cho mình gặp nhân viên")
	contains(t, "card", callText(e.fake.Wait("chat.postMessage", 1, 5*time.Second)[0]), "wants to talk to a person", "Take it")
}

// TestPlurals: counts read right in both languages.
func TestPlurals(t *testing.T) {
	e := newEnv(t, false)
	dung, anh := e.id("dung"), e.id("anh")
	contains(t, "vi one note", e.crm(repUser, "note "+dung+" gọi sau 18h").Text, "Khách có 1 ghi chú.")
	contains(t, "vi two notes", e.crm(repUser, "note "+dung+" thích áo trắng").Text, "Khách có 2 ghi chú.")
	e.crm(repUser, "lang en")
	contains(t, "en three notes", e.crm(repUser, "note "+dung+" third").Text, "They have 3 notes.")
	contains(t, "en one note", e.crm(repUser, "note "+anh+" first").Text, "They have 1 note.")
	lacks(t, "en", e.crm(repUser, "note "+anh+" second").Text, "note(s)")
	card := e.crm(repUser, "customer "+dung).all()
	contains(t, "en one order", card, "*Value*\n1 order · ")
	lacks(t, "en one order", card, "1 orders")
	contains(t, "en list", e.crm(repUser, "segment new").all(), "Segment New — 2 customers", "300.000 ₫ in 1 order", "0 ₫ in 0 orders")
}

// TestNamelessCustomerAndMatchCounts: a customer without a name reads
// "Khách #155", not "Customer #155 (#155)"; a search with more matches than
// shown says how many there are.
func TestNamelessCustomerAndMatchCounts(t *testing.T) {
	e := newEnv(t, false)
	now := time.Now()
	var nameless crm.ID
	if err := e.db.Update(context.Background(), func(tx crm.Tx) error {
		c := &crm.Customer{CreatedAt: now}
		c.AddIdentity(crm.Identity{Channel: crm.ChannelWeb, UserID: "w-anon", FirstSeen: now})
		e.core.Segments().Apply(c, now, "import")
		if err := tx.PutCustomer(c); err != nil {
			return err
		}
		nameless = c.ID
		for i := range 152 {
			c := &crm.Customer{Name: "Phạm Thị Hoa " + strconv.Itoa(i+1), CreatedAt: now}
			c.AddIdentity(crm.Identity{Channel: crm.ChannelWeb, UserID: "hoa-" + strconv.Itoa(i), FirstSeen: now})
			e.core.Segments().Apply(c, now, "import")
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatUint(uint64(nameless), 10)
	card := e.crm(repUser, "customer "+id).all()
	contains(t, "nameless", card, "Khách #"+id)
	lacks(t, "nameless", card, "(#"+id+")", "Customer #")

	a := e.crm(repUser, "find pham thi hoa")
	contains(t, "find", a.all(), "152 khách khớp “pham thi hoa”, hiển thị 20", "tìm cụ thể hơn")
	if n := strings.Count(a.Text, "\n• "); n != 20 {
		t.Fatalf("find lists %d customers, want 20:\n%s", n, a.Text)
	}
	e.crm(repUser, "lang en")
	contains(t, "find en", e.crm(repUser, "find pham thi hoa").Text, "152 customers match “pham thi hoa”, showing 20")
	contains(t, "two en", e.crm(repUser, "find nguyen").Text, "2 customers match “nguyen”")
	lacks(t, "two en", e.crm(repUser, "find nguyen").Text, "showing")
}

// TestHelpLists every built-in subcommand in the reader's language.
func TestHelpLanguages(t *testing.T) {
	e := newEnv(t, false)
	vi := e.crm(repUser, "help").all()
	contains(t, "vi help", vi, "bạn có thể làm gì", "/crm lang [vi | en] [workspace]", "find <số điện thoại | tên | email | @telegram | mã khách>")
	lacks(t, "vi help", vi, "[usage.", "[help.")
	e.crm(repUser, "lang en")
	en := e.crm(repUser, "help").all()
	contains(t, "en help", en, "what you can do", "look a customer up")
	lacks(t, "en help", en, "[usage.", "[help.")
}

// TestOfferProblemsInPlainWords: a template naming a field that does not
// exist is told in the reader's language with the valid fields.
func TestOfferProblemsInPlainWords(t *testing.T) {
	e := newEnv(t, false)
	seedOffers(t, e)
	e.crm(adminUser, "offer edit welcome-new")
	_, body := e.interact(viewSubmission(adminUser, e.lastView(), map[string]string{"vi": "Chào {{.Nickname}}", "en": "Hi {{.Nickname"}))
	errs := submitErrors(t, body)
	contains(t, "vi field", errs[slack.OfferTemplateBlock+"vi"], "không có trường .Nickname; các trường dùng được:", ".FirstName")
	contains(t, "unfinished", errs[slack.OfferTemplateBlock+"en"], "dòng 1: thiếu }} để đóng {{")
}
