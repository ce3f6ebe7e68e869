/**
 * Maps and sets that keep only their newest `max` entries. Both iterate in insertion order, so the
 * first entry is the oldest: a cache or a "seen" memory bounded without a library.
 */

/** Sets `key` as the newest entry of `m`, dropping the oldest past `max`. */
export function rememberBounded<K, V>(m: Map<K, V>, key: K, value: V, max: number): void {
  m.delete(key);
  m.set(key, value);
  if (m.size > max) m.delete(m.keys().next().value as K);
}

/** Adds `value` to `s` as its newest, dropping the oldest past `max`; false if it was there. */
export function addBounded<T>(s: Set<T>, value: T, max: number): boolean {
  if (s.has(value)) return false;
  s.add(value);
  if (s.size > max) s.delete(s.values().next().value as T);
  return true;
}
