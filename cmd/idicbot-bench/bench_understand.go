package main

import (
	"fmt"
	"time"

	"github.com/idicbot/idicbot/configs"
)

// understandRounds is how many times benchUnderstand reads each text.
const understandRounds = 2000

// benchUnderstand measures understanding one message (the example
// classifier and the entity rules, crm/nlu) on one goroutine, and compares
// it with the CPU time the pipeline spent per message (core, when measured).
func benchUnderstand(o benchOptions, core benchResult) (time.Duration, error) {
	def, err := configs.Load(time.Now())
	if err != nil {
		return 0, err
	}
	start := time.Now()
	cl, err := def.Classifier()
	if err != nil {
		return 0, err
	}
	build := time.Since(start)
	texts := append(append([]string(nil), benchTexts...), "sp em mua bị lỗi, màn hình bị sọc", "phí ship ra Đà Nẵng bao nhiêu",
		"shop ơi có gì dưới 2 triệu không", "đơn #1234 của mình tới đâu rồi", "mắc quá, ko mua đâu")
	n := 0
	start = time.Now()
	for range understandRounds {
		for _, text := range texts {
			cl.Analyze(text)
			n++
		}
	}
	per := time.Since(start) / time.Duration(n)
	fmt.Fprintf(o.Out, "understanding (crm/nlu): %.1f µs/message over %d messages; classifier built in %.1f ms\n", us(per), n, ms(build))
	if cpu := core.CPUPerOp(); cpu > 0 {
		fmt.Fprintf(o.Out, "  = %.1f%% of the pipeline's CPU time per message (%.0f µs)\n", 100*float64(per)/float64(cpu), us(cpu))
	}
	return per, nil
}
