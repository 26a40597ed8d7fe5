import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, step } from '../helpers/browser.ts';
import { PASSWORD, tempDir, uniqueName } from '../helpers/sim.ts';
import { dockerSim, IMAGES, run } from './_docker.ts';

/*
 * The dashboard (issue 15) in a real browser: Debian's Chromium driven headless by playwright-core,
 * against a simulator on the real engine. Each step asserts what the user sees on the page, and
 * what lands where the page says it does (the volume on disk, the downloaded file). A failing step
 * saves a screenshot under test-results/screenshots/. EM_SIM_SCREENSHOTS=DIR also saves each
 * page, as the README shows them.
 */

const user = uniqueName('ui');
// The GPU is powered while the satellite is sunlit, the MPU half of every 90 minutes, and CG2 is
// busy for 10 minutes two hours from now (every 3 hours): the timeline has something to draw, and
// nothing the steps below do falls in a busy window (the last step moves the clock by one hour).
const started = Math.floor(Date.now() / 1000);
const env = dockerSim([user], {
  config: {
    clock: { control: true },
    nodes: { GPU: { availability: 'sunlit' }, MPU: { availability: [{ every: 5400, duration: 2700, offset: started - 600 }] } },
    busy_windows: [{ every: 10_800, duration: 600, offset: started + 7200 }],
  },
});
const SHOTS = process.env.EM_SIM_SCREENSHOTS;

let browser: Browser;
let page: Page;
const downloads = tempDir('em-sim-ui-downloads-');
const dialogs: string[] = [];

beforeAll(async () => {
  // The simulator serves dist/ui/, which `npm test` (scripts/test.sh) bundles from ui/ first.
  const built = statSync('dist/ui/index.html', { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const stale = readdirSync('ui', { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && statSync(path.join(e.parentPath, e.name)).mtimeMs > built);
  if (stale.length) throw new Error(`dist/ui/ is older than ${stale.map((e) => e.name).join(', ')}: run \`npm run build\` (npm test does) before this test`);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1366, height: 860 }, acceptDownloads: true });
  // Every confirmation is accepted, and what it asked is kept for the steps to check.
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.accept();
  });
});
afterAll(async () => {
  await browser?.close();
});

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * The page as it is now, checked by axe-core (the accessibility rules of WCAG 2.1 A and AA and
 * best practice): no violation of any impact. Fails naming each rule and where it is broken.
 */
async function accessible(): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (c: Document) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    return (await axe.run(document)).violations.map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  expect(violations).toEqual([]);
}

/** Waits until the locator shows (playwright's own retrying wait). */
const see = (l: Locator, timeout = 15_000) => l.first().waitFor({ state: 'visible', timeout });

async function shot(name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Replaces the editor's whole text, as a user pasting it would. */
async function replaceEditorText(text: string): Promise<void> {
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

/** Clicks the button and returns the downloaded file's text. */
async function downloaded(button: Locator): Promise<{ name: string; text: string }> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), button.click()]);
  const file = path.join(downloads, d.suggestedFilename());
  await d.saveAs(file);
  return { name: d.suggestedFilename(), text: readFileSync(file, 'utf8') };
}

const OPERATION = (typo: boolean) => `id: hello-dashboard
namespace: ui_testing
tasks:
  - id: write_greeting
    type: dphi.space.cg2.pod.run
    pod_name: greeter
    image: ${IMAGES.alpine}
    command: ["/bin/sh", "-c", "echo 'greeting for the logs'; sleep 3; echo 'Debi tirar mas fotos' > /data/hello.txt"]
    node: Fpga
    ${typo ? 'max_duration_second' : 'max_duration_seconds'}: 60
  - id: bring_down
    type: dphi.space.cg2.downlink
    source:
      - hello.txt
    destination: /first_test
`;

