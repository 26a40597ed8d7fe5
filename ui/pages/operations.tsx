import { useRef, useState } from 'preact/hooks';
import { ApiError, call, getJson, when } from '../api.ts';
import { ActionNote, ErrorNote, Section, Table, useAction, useLoad } from '../components.tsx';
import type { EditorView } from '@codemirror/view';
import { goTo, validate, YamlEditor, type Check, type Problem } from '../editor.tsx';

import type { OperationListEntry as OperationSummary, OperationRevisions as SavedOperation } from '../../src/domain/operations/operation-service.ts';

const TEMPLATE = `# An operation: tasks run one after another (see the README's "Operations").
id: my-first-operation
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

function ProblemList({ check, error, goTo }: { check: Check | null; error: unknown; goTo: (p: Problem) => void }) {
  if (error) return <ErrorNote error={error} />;
  if (!check) return <p class="hint">The engine checks the operation as you type.</p>;
  const item = (p: Problem, kind: string) => (
    <li class={kind} key={`${kind}${p.line}:${p.column}:${p.message}`}>
      <button type="button" class="link where" onClick={() => goTo(p)} title="Put the cursor there">
        Line {p.line}, column {p.column}
      </button>{' '}
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

/** Unsaved edits by the text they were made on ("ns/id@revision", or "new"), for this tab. */
const drafts = {
  get(doc: string): string | undefined {
    return sessionStorage.getItem(`em-sim.draft.${doc}`) ?? undefined;
  },
  set(doc: string, text: string | null): void {
    if (text === null) sessionStorage.removeItem(`em-sim.draft.${doc}`);
    else sessionStorage.setItem(`em-sim.draft.${doc}`, text);
  },
};

const operationPath = (namespace: string, id: string) => `/sim/operations/${encodeURIComponent(namespace)}/${encodeURIComponent(id)}`;

/**
 * The editor: a new operation, or one saved (its latest revision or the one in the address). An
 * edit belongs to the text it was made on: another revision, Back or Forward show that revision's
 * text, not the edit.
 */
export function OperationEditor({ namespace, id, revision }: { namespace?: string; id?: string; revision?: string }) {
  const path = namespace && id ? operationPath(namespace, id) : null;
  const saved = useLoad(async () => (path ? getJson<SavedOperation>(path, { query: { revision } }) : null), [path, revision]);
  const [edit, setEdit] = useState<{ doc: string; text: string } | null>(null);
  const [reset, setReset] = useState(0);
  const [check, setCheck] = useState<{ check: Check | null; error?: unknown }>({ check: null });
  const view = useRef<EditorView | null>(null);
  const action = useAction();
  // The revision the address names; while it loads, useLoad still holds the one before.
  const loaded =
    saved.data && saved.data.namespace === namespace && saved.data.operation === id && (revision === undefined || String(saved.data.revision) === revision)
      ? saved.data
      : null;
  if (path && !loaded) return saved.error ? <ErrorNote error={saved.error} /> : <p class="hint">Loading…</p>;
  const doc = loaded ? `${loaded.namespace}/${loaded.operation}@${loaded.revision}` : 'new';
  const original = loaded?.source ?? TEMPLATE;
  // An edit not saved yet is kept in the tab (sessionStorage) by the text it was made on: leaving
  // the page and coming back brings it back, marked, with a way to drop it.
  const draft = drafts.get(doc);
  const shown = edit && edit.doc === doc ? edit.text : (draft ?? original);
  const dirty = shown !== original;

  const failWith = (err: unknown): never => {
    // An invalid operation is refused with every problem: show them in the list too.
    if (err instanceof ApiError && err.code === 'INVALID_OPERATION' && Array.isArray(err.body.errors)) {
      setCheck({ check: { valid: false, errors: err.body.errors as Problem[], warnings: [] } });
    }
    throw err;
  };
  /**
   * Saving or executing the text adds a revision to the operation it names: when that is another
   * operation than the one open (a new one named like an existing one, or an `id:` changed), ask first.
   */
  const confirmTarget = async (): Promise<boolean> => {
    const checked = await validate(shown);
    if (!checked.valid || !checked.namespace || !checked.operation) return true;
    if (loaded && checked.namespace === loaded.namespace && checked.operation === loaded.operation) return true;
    const existing = await getJson<SavedOperation>(operationPath(checked.namespace, checked.operation)).catch(() => null);
    return (
      !existing || confirm(`${checked.namespace}/${checked.operation} already exists (revision ${existing.revision}). Add this text to it as a new revision?`)
    );
  };
  const title = path ? `Operation ${namespace}/${id}` : 'New operation';
  return (
    <Section title={title}>
      {loaded ? (
        <p>
          Revision {loaded.revision} of {loaded.revisions.length}, saved {when(loaded.created)}.{' '}
          <label>
            Revisions{' '}
            <select
              value={String(loaded.revision)}
              onChange={(e) => {
                location.hash = `#${operationPath(loaded.namespace, loaded.operation).replace('/sim', '')}?revision=${(e.target as HTMLSelectElement).value}`;
              }}
            >
              {loaded.revisions.map((r) => (
                <option key={r.revision} value={String(r.revision)}>
                  {r.revision} — {when(r.created)}
                </option>
              ))}
            </select>
          </label>
        </p>
      ) : null}
      {draft !== undefined && dirty ? (
        <p class="warning" role="status">
          Your unsaved edit of this text is back.{' '}
          <button
            type="button"
            class="link"
            onClick={() => {
              drafts.set(doc, null);
              setEdit(null);
              setReset((n) => n + 1);
            }}
          >
            Discard it
          </button>
        </p>
      ) : null}
      <div class="editor-layout">
        <YamlEditor
          key={`${doc}#${reset}`}
          label="Operation YAML"
          initial={draft ?? original}
          onView={(v) => (view.current = v)}
          onChange={(text) => {
            setEdit({ doc, text });
            drafts.set(doc, text === original ? null : text);
            if (action.error || action.done) action.clear();
          }}
          onCheck={(c, error) => setCheck({ check: c, error })}
        />
        <aside aria-label="Problems" aria-live="polite">
          <h3>Check</h3>
          <ProblemList check={check.check} error={check.error} goTo={(p) => view.current && goTo(view.current, p.line, p.column)} />
        </aside>
      </div>
      <div class="buttons">
        <button
          type="button"
          disabled={action.busy}
          onClick={() =>
            action.run(async () => {
              if (!(await confirmTarget())) return 'Not saved';
              const res = await call('/sim/operations', { yaml: shown }).catch(failWith);
              const s = (await res.json()) as OperationSummary;
              const next = `#/operations/${encodeURIComponent(s.namespace)}/${encodeURIComponent(s.operation)}`;
              setEdit(null);
              drafts.set(doc, null);
              if (location.hash !== next) location.hash = next;
              else await saved.reload();
              return res.status === 201
                ? `Saved ${s.namespace}/${s.operation}, revision ${s.revision}`
                : `Unchanged: ${s.namespace}/${s.operation} is still revision ${s.revision}`;
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
              if (!(await confirmTarget())) return 'Not executed';
              const started = await execute(shown).catch(failWith);
              drafts.set(doc, null);
              location.hash = `#/executions/${started}`;
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
