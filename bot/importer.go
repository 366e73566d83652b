package bot

// This file imports customers and orders from CSV files, so value segments
// are real from the first day. The columns are documented on
// Importer.ImportCustomers and Importer.ImportOrders.

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idicbot/idicbot/crm"
	"golang.org/x/text/unicode/norm"
)

// importChunk is how many rows one import transaction writes at most (a
// customer's orders are never split, so an orders chunk may be larger).
const importChunk = 500

// importCause is the cause recorded on segment changes made by imports.
const importCause = "import"

// Importer brings customers and orders from CSV files into the store, each
// classified by the live segment rules. It is a use case of its own beside
// the conversation (Core); the segment moves it commits are counted in the
// core's metrics (countMoves).
type Importer struct {
	store      crm.Store
	segments   interface{ Load() *crm.Segments }
	now        func() time.Time
	log        *slog.Logger
	countMoves func(moves ...*crm.SegmentChange)
	progress   func(ImportProgress)
}

// ImportProgress is where an import stands: Done of Total rows written.
// Checking the whole file comes first (Done is 0 until it ends).
type ImportProgress struct {
	Done, Total int
}

// WithProgress returns a copy of the importer that calls f after the file
// is checked and after each transaction it commits (every importChunk rows
// or so), from the importing goroutine.
func (c *Importer) WithProgress(f func(ImportProgress)) *Importer {
	cp := *c
	cp.progress = f
	return &cp
}

func (c *Importer) report(done, total int) {
	if c.progress != nil {
		c.progress(ImportProgress{Done: done, Total: total})
	}
}

// Importer returns the import of CSV files into the core's store, under the
// core's live segment rules and metrics.
func (c *Core) Importer() *Importer {
	return &Importer{store: c.store, segments: &c.segments, now: c.now, log: c.log, countMoves: c.countMoves}
}

// ImportSummary says what an import did.
type ImportSummary struct {
	// Rows is the number of data rows read (blankRecord rows not counted).
	Rows int
	// Created and Updated count customers (customers file).
	Created, Updated int
	// New counts orders stored; AlreadyImported counts rows whose order_ref
	// was stored before (orders file).
	New, AlreadyImported int
	// SegmentChanged counts customers whose segment changed (a new
	// customer's first segment does not count).
	SegmentChanged int
}

// RowProblem is one reason a row of an import file was rejected.
type RowProblem struct {
	Line   int    // physical line in the file, the header is line 1
	Column string // column name, or "row" for the row as a whole
	Reason string
}

func (p RowProblem) String() string {
	return fmt.Sprintf("line %d: %s: %s", p.Line, p.Column, p.Reason)
}

// ImportError lists every problem found in a file that was therefore not
// imported at all. It unwraps to a crm EINVALID error whose message carries
// the whole list, so crm.ErrorCode and crm.ErrorMessage work on it.
type ImportError struct {
	File     string
	Problems []RowProblem
}

func (e *ImportError) Error() string {
	n := len(e.Problems)
	s := "s"
	if n == 1 {
		s = ""
	}
	return fmt.Sprintf("%s: %d problem%s, nothing imported", e.File, n, s)
}

// Unwrap returns the EINVALID domain error listing every problem.
func (e *ImportError) Unwrap() error {
	var b strings.Builder
	b.WriteString(e.Error())
	b.WriteByte(':')
	for _, p := range e.Problems {
		b.WriteString("\n")
		b.WriteString(p.String())
	}
	return &crm.Error{Code: crm.EINVALID, Message: b.String()}
}

