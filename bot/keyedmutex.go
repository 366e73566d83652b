package bot

import "sync"

// KeyedMutex serialises work per key — a chat, a user — so that one
// customer's messages are handled in order while different customers run in
// parallel. Entries live only while in use. The zero value is ready to use.
type KeyedMutex[K comparable] struct {
	mu sync.Mutex
	m  map[K]*keyedLock
}

type keyedLock struct {
	mu   sync.Mutex
	refs int
}

// Lock waits for key and returns the function that releases it.
func (l *KeyedMutex[K]) Lock(key K) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[K]*keyedLock{}
	}
	c := l.m[key]
	if c == nil {
		c = &keyedLock{}
		l.m[key] = c
	}
	c.refs++
	l.mu.Unlock()
	c.mu.Lock()
	return func() {
		c.mu.Unlock()
		l.mu.Lock()
		c.refs--
		if c.refs == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
}

// Len returns how many keys are locked or waited for (tests).
func (l *KeyedMutex[K]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
