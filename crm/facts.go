package crm

import "reflect"

// FactNames are the names segment rules and offer eligibility may use
// (Facts' expr tags), in the order Facts declares them: what an error
// about an unknown name lists.
func FactNames() []string {
	t := reflect.TypeFor[Facts]()
	out := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if n := t.Field(i).Tag.Get("expr"); n != "" {
			out = append(out, n)
		}
	}
	return out
}
