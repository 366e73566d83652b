package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// fill sets every exported field reachable from ptr (structs, pointers,
// slices and maps of them) to a value that is not zero and differs from
// field to field, so a store that drops a field, a field added to a domain
// type later included, fails the round trip. Times are UTC and whole
// microseconds (see base).
func fill(tb testing.TB, ptr any) {
	tb.Helper()
	n := 0
	fillValue(tb, reflect.ValueOf(ptr).Elem(), reflect.TypeOf(ptr).Elem().Name(), &n)
}

func fillValue(tb testing.TB, v reflect.Value, path string, n *int) {
	tb.Helper()
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d ✓", path, *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n * 1001))
	case reflect.Uint64:
		v.SetUint(uint64(*n * 7))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillValue(tb, v.Elem(), path, n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fillValue(tb, v.Index(i), fmt.Sprintf("%s[%d]", path, i), n)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			fillValue(tb, k, path+".key", n)
			e := reflect.New(v.Type().Elem()).Elem()
			fillValue(tb, e, fmt.Sprintf("%s[%d]", path, i), n)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(base.Add(time.Duration(*n)*(time.Hour+time.Microsecond)).AddDate(0, 0, -*n)))
			return
		}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fillValue(tb, v.Field(i), path+"."+f.Name, n)
			}
		}
	default:
		tb.Fatalf("storetest: fill does not know %s (%s); teach it", path, v.Type())
	}
}

// asJSON shows a record in failure messages.
func asJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