// ImportCustomers imports a customers CSV file (idicbot import customers
// FILE); name names the file in messages.
//
// Import files (customers and orders) are UTF-8 (a byte order mark is
// accepted), comma separated, with a header row. Columns are found by their
// header name, in any order, case-insensitively; an unknown column is an
// error. Rows whose cells are all empty are skipped; cells are trimmed. The
// whole file is checked before anything is written: if any row is bad,
// nothing is imported and the error, an *ImportError (crm EINVALID), lists
// every problem as "line N: column: reason", N being the line in the file
// (the header is line 1).
//
// Customers file columns:
//
//	external_id  required; the customer's id in your system, unique in the file
//	name         full name, any script (Vietnamese diacritics are kept)
//	phone        any common Vietnamese form (0912 345 678, +84912345678,
//	             84912345678, (028) 3822 1234); stored in E.164
//	email        stored lower-cased
//	birthday     YYYY-MM-DD or DD/MM/YYYY
//	is_business  true/false, 1/0, yes/no, có/không (empty: false)
//	company      company name
//	tags         separated by ";" (stored lower-cased; "b2b" makes a business)
//	source       acquisition source (default for new customers: "import")
//	language     vi or en
//
// A row updates the customer with the same external_id, else the one with
// the same phone, else the one with the same email; otherwise it creates a
// customer, known on the channel "import" by the external_id. On an update
// every non-empty cell overwrites the stored value, empty cells keep it, and
// tags are added to the customer's tags. A row is rejected when its phone or
// email belongs to another customer than the one it updates, when it would
// match (by phone or email) a customer imported with another external_id, or
// when two rows of the file would update the same customer. Every customer
// imported has their segment recomputed.
func (c *Importer) ImportCustomers(ctx context.Context, r io.Reader, name string) (ImportSummary, error) {
	now := c.now()
	probs := &rowProblems{}
	tab, err := readCSV(r, customerColumns, []string{"external_id"}, probs)
	if err != nil {
		return ImportSummary{}, fmt.Errorf("import customers from %s: %w", name, err)
	}
	rows := parseCustomerRows(tab, now, probs)
	if err := c.store.View(ctx, func(tx crm.Tx) error { return checkCustomerRows(tx, rows, probs) }); err != nil {
		return ImportSummary{}, fmt.Errorf("import customers from %s: %w", name, err)
	}
	if len(probs.list) > 0 {
		return ImportSummary{}, probs.err(name)
	}
	rep := ImportSummary{Rows: len(tab.rows)}
	segs := c.segments.Load()
	c.report(0, len(rows))
	for start := 0; start < len(rows); start += importChunk {
		chunk := rows[start:min(start+importChunk, len(rows))]
		var created, updated int
		var moves []*crm.SegmentChange
		err := c.store.Update(ctx, func(tx crm.Tx) error {
			created, updated, moves = 0, 0, moves[:0]
			for _, row := range chunk {
				cust, err := matchImportCustomer(tx, row.ext, row.phone, row.email)
				if err != nil {
					return err
				}
				if cust == nil {
					cust = &crm.Customer{CreatedAt: now, Source: importCause}
					created++
				} else {
					updated++
				}
				row.apply(cust, now)
				mv := segs.Apply(cust, now, importCause)
				cust.UpdatedAt = now
				if err := tx.PutCustomer(cust); err != nil {
					return fmt.Errorf("line %d: %w", row.line, err)
				}
				if mv, err = recordMove(tx, now, cust.ID, mv); err != nil {
					return err
				}
				if mv != nil {
					moves = append(moves, mv)
				}
			}
			return nil
		})
		if err != nil {
			// Earlier chunks stay imported; importing the file again is safe.
			return rep, fmt.Errorf("import customers from %s, lines %d-%d: %w", name, chunk[0].line, chunk[len(chunk)-1].line, err)
		}
		rep.Created += created
		rep.Updated += updated
		c.report(start+len(chunk), len(rows))
		for _, mv := range moves {
			if mv.From != "" { // a new customer's first segment is no change
				rep.SegmentChanged++
			}
		}
		c.countMoves(moves...)
	}
	c.log.Info("customers imported", "file", name, "rows", rep.Rows, "created", rep.Created, "updated", rep.Updated,
		"segment_changes", rep.SegmentChanged)
	return rep, nil
}

