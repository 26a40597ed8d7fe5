import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type TestSim } from '../helpers/sim.ts';

// The telemetry twin's orbit against an independent propagation of the same TLE: Vallado's
// reference SGP4 as Debian's python3-sgp4 packages it (not satellite.js, which em-sim uses), at
// two simulated times, with the simulated clock moving the satellite between them.

const PYTHON = process.env.EM_SIM_PYTHON ?? '/usr/bin/python3';

/** TEME position (km) of the TLE at a Unix time, from python3-sgp4. */
function referencePosition(tle: string, unixSeconds: number): { x: number; y: number; z: number } {
  const script = [
    'import json, sys',
    'from sgp4.api import Satrec, jday',
    'from datetime import datetime, timezone',
    'l1, l2 = sys.argv[1].splitlines()',
    't = datetime.fromtimestamp(int(sys.argv[2]), tz=timezone.utc)',
    'jd, fr = jday(t.year, t.month, t.day, t.hour, t.minute, t.second)',
    'e, r, v = Satrec.twoline2rv(l1, l2).sgp4(jd, fr)',
    'assert e == 0, e',
    'print(json.dumps({"x": r[0], "y": r[1], "z": r[2]}))',
  ].join('\n');
  const run = spawnSync(PYTHON, ['-c', script, tle, String(unixSeconds)], { encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(`the orbit test needs ${PYTHON} with sgp4: apt-get install python3-sgp4 (npm test installs it on Debian). ${run.error?.message ?? run.stderr}`);
  }
  return JSON.parse(run.stdout);
}

describe('the orbit behind the telemetry', () => {
  let sim: TestSim;
  beforeAll(async () => {
    // Tokens expire on the simulated clock: one that outlives the jump.
    sim = await startSim({ config: { clock: { control: true }, auth: { access_token_lifetime: 86400 } } });
  });
  afterAll(async () => sim?.close());

  const latestPosition = async () => {
    const res = await sim.fetch('/sim/services/telemetry/api/telemetry/latest?data_type=position');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { original_timestamp: number; data: { x: number; y: number; z: number } }[] };
    return body.data[0]!;
  };
  const distanceKm = (a: { x: number; y: number; z: number }, b: { x: number; y: number; z: number }) => Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);

  it('matches an independent SGP4 propagation of the served TLE to within 1 km, before and after the clock moves', async () => {
    const tle = await (await sim.fetch('/sim/services/telemetry/api/telemetry/tle')).text();
    expect(tle.split('\n')).toHaveLength(2);

    const first = await latestPosition();
    expect(distanceKm(first.data, referencePosition(tle, first.original_timestamp))).toBeLessThan(1);

    // 37 minutes on: about a third of an orbit, thousands of km away.
    const moved = await sim.fetch('/sim/clock', { method: 'POST', body: new URLSearchParams({ advance_seconds: String(37 * 60) }) });
    expect(moved.status).toBe(200);
    const second = await latestPosition();
    expect(second.original_timestamp - first.original_timestamp).toBeGreaterThanOrEqual(36 * 60);
    expect(second.original_timestamp - first.original_timestamp).toBeLessThanOrEqual(38 * 60);
    expect(distanceKm(first.data, second.data)).toBeGreaterThan(3000);
    expect(distanceKm(second.data, referencePosition(tle, second.original_timestamp))).toBeLessThan(1);
  });

  it('a configured TLE is the one flown and served; a broken one is refused at start with the reason', async () => {
    // The ISS, from a public element set (NORAD 25544), epoch 2024-01-01.
    const iss = ['1 25544U 98067A   24001.50000000  .00016717  00000+0  30093-3 0  9995', '2 25544  51.6416 208.9163 0006317  69.9862  25.2906 15.49815691432135'];
    const lines = iss.map((l) => l.slice(0, 68));
    const checksum = (l: string) => [...l].reduce((s, ch) => s + (ch === '-' ? 1 : /\d/.test(ch) ? Number(ch) : 0), 0) % 10;
    const tle = lines.map((l) => l + checksum(l));
    await using other = await startSim({ config: { services: { telemetry: { tle } } } });
    const served = await (await other.fetch('/sim/services/telemetry/api/telemetry/tle')).text();
    expect(served).toBe(tle.join('\n'));
    const res = await other.fetch('/sim/services/telemetry/api/telemetry/latest?data_type=position');
    const record = ((await res.json()) as { data: { original_timestamp: number; data: { x: number; y: number; z: number } }[] }).data[0]!;
    expect(distanceKm(record.data, referencePosition(served, record.original_timestamp))).toBeLessThan(1);

    const broken = [tle[0]!.slice(0, 68) + String((checksum(lines[0]!) + 1) % 10), tle[1]!];
    await expect(startSim({ config: { services: { telemetry: { tle: broken } } } })).rejects.toThrow(/services\.telemetry\.tle.*checksum/s);
  });
});
