/**
 * Cancel functions of timers, grouped by key (one key per pod), so that all of a key's timers
 * can be cancelled at once when its run is replaced or ends.
 */
export class KeyedTimers {
  private readonly byKey = new Map<string, (() => void)[]>();

  add(key: string, cancel: () => void): void {
    const list = this.byKey.get(key) ?? [];
    list.push(cancel);
    this.byKey.set(key, list);
  }

  /** Cancels and forgets the key's timers. */
  clear(key: string): void {
    for (const cancel of this.byKey.get(key) ?? []) cancel();
    this.byKey.delete(key);
  }

  /** Cancels and forgets every timer. */
  clearAll(): void {
    for (const cancels of this.byKey.values()) for (const cancel of cancels) cancel();
    this.byKey.clear();
  }
}