// ImportOrders imports an orders CSV file (idicbot import orders FILE); name
// names the file in messages. The file follows the rules of ImportCustomers
// (header, encoding, nothing imported if any row is bad), with the columns:
//
//	order_ref  required; your order number, unique in the file and across
//	           imports: an order_ref imported before is skipped, so importing
//	           the same file twice doubles nothing
//	customer   required; the external_id, phone or email of a customer already
//	           in the store (import the customers file first)
//	amount     a positive VND amount: 1500000, 1.500.000 or 1,500,000 (a
//	           trailing ₫, đ or VND is allowed); required unless items give
//	           every line's price (the amount is then their total)
//	date       required; YYYY-MM-DD or DD/MM/YYYY (local midnight) or RFC 3339
//	           (2025-03-01T14:30:00+07:00); not after today
//	note       free text
//	offer_id   optional; the id of a stored offer the order is attributed to
//	items      optional; the order's lines, separated by ";", each
//	           product[:quantity[:unit price]] with the catalog id:
//	           iphone-15:1:19.990.000; op-lung-ip15:2:150000
//
// Each new order updates the customer's running totals (orders, total spent,
// first and last order), the "orders" and "revenue" counters (the daily ones
// on the order's day), "offer:ID:ordered" for an attributed order, and the
// customer's segment. A customer's orders are written in one transaction, so
// their segment moves at most once per import.
func (c *Importer) ImportOrders(ctx context.Context, r io.Reader, name string) (ImportSummary, error) {
	now := c.now()
	probs := &rowProblems{}
	tab, err := readCSV(r, orderColumns, []string{"order_ref", "customer", "date"}, probs)
	if err != nil {
		return ImportSummary{}, fmt.Errorf("import orders from %s: %w", name, err)
	}
	rows := parseOrderRows(tab, now, probs)
	if err := c.store.View(ctx, func(tx crm.Tx) error { return checkOrderRows(tx, rows, probs) }); err != nil {
		return ImportSummary{}, fmt.Errorf("import orders from %s: %w", name, err)
	}
	if len(probs.list) > 0 {
		return ImportSummary{}, probs.err(name)
	}
	rep := ImportSummary{Rows: len(tab.rows)}
	// Each customer's orders go into one transaction, so a customer's
	// segment moves at most once per import, straight to where the whole
	// file puts them.
	slices.SortStableFunc(rows, func(a, b *orderRow) int { return cmp.Compare(a.customerID, b.customerID) })
	segs := c.segments.Load()
	c.report(0, len(rows))
	for start := 0; start < len(rows); {
		end := min(start+importChunk, len(rows))
		for end < len(rows) && rows[end].customerID == rows[end-1].customerID {
			end++
		}
		chunk := rows[start:end]
		start = end
		var added, skipped int
		var moves []*crm.SegmentChange
		err := c.store.Update(ctx, func(tx crm.Tx) error {
			added, skipped, moves = 0, 0, moves[:0]
			byRow := map[crm.ID]*crm.Customer{} // by the id the check resolved
			byID := map[crm.ID]*crm.Customer{}  // by the id now (merges follow redirects)
			var changed []*crm.Customer         // customers with a new order, in file order
			isChanged := map[*crm.Customer]bool{}
			for _, row := range chunk {
				cust := byRow[row.customerID]
				if cust == nil {
					cu, err := tx.Customer(row.customerID)
					if err != nil {
						return fmt.Errorf("line %d: %w", row.line, err)
					}
					if prev := byID[cu.ID]; prev != nil {
						cu = prev
					}
					byRow[row.customerID], byID[cu.ID] = cu, cu
					cust = cu
				}
				ord := &crm.Order{Ref: row.ref, Amount: row.amount, Time: row.time,
					Note: row.note, OfferID: row.offerID, Source: importCause, Items: slices.Clone(row.items)}
				ok, err := addOrder(tx, cust, ord)
				if err != nil {
					return fmt.Errorf("line %d: %w", row.line, err)
				}
				if !ok {
					skipped++
					continue
				}
				added++
				if !isChanged[cust] {
					isChanged[cust] = true
					changed = append(changed, cust)
				}
				cust.UpdatedAt = now
			}
			for _, cust := range changed {
				mv, err := moveSegment(tx, segs, cust, now, importCause)
				if err != nil {
					return err
				}
				if err := tx.PutCustomer(cust); err != nil {
					return err
				}
				if mv != nil {
					moves = append(moves, mv)
				}
			}
			return nil
		})
		if err != nil {
			// Earlier chunks stay imported; importing the file again skips them.
			return rep, fmt.Errorf("import orders from %s: %w", name, err)
		}
		rep.New += added
		rep.AlreadyImported += skipped
		c.report(start, len(rows))
		rep.SegmentChanged += len(moves)
		c.countMoves(moves...)
	}
	c.log.Info("orders imported", "file", name, "rows", rep.Rows, "new", rep.New, "already_imported", rep.AlreadyImported,
		"segment_changes", rep.SegmentChanged)
	return rep, nil
}

