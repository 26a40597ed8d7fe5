/**
 * The dashboard's one way to the simulator: the same /auth/, /em/* and /sim/* routes a script
 * uses, with the same Bearer tokens (POST /auth/ gives `access` and `refresh`; a 401 refreshes
 * once through POST /auth/refresh). The session lives in sessionStorage: closing the tab signs out.
 */

/** An answer that was not 2xx: its status and the simulator's `{"error", "message"}` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: Record<string, unknown> = {},
    /** Retry-After, seconds (a busy window's 423 has one; the per-user lock's has none). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

/** Who is signed in, with their tokens. */
export interface Session {
  user: string;
  access: string;
  refresh: string;
}

const KEY = 'em-sim.session';
const listeners = new Set<() => void>();

/** The signed-in session, or null. */
export function session(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function setSession(s: Session | null): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
  for (const l of listeners) l();
}

/** Calls `listener` whenever the session changes; returns the unsubscribe. */
export function onSession(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** POST /auth/ with a user of sim-config.yaml. ApiError 401 for a wrong password. */
export async function signIn(user: string, password: string): Promise<void> {
  const res = await fetch('/auth/', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: user, password }) });
  if (!res.ok) throw await errorOf(res);
  const body = (await res.json()) as { access: string; refresh: string };
  setSession({ user, access: body.access, refresh: body.refresh });
}

export function signOut(): void {
  setSession(null);
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const message = typeof body.message === 'string' ? body.message : typeof body.detail === 'string' ? body.detail : text;
    const retry = res.headers.get('Retry-After');
    return new ApiError(res.status, typeof body.error === 'string' ? body.error : String(res.status), message, body, retry === null ? null : Number(retry));
  } catch {
    return new ApiError(res.status, String(res.status), text || res.statusText);
  }
}

/** Whether a JWT's `exp` is less than `seconds` away (unreadable: no). */
function expiresWithin(token: string, seconds: number): boolean {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    return typeof payload.exp === 'number' && payload.exp * 1000 - Date.now() < seconds * 1000;
  } catch {
    return false;
  }
}

/** Sent on `window` when the dashboard moved the simulated clock: what shows the time reloads it. */
export const CLOCK_MOVED = 'em-sim:clock-moved';

async function refreshed(s: Session): Promise<Session | null> {
  const res = await fetch('/auth/refresh', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh: s.refresh }) });
  if (!res.ok) return null;
  const body = (await res.json()) as { access: string; refresh?: string };
  const next = { ...s, access: body.access, refresh: body.refresh ?? s.refresh };
  setSession(next);
  return next;
}

/** What `call` sends: a JSON, YAML, form or raw body, and query parameters (undefined ones left out). */
export interface CallOptions {
  method?: string;
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  yaml?: string;
  form?: FormData | URLSearchParams;
  body?: Blob;
  /** A poll, not the user's action: sent with X-EM-Sim-Poll: 1 (kept out of /sim/requests, logged at debug). */
  poll?: boolean;
}

/**
 * The EM answers a user's second concurrent /em/* request with 423 (limits.one_request_per_user),
 * as CG2 does: the dashboard sends its /em/* requests one at a time, each read to its end before
 * the next goes, like a well-behaved client. /sim/* and /auth/ are never locked.
 */
let emQueue: Promise<unknown> = Promise.resolve();

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A request with the session's token; ApiError for anything but 2xx (a failed refresh signs out). */
export async function call(path: string, o: CallOptions = {}): Promise<Response> {
  if (!path.startsWith('/em/')) return send(path, o);
  const turn = emQueue.then(async () => {
    // A lock held by another client of the same user (a script) lifts when its request ends:
    // try again a few times. A busy window (423 with Retry-After) is CG2's answer: shown as is.
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await send(path, o);
        const body = await res.blob();
        return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 423 && err.retryAfter === null) || attempt >= 5) throw err;
        await pause(250 * attempt);
      }
    }
  });
  emQueue = turn.catch(() => undefined);
  return turn;
}

async function send(path: string, o: CallOptions): Promise<Response> {
  let s = session();
  if (!s) throw new ApiError(401, 'NOT_SIGNED_IN', 'Sign in first');
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) params.set(k, String(v));
  const url = params.size ? `${path}?${params}` : path;
  const attempt = (token: string) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, ...(o.poll ? { 'X-EM-Sim-Poll': '1' } : {}) };
    let body: BodyInit | undefined;
    if (o.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(o.json);
    } else if (o.yaml !== undefined) {
      headers['Content-Type'] = 'application/yaml';
      body = o.yaml;
    } else if (o.form) body = o.form;
    else if (o.body) {
      headers['Content-Type'] = 'application/octet-stream';
      body = o.body;
    }
    return fetch(url, { method: o.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  };
  // An access token about to expire (its `exp`) is refreshed first, instead of being refused.
  if (expiresWithin(s.access, 20)) s = (await refreshed(s)) ?? s;
  let res = await attempt(s.access);
  if (res.status === 401) {
    s = await refreshed(s);
    if (!s) {
      signOut();
      throw new ApiError(401, 'SESSION_EXPIRED', 'Your session has expired: sign in again');
    }
    res = await attempt(s.access);
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

/** A JSON answer. /em/files/list's 64-bit hashes are kept as their digits (a JS number would round them). */
export async function getJson<T>(path: string, o: CallOptions = {}): Promise<T> {
  const text = await (await call(path, o)).text();
  return JSON.parse(text.replace(/"hash":\s*(-?\d+)/g, '"hash":"$1"')) as T;
}

/** Downloads an answer as a file named `name` (the browser's own download). */
export async function download(path: string, name: string, query?: Record<string, string | number | undefined>): Promise<void> {
  const blob = await (await call(path, { ...(query ? { query } : {}) })).blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The simulated clock (GET /sim/clock). */
export interface ClockState {
  now: string;
  speed: number;
  control: boolean;
}

/** "1 min 5 s", "2.3 s", "—". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** An ISO time as "2026-12-01 10:00:04" (UTC, as the simulator's clock). */
export function when(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '—';
}

/** Bytes as "21 B", "4.2 KiB", "1.5 MiB". */
export function bytes(n: number | string): string {
  const v = Number(n);
  if (!Number.isFinite(v)) return String(n);
  if (v < 1024) return `${v} B`;
  if (v < 1024 ** 2) return `${(v / 1024).toFixed(1)} KiB`;
  if (v < 1024 ** 3) return `${(v / 1024 ** 2).toFixed(1)} MiB`;
  return `${(v / 1024 ** 3).toFixed(2)} GiB`;
}
