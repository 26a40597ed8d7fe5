import { useState } from 'preact/hooks';
import { bytes, call, download, getJson, when } from '../api.ts';
import { ActionNote, ErrorNote, Section, useAction, useLoad } from '../components.tsx';

/** GET /sim/namespaces/{namespace}/files's entries: the latest version first in the fields. */
interface NamespaceFile {
  path: string;
  version: number;
  size: number;
  sha256: string;
  updated: string;
  versions: { version: number; size: number; sha256: string; created: string }[];
}

/** Namespaces: the file area on the ground that uplinks read and downlinks write, with versions. */
export function NamespacesPage({ namespace }: { namespace?: string }) {
  const names = useLoad(() => getJson<{ data: string[] }>('/sim/namespaces').then((r) => r.data), []);
  const chosen = namespace ?? names.data?.[0];
  const files = useLoad(
    async () => (chosen ? getJson<{ data: NamespaceFile[] }>(`/sim/namespaces/${encodeURIComponent(chosen)}/files`).then((r) => r.data) : []),
    [chosen],
  );
  const [path, setPath] = useState('');
  const action = useAction();
  const go = (ns: string) => {
    if (ns.trim()) location.hash = `#/namespaces/${encodeURIComponent(ns.trim())}`;
  };
  const list = [...new Set([...(names.data ?? []), ...(chosen ? [chosen] : [])])];

  return (
    <Section title="Namespaces">
      <ErrorNote error={names.error} />
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          go(String(new FormData(e.target as HTMLFormElement).get('namespace') ?? ''));
        }}
      >
        <label>
          Namespace{' '}
          <input name="namespace" list="namespace-names" value={chosen ?? ''} placeholder="em_testing" key={chosen} />
        </label>
        <datalist id="namespace-names">
          {list.map((n) => (
            <option key={n} value={n} />
          ))}
        </datalist>
        <button type="submit">Open</button>
      </form>
      {chosen ? (
        <>
          <h3>Files of {chosen}</h3>
          <ErrorNote error={files.error} />
          {files.data && files.data.length === 0 ? <p>No files in this namespace yet: upload one below, or downlink one with an operation.</p> : null}
          {files.data && files.data.length > 0 ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Path</th>
                  <th scope="col">Version</th>
                  <th scope="col">Size</th>
                  <th scope="col">SHA-256</th>
                  <th scope="col">Updated</th>
                  <th scope="col">Versions</th>
                </tr>
              </thead>
              <tbody>
                {files.data.map((f) => (
                  <tr key={f.path}>
                    <td>
                      <code>{f.path}</code>
                    </td>
                    <td>{f.version}</td>
                    <td>{bytes(f.size)}</td>
                    <td>
                      <code title={f.sha256}>{f.sha256.slice(0, 12)}</code>
                    </td>
                    <td>{when(f.updated)}</td>
                    <td>
                      {[...f.versions].reverse().map((v) => (
                        <button
                          type="button"
                          class="small"
                          key={v.version}
                          aria-label={`Download ${f.path} version ${v.version}`}
                          title={`${bytes(v.size)}, ${when(v.created)}`}
                          onClick={() => action.run(() => download(`/sim/namespaces/${encodeURIComponent(chosen)}/files/content`, f.path.split('/').pop()!, { path: f.path, version: v.version }))}
                        >
                          v{v.version}
                        </button>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          <h3>Upload</h3>
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              const form = e.target as HTMLFormElement;
              const file = (form.elements.namedItem('file') as HTMLInputElement).files?.[0];
              void action.run(async () => {
                if (!file) throw new Error('Choose a file to upload');
                const target = path.trim() || `/${file.name}`;
                const res = await call(`/sim/namespaces/${encodeURIComponent(chosen)}/files`, { query: { path: target }, body: file });
                const v = (await res.json()) as { path: string; version: number };
                form.reset();
                setPath('');
                await files.reload();
                return `Uploaded ${v.path}, version ${v.version}`;
              });
            }}
          >
            <label>
              File <input name="file" type="file" required />
            </label>
            <label>
              Path in the namespace <input name="path" value={path} onInput={(e) => setPath((e.target as HTMLInputElement).value)} placeholder="/vlms.py (default: /the file's name)" />
            </label>
            <button type="submit" disabled={action.busy}>
              Upload
            </button>
          </form>
          <ActionNote action={action} />
        </>
      ) : (
        <p>You have no namespace yet: type one (an operation's <code>namespace:</code>, e.g. em_testing) and open it.</p>
      )}
    </Section>
  );
}