// matchImportCustomer finds the customer a row means: by external id, then phone,
// then email. Empty keys are not looked up. It returns nil if none matches.
func matchImportCustomer(tx crm.Tx, ext, phone, email string) (*crm.Customer, error) {
	if ext != "" {
		if cu, err := tx.FindCustomerByExternalID(ext); err != nil || cu != nil {
			return cu, err
		}
	}
	if phone != "" {
		if cu, err := tx.FindCustomerByPhone(phone); err != nil || cu != nil {
			return cu, err
		}
	}
	if email != "" {
		return tx.FindCustomerByEmail(email)
	}
	return nil, nil
}

// rowProblems collects the problems of one file.
type rowProblems struct{ list []RowProblem }

func (p *rowProblems) add(line int, col, format string, args ...any) {
	p.list = append(p.list, RowProblem{Line: line, Column: col, Reason: fmt.Sprintf(format, args...)})
}

func (p *rowProblems) err(file string) error {
	slices.SortStableFunc(p.list, func(a, b RowProblem) int { return cmp.Compare(a.Line, b.Line) })
	return &ImportError{File: file, Problems: p.list}
}

// csvTable is a CSV file read into memory: the column index of each known
// header name, and the data rows that have the right number of cells.
type csvTable struct {
	cols map[string]int
	rows []csvRow
}

type csvRow struct {
	line  int
	cells []string
}

// get returns the trimmed cell of a column, "" when the file has no such
// column.
func (t *csvTable) get(r csvRow, col string) string {
	i, ok := t.cols[col]
	if !ok {
		return ""
	}
	return strings.TrimSpace(r.cells[i])
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// readCSV reads a CSV file, checks its header against the known columns
// and its cells for valid UTF-8, and adds what is wrong to probs. Only a read
// error is returned as an error.
func readCSV(r io.Reader, known, required []string, probs *rowProblems) (*csvTable, error) {
	br := bufio.NewReader(r)
	if b, _ := br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	tab := &csvTable{cols: map[string]int{}}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		probs.add(1, "header", "the file is empty; the first line must name the columns (%s)", strings.Join(known, ", "))
		return tab, nil
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		probs.add(pe.StartLine, "header", "%v", pe.Err)
		return tab, nil
	} else if err != nil {
		return nil, err
	}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case !utf8.ValidString(h):
			probs.add(1, fmt.Sprintf("column %d", i+1), "header is not valid UTF-8")
		case h == "":
			probs.add(1, fmt.Sprintf("column %d", i+1), "header is empty")
		case !slices.Contains(known, h):
			probs.add(1, h, "unknown column (known columns: %s)", strings.Join(known, ", "))
		default:
			if _, dup := tab.cols[h]; dup {
				probs.add(1, h, "column appears twice")
				continue
			}
			tab.cols[h] = i
		}
	}
	for _, col := range required {
		if _, ok := tab.cols[col]; !ok {
			probs.add(1, col, "required column is missing")
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &pe) {
			probs.add(pe.StartLine, "row", "%v", pe.Err)
			continue
		} else if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if blankRecord(rec) {
			continue
		}
		if len(rec) != len(header) {
			probs.add(line, "row", "has %d cells, the header has %d", len(rec), len(header))
			continue
		}
		ok := true
		for i, cell := range rec {
			if !utf8.ValidString(cell) {
				col := fmt.Sprintf("column %d", i+1)
				if h := strings.ToLower(strings.TrimSpace(header[i])); h != "" && utf8.ValidString(h) {
					col = h
				}
				probs.add(line, col, "not valid UTF-8 (save the file as UTF-8)")
				ok = false
			}
		}
		if ok {
			// NFC, so names typed on any system compare and search alike.
			for i := range rec {
				rec[i] = norm.NFC.String(rec[i])
			}
		}
		tab.rows = append(tab.rows, csvRow{line: line, cells: rec})
	}
	return tab, nil
}

