package nlu_test

import (
	"bufio"
	"fmt"
	"os"
	"testing"
)

func TestZZProbe(t *testing.T) {
	c := defaultClassifier(t)
	fh, _ := os.Open(os.Getenv("PROBE"))
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		r := c.Analyze(sc.Text())
		fmt.Printf("%-16s %.2f %-16s %.2f sure=%v | %s | %s\n", r.Intent, r.Confidence, r.Runner, r.RunnerScore, c.Sure(r.Prediction), sc.Text(), r.Text)
	}
}
