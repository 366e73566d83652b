package boltstore

import (
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// The slow steps of Open (rebuilding the free page list after a crash,
// migrating the schema) are logged when they start, every progressEvery
// while they run, and when they end, so that a start-up that takes a
// minute does not look hung.
const progressEvery = 10 * time.Second

// step logs msg now and "still …" every progressEvery until the returned
// function is called, which logs the end (done, or the error) with the
// seconds it took. With a nil logger it does nothing.
func step(log *slog.Logger, msg, still, done string, attrs ...any) (end func(error)) {
	if log == nil {
		return func(error) {}
	}
	start := time.Now()
	log.Info(msg, attrs...)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				log.Info(still, append([]any{"seconds", time.Since(start).Round(time.Second).Seconds()}, attrs...)...)
			}
		}
	}()
	return func(err error) {
		close(stop)
		wg.Wait()
		took := append([]any{"seconds", time.Since(start).Round(time.Millisecond).Seconds()}, attrs...)
		if err != nil {
			log.Error(msg+": failed", append(took, "err", err)...)
			return
		}
		log.Info(done, took...)
	}
}

// Offsets in a bbolt meta page: the page header (16 bytes), then magic,
// version, page size, flags (4 bytes each), the root bucket (16), the free
// list's page id, the high-water page id and the transaction id (8 each).
const (
	metaMagicOff    = 16
	metaPageSizeOff = 24
	metaFreelistOff = 48
	metaTxidOff     = 64
	metaEnd         = 72
	boltMagic       = 0xED0CDAED
	noFreelist      = ^uint64(0)
)

// freelistMissing reports whether Open will rebuild the free page list by
// reading every page: the process that wrote the file last did not close it
// (NoFreelistSync, see Open). It reads the newer of the two meta pages; a
// file it cannot read (new, damaged, another byte order) reports false and
// bbolt decides.
func freelistMissing(path string) (missing bool, size int64) {
	f, err := os.Open(path)
	if err != nil {
		return false, 0
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, 0
	}
	readMeta := func(off int64) (txid, freelist uint64, pageSize uint32, ok bool) {
		var b [metaEnd]byte
		if _, err := f.ReadAt(b[:], off); err != nil && err != io.EOF {
			return 0, 0, 0, false
		}
		le := binary.LittleEndian
		if le.Uint32(b[metaMagicOff:]) != boltMagic {
			return 0, 0, 0, false
		}
		return le.Uint64(b[metaTxidOff:]), le.Uint64(b[metaFreelistOff:]), le.Uint32(b[metaPageSizeOff:]), true
	}
	tx0, fl0, pageSize, ok0 := readMeta(0)
	if !ok0 {
		return false, st.Size()
	}
	fl := fl0
	if tx1, fl1, _, ok1 := readMeta(int64(pageSize)); ok1 && tx1 > tx0 {
		fl = fl1
	}
	return fl == noFreelist, st.Size()
}

// schemaVersionOf reads the file's schema version (0 for a new file).
func schemaVersionOf(bdb *bbolt.DB) uint64 {
	var v uint64
	_ = bdb.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bktMeta); b != nil {
			if raw := b.Get([]byte(metaSchemaVersion)); len(raw) == 8 {
				v = binary.BigEndian.Uint64(raw)
			}
		}
		return nil
	})
	return v
}
