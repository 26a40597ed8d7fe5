import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';

/** A load that can be repeated: `data`, the `error` of the last try, and `reload`. */
export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * Loads `load({poll})` now and whenever `deps` change; with `everyMs`, again every so often
 * (`poll: true`, which the page passes on as X-EM-Sim-Poll) while `keepPolling(data, error)` says so
 * (an execution that has not ended; not one that does not exist). Only the newest load's answer is
 * kept: an older one arriving late is dropped.
 */
export function useLoad<T>(
  load: (o: { poll: boolean }) => Promise<T>,
  deps: unknown[],
  everyMs?: number,
  keepPolling: (data: T | undefined, error: unknown) => boolean = (_d, error) => !(error instanceof ApiError && error.status === 404),
): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const newest = useRef(0);
  const run = useCallback(async (poll: boolean) => {
    const mine = ++newest.current;
    try {
      const next = await load({ poll });
      if (mine !== newest.current) return;
      setData(next);
      setError(undefined);
    } catch (err) {
      if (mine === newest.current) setError(err);
    } finally {
      if (mine === newest.current) setLoading(false);
    }
  }, deps);
  const reload = useCallback(() => run(false), [run]);
  useEffect(() => {
    setLoading(true);
    void run(false);
    return () => {
      // Unmounted, or deps changed: whatever is in flight is no longer the newest.
      newest.current++;
    };
  }, [run]);
  const latest = useRef({ data, error });
  latest.current = { data, error };
  useEffect(() => {
    if (!everyMs) return undefined;
    const timer = setInterval(() => {
      if (keepPolling(latest.current.data, latest.current.error)) void run(true);
    }, everyMs);
    return () => clearInterval(timer);
  }, [run, everyMs]);
  return { data, error, loading, reload };
}

/** An error as the simulator said it: its code and message. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : 'ERROR';
  const message = error instanceof Error ? error.message : String(error);
  return (
    <p class="error" role="alert">
      <strong>{code}</strong> {message}
    </p>
  );
}

/** Runs an action from a button, showing its error or a short success message. */
export function useAction(): {
  busy: boolean;
  error: unknown;
  done: string | undefined;
  run: (f: () => Promise<string | void>) => Promise<void>;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const run = async (f: () => Promise<string | void>) => {
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const message = await f();
      if (message) setDone(message);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, done, run, clear: () => (setError(undefined), setDone(undefined)) };
}

/** The outcome of an action, announced to screen readers. */
export function ActionNote({ action }: { action: { error: unknown; done: string | undefined } }) {
  return (
    <div aria-live="polite">
      <ErrorNote error={action.error} />
      {action.done ? <p class="done">{action.done}</p> : null}
    </div>
  );
}

/** A state word (Kubernetes' or the operation engine's), coloured by what it means. */
export function State({ state }: { state: string }) {
  const kind = /^(SUCCESS|COMPLETED|running|Completed)$/.test(state)
    ? 'good'
    : /^(FAILED|KILLED|Error|OOMKilled|ImagePullBackOff|ErrImagePull|CrashLoopBackOff|DeadlineExceeded)$/.test(state)
      ? 'bad'
      : /^(RUNNING|starting|waiting)$/.test(state)
        ? 'busy'
        : 'idle';
  return (
    <span class={`state state-${kind}`} data-state={state}>
      {state}
    </span>
  );
}

/** A titled part of a page. */
export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section aria-labelledby={id}>
      <div class="section-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** A column heading; `hidden` ones are read by screen readers only (an actions column). */
export type Heading = string | { hidden: string };

/**
 * A table of `rows` with one heading per column, or the `empty` sentence when there are none
 * (nothing while they load). `row` renders one row, its key included.
 */
export function Table<T>({
  rows,
  head,
  row,
  empty,
  class: className,
}: {
  rows: T[] | undefined;
  head: Heading[];
  row: (r: T) => ComponentChildren;
  empty?: ComponentChildren;
  class?: string;
}) {
  if (!rows) return null;
  if (!rows.length) return empty ? <p>{empty}</p> : null;
  return (
    <div class="table-wrap">
      <table class={className}>
        <thead>
          <tr>
            {head.map((h) => (
              <th scope="col" key={typeof h === 'string' ? h : h.hidden}>
                {typeof h === 'string' ? h : <span class="sr-only">{h.hidden}</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{rows.map(row)}</tbody>
      </table>
    </div>
  );
}
