import { useState } from 'preact/hooks';
import type { ImageListItem as Image } from '../../src/domain/images/image-service.ts';
import type { ContainerStateView, PodSummary as Pod } from '../../src/domain/pods/pod-status.ts';
import { session, bytes, call, download, getJson, when } from '../api.ts';
import { ActionNote, ErrorNote, Section, State, Table, useAction, useLoad } from '../components.tsx';

/** GET /em/pvc/list's entries. */
interface Volume {
  pvc_name: string;
  size: number;
  file_count: number;
  created_at: string | null;
  last_used_at: string | null;
  in_use_by: string[];
}

/** GET /em/files/list's tree (hash kept as its digits). */
type Entry =
  | { type: 'file'; name: string; size: string; time: string; hash: string }
  | { type: 'directory'; name: string; size: string; time: string; contents: Entry[] };

/** The volume's parameter: the default volume takes none; another is its pod_name. */
const volumeQuery = (v: string): Record<string, string> => (v === 'default' ? {} : { pod_name: v });

/** The tree as rows: depth, the path in the volume, the entry. */
function rows(entries: Entry[], prefix = '', depth = 0): { depth: number; path: string; entry: Entry }[] {
  return entries.flatMap((e) => {
    const path = prefix ? `${prefix}/${e.name}` : e.name;
    return [{ depth, path, entry: e }, ...(e.type === 'directory' ? rows(e.contents, path, depth + 1) : [])];
  });
}

/** "running", "terminated (Completed)", "waiting (ContainerCreating)". */
function podState(s: ContainerStateView): { word: string; reason?: string; detail?: string } {
  const [word = 'unknown', v = {}] = Object.entries(s)[0] ?? [];
  return { word, ...(v.reason ? { reason: v.reason } : {}), ...(v.message ? { detail: v.message } : {}) };
}

function Files({ volume, onChanged }: { volume: string; onChanged: () => void }) {
  const tree = useLoad(() => getJson<{ data: Entry[] }>('/em/files/list', { query: volumeQuery(volume) }).then((r) => r.data), [volume]);
  const action = useAction();
  const [dest, setDest] = useState('');
  return (
    <>
      <ErrorNote error={tree.error} />
      <ActionNote action={action} />
      <Table
        class="tree"
        rows={tree.data ? rows(tree.data) : undefined}
        empty="The volume is empty."
        head={['Name', 'Size', 'Time', 'Hash', { hidden: 'Actions' }]}
        row={({ depth, path, entry }) => (
          <tr key={path} data-path={path}>
            <td style={{ paddingLeft: `${0.5 + depth * 1.25}rem` }}>
              {entry.name}
              {entry.type === 'directory' ? <span class="muted">/</span> : null}
            </td>
            <td>{entry.type === 'file' ? bytes(entry.size) : ''}</td>
            <td>{entry.time}</td>
            <td>
              <code>{entry.type === 'file' ? entry.hash : ''}</code>
            </td>
            <td class="actions">
              {entry.type === 'file' ? (
                <button
                  type="button"
                  class="small"
                  aria-label={`Download ${path}`}
                  onClick={() => action.run(() => download('/em/files/downlink', entry.name, { ...volumeQuery(volume), filepath: path }))}
                >
                  Download
                </button>
              ) : null}
              <button
                type="button"
                class="small danger"
                aria-label={`Delete ${path}`}
                onClick={() =>
                  action.run(async () => {
                    if (!confirm(`Delete ${path}${entry.type === 'directory' ? ' and everything in it' : ''}?`)) return;
                    await call('/em/files/delete', { form: new URLSearchParams({ ...volumeQuery(volume), filepath: path }) });
                    await tree.reload();
                    onChanged();
                    return `Deleted ${path}`;
                  })
                }
              >
                Delete
              </button>
            </td>
          </tr>
        )}
      />
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          const form = e.target as HTMLFormElement;
          const chosen = (form.elements.namedItem('files') as HTMLInputElement).files;
          void action.run(async () => {
            if (!chosen?.length) throw new Error('Choose one or more files to upload');
            const body = new FormData();
            for (const f of chosen) body.append('files', f, f.name);
            if (dest.trim()) body.append('dest_path', dest.trim());
            const v = volumeQuery(volume);
            const res = await call('/em/files/uplink', { form: body, query: v });
            const r = (await res.json()) as { data: { file_count: number; total_size_kb: number } };
            form.reset();
            await tree.reload();
            onChanged();
            return `Uplinked ${r.data.file_count} file${r.data.file_count === 1 ? '' : 's'} (${r.data.total_size_kb} KB)`;
          });
        }}
      >
        <label>
          Files <input name="files" type="file" multiple required />
        </label>
        <label>
          Into folder <input name="dest_path" value={dest} onInput={(e) => setDest((e.target as HTMLInputElement).value)} placeholder="(the volume's root)" />
        </label>
        <button type="submit" disabled={action.busy}>
          Uplink
        </button>
      </form>
    </>
  );
}