func blankRecord(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

var customerColumns = []string{"external_id", "name", "phone", "email", "birthday", "is_business", "company", "tags", "source", "language"}

// customerRow is a checked row of a customers file. Empty strings and nil
// pointers are cells left empty.
type customerRow struct {
	line                      int
	ext, name, phone, email   string
	company, source, language string
	birthday                  *time.Time
	isBusiness                *bool
	tags                      []string
}

func parseCustomerRows(tab *csvTable, now time.Time, probs *rowProblems) []*customerRow {
	var rows []*customerRow
	for _, tr := range tab.rows {
		get := func(col string) string { return tab.get(tr, col) }
		line := tr.line
		row := &customerRow{line: line, ext: get("external_id"), name: strings.Join(strings.Fields(get("name")), " "),
			company: get("company"), source: get("source")}
		if _, ok := tab.cols["external_id"]; ok && row.ext == "" {
			probs.add(line, "external_id", "is required")
		}
		if s := get("phone"); s != "" {
			p, err := crm.NormalizePhone(s)
			if err != nil {
				probs.add(line, "phone", "%s", crm.ErrorMessage(err))
			}
			row.phone = p
		}
		if s := get("email"); s != "" {
			e, err := crm.NormalizeEmail(s)
			if err != nil {
				probs.add(line, "email", "%s", crm.ErrorMessage(err))
			}
			row.email = e
		}
		if s := get("birthday"); s != "" {
			b, err := parseBirthday(s, now)
			if err != nil {
				probs.add(line, "birthday", "%v", err)
			} else {
				row.birthday = &b
			}
		}
		if s := get("is_business"); s != "" {
			b, err := parseImportBool(s)
			if err != nil {
				probs.add(line, "is_business", "%v", err)
			} else {
				row.isBusiness = &b
			}
		}
		for _, t := range strings.Split(get("tags"), ";") {
			if t = strings.ToLower(strings.Join(strings.Fields(t), " ")); t != "" && !slices.Contains(row.tags, t) {
				row.tags = append(row.tags, t)
			}
		}
		if s := strings.ToLower(get("language")); s != "" {
			if s != "vi" && s != "en" {
				probs.add(line, "language", "%q is not a language we speak (vi or en)", s)
			}
			row.language = s
		}
		rows = append(rows, row)
	}
	return rows
}

// checkCustomerRows finds rows that would touch a customer twice or take a
// phone or email away from another customer.
func checkCustomerRows(tx crm.Tx, rows []*customerRow, probs *rowProblems) error {
	extLine := map[string]int{}
	phoneLine := map[string]int{}
	emailLine := map[string]int{}
	custLine := map[crm.ID]int{}
	for _, row := range rows {
		for _, u := range []struct {
			col, val string
			seen     map[string]int
		}{{"external_id", row.ext, extLine}, {"phone", row.phone, phoneLine}, {"email", row.email, emailLine}} {
			if u.val == "" {
				continue
			}
			if first, dup := u.seen[u.val]; dup {
				probs.add(row.line, u.col, "same as on line %d", first)
			} else {
				u.seen[u.val] = row.line
			}
		}
		cust, err := matchImportCustomer(tx, row.ext, row.phone, row.email)
		if err != nil {
			return err
		}
		if cust == nil {
			continue
		}
		if cust.ExternalID != "" && cust.ExternalID != row.ext {
			col := "email"
			if row.phone != "" && row.phone == cust.Phone {
				col = "phone"
			}
			probs.add(row.line, col, "belongs to the customer with external_id %q (%s), not %q", cust.ExternalID, cust.DisplayName(), row.ext)
			continue
		}
		if first, dup := custLine[cust.ID]; dup {
			probs.add(row.line, "external_id", "updates the same customer (%s) as line %d", cust.DisplayName(), first)
		} else {
			custLine[cust.ID] = row.line
		}
		if row.phone != "" && row.phone != cust.Phone {
			if other, err := tx.FindCustomerByPhone(row.phone); err != nil {
				return err
			} else if other != nil && other.ID != cust.ID {
				probs.add(row.line, "phone", "belongs to another customer (%s), not the one this row updates (%s)", other.DisplayName(), cust.DisplayName())
			}
		}
		if row.email != "" && row.email != cust.Email {
			if other, err := tx.FindCustomerByEmail(row.email); err != nil {
				return err
			} else if other != nil && other.ID != cust.ID {
				probs.add(row.line, "email", "belongs to another customer (%s), not the one this row updates (%s)", other.DisplayName(), cust.DisplayName())
			}
		}
	}
	return nil
}

// apply writes the row's non-empty cells onto the customer.
func (r *customerRow) apply(c *crm.Customer, now time.Time) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.ExternalID, r.ext)
	set(&c.Name, r.name)
	set(&c.Phone, r.phone)
	set(&c.Email, r.email)
	set(&c.Company, r.company)
	set(&c.Source, r.source)
	set(&c.Language, r.language)
	if r.birthday != nil {
		c.Birthday = r.birthday
	}
	if r.isBusiness != nil {
		c.IsBusiness = *r.isBusiness
	}
	for _, t := range r.tags {
		c.AddTag(t)
	}
	c.AddIdentity(crm.Identity{Channel: crm.ChannelImport, UserID: r.ext, FirstSeen: now})
}

