import { useEffect, useRef } from 'preact/hooks';
import type { ExecutionRecord as Execution, TaskError, TaskRunRecord as TaskRun } from '../../src/domain/operations/execution.ts';
import type { ExecutionSummary } from '../../src/domain/operations/operation-service.ts';
import { ApiError, call, download, duration, getJson, when } from '../api.ts';
import { ActionNote, ErrorNote, Section, State, Table, useAction, useLoad } from '../components.tsx';

const ENDED = ['COMPLETED', 'FAILED', 'KILLED'];

/** Seconds between two ISO times of the simulated clock. */
const seconds = (start: string | null, end: string | null) => (start && end ? (Date.parse(end) - Date.parse(start)) / 1000 : null);

/** The duration column of an execution or task that has not ended: what it is doing instead. */
const notEnded = (state: string) => (state === 'RUNNING' ? 'running' : state === 'SCHEDULED' ? 'waiting' : '—');

/** `code | name | message`, as the provider's dashboard shows a task error. */
const errorLine = (e: TaskError) => `${e.code} | ${e.name} | ${e.message}`;

/** Executions, newest first; followed every 2 s while one has not ended. */
export function ExecutionsPage() {
  const list = useLoad(
    (o) => getJson<{ data: ExecutionSummary[] }>('/sim/executions', { ...o, query: { limit: 200 } }).then((r) => r.data),
    [],
    2000,
    (d) => !d || d.some((e) => !ENDED.includes(e.state)),
  );
  return (
    <Section title="Executions">
      <ErrorNote error={list.error} />
      <Table
        rows={list.data}
        empty={
          <>
            No executions yet. Execute an operation from <a href="#/operations">Operations</a>.
          </>
        }
        head={['Execution', 'Operation', 'State', 'Started', 'Duration', 'Failed tasks']}
        row={(e) => (
          <tr key={e.id}>
            <td>
              <a href={`#/executions/${e.id}`}>
                <code>{e.id.slice(0, 8)}</code>
              </a>
            </td>
            <td>
              {e.namespace}/{e.operation} <span class="muted">rev. {e.revision}</span>
            </td>
            <td>
              <State state={e.state} />
            </td>
            <td class="time">{when(e.started)}</td>
            <td>{e.ended ? duration(seconds(e.started, e.ended)) : notEnded(e.state)}</td>
            <td>{e.failed_tasks.join(', ') || '—'}</td>
          </tr>
        )}
      />
    </Section>
  );
}

function Outputs({ execution, task }: { execution: Execution; task: TaskRun }) {
  const action = useAction();
  const outputs = task.outputs;
  if (!outputs) return <span class="muted">—</span>;
  const files = Array.isArray(outputs.files) ? (outputs.files as { path: string; version?: number }[]) : [];
  const brought = task.type === 'dphi.space.cg2.downlink' ? files.filter((f) => typeof f.version === 'number') : [];
  return (
    <div class="outputs">
      {typeof outputs.uri === 'string' ? (
        <button
          type="button"
          onClick={() => action.run(() => download(outputs.uri as string, task.type === 'dphi.space.cg2.downlink' ? `${task.id}.zip` : `${task.id}.json`))}
        >
          Download {task.type === 'dphi.space.cg2.downlink' ? 'the files (zip)' : 'the output'}
        </button>
      ) : null}
      {brought.map((f) => (
        <button
          type="button"
          key={f.path}
          onClick={() =>
            action.run(() =>
              download(`/sim/namespaces/${encodeURIComponent(execution.namespace)}/files/content`, f.path.split('/').pop()!, {
                path: f.path,
                version: f.version,
              }),
            )
          }
        >
          Download {f.path} (v{f.version})
        </button>
      ))}
      <details>
        <summary>Outputs</summary>
        <pre>{JSON.stringify(outputs, null, 2)}</pre>
      </details>
      <ActionNote action={action} />
    </div>
  );
}

