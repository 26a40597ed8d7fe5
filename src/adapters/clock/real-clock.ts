import type { Clock } from '../../domain/ports/clock.ts';

// Node's setTimeout cannot wait longer than 2^31-1 ms; longer waits re-arm.
const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * The Clock port on real time, for what runs outside a simulator (`em-sim token`: the server's
 * simulated clock starts at real time).
 */
export const realClock: Clock = {
  now: () => Date.now(),
  speed: 1,
  at(atMs, fn) {
    let timer: NodeJS.Timeout;
    const arm = () => {
      const wait = atMs - Date.now();
      timer = wait > MAX_TIMEOUT ? setTimeout(arm, MAX_TIMEOUT) : setTimeout(fn, Math.max(0, wait));
    };
    arm();
    return () => clearTimeout(timer);
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  fromRealTime: (ms) => ms,
};
