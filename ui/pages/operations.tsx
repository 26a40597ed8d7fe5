import { useState } from 'preact/hooks';
import { ApiError, call, getJson, when } from '../api.ts';
import { ActionNote, ErrorNote, Section, Table, useAction, useLoad } from '../components.tsx';
import { YamlEditor, type Check, type Problem } from '../editor.tsx';

/** GET /sim/operations's entries. */
interface OperationSummary {
  namespace: string;
  operation: string;
  revision: number;
  created: string;
  revisions: number;
}

/** GET /sim/operations/{namespace}/{id}: one revision's YAML and the list of every revision. */
interface SavedOperation extends Omit<OperationSummary, 'revisions'> {
  source: string;
  revisions: { revision: number; created: string }[];
}

const TEMPLATE = `# An operation: tasks run one after another (see the README's "Operations").
id: hello-from-space
namespace: em_testing
description: Write a greeting onboard and downlink it
tasks:
  - id: pod_run_job
    type: dphi.space.cg2.pod.run
    pod_name: test
    image:
      name: alpine
      tag: latest
    command: ["/bin/sh"]
    args: ["-c", "echo 'Debi tirar mas fotos' > /data/hello-from-space.txt"]
    node: Fpga
    max_duration_seconds: 60
  - id: downlink_results
    type: dphi.space.cg2.downlink
    source:
      - hello-from-space.txt
    destination: /first_test
`;

/** Starts an execution of the text: POST /sim/executions; the new execution's id. */
async function execute(text: string): Promise<string> {
  const res = await call('/sim/executions', { yaml: text });
  return ((await res.json()) as { id: string }).id;
}

/** Operations: the latest revision of each, with Edit and Execute. */
export function OperationsPage() {
  const list = useLoad(() => getJson<{ data: OperationSummary[] }>('/sim/operations').then((r) => r.data), []);
  const action = useAction();
  return (
    <Section
      title="Operations"
      actions={
        <a class="button" href="#/operations/new">
          New operation
        </a>
      }
    >
      <ErrorNote error={list.error} />
      <ActionNote action={action} />
      <Table
        rows={list.data}
        empty="No operations yet. Write one with “New operation”; saving or executing it keeps a revision."
        head={['Namespace', 'Operation', 'Revision', 'Saved', { hidden: 'Actions' }]}
        row={(o) => (
          <tr key={`${o.namespace}/${o.operation}`}>
            <td>{o.namespace}</td>
            <td>
              <a href={`#/operations/${encodeURIComponent(o.namespace)}/${encodeURIComponent(o.operation)}`}>{o.operation}</a>
            </td>
            <td>{o.revision}</td>
            <td>{when(o.created)}</td>
            <td>
              <button
                type="button"
                disabled={action.busy}
                aria-label={`Execute ${o.namespace}/${o.operation}`}
                onClick={() =>
                  action.run(async () => {
                    const saved = await getJson<SavedOperation>(`/sim/operations/${encodeURIComponent(o.namespace)}/${encodeURIComponent(o.operation)}`);
                    location.hash = `#/executions/${await execute(saved.source)}`;
                  })
                }
              >
                Execute
              </button>
            </td>
          </tr>
        )}
      />
    </Section>
  );
}

function ProblemList({ check, error }: { check: Check | null; error: unknown }) {
  if (error) return <ErrorNote error={error} />;
  if (!check) return <p class="hint">The engine checks the operation as you type.</p>;
  const item = (p: Problem, kind: string) => (
    <li class={kind} key={`${kind}${p.line}:${p.column}:${p.message}`}>
      <span class="where">
        Line {p.line}, column {p.column}
      </span>
      {p.key ? <code>{p.key}</code> : null} {p.message}
    </li>
  );
  return (
    <div class="problems" data-testid="problems">
      {check.errors.length === 0 ? (
        <p class="done">Valid{check.warnings.length ? `, with ${check.warnings.length} warning${check.warnings.length === 1 ? '' : 's'}` : ''}.</p>
      ) : (
        <p class="error-count">
          {check.errors.length} error{check.errors.length === 1 ? '' : 's'}
        </p>
      )}
      <ul>
        {check.errors.map((p) => item(p, 'problem-error'))}
        {check.warnings.map((p) => item(p, 'problem-warning'))}
      </ul>
    </div>
  );
}

/** The editor: a new operation, or one saved (its latest revision or the one in the address). */
export function OperationEditor({ namespace, id, revision }: { namespace?: string; id?: string; revision?: string }) {
  const path = namespace && id ? `/sim/operations/${encodeURIComponent(namespace)}/${encodeURIComponent(id)}` : null;
  const saved = useLoad(async () => (path ? getJson<SavedOperation>(path, { query: { revision } }) : null), [path, revision]);
  const [text, setText] = useState<string | null>(null);
  const [check, setCheck] = useState<{ check: Check | null; error?: unknown }>({ check: null });
  const action = useAction();
  const shown = text ?? (path ? saved.data?.source : TEMPLATE);
  if (path && !saved.data) return <ErrorNote error={saved.error} />;
  if (shown === undefined) return null;

  const failWith = (err: unknown) => {
    // An invalid operation is refused with every problem: show them in the list too.
    if (err instanceof ApiError && err.code === 'INVALID_OPERATION' && Array.isArray(err.body.errors)) {
      setCheck({ check: { valid: false, errors: err.body.errors as Problem[], warnings: [] } });
    }
    throw err;
  };
  const title = path ? `Operation ${namespace}/${id}` : 'New operation';
  return (
    <Section title={title}>
      {saved.data ? (
        <p>
          Revision {saved.data.revision} of {saved.data.revisions.length}, saved {when(saved.data.created)}.{' '}
          <label>
            Revisions{' '}
            <select
              value={String(saved.data.revision)}
              onChange={(e) => {
                setText(null);
                location.hash = `#/operations/${encodeURIComponent(namespace!)}/${encodeURIComponent(id!)}?revision=${(e.target as HTMLSelectElement).value}`;
              }}
            >
              {saved.data.revisions.map((r) => (
                <option key={r.revision} value={String(r.revision)}>
                  {r.revision} — {when(r.created)}
                </option>
              ))}
            </select>
          </label>
        </p>
      ) : null}
      <div class="editor-layout">
        <YamlEditor
          key={`${path ?? 'new'}@${saved.data?.revision ?? 0}`}
          label="Operation YAML"
          initial={saved.data?.source ?? TEMPLATE}
          onChange={setText}
          onCheck={(c, error) => setCheck({ check: c, error })}
        />
        <aside aria-label="Problems" aria-live="polite">
          <h3>Check</h3>
          <ProblemList check={check.check} error={check.error} />
        </aside>
      </div>
      <div class="buttons">
        <button
          type="button"
          disabled={action.busy}
          onClick={() =>
            action.run(async () => {
              const res = await call('/sim/operations', { yaml: shown }).catch(failWith);
              const s = (await res.json()) as OperationSummary;
              const next = `#/operations/${encodeURIComponent(s.namespace)}/${encodeURIComponent(s.operation)}`;
              setText(null);
              if (location.hash !== next) location.hash = next;
              else await saved.reload();
              return `Saved ${s.namespace}/${s.operation}, revision ${s.revision}`;
            })
          }
        >
          Save
        </button>
        <button
          type="button"
          class="primary"
          disabled={action.busy}
          onClick={() =>
            action.run(async () => {
              location.hash = `#/executions/${await execute(shown).catch(failWith)}`;
            })
          }
        >
          Execute
        </button>
      </div>
      <ActionNote action={action} />
    </Section>
  );
}
