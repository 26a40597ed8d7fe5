import type { ControllableClock } from '../../domain/ports/clock.ts';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

// Node's setTimeout cannot wait longer than 2^31-1 ms; longer waits re-arm.
const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * The Clock port. Simulated time = an anchor plus real elapsed time times `speed`. Setting or advancing the clock
 * moves the anchor; timers are kept sorted and the single real setTimeout is re-armed for the
 * earliest one whenever the anchor or the timer set changes.
 */
export class SimClock implements ControllableClock {
  private anchorSim: number;
  private anchorReal: number;
  private timers: Timer[] = [];
  private nextId = 1;
  private handle: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly speed = 1,
    start?: number,
    private readonly realNow: () => number = () => performance.timeOrigin + performance.now(),
    /** Wall-clock time, as container engines stamp their events. */
    private readonly wallNow: () => number = () => Date.now(),
  ) {
    this.anchorReal = this.realNow();
    this.anchorSim = start ?? Date.now();
  }

  now(): number {
    return this.anchorSim + (this.realNow() - this.anchorReal) * this.speed;
  }

  at(atMs: number, fn: () => void): () => void {
    const timer: Timer = { id: this.nextId++, at: atMs, fn };
    const index = this.timers.findIndex((t) => t.at > atMs);
    if (index === -1) this.timers.push(timer);
    else this.timers.splice(index, 0, timer);
    this.arm();
    return () => {
      const i = this.timers.indexOf(timer);
      if (i !== -1) {
        this.timers.splice(i, 1);
        this.arm();
      }
    };
  }

  fromRealTime(realMs: number): number {
    const realAgo = Math.max(0, this.wallNow() - realMs);
    return Math.round(this.now() - realAgo * this.speed);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.at(this.now() + ms, resolve));
  }

  set(atMs: number): void {
    this.anchorReal = this.realNow();
    this.anchorSim = atMs;
    this.fireDue();
    this.arm();
  }

  advance(ms: number): void {
    this.set(this.now() + ms);
  }

  async settle(): Promise<void> {
    // Two macrotask turns let promise chains started by fired timers reach their first await.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  }

  close(): void {
    this.closed = true;
    if (this.handle) clearTimeout(this.handle);
    this.handle = null;
    this.timers = [];
  }

  private fireDue(): void {
    const now = this.now();
    while (this.timers.length && this.timers[0]!.at <= now) {
      const timer = this.timers.shift()!;
      try {
        timer.fn();
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private arm(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = null;
    if (this.closed || !this.timers.length) return;
    const simDelay = this.timers[0]!.at - this.now();
    const realDelay = Math.min(Math.max(0, simDelay / this.speed), MAX_TIMEOUT);
    this.handle = setTimeout(() => {
      this.handle = null;
      this.fireDue();
      this.arm();
    }, realDelay);
    // Pending timers alone must not keep the process alive.
    this.handle.unref();
  }
}
