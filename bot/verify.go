package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idicbot/idicbot/crm"
)

// Identity by proof. A phone or email typed in a message is a claim: it is
// kept on the customer (crm.Customer.Claims) to call them back, and never
// finds, merges or reveals another customer. When the claimed value is
// proven on another customer — who shared it through a channel's own
// contact or consent flow, or was given it by the shop — the one who typed
// it may prove they are that customer with a one-time code the shop sends
// over that customer's verified channel (Telegram, Zalo, Messenger): typed
// back here, it merges the two. A rep can also merge two customers from
// Slack (Reps.MergeCustomers).

const (
	// codeTTL is how long a one-time code can be typed back.
	codeTTL = 10 * time.Minute
	// codeInterval is the least time between two codes sent to the same
	// customer, so that typing someone's number cannot flood them.
	codeInterval = 10 * time.Minute
	// codeAttempts is how many wrong codes end a pending verification.
	codeAttempts = 5
	// codeMaxRunes bounds the messages read as a code: a six-digit number
	// in a long message is something else (an order number, an amount).
	codeMaxRunes = 40
)

// proofChannels are the channels whose platform authenticates the user, in
// the order a code is sent over: a code sent there reaches the person who
// proved the phone, not whoever typed it. The web chat is not one: its
// session id is all it knows of a visitor.
var proofChannels = []crm.Channel{crm.ChannelTelegram, crm.ChannelZalo, "messenger"}

// newCode returns a random six-digit code from the system's secure source.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		// crypto/rand does not fail on the systems we run on; without a
		// random code, no code is offered.
		return ""
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// codeHash binds a code to the customer who may type it, so that the stored
// hash is useless to anyone else and the code itself is never stored on the
// asking customer.
func codeHash(asker crm.ID, code string) string {
	sum := sha256.Sum256([]byte("idicbot one-time code\x00" + strconv.FormatUint(uint64(asker), 10) + "\x00" + code))
	return hex.EncodeToString(sum[:])
}

// findCode returns the six-digit code a short message consists of ("482913",
// "mã 482913", "code: 482 913"), or "".
func findCode(text string) string {
	if utf8.RuneCountInString(text) > codeMaxRunes {
		return ""
	}
	var digits strings.Builder
	for _, r := range text {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == ' ' && digits.Len() > 0 && digits.Len() < 6:
			// "482 913"
		case digits.Len() > 0:
			if digits.Len() == 6 {
				return digits.String()
			}
			digits.Reset()
		}
	}
	if digits.Len() == 6 {
		return digits.String()
	}
	return ""
}

// proofIdentity returns the identity a one-time code for c is sent to: the
// first reachable identity on a channel that authenticates its users.
func proofIdentity(c *crm.Customer) *crm.Identity {
	for _, ch := range proofChannels {
		for i := range c.Identities {
			if id := &c.Identities[i]; id.Channel == ch && !id.Unreachable {
				return id
			}
		}
	}
	return nil
}

// claim keeps a typed phone or email as the customer's unverified contact
// data. When the value is proven on another customer, it offers a one-time
// code over that customer's verified channel; the reply to the one who typed
// it is the same whether or not such a customer exists, so that typing
// numbers tells nobody who the shop's customers are.
func (t *turn) claim() error {
	c, p, e := t.cust, t.u.Phone, t.u.Email
	if p == c.Phone {
		p = ""
	}
	if e == c.Email {
		e = ""
	}
	if p == "" && e == "" {
		return nil
	}
	if p != "" && p != c.Claims.Phone || e != "" && e != c.Claims.Email {
		t.claimedNew = true
	}
	if p != "" {
		c.Claims.Phone = p
	}
	if e != "" {
		c.Claims.Email = e
	}
	c.Claims.Channel, c.Claims.At = t.in.Channel, t.now

	var owner *crm.Customer
	if p != "" {
		o, err := t.tx.FindCustomerByPhone(p)
		if err != nil {
			return err
		}
		owner = o
	}
	if owner == nil && e != "" {
		o, err := t.tx.FindCustomerByEmail(e)
		if err != nil {
			return err
		}
		owner = o
	}
	if owner == nil || owner.ID == c.ID {
		return nil
	}
	return t.offerCode(owner, p, e)
}

