package responder

import "container/list"

// lru is a map with a bound: touching an entry moves it to the front,
// adding past the bound evicts from the back. O(1) per packet, so a
// flood of new keys costs no scan.
type lru[K comparable, V any] struct {
	max   int
	items map[K]*list.Element
	order *list.List // front: most recently used
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	return &lru[K, V]{max: max, items: map[K]*list.Element{}, order: list.New()}
}

// get returns the entry for k and marks it used.
func (l *lru[K, V]) get(k K) (V, bool) {
	if e, ok := l.items[k]; ok {
		l.order.MoveToFront(e)
		return e.Value.(*lruEntry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// peek returns the entry for k without marking it used.
func (l *lru[K, V]) peek(k K) (V, bool) {
	if e, ok := l.items[k]; ok {
		return e.Value.(*lruEntry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// add inserts k (which must be absent) and reports whether an entry was
// evicted for it.
func (l *lru[K, V]) add(k K, v V) (evicted bool) {
	_, _, evicted = l.addEvict(k, v)
	return evicted
}

// addEvict is add that also returns the entry evicted for k.
func (l *lru[K, V]) addEvict(k K, v V) (oldK K, oldV V, evicted bool) {
	if l.order.Len() >= l.max {
		e := l.order.Back()
		ent := e.Value.(*lruEntry[K, V])
		oldK, oldV, evicted = ent.key, ent.val, true
		l.removeElement(e)
	}
	l.items[k] = l.order.PushFront(&lruEntry[K, V]{key: k, val: v})
	return oldK, oldV, evicted
}

// oldest returns the least recently used entry.
func (l *lru[K, V]) oldest() (K, V, bool) {
	if e := l.order.Back(); e != nil {
		ent := e.Value.(*lruEntry[K, V])
		return ent.key, ent.val, true
	}
	var k K
	var v V
	return k, v, false
}

func (l *lru[K, V]) remove(k K) {
	if e, ok := l.items[k]; ok {
		l.removeElement(e)
	}
}

func (l *lru[K, V]) removeElement(e *list.Element) {
	delete(l.items, e.Value.(*lruEntry[K, V]).key)
	l.order.Remove(e)
}

// each calls f for every entry, most recently used first.
func (l *lru[K, V]) each(f func(K, V)) {
	for e := l.order.Front(); e != nil; e = e.Next() {
		ent := e.Value.(*lruEntry[K, V])
		f(ent.key, ent.val)
	}
}
