import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, onSession, session, signIn, signOut, when, type ClockState } from './api.ts';
import { ErrorNote, useLoad } from './components.tsx';
import { ExecutionPage, ExecutionsPage } from './pages/executions.tsx';
import { NamespacesPage } from './pages/namespaces.tsx';
import { OnboardPage } from './pages/onboard.tsx';
import { OperationEditor, OperationsPage } from './pages/operations.tsx';
import { SatellitePage } from './pages/satellite.tsx';
import './styles.css';

/** The part of the address after "#": "/executions/ID", and its query. */
interface Route {
  parts: string[];
  query: URLSearchParams;
}

function currentRoute(): Route {
  const [path = '', query = ''] = location.hash.replace(/^#/, '').split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

const PAGES = [
  ['operations', 'Operations'],
  ['executions', 'Executions'],
  ['namespaces', 'Namespaces'],
  ['onboard', 'Onboard'],
  ['satellite', 'Satellite'],
] as const;

function SignIn() {
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    setBusy(true);
    try {
      await signIn(String(form.get('username') ?? ''), String(form.get('password') ?? ''));
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? new ApiError(401, 'INVALID_CREDENTIALS', 'That user and password are not in sim-config.yaml (users:)')
          : err,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>em-sim</h1>
      <p>
        Sign in with a user of the simulator (<code>users:</code> in sim-config.yaml; by default client1 / client1).
      </p>
      <form onSubmit={submit}>
        <label>
          User <input name="username" autocomplete="username" required autofocus />
        </label>
        <label>
          Password <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <ErrorNote error={error} />
      <p class="hint">
        The same tokens as the API: everything here goes through <a href="/docs">/em/* and /sim/*</a>.
      </p>
    </main>
  );
}

function Clock() {
  const clock = useLoad(() => getJson<{ data: ClockState }>('/sim/clock').then((r) => r.data), [], 5000);
  if (!clock.data) return null;
  return (
    <span class="clock" title="The simulated clock (GET /sim/clock)">
      Simulated time <time data-testid="sim-clock">{when(clock.data.now)}</time> UTC
      {clock.data.speed !== 1 ? ` ×${clock.data.speed}` : ''}
    </span>
  );
}

function Page({ route }: { route: Route }) {
  const [page = 'operations', a, b] = route.parts;
  switch (page) {
    case 'operations':
      if (a === 'new') return <OperationEditor />;
      if (a && b) return <OperationEditor namespace={a} id={b} revision={route.query.get('revision') ?? undefined} />;
      return <OperationsPage />;
    case 'executions':
      return a ? <ExecutionPage id={a} /> : <ExecutionsPage />;
    case 'namespaces':
      return <NamespacesPage namespace={a} />;
    case 'onboard':
      return <OnboardPage />;
    case 'satellite':
      return <SatellitePage />;
    default:
      return <p class="error">No page "{page}". Choose one above.</p>;
  }
}

function App() {
  const [route, setRoute] = useState(currentRoute());
  const [signedIn, setSignedIn] = useState(session());
  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    addEventListener('hashchange', onHash);
    const off = onSession(() => setSignedIn(session()));
    return () => {
      removeEventListener('hashchange', onHash);
      off();
    };
  }, []);
  if (!signedIn) return <SignIn />;
  const current = route.parts[0] ?? 'operations';
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header>
        <span class="brand">em-sim</span>
        <nav aria-label="Pages">
          {PAGES.map(([key, label]) => (
            <a key={key} href={`#/${key}`} aria-current={current === key ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <Clock />
        <span class="user">
          <span data-testid="user">{signedIn.user}</span>{' '}
          <button type="button" class="link" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

const root = document.getElementById('app')!;
root.replaceChildren();
render(<App />, root);
