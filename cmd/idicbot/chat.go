package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// consoleSender prints the bot's replies for `idicbot chat`.
type consoleSender struct {
	mu      sync.Mutex
	w       io.Writer
	buttons []crm.Button // of the last message that had any
}

var _ bot.Sender = (*consoleSender)(nil)

func (s *consoleSender) Send(_ context.Context, it *crm.OutboxItem) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, line := range strings.Split(it.Text, "\n") {
		fmt.Fprintf(s.w, "bot> %s\n", line)
	}
	if len(it.Buttons) > 0 {
		s.buttons = it.Buttons
	}
	for i, b := range it.Buttons {
		fmt.Fprintf(s.w, "     [%d] %s\n", i+1, b.Label)
	}
	if it.RequestPhone {
		fmt.Fprintln(s.w, "     (share your phone number)")
	}
	return nil
}

// runChat talks to the core from a terminal: one customer line per stdin
// line, replies printed before the next line is read, so scripts can drive
// the bot. A line that is just a number presses that button of the last offer.
func (m *Main) runChat(ctx context.Context) error {
	user := m.Getenv("IDICBOT_CHAT_USER")
	if user == "" {
		user = "console"
	}
	out := &consoleSender{w: m.Stdout}
	m.Dispatcher.Register(crm.ChannelConsole, out)
	if err := m.Dispatcher.Open(ctx); err != nil {
		return err
	}
	if err := m.Dispatcher.Flush(ctx); err != nil {
		return err
	}
	// Message ids continue from the conversation so far, so each line is a
	// new message even across runs.
	seq := time.Now().UnixNano()
	sc := bufio.NewScanner(m.Stdin)
	sc.Buffer(make([]byte, 64*1024), 64*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		seq++
		in := bot.Inbound{Channel: crm.ChannelConsole, UserID: user, ChatID: user, MessageID: strconv.FormatInt(seq, 10), Kind: crm.KindText, Text: line}
		out.mu.Lock()
		last := out.buttons
		out.mu.Unlock()
		if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(last) {
			in.Kind, in.Payload, in.Text = crm.KindButton, last[n-1].Payload, last[n-1].Label
		}
		_, err := m.Core.Handle(ctx, in)
		if err != nil {
			fmt.Fprintf(m.Stdout, "error: %s\n", crm.ErrorMessage(err))
			continue
		}
		if err := m.Dispatcher.Flush(ctx); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return m.Dispatcher.Flush(ctx)
}

// runBackup writes a consistent copy of the database. It works while the bot
// is serving only through the admin endpoint; from the command line it
// opens the file itself.
// runCheck verifies the store's indexes and counts (idicbot check): it
// prints each problem and fails when there is one.
func (m *Main) runCheck(ctx context.Context) error {
	if len(m.Args) != 0 {
		return fmt.Errorf("usage: idicbot check")
	}
	problems, err := m.DB.Check(ctx)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(m.Stdout, p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %d problems found", m.storeName(), len(problems))
	}
	fmt.Fprintf(m.Stdout, "%s: every index and count agrees with the records\n", m.storeName())
	return nil
}

func (m *Main) runBackup(ctx context.Context) error {
	if len(m.Args) != 1 {
		return fmt.Errorf("usage: idicbot backup FILE")
	}
	if err := m.open(ctx); err != nil {
		return err
	}
	if err := m.backupFile(m.Args[0]); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "backup written to %s\n", m.Args[0])
	return nil
}