var orderColumns = []string{"order_ref", "customer", "amount", "date", "note", "offer_id", "items"}

// orderRow is a checked row of an orders file.
type orderRow struct {
	line       int
	ref        string
	customer   string // as written: external id, phone or email
	customerID crm.ID // resolved by checkOrderRows
	amount     int64
	time       time.Time
	note       string
	offerID    string
	items      []crm.OrderItem
}

func parseOrderRows(tab *csvTable, now time.Time, probs *rowProblems) []*orderRow {
	var rows []*orderRow
	for _, tr := range tab.rows {
		get := func(col string) string { return tab.get(tr, col) }
		line := tr.line
		row := &orderRow{line: line, ref: get("order_ref"), customer: get("customer"), note: get("note"), offerID: get("offer_id")}
		for _, col := range []string{"order_ref", "customer", "date"} {
			if _, ok := tab.cols[col]; ok && get(col) == "" {
				probs.add(line, col, "is required")
			}
		}
		badItems := false
		if s := get("items"); s != "" {
			items, err := parseOrderItems(s)
			if err != nil {
				probs.add(line, "items", "%v", err)
				badItems = true
			}
			row.items = items
		}
		if s := get("amount"); s != "" {
			a, err := parseImportAmount(s)
			if err != nil {
				probs.add(line, "amount", "%v", err)
			}
			row.amount = a
		} else if total := itemsTotal(row.items); total == 0 && !badItems {
			probs.add(line, "amount", "is required (or items with their prices)")
		} else {
			row.amount = total
		}
		if s := get("date"); s != "" {
			t, err := parseOrderTime(s, now)
			if err != nil {
				probs.add(line, "date", "%v", err)
			}
			row.time = t
		}
		rows = append(rows, row)
	}
	return rows
}

// checkOrderRows finds duplicate refs in the file, resolves each row's
// customer and checks offer ids against the stored offers.
func checkOrderRows(tx crm.Tx, rows []*orderRow, probs *rowProblems) error {
	refLine := map[string]int{}
	offers := map[string]bool{}
	for _, row := range rows {
		if row.ref != "" {
			if first, dup := refLine[row.ref]; dup {
				probs.add(row.line, "order_ref", "%q is also on line %d", row.ref, first)
			} else {
				refLine[row.ref] = row.line
			}
		}
		if row.customer != "" {
			cust, err := findOrderCustomer(tx, row.customer)
			if err != nil {
				return err
			}
			if cust == nil {
				probs.add(row.line, "customer", "no customer has the external_id, phone or email %q (import the customers first)", row.customer)
			} else {
				row.customerID = cust.ID
			}
		}
		if id := row.offerID; id != "" {
			known, checked := offers[id]
			if !checked {
				_, err := tx.Offer(id)
				if err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
					return err
				}
				known = err == nil
				offers[id] = known
			}
			if !known {
				probs.add(row.line, "offer_id", "no offer has the id %q", id)
			}
		}
	}
	return nil
}

// findOrderCustomer finds the customer an orders file names by external id,
// phone or email.
func findOrderCustomer(tx crm.Tx, key string) (*crm.Customer, error) {
	var phone, email string
	if strings.Contains(key, "@") {
		email, _ = crm.NormalizeEmail(key)
	} else {
		phone, _ = crm.NormalizePhone(key)
	}
	return matchImportCustomer(tx, key, phone, email)
}