describe('the dashboard at /ui, in Chromium', () => {
  it('is linked from / and signs in with the simulator\'s users (a wrong password is refused)', async () => {
    await step(page, 'home links to the dashboard', async () => {
      await page.goto(`${env.sim.url}/`);
      await page.getByRole('link', { name: 'The dashboard' }).click();
      await see(page.getByRole('button', { name: 'Sign in' }));
      expect(new URL(page.url()).pathname).toBe('/ui');
    });
    await step(page, 'wrong password', async () => {
      await page.getByLabel('User').fill(user);
      await page.getByLabel('Password').fill('not-the-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      // The API's own answer to a bad login (SimpleJWT's), as a script gets it.
      await see(page.getByRole('alert').filter({ hasText: '401 No active account found with the given credentials' }));
    });
    await shot('sign-in');
    await step(page, 'the sign-in page passes axe', accessible);
    await step(page, 'sign in', async () => {
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await see(page.getByRole('navigation', { name: 'Pages' }));
      await see(page.getByText(user, { exact: true }));
    });
  });

  it('flags an error in the editor at its line, then saves, executes and follows the fixed operation to its downloadable output', async () => {
    await step(page, 'an operation with an error is flagged inline', async () => {
      await page.getByRole('link', { name: 'Operations', exact: true }).click();
      await page.getByRole('link', { name: 'New operation' }).click();
      await see(page.locator('.cm-content'));
      await replaceEditorText(OPERATION(true));
      const problem = page.getByTestId('problems').locator('li.problem-error');
      await see(problem);
      // The key sits on line 10 of the text; the engine's message suggests the right one.
      expect(await problem.first().innerText()).toMatch(/Line 10, column \d+[\s\S]*max_duration_seconds/);
      await see(page.locator('.cm-lintRange-error'));
      // The problem's place is a button that puts the cursor on that line.
      await problem.first().getByRole('button', { name: /^Line 10, column/ }).click();
      expect(await page.locator('.cm-activeLine').innerText()).toContain('max_duration_second: 60');
    });
    await shot('operation-error');
    await step(page, 'the editor passes axe', accessible);
    await step(page, 'saving the invalid operation is refused', async () => {
      await page.getByRole('button', { name: 'Save' }).click();
      await see(page.getByRole('alert').filter({ hasText: 'INVALID_OPERATION' }));
    });
    await step(page, 'the fixed operation is valid and saves as revision 1', async () => {
      await replaceEditorText(OPERATION(false));
      await see(page.getByTestId('problems').getByText('Valid'));
      await page.getByRole('button', { name: 'Save' }).click();
      await see(page.getByText('Saved ui_testing/hello-dashboard, revision 1'));
      await see(page.getByRole('heading', { name: 'Operation ui_testing/hello-dashboard' }));
    });
    await step(page, 'an unsaved edit comes back after leaving the page, and can be discarded', async () => {
      await page.locator('.cm-content').click();
      await page.keyboard.press('Control+End');
      await page.keyboard.insertText('# not saved yet\n');
      await page.getByRole('link', { name: 'Executions', exact: true }).click();
      await page.goBack();
      await see(page.getByRole('status').filter({ hasText: 'Your unsaved edit of this text is back' }));
      expect(await page.locator('.cm-content').innerText()).toContain('# not saved yet');
      await page.getByRole('button', { name: 'Discard it' }).click();
      await page.getByRole('status').filter({ hasText: 'Your unsaved edit' }).waitFor({ state: 'detached' });
      expect(await page.locator('.cm-content').innerText()).not.toContain('# not saved yet');
    });
    await step(page, 'the operation is listed', async () => {
      await page.getByRole('link', { name: 'Operations', exact: true }).click();
      await see(page.getByRole('cell', { name: 'hello-dashboard' }));
    });
    const seen = new Set<string>();
    await step(page, 'execute and watch the task states change', async () => {
      await page.getByRole('button', { name: 'Execute ui_testing/hello-dashboard' }).click();
      await see(page.getByRole('heading', { name: /^Execution / }));
      const podTask = page.locator('tr[data-task="write_greeting"] [data-state]');
      const until = Date.now() + 120_000;
      for (;;) {
        const state = await podTask.getAttribute('data-state').catch(() => null);
        if (state) seen.add(state);
        if (state === 'SUCCESS' || state === 'FAILED') break;
        if (Date.now() > until) throw new Error(`the pod task never ended; states seen: ${[...seen].join(', ')}`);
        await page.waitForTimeout(150);
      }
      expect([...seen]).toContain('RUNNING');
      expect([...seen].at(-1)).toBe('SUCCESS');
      await see(page.locator('p [data-state="COMPLETED"]'), 60_000);
      await see(page.locator('tr[data-task="bring_down"] [data-state="SUCCESS"]'));
      expect(await page.getByTestId('execution-logs').innerText()).toContain('[bring_down]');
    });
    await shot('execution');
    await step(page, 'the execution page passes axe', accessible);
    await step(page, 'download the file the execution brought down', async () => {
      const file = await downloaded(page.getByRole('button', { name: 'Download /first_test/hello.txt (v1)' }));
      expect(file).toEqual({ name: 'hello.txt', text: 'Debi tirar mas fotos\n' });
    });
    await step(page, 'the executions list shows it completed', async () => {
      await page.getByRole('link', { name: 'Executions', exact: true }).click();
      const row = page.getByRole('row').filter({ hasText: 'ui_testing/hello-dashboard' });
      await see(row.locator('[data-state="COMPLETED"]'));
    });
    await shot('executions');
    await step(page, 'the executions page passes axe', accessible);
  });

  it('shows the namespace file with its versions, uploads a new version and downloads each', async () => {
    const local = path.join(downloads, 'upload-v2.txt');
    writeFileSync(local, 'second version\n');
    await step(page, 'the namespace lists the downlinked file', async () => {
      await page.getByRole('link', { name: 'Namespaces', exact: true }).click();
      await see(page.getByRole('cell', { name: '/first_test/hello.txt' }));
    });
    await step(page, 'upload to a path', async () => {
      await page.getByLabel('File', { exact: true }).setInputFiles(local);
      await page.getByLabel('Path in the namespace').fill('/first_test/hello.txt');
      await page.getByRole('button', { name: 'Upload' }).click();
      await see(page.getByText('Uploaded /first_test/hello.txt, version 2'));
    });
    await shot('namespaces');
    await step(page, 'the namespaces page passes axe', accessible);
    await step(page, 'download both versions', async () => {
      expect((await downloaded(page.getByRole('button', { name: 'Download /first_test/hello.txt version 1' }))).text).toBe('Debi tirar mas fotos\n');
      expect((await downloaded(page.getByRole('button', { name: 'Download /first_test/hello.txt version 2' }))).text).toBe('second version\n');
    });
  });

  it('uplinks a file into the volume, downloads and deletes it, and shows the pod\'s Kubernetes state and its logs', async () => {
    const local = path.join(downloads, 'onboard-note.txt');
    writeFileSync(local, 'uplinked from the dashboard\n');
    const onDisk = path.join(env.sim.volumeDir(user), 'notes', 'onboard-note.txt');
    await step(page, 'the volume holds what the pod wrote', async () => {
      await page.getByRole('link', { name: 'Onboard', exact: true }).click();
      await see(page.locator('tr[data-path="hello.txt"]'));
    });
    await step(page, 'uplink into a folder', async () => {
      await page.getByLabel('Files', { exact: true }).setInputFiles(local);
      await page.getByLabel('Into folder').fill('notes');
      await page.getByRole('button', { name: 'Uplink' }).click();
      await see(page.getByText('Uplinked 1 file'));
      await see(page.locator('tr[data-path="notes/onboard-note.txt"]'));
      expect(readFileSync(onDisk, 'utf8')).toBe('uplinked from the dashboard\n');
    });
    await step(page, 'download it', async () => {
      expect((await downloaded(page.getByRole('button', { name: 'Download notes/onboard-note.txt' }))).text).toBe('uplinked from the dashboard\n');
    });
    await step(page, 'the pod is terminated Completed, and its logs show', async () => {
      const row = page.locator('tr[data-pod="greeter"]');
      await see(row.locator('[data-state="terminated"]'));
      await see(row.locator('[data-state="Completed"]'));
      await row.getByRole('button', { name: 'Logs' }).click();
      await see(page.getByTestId('pod-logs').filter({ hasText: 'greeting for the logs' }));
    });
    await shot('onboard');
    await step(page, 'the onboard page passes axe', accessible);
    await step(page, 'delete the file', async () => {
      dialogs.length = 0;
      await page.getByRole('button', { name: 'Delete notes/onboard-note.txt' }).click();
      await see(page.getByText('Deleted notes/onboard-note.txt'));
      expect(dialogs).toEqual(['Delete notes/onboard-note.txt?']);
      await page.locator('tr[data-path="notes/onboard-note.txt"]').waitFor({ state: 'detached' });
      expect(existsSync(onDisk)).toBe(false);
    });
  });

  it('draws the next orbits with a scheduled run, and advancing the clock starts it', async () => {
    const now = Date.parse(((await (await env.sim.fetch('/sim/clock', { user })).json()) as { data: { now: string } }).data.now);
    const at = new Date(now + 30 * 60_000).toISOString();
    await run(env.sim, user, { image: IMAGES.alpine, pod_name: 'later', scheduled_time: at, command: 'echo ran', node: 'FPGA' });
    const row = page.locator('tr[data-run="later"]');
    await step(page, 'the scheduled run is on the timeline', async () => {
      await page.getByRole('link', { name: 'Satellite', exact: true }).click();
      await see(row.locator('[data-state="scheduled"]'));
      await see(page.locator('figure[aria-label="Timeline of the next orbits"] svg'));
      await see(page.locator('figure[aria-label="Ground track on a map of the world"] svg'));
      // Each node's power and the busy window are drawn as bars whose titles say what they are.
      const titles = await page.locator('figure[aria-label="Timeline of the next orbits"] title').allTextContents();
      expect(titles).toEqual(expect.arrayContaining(['FPGA powered', 'GPU powered', 'MPU powered', 'CG2 busy (423)']));
      // The run's marker: a circle whose title names it.
      expect(await page.locator('figure[aria-label="Timeline of the next orbits"] title').allTextContents()).toContainEqual(expect.stringContaining('later scheduled on FPGA'));
    });
    await shot('satellite');
    await step(page, 'the satellite page passes axe', accessible);
    await step(page, 'advance the clock an hour: the run starts', async () => {
      await page.getByRole('button', { name: '+1 h' }).click();
      await see(page.getByText(/Clock advanced by 3600 seconds/));
      await see(row.locator('[data-state="running"], [data-state="terminated"]'), 60_000);
      expect(await row.locator('td').nth(4).innerText()).not.toBe('—');
    });
  });
});