// offerCode sends a one-time code to owner over their verified channel and
// leaves it pending on the current customer.
func (t *turn) offerCode(owner *crm.Customer, phone, email string) error {
	c, now := t.cust, t.now
	if v := c.Verify; v != nil && now.Before(v.Expires) {
		// One code pending at a time per asker, whoever it was for: typing
		// number after number cannot make the shop write to each holder.
		return nil
	}
	if !owner.CodeSentAt.IsZero() && now.Sub(owner.CodeSentAt) < codeInterval {
		return nil
	}
	id := proofIdentity(owner)
	if id == nil || t.code == "" {
		// Nowhere to prove it: a rep can still merge them from Slack.
		return nil
	}
	if owner.Phone != phone {
		phone = ""
	}
	if owner.Email != email {
		email = ""
	}
	c.Verify = &crm.Verification{Target: owner.ID, Phone: phone, Email: email, Via: id.Channel,
		CodeHash: codeHash(c.ID, t.code), Expires: now.Add(codeTTL)}
	owner.CodeSentAt = now
	lang := owner.Language
	if lang == "" {
		lang = t.core.lang
	}
	text := t.say(lang, "code_message", t.core.shop, t.code, int(codeTTL/time.Minute))
	if err := t.core.enqueue(t.tx, owner, id.Channel, id.UserID, id.ChatID, now, outMessage{Text: text, Kind: crm.KindSystem}, &t.items); err != nil {
		return err
	}
	if err := t.tx.PutCustomer(owner); err != nil {
		return err
	}
	return t.count("verify_codes_sent", 1)
}

// checkCode reads a pending one-time code typed back: right, it merges the
// customer into the one who holds the proven phone or email; wrong, it
// counts an attempt; expired, it ends the verification. It sets the turn's
// intent so that customize answers it.
func (t *turn) checkCode() error {
	c := t.cust
	v := c.Verify
	if v == nil || t.in.Kind != crm.KindText {
		return nil
	}
	code := findCode(t.in.Text)
	if code == "" {
		return nil
	}
	t.u.Intent, t.u.Sure = IntentVerify, true
	if !t.now.Before(v.Expires) || v.Attempts >= codeAttempts {
		c.Verify, t.verify = nil, "expired"
		return nil
	}
	if subtle.ConstantTimeCompare([]byte(codeHash(c.ID, code)), []byte(v.CodeHash)) != 1 {
		v.Attempts++
		t.verify = "wrong"
		if v.Attempts >= codeAttempts {
			c.Verify, t.verify = nil, "expired"
		}
		return t.count("verify_codes_wrong", 1)
	}
	target, err := t.tx.Customer(v.Target)
	if err != nil {
		if crm.ErrorCode(err) == crm.ENOTFOUND {
			c.Verify, t.verify = nil, "expired"
			return nil
		}
		return err
	}
	// The proof must still hold: the target may have changed their phone
	// or been merged into someone else meanwhile.
	if target.ID == c.ID || (v.Phone == "" || target.Phone != v.Phone) && (v.Email == "" || target.Email != v.Email) {
		c.Verify, t.verify = nil, "expired"
		return nil
	}
	c.Verify = nil
	if c.Claims.Phone == target.Phone {
		c.Claims.Phone = ""
	}
	if c.Claims.Email == target.Email {
		c.Claims.Email = ""
	}
	if err := t.merge(target); err != nil {
		return err
	}
	t.verify = "ok"
	return t.count("verify_merges", 1)
}

// verifyReply is the answer to a typed one-time code.
func (t *turn) verifyReply(lang string) string {
	switch t.verify {
	case "ok":
		return t.say(lang, "code_ok")
	case "wrong":
		left := 0
		if v := t.cust.Verify; v != nil {
			left = codeAttempts - v.Attempts
		}
		return t.say(lang, "code_wrong", left)
	}
	return t.say(lang, "code_expired")
}

