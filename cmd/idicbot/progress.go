package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressLine draws one line that a long job rewrites in place on a
// terminal: done of total, the percentage, rows a second and the time
// left. It draws at most every redraw, so a fast job does not spend its
// time writing to the terminal.
type progressLine struct {
	w      io.Writer
	label  string
	now    func() time.Time
	start  time.Time
	drawn  time.Time
	redraw time.Duration
	width  int // of the last line drawn, to blank it
}

func newProgressLine(w io.Writer, label string, now func() time.Time) *progressLine {
	return &progressLine{w: w, label: label, now: now, start: now(), redraw: 100 * time.Millisecond}
}

// Update draws done of total unless it drew less than redraw ago; the last
// step (done == total) is always drawn.
func (p *progressLine) Update(done, total int) {
	t := p.now()
	if done == 0 {
		p.start = t // the rate is of the writing, not of the check before it
	}
	if done < total && !p.drawn.IsZero() && t.Sub(p.drawn) < p.redraw {
		return
	}
	p.drawn = t
	line := p.render(done, total, t.Sub(p.start))
	pad := max(p.width-len([]rune(line)), 0)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
	p.width = len([]rune(line))
	if total > 0 && done >= total {
		// Finished: what is printed next (a log line) starts on its own line.
		fmt.Fprintln(p.w)
		p.width = 0
	}
}

// Done ends a line left unfinished (an import that failed half-way), so
// what follows starts on a line of its own.
func (p *progressLine) Done() {
	if p.width > 0 {
		fmt.Fprintln(p.w)
	}
}

func (p *progressLine) render(done, total int, elapsed time.Duration) string {
	const barWidth = 24
	if total <= 0 {
		return fmt.Sprintf("%s: checking the file…", p.label)
	}
	if done == 0 {
		return fmt.Sprintf("%s: %s rows checked, writing…", p.label, groupThousands(total))
	}
	filled := barWidth * done / total
	bar := strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled)
	s := fmt.Sprintf("%s %s %3d%% %s/%s rows", p.label, bar, 100*done/total, groupThousands(done), groupThousands(total))
	if secs := elapsed.Seconds(); secs > 0 {
		rate := float64(done) / secs
		s += fmt.Sprintf(", %s rows/s", groupThousands(int(rate)))
		if done < total && rate > 0 {
			left := time.Duration(float64(total-done) / rate * float64(time.Second))
			s += ", " + eta(left) + " left"
		}
	}
	return s
}

// eta is a remaining time as a person reads it: 45s, 3m10s, 1h05m.
func eta(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// groupThousands writes n as 100,000.
func groupThousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + groupThousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
