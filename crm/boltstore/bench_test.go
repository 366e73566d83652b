package boltstore

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// benchCustomers is the store size for lookup benchmarks; set
// IDICBOT_BENCH_CUSTOMERS=1000000 for the full-size target.
func benchCustomers() int {
	if n, err := strconv.Atoi(os.Getenv("IDICBOT_BENCH_CUSTOMERS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

var (
	benchFamily = []string{"Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"}
	benchMiddle = []string{"Văn", "Thị", "Thị", "Văn", "Ngọc", "Minh", "Hữu", "Đức", "Thanh", "Quang", "Hoàng", "Xuân"}
	benchGiven  = []string{"Anh", "Ánh", "An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương", "Khánh", "Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Ngọc", "Nhung", "Phong", "Phúc", "Phương", "Quân", "Quỳnh", "Sơn", "Tâm", "Thảo", "Thành", "Trang", "Trung", "Tuấn", "Vy", "Yến"}
)

// mustOpenBench fills a store with n customers with Vietnamese names and
// phone numbers +849xxxxxxxx (i-th customer: 900000000+i).
func mustOpenBench(b *testing.B, n int) *DB {
	b.Helper()
	db := MustOpen(b)
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	for lo := 0; lo < n; lo += 10_000 {
		update(b, db, func(tx crm.Tx) error {
			for i := lo; i < min(lo+10_000, n); i++ {
				c := &crm.Customer{
					Name:       benchFamily[r.IntN(len(benchFamily))] + " " + benchMiddle[r.IntN(len(benchMiddle))] + " " + benchGiven[r.IntN(len(benchGiven))],
					Phone:      fmt.Sprintf("+84%d", 900000000+i),
					Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: strconv.Itoa(i)}},
					Segment:    crm.SegmentAssignment{Name: []string{"new", "active", "loyal", "dormant"}[i%4]},
				}
				if err := tx.PutCustomer(c); err != nil {
					return err
				}
			}
			return nil
		})
	}
	b.Logf("loaded %d customers in %v", n, time.Since(start))
	return db
}

func BenchmarkFindByPhone(b *testing.B) {
	n := benchCustomers()
	db := mustOpenBench(b, n)
	r := rand.New(rand.NewPCG(3, 4))
	for b.Loop() {
		err := db.View(b.Context(), func(tx crm.Tx) error {
			c, err := tx.FindCustomerByPhone(fmt.Sprintf("+84%d", 900000000+r.IntN(n)))
			if c == nil && err == nil {
				b.Fatal("phone not found")
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFindByName(b *testing.B) {
	db := mustOpenBench(b, benchCustomers())
	queries := []string{
		"nguyen van anh", // common words, many matches
		"dang ngoc lan",
		"ly xuan vy", // rarer combination
		"hoang",
		"thi",
		"nguyen thi", // two very common words
		"quynh",
		"thi van", // two common words that never meet: the scan cap bounds it
		"xyzzy",   // no match
	}
	for _, q := range queries {
		b.Run(q, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				err := db.View(b.Context(), func(tx crm.Tx) error {
					_, err := tx.FindCustomersByName(q, 20)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

func BenchmarkUpdateBatchParallel(b *testing.B) {
	db := MustOpen(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := db.Update(b.Context(), func(tx crm.Tx) error {
				it := &crm.Interaction{CustomerID: 1, Direction: crm.Inbound, Text: "xin chào"}
				return tx.AppendInteraction(it)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
