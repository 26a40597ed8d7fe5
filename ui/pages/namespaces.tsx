import { useState } from 'preact/hooks';
import type { NamespaceFileInfo as NamespaceFile } from '../../src/domain/operations/namespace-files.ts';
import { bytes, call, download, getJson, when } from '../api.ts';
import { ActionNote, ErrorNote, Section, Table, useAction, useLoad } from '../components.tsx';

/** Namespaces: the file area on the ground that uplinks read and downlinks write, with versions. */
export function NamespacesPage({ namespace }: { namespace?: string }) {
  const names = useLoad(() => getJson<{ data: string[] }>('/sim/namespaces').then((r) => r.data), []);
  const chosen = namespace ?? names.data?.[0];
  const files = useLoad(
    async (): Promise<NamespaceFile[]> =>
      chosen ? getJson<{ data: NamespaceFile[] }>(`/sim/namespaces/${encodeURIComponent(chosen)}/files`).then((r) => r.data) : [],
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
          Namespace <input name="namespace" list="namespace-names" value={chosen ?? ''} placeholder="em_testing" key={chosen} />
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
          <Table
            rows={files.data}
            empty={files.error ? null : 'No files in this namespace yet: upload one below, or downlink one with an operation.'}
            head={['Path', 'Version', 'Size', 'SHA-256', 'Updated', 'Versions']}
            row={(f) => (
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
                      aria-label={`v${v.version}: download ${f.path} version ${v.version}`}
                      title={`${bytes(v.size)}, ${when(v.created)}`}
                      onClick={() =>
                        action.run(() =>
                          download(`/sim/namespaces/${encodeURIComponent(chosen)}/files/content`, f.path.split('/').pop()!, {
                            path: f.path,
                            version: v.version,
                          }),
                        )
                      }
                    >
                      v{v.version}
                    </button>
                  ))}
                </td>
              </tr>
            )}
          />
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
              Path in the namespace{' '}
              <input
                name="path"
                value={path}
                onInput={(e) => setPath((e.target as HTMLInputElement).value)}
                placeholder="/vlms.py"
                title="Where in the namespace; empty: / and the file's name"
              />
            </label>
            <button type="submit" disabled={action.busy}>
              Upload
            </button>
          </form>
          <ActionNote action={action} />
        </>
      ) : (
        <p>
          You have no namespace yet: type one (an operation's <code>namespace:</code>, e.g. em_testing) and open it.
        </p>
      )}
    </Section>
  );
}