/** One execution: state history, task runs, errors, outputs and logs; followed every second until it ends. */
export function ExecutionPage({ id }: { id: string }) {
  const exec = useLoad(
    (o) => getJson<Execution>(`/sim/executions/${encodeURIComponent(id)}`, o),
    [id],
    1000,
    // Followed until it ends; an execution that does not exist is not asked for again.
    (d, error) => !(error instanceof ApiError && error.status === 404) && (!d || !ENDED.includes(d.state)),
  );
  const action = useAction();
  const logBox = useRef<HTMLPreElement>(null);
  const lines = exec.data?.tasks.reduce((n, t) => n + t.logs.length, 0) ?? 0;
  // The log follows: new lines scroll into view, unless the reader has scrolled up to read.
  const atEnd = useRef(true);
  useEffect(() => {
    const box = logBox.current;
    if (box && atEnd.current) box.scrollTop = box.scrollHeight;
  }, [lines]);
  const e = exec.data;
  if (!e) return <ErrorNote error={exec.error} />;
  const ended = ENDED.includes(e.state);
  const logs = e.tasks.flatMap((t) => t.logs.map((l) => ({ task: t.id, ...l }))).sort((a, b) => a.time.localeCompare(b.time));
  return (
    <Section
      title={`Execution ${e.id.slice(0, 8)}`}
      actions={
        ended ? null : (
          <button
            type="button"
            class="danger"
            disabled={action.busy}
            onClick={() =>
              action.run(async () => {
                if (
                  !confirm(
                    `Kill execution ${e.id.slice(0, 8)}? Its running task ends KILLED (a pod gets SIGTERM and up to 10 s to stop); later tasks are skipped.`,
                  )
                )
                  return;
                await call(`/sim/executions/${e.id}/kill`, { method: 'POST' });
                return 'Killed';
              })
            }
          >
            {action.busy ? 'Killing… (the pod has up to 10 s to stop)' : 'Kill'}
          </button>
        )
      }
    >
      <ActionNote action={action} />
      <ErrorNote error={exec.error} />
      <p>
        <a href={`#/operations/${encodeURIComponent(e.namespace)}/${encodeURIComponent(e.operation)}?revision=${e.revision}`}>
          {e.namespace}/{e.operation}, revision {e.revision}
        </a>{' '}
        — <State state={e.state} /> {e.started && e.ended ? `— ${duration(seconds(e.started, e.ended))}` : ''}
        <span class="muted"> ({e.id})</span>
      </p>
      {e.errors.length ? (
        <ul class="errors">
          {e.errors.map((x) => (
            <li key={errorLine(x)}>{errorLine(x)}</li>
          ))}
        </ul>
      ) : null}
      <h3>State history</h3>
      <ol class="history">
        {e.state_history.map((h) => (
          <li key={h.state + h.date}>
            <State state={h.state} /> {when(h.date)}
          </li>
        ))}
      </ol>
      <h3>Task runs</h3>
      <Table
        rows={e.tasks}
        head={['Task', 'State', 'Start', 'End', 'Duration', 'Errors', 'Outputs']}
        row={(t) => (
          <tr key={t.id} data-task={t.id}>
            <td>
              <strong>{t.id}</strong>
              <br />
              <span class="muted">{t.type}</span>
            </td>
            <td>
              <State state={t.state} />
            </td>
            <td class="time">{when(t.started)}</td>
            <td class="time">{when(t.ended)}</td>
            <td>{t.duration_s !== null ? duration(t.duration_s) : notEnded(t.state)}</td>
            <td>
              {t.errors.length
                ? t.errors.map((x) => (
                    <div key={errorLine(x)} class="task-error">
                      {errorLine(x)}
                    </div>
                  ))
                : '—'}
            </td>
            <td>
              <Outputs execution={e} task={t} />
            </td>
          </tr>
        )}
      />
      <h3>Logs</h3>
      <pre
        class="logs"
        role="log"
        aria-live="polite"
        data-testid="execution-logs"
        ref={logBox}
        tabIndex={0}
        onScroll={(ev) => {
          const box = ev.currentTarget;
          atEnd.current = box.scrollHeight - box.scrollTop - box.clientHeight < 24;
        }}
      >
        {logs.length ? logs.map((l) => `${when(l.time)} ${l.level.padEnd(5)} [${l.task}] ${l.message}\n`).join('') : 'No log lines yet.'}
      </pre>
    </Section>
  );
}
