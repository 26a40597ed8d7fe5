/** Runs a task once fewer than the limit are running; tasks wait in call order. */
export type Semaphore = <T>(task: () => Promise<T>) => Promise<T>;

/** A semaphore admitting `max` tasks at a time. */
export function semaphore(max: number): Semaphore {
  let active = 0;
  const queue: (() => void)[] = [];
  return async (task) => {
    if (active >= max) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await task();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}
