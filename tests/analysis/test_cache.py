"""The result cache (analysis/cache.py): bounded, least recently used out first."""

from manyskills.analysis.cache import LruCache


def test_the_least_recently_used_entry_goes_first():
    cache: LruCache[str] = LruCache(2)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # a is now the most recent
    cache.put("c", "C")
    assert cache.get("b") is None and cache.get("a") == "A" and cache.get("c") == "C"
    assert len(cache) == 2


def test_putting_again_refreshes_and_replaces():
    cache: LruCache[int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 3)
    cache.put("c", 4)
    assert cache.get("a") == 3 and cache.get("b") is None


def test_hits_and_misses_are_counted():
    cache: LruCache[int] = LruCache(4)
    cache.put("a", 1)
    cache.get("a"), cache.get("a"), cache.get("zzz")
    assert (cache.hits, cache.misses) == (2, 1)


def test_resize_drops_the_oldest_and_zero_disables_caching():
    cache: LruCache[int] = LruCache(3)
    for key in "abc":
        cache.put(key, ord(key))
    cache.resize(1)
    assert len(cache) == 1 and cache.get("c") == ord("c") and cache.get("a") is None
    cache.resize(0)
    cache.put("d", 1)
    assert len(cache) == 0 and cache.get("d") is None
    assert LruCache(-5).capacity == 0
    cache.resize(2)
    cache.put("e", 5)
    cache.clear()
    assert len(cache) == 0