function Pods() {
  // Followed while a pod has not ended (or a run is scheduled).
  const pods = useLoad(
    (o) => getJson<{ data: Pod[] }>('/sim/pods', o).then((r) => r.data),
    [],
    3000,
    (d) => !d || d.some((p) => !('terminated' in p.state)),
  );
  const [shown, setShown] = useState<string | null>(null);
  const logs = useLoad(
    async (o) =>
      shown ? getJson<{ message: string; data: { stdout: string; stderr: string } }>('/sim/pods/logs', { ...o, query: { pod_name: shown } }) : null,
    [shown],
    3000,
  );
  return (
    <>
      <ErrorNote error={pods.error} />
      <Table
        rows={pods.data}
        empty="No pods yet: run one with an operation, or POST /em/pod/run."
        head={['Pod', 'Image', 'Node', 'State', { hidden: 'Logs' }]}
        row={(p) => {
          const s = podState(p.state);
          return (
            <tr key={p.pod_name} data-pod={p.pod_name}>
              <td>{p.pod_name}</td>
              <td>
                <code>{p.image}</code>
              </td>
              <td>{p.node}</td>
              <td>
                <State state={s.word} /> {s.reason ? <State state={s.reason} /> : null}
                {s.detail ? <div class="muted">{s.detail}</div> : null}
                {p.warning ? <div class="warning">{p.warning}</div> : null}
              </td>
              <td>
                <button
                  type="button"
                  class="small"
                  aria-label={`Logs of ${p.pod_name}`}
                  aria-pressed={shown === p.pod_name}
                  onClick={() => setShown(shown === p.pod_name ? null : p.pod_name)}
                >
                  Logs
                </button>
              </td>
            </tr>
          );
        }}
      />
      {shown && logs.data ? (
        <div class="pod-logs">
          <h3>Output of {shown}</h3>
          <p class="hint">{logs.data.message}</p>
          <pre role="log" data-testid="pod-logs">
            {logs.data.data.stdout || logs.data.data.stderr ? null : '(no output)'}
            {logs.data.data.stdout}
            {logs.data.data.stderr ? `\n--- stderr ---\n${logs.data.data.stderr}` : ''}
          </pre>
        </div>
      ) : (
        <ErrorNote error={logs.error} />
      )}
    </>
  );
}

function Images() {
  const images = useLoad(() => getJson<{ data: Image[] }>('/em/pod/image/list').then((r) => r.data), []);
  return (
    <>
      <ErrorNote error={images.error} />
      <Table
        rows={images.data}
        empty="No images of yours yet: build one (POST /em/pod/image/build) or load one (POST /em/pod/image/load). The onboard catalog's images are not listed here; pods run them by name."
        head={['Image', 'Architecture', 'Size', 'Created']}
        row={(i) => (
          <tr key={`${i.name}:${i.tag}`}>
            <td>
              <code>
                {i.name}:{i.tag}
              </code>
            </td>
            <td>{i.architecture}</td>
            <td>{bytes(i.size)}</td>
            <td>{when(i.created)}</td>
          </tr>
        )}
      />
    </>
  );
}

/** Onboard: each volume's files, the pods with their Kubernetes state and output, the images. */
export function OnboardPage() {
  const user = session()?.user ?? '';
  const volumes = useLoad(() => getJson<{ data: Volume[] }>('/em/pvc/list').then((r) => r.data), []);
  const [volume, setVolume] = useState('default');
  const names = [...new Set(['default', ...(volumes.data ?? []).map((v) => v.pvc_name)])];
  const info = volumes.data?.find((v) => v.pvc_name === volume);
  return (
    <>
      <Section title="Volumes">
        <ErrorNote error={volumes.error} />
        <label for="volume-choice">Volume</label>{' '}
        <select id="volume-choice" value={volume} onChange={(e) => setVolume((e.target as HTMLSelectElement).value)}>
          {names.map((n) => (
            <option key={n} value={n}>
              {n === 'default' ? `default (${user}-pvc, the one pods use without pvc_name)` : n}
            </option>
          ))}
        </select>
        {info ? (
          <span class="muted">
            {' '}
            {info.file_count} file{info.file_count === 1 ? '' : 's'}, {bytes(info.size)}, last used {when(info.last_used_at)}
            {info.in_use_by.length ? `, in use by ${info.in_use_by.join(', ')}` : ''}
          </span>
        ) : null}
        <Files volume={volume} key={volume} onChanged={() => void volumes.reload()} />
      </Section>
      <Section title="Pods">
        <Pods />
      </Section>
      <Section title="Images">
        <Images />
      </Section>
    </>
  );
}
