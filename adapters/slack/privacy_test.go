package slack_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/idicbot/idicbot/bot"
)

// TestCrmExportErase_AdminsOnly: /crm export and /crm erase are refused to
// reps and strangers; an admin gets a summary without personal data, and an
// erase that needs "confirm", is recorded as the admin, and leaves no trace
// of the customer's name or phone in the data file.
func TestCrmExportErase_AdminsOnly(t *testing.T) {
	e := newEnv(t, false)
	if err := e.a.RegisterPrivacyCommands(bot.NewPrivacy(e.db, e.db, nil)); err != nil {
		t.Fatal(err)
	}
	id := e.id("lan")

	for _, user := range []string{repUser, strangerUser} {
		for _, cmd := range []string{"export " + id, "erase " + id + " confirm"} {
			got := e.crm(user, cmd).all()
			contains(t, "/crm "+cmd+" by "+user, got, "chỉ dành cho quản trị viên")
		}
	}
	if c := e.customer(e.ids["lan"]); c.Name != "Nguyễn Thị Lan" {
		t.Fatalf("a refused erase changed the customer: %+v", c)
	}

	got := e.crm(adminUser, "export "+id).all()
	contains(t, "export", got, "Khách #"+id, "2 đơn", "idicbot customer export "+id)
	lacks(t, "export", got, "Nguyễn Thị Lan", "+84912345678", "0912 345 678", "lan@example.com")

	got = e.crm(adminUser, "erase "+id).all()
	contains(t, "erase without confirm", got, "không thể hoàn tác", "/crm erase "+id+" confirm")

	got = e.crm(adminUser, "erase "+id+" confirm").all()
	contains(t, "erase", got, "đã bị xoá", "slack:"+adminUser, "bản sao lưu trước đó")
	c := e.customer(e.ids["lan"])
	if c.Name != "" || c.Phone != "" || len(c.Identities) != 0 || c.Stats.Orders != 2 {
		t.Fatalf("after /crm erase: %+v", c)
	}
	data, err := os.ReadFile(e.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Nguyễn Thị Lan", "+84912345678", "lan@example.com", "Lan_Shop", "lan_shop"} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("%q still in the data file after /crm erase", s)
		}
	}

	got = e.crm(adminUser, "erase "+id+" confirm").all()
	contains(t, "second erase", got, "already erased")
	got = e.crm(adminUser, "export 999999").all()
	contains(t, "export of an unknown id", got, "not found")
	got = e.crm(adminUser, "export "+id).all()
	contains(t, "export after erase", got, "đã xoá lúc", "slack:"+adminUser)
}
