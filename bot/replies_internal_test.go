package bot

import "testing"

// Every phrase is said in both languages.
func TestPhrasesInBothLanguages(t *testing.T) {
	for lang, other := range map[string]string{"vi": "en", "en": "vi"} {
		for k := range phrases[lang] {
			if _, ok := phrases[other][k]; !ok {
				t.Errorf("phrase %q has %s but no %s", k, lang, other)
			}
		}
	}
}