// parseImportAmount reads a positive whole number of đồng written 1500000,
// 1.500.000 or 1,500,000, optionally followed by ₫, đ or VND. crm.ReadAmount
// reads it; a file holds đồng, so the shorthand a rep may type ("1.5tr",
// "500k") is refused: a cell written so was typed by hand, and a slip there
// would change a total a thousandfold.
func parseImportAmount(s string) (int64, error) {
	bad := fmt.Errorf("%q is not an amount in VND (write 1500000, 1.500.000 or 1,500,000)", s)
	m, err := crm.ReadAmount(s)
	switch {
	case err == nil && m.Unit != "":
		return 0, bad
	case err == nil:
		return m.VND, nil
	case strings.HasPrefix(strings.TrimSpace(s), "-"), m.Number != "" && strings.Trim(m.Number, "0.,") == "":
		return 0, fmt.Errorf("%q: must be positive", s)
	case m.Unit == "" && m.Grouped() || m.Number != "" && !strings.ContainsAny(m.Number, ".,"):
		// A number written right whose value is refused: past crm.MaxAmount.
		return 0, fmt.Errorf("%q is too large", s)
	}
	return 0, bad
}

// parseOrderItems reads an orders file's items cell: lines separated by
// ";", each "product", "product:quantity" or "product:quantity:unit
// price" (iphone-15:1:19.990.000; op-lung:2:150000). The product is the
// catalog id (or the name as written); quantity defaults to 1, the price to
// unknown (0).
func parseOrderItems(s string) ([]crm.OrderItem, error) {
	var items []crm.OrderItem
	for i, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		f := strings.Split(part, ":")
		if len(f) > 3 {
			return nil, fmt.Errorf("line %d of the items, %q: write product:quantity:price", i+1, part)
		}
		it := crm.OrderItem{Product: strings.TrimSpace(f[0]), Quantity: 1}
		if len(f) > 1 {
			q, err := strconv.Atoi(strings.TrimSpace(f[1]))
			if err != nil || q < 1 {
				return nil, fmt.Errorf("line %d of the items, %q: the quantity must be a whole number from 1", i+1, part)
			}
			it.Quantity = q
		}
		if len(f) > 2 {
			p, err := parseImportAmount(f[2])
			if err != nil {
				return nil, fmt.Errorf("line %d of the items, price: %w", i+1, err)
			}
			it.Price = p
		}
		items = append(items, it)
	}
	o := crm.Order{Items: items, Amount: 1}
	if err := crm.CheckOrder(&o); err != nil {
		return nil, errors.New(crm.ErrorMessage(err))
	}
	return items, nil
}

// itemsTotal is the sum of the lines' prices (0 when any is unknown).
func itemsTotal(items []crm.OrderItem) int64 {
	var total int64
	for _, it := range items {
		if it.Price == 0 {
			return 0
		}
		total += it.Price * int64(it.Quantity)
	}
	return total
}

// Date layouts the import files accept; a date without a time is local
// midnight.
var importDateLayouts = []string{"2006-01-02", "2/1/2006"}

func parseImportDay(s string, loc *time.Location) (time.Time, bool) {
	for _, layout := range importDateLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseOrderTime reads a date (YYYY-MM-DD, DD/MM/YYYY) or an RFC 3339 time
// that is not after today.
func parseOrderTime(s string, now time.Time) (time.Time, error) {
	t, ok := parseImportDay(s, now.Location())
	if !ok {
		var err error
		if t, err = time.Parse(time.RFC3339, s); err != nil {
			return time.Time{}, fmt.Errorf("%q is not a date (write YYYY-MM-DD, DD/MM/YYYY or 2006-01-02T15:04:05+07:00)", s)
		}
	}
	y, m, d := now.Date()
	if !t.Before(time.Date(y, m, d+1, 0, 0, 0, 0, now.Location())) {
		return time.Time{}, fmt.Errorf("%s is after today", s)
	}
	return t, nil
}

// parseBirthday reads YYYY-MM-DD or DD/MM/YYYY; it is stored as midnight UTC
// so its month and day do not depend on the server's time zone.
func parseBirthday(s string, now time.Time) (time.Time, error) {
	t, ok := parseImportDay(s, time.UTC)
	if !ok {
		return time.Time{}, fmt.Errorf("%q is not a date (write YYYY-MM-DD or DD/MM/YYYY)", s)
	}
	if t.Year() < 1900 || t.After(now) {
		return time.Time{}, fmt.Errorf("%s is not a plausible birthday", s)
	}
	return t, nil
}

// parseImportBool reads true/false, 1/0, yes/no and có/không (with or
// without diacritics).
func parseImportBool(s string) (bool, error) {
	switch crm.Fold(s) {
	case "true", "1", "yes", "co":
		return true, nil
	case "false", "0", "no", "khong":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true/false, 1/0, yes/no or có/không", s)
}
