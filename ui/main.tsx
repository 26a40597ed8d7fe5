import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { CLOCK_MOVED, getJson, onSession, session, signIn, signOut, when, type ClockState } from './api.ts';
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
  // A malformed escape (%ZZ) is kept as typed: the page then says what it did not find.
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  };
  return { parts: path.split('/').filter(Boolean).map(decode), query: new URLSearchParams(query) };
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
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>em-sim</h1>
      <p>
        Sign in with a user of the simulator (<code>users:</code> in sim-config.yaml; the shipped one has client1 / client1-password).
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

/**
 * The simulated time, ticking every second between reads of GET /sim/clock (every 30 s, and
 * whenever the dashboard moves the clock): now = read time + elapsed real time × speed.
 */
function Clock() {
  const clock = useLoad((o) => getJson<{ data: ClockState }>('/sim/clock', o).then((r) => ({ ...r.data, readAt: Date.now() })), [], 30_000);
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    const moved = () => void clock.reload();
    addEventListener(CLOCK_MOVED, moved);
    return () => {
      clearInterval(timer);
      removeEventListener(CLOCK_MOVED, moved);
    };
  }, [clock.reload]);
  if (!clock.data) return null;
  const now = new Date(Date.parse(clock.data.now) + (Date.now() - clock.data.readAt) * clock.data.speed).toISOString();
  return (
    <span class="clock" title="The simulated clock (GET /sim/clock)">
      Simulated time <time data-testid="sim-clock">{when(now)}</time> UTC
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
    const onHash = () => {
      setRoute(currentRoute());
      // A new page: the keyboard and screen readers start at its content, not at the top bar.
      requestAnimationFrame(() => document.getElementById('main')?.focus());
    };
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
        <h1 class="brand">em-sim</h1>
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