// MergeCustomers folds customer from into keep on a rep's word (the rep
// knows they are the same person: they called them, or checked an order):
// identities, contact data, history and totals move to keep, and from's id
// redirects to keep. who is recorded in a note on keep.
func (r *Reps) MergeCustomers(ctx context.Context, keep, from crm.ID, who string) (*crm.Customer, error) {
	now := r.now()
	var out *crm.Customer
	var moves []*crm.SegmentChange
	err := r.store.Update(ctx, func(tx crm.Tx) error {
		out, moves = nil, nil
		k, err := tx.Customer(keep)
		if err != nil {
			return err
		}
		f, err := tx.Customer(from)
		if err != nil {
			return err
		}
		if k.ID == f.ID {
			return crm.Errorf(crm.EINVALID, "#%d and #%d are already the same customer", keep, from).Say("merge_same", keep, from)
		}
		k.MergeFrom(f)
		k.Notes = append(k.Notes, crm.Note{Time: now, Author: who, Text: fmt.Sprintf("merged #%d into this customer", f.ID)})
		if err := tx.MoveInteractions(f.ID, k.ID); err != nil {
			return err
		}
		if err := tx.DeleteCustomer(f.ID, k.ID); err != nil {
			return err
		}
		mv, err := moveSegment(tx, r.segments.Load(), k, now, "merge")
		if err != nil {
			return err
		}
		moves = append(moves, mv)
		k.UpdatedAt = now
		if err := tx.PutCustomer(k); err != nil {
			return err
		}
		out = k
		return addCounter(tx, now, "merges", 1)
	})
	if err != nil {
		return nil, fmt.Errorf("merge #%d into #%d: %w", from, keep, err)
	}
	r.countMoves(moves...)
	return out, nil
}

// ConfirmClaims makes the phone and email a customer typed their proven
// contact data, on a rep's word (they called the number). A value another
// customer already holds is refused with that customer's id: merge them
// instead.
func (r *Reps) ConfirmClaims(ctx context.Context, id crm.ID, who string) (*crm.Customer, error) {
	now := r.now()
	var out *crm.Customer
	err := r.store.Update(ctx, func(tx crm.Tx) error {
		out = nil
		cu, err := tx.Customer(id)
		if err != nil {
			return err
		}
		cl := cu.Claims
		if cl.Phone == "" && cl.Email == "" {
			return crm.Errorf(crm.EINVALID, "#%d has no unverified phone or email", cu.ID).Say("verify_nothing", cu.ID)
		}
		if cl.Phone != "" {
			if o, err := tx.FindCustomerByPhone(cl.Phone); err != nil {
				return err
			} else if o != nil && o.ID != cu.ID {
				return crm.Errorf(crm.ECONFLICT, "customer #%d already holds that phone: merge the two instead", o.ID).Say("verify_phone_held", o.ID)
			}
		}
		if cl.Email != "" {
			if o, err := tx.FindCustomerByEmail(cl.Email); err != nil {
				return err
			} else if o != nil && o.ID != cu.ID {
				return crm.Errorf(crm.ECONFLICT, "customer #%d already holds that email: merge the two instead", o.ID).Say("verify_email_held", o.ID)
			}
		}
		if cl.Phone != "" {
			cu.Phone = cl.Phone
		}
		if cl.Email != "" {
			cu.Email = cl.Email
		}
		cu.Claims = crm.ContactClaims{}
		cu.Notes = append(cu.Notes, crm.Note{Time: now, Author: who, Text: "confirmed the phone/email the customer typed"})
		cu.UpdatedAt = now
		out = cu
		return tx.PutCustomer(cu)
	})
	if err != nil {
		return nil, fmt.Errorf("confirm contact of #%d: %w", id, err)
	}
	return out, nil
}
