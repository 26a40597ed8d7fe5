/**
 * Runs async work one at a time per key, in call order; different keys run side by side. A
 * failed task does not block the ones queued after it. Used to serialise every operation on one
 * pod (a run, a timer firing, an exit event).
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs fn after every earlier task of the same key has settled; resolves or rejects as fn does. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(fn);
    this.tails.set(key, next);
    void next
      .finally(() => {
        if (this.tails.get(key) === next) this.tails.delete(key);
      })
      .catch(() => {});
    return next;
  }
}
