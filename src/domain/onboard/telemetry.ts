import { createHash } from 'node:crypto';
import type { Clock } from '../ports/clock.ts';
import { isoNanos, isoSeconds } from '../time/iso-time.ts';
import type { CameraImages } from '../ports/camera-images.ts';
import { Orbit, type OrbitState, type Vec3 } from './orbit.ts';

/*
 * The telemetry twin behind http://satellite-telemetry.dphi-tm (the provider's tlm-api.json,
 * satellite-telemetry v0.1.0; onboard-platform.md section 3.1). Its "database" is computed, not
 * stored: one record of each data type every `intervalSeconds` on the simulated clock, over the
 * last `historyHours`, derived from the orbit. A record never lies in the simulated future.
 */

/** The data types, in the order /api/telemetry/types lists them (alphabetical, as the sample). */
export const TELEMETRY_TYPES = ['attitude', 'complete', 'position', 'power', 'temperature', 'velocity'] as const;
/** One data type. */
export type TelemetryType = (typeof TELEMETRY_TYPES)[number];

/** A record as the API serves it (TelemetryRecord of tlm-api.json). */
export interface TelemetryRecord {
  /** A UUID, stable for a type, a moment and an orbit. */
  id: string;
  /** RFC 3339, whole seconds, "Z". */
  timestamp: string;
  /** Unix seconds of `timestamp`. */
  original_timestamp: number;
  data_type: string;
  data: unknown;
  /** When the ground segment stored it: RFC 3339 with microseconds. */
  created_at: string;
}

/** The telemetry service's settings (services.telemetry in sim-config.yaml). */
export interface TelemetrySettings {
  /** Seconds between two records of a type. */
  intervalSeconds: number;
  /** How far back records go, hours. */
  historyHours: number;
}

/** A query of /api/telemetry: times in epoch ms, all optional. */
export interface TelemetryQuery {
  startMs?: number;
  endMs?: number;
  dataType?: string;
  /** At most this many records (newest first); 0 gives none. */
  limit?: number;
}

/** What POST /api/images answers: one image, or a zip of several (possibly none). */
export type ImageSelection =
  | { kind: 'image'; name: string; bytes: Uint8Array }
  | { kind: 'zip'; files: { name: string; bytes: Uint8Array }[] }
  | { kind: 'not-found'; name: string };

const TEMPERATURE_BASE = [18, 22, 25, 15, 31, 12, 20, 27];
const TEMPERATURE_SWING = [9, 5, 11, 13, 4, 16, 6, 8];
/** Minutes back at which the thermal lag samples the illumination, and their weights. */
const THERMAL_LAG: [minutes: number, weight: number][] = [
  [0, 0.35],
  [5, 0.3],
  [10, 0.2],
  [20, 0.15],
];

/** The telemetry twin: records, types, stats, the TLE and the camera's frames. */
export class TelemetryService {
  constructor(
    readonly orbit: Orbit,
    private readonly clock: Clock,
    private readonly camera: CameraImages,
    private readonly settings: TelemetrySettings,
  ) {}

  private get stepMs(): number {
    return this.settings.intervalSeconds * 1000;
  }

  /** The newest and oldest record moments (epoch ms) at the current simulated time. */
  private span(): { newest: number; oldest: number; count: number } {
    const newest = Math.floor(this.clock.now() / this.stepMs) * this.stepMs;
    const count = Math.max(1, Math.floor((this.settings.historyHours * 3600_000) / this.stepMs));
    return { newest, oldest: newest - (count - 1) * this.stepMs, count };
  }

  /** GET /health's answer, on the simulated clock (RFC 3339 with nanoseconds, as the sample). */
  health(): { service: string; status: string; timestamp: string } {
    return { service: 'satellite-telemetry-api', status: 'healthy', timestamp: isoNanos(this.clock.now()) };
  }

  /** GET /api/telemetry/types. */
  types(): string[] {
    return [...TELEMETRY_TYPES];
  }

  /** GET /api/telemetry: newest first; no parameters give the whole retained history. */
  query(q: TelemetryQuery): TelemetryRecord[] {
    const { newest, oldest } = this.span();
    const types = q.dataType === undefined ? TELEMETRY_TYPES : TELEMETRY_TYPES.filter((t) => t === q.dataType);
    const limit = q.limit ?? Infinity;
    const out: TelemetryRecord[] = [];
    if (!types.length || limit <= 0) return out;
    const from = Math.max(oldest, q.startMs ?? -Infinity);
    const to = Math.min(newest, q.endMs ?? Infinity);
    for (let at = Math.floor(to / this.stepMs) * this.stepMs; at >= from && out.length < limit; at -= this.stepMs) {
      const snapshot = this.snapshot(at);
      for (const type of types) {
        if (out.length >= limit) break;
        out.push(this.record(type, snapshot));
      }
    }
    return out;
  }

  /** GET /api/telemetry/latest: the newest record of each type (or of `dataType`). */
  latest(dataType?: string): TelemetryRecord[] {
    const snapshot = this.snapshot(this.span().newest);
    return TELEMETRY_TYPES.filter((t) => dataType === undefined || t === dataType).map((t) => this.record(t, snapshot));
  }

  /** GET /api/telemetry/stats. */
  stats(): { total_records: number; data_types_count: number; earliest_timestamp: string; latest_timestamp: string; data_type_breakdown: Record<string, number> } {
    const { newest, oldest, count } = this.span();
    return {
      total_records: count * TELEMETRY_TYPES.length,
      data_types_count: TELEMETRY_TYPES.length,
      earliest_timestamp: isoSeconds(oldest),
      latest_timestamp: isoSeconds(newest),
      data_type_breakdown: Object.fromEntries(TELEMETRY_TYPES.map((t) => [t, count])),
    };
  }

  /** GET /api/telemetry/tle: the two lines the orbit flies, newline-separated. */
  tle(): string {
    return this.orbit.tle.join('\n');
  }

  /** GET /api/images/list: the camera's frames, by name (the dates sort them). */
  async imageNames(): Promise<string[]> {
    return (await this.camera.list()).sort();
  }

  /**
   * POST /api/images: one name gives that frame; several give a zip of them (each once); none
   * gives a zip of every frame, newest first. `limit` caps how many go in a zip.
   */
  async selectImages(names: string[] | undefined, limit: number | undefined): Promise<ImageSelection> {
    const available = await this.imageNames();
    if (names && names.length === 1) {
      const name = names[0]!;
      const bytes = available.includes(name) ? await this.camera.read(name) : null;
      return bytes ? { kind: 'image', name, bytes } : { kind: 'not-found', name };
    }
    // A name asked twice is sent once: a zip never holds more than the camera has.
    let chosen = names && names.length ? [...new Set(names)] : [...available].reverse();
    if (limit !== undefined) chosen = chosen.slice(0, Math.max(0, limit));
    const files: { name: string; bytes: Uint8Array }[] = [];
    for (const name of chosen) {
      const bytes = available.includes(name) ? await this.camera.read(name) : null;
      if (!bytes) return { kind: 'not-found', name };
      files.push({ name, bytes });
    }
    return { kind: 'zip', files };
  }

  /** The orbit state at `at` and what derives from it, computed once for every type. */
  private snapshot(at: number): Snapshot {
    const state = this.orbit.stateAt(at);
    const illumination = THERMAL_LAG.reduce((sum, [minutes, weight]) => {
      const shadow = minutes === 0 ? state.shadow : this.orbit.stateAt(at - minutes * 60_000).shadow;
      return sum + weight * (1 - shadow);
    }, 0);
    return { state, illumination, tle: this.tle() };
  }

  private record(type: TelemetryType, s: Snapshot): TelemetryRecord {
    const at = s.state.at;
    const digest = createHash('sha256').update(`${type}|${at}|${s.tle}`).digest();
    // Stored 0.3 to 1.8 s after it was measured, to the microsecond.
    const storedMicros = at * 1000 + 300_000 + (digest.readUInt32BE(16) % 1_500_000);
    return {
      id: uuidFrom(digest),
      timestamp: isoSeconds(at),
      original_timestamp: Math.floor(at / 1000),
      data_type: type,
      data: dataOf(type, s, digest),
      created_at: microIso(storedMicros),
    };
  }
}

interface Snapshot {
  state: OrbitState;
  /** The thermally lagged fraction of the last 20 minutes spent in sunlight, 0 to 1. */
  illumination: number;
  tle: string;
}

function dataOf(type: TelemetryType, s: Snapshot, digest: Buffer): unknown {
  switch (type) {
    case 'position':
      return { ...s.state.position };
    case 'velocity':
      return { ...s.state.velocity };
    case 'attitude':
      return attitudeOf(s.state, digest);
    case 'temperature':
      return temperatureOf(s);
    case 'power':
      return powerOf(s);
    case 'complete':
      return {
        attitude: attitudeOf(s.state, digest),
        position: { ...s.state.position },
        power: powerOf(s),
        temperature: temperatureOf(s),
        timestamp: Math.floor(s.state.at / 1000),
        tle: s.tle,
        velocity: { ...s.state.velocity },
      };
  }
}

/**
 * Nadir pointing: body z towards the Earth's centre, body y against the orbit normal, body x
 * along the track. The quaternion turns body axes into TEME; the angular velocity (rad/s, body
 * axes) is the orbit rate about -y plus a controller's jitter of a few 1e-5 rad/s.
 */
function attitudeOf(state: OrbitState, digest: Buffer): { angular_velocity: Vec3; quaternion: { w: number; x: number; y: number; z: number } } {
  const r = state.position;
  const v = state.velocity;
  const zb = scale(r, -1 / norm(r));
  const h = cross(r, v);
  const yb = scale(h, -1 / norm(h));
  const xb = cross(yb, zb);
  const rate = norm(h) / dot(r, r);
  const jitter = (i: number) => ((digest.readUInt16BE(2 * i) / 65535) * 2 - 1) * 3e-5;
  return {
    angular_velocity: { x: jitter(0), y: -rate + jitter(1), z: jitter(2) },
    quaternion: quaternionFromAxes(xb, yb, zb),
  };
}

/** Eight sensors in whole °C, each swinging with the lagged sunlight around its own mean. */
function temperatureOf(s: Snapshot): Record<string, number> {
  return Object.fromEntries(TEMPERATURE_BASE.map((base, i) => [`sensor${i}`, Math.round(base + TEMPERATURE_SWING[i]! * (s.illumination - 0.6))]));
}

/** Eclipse, what the body-mounted arrays give (W) and the battery's voltage (V). */
function powerOf(s: Snapshot): { eclipse: boolean; solar_power_w: number; battery_voltage_v: number } {
  const { state } = s;
  const zenith = scale(state.position, 1 / norm(state.position));
  const incidence = 0.4 + 0.6 * Math.max(0, dot(zenith, state.sun));
  return {
    eclipse: state.shadow >= 0.5,
    solar_power_w: round2(60 * (1 - state.shadow) * incidence),
    battery_voltage_v: round2(7.2 + 1.0 * s.illumination),
  };
}

function quaternionFromAxes(x: Vec3, y: Vec3, z: Vec3): { w: number; x: number; y: number; z: number } {
  // Rotation matrix with the body axes as columns; Shepperd's method.
  const m00 = x.x, m01 = y.x, m02 = z.x;
  const m10 = x.y, m11 = y.y, m12 = z.y;
  const m20 = x.z, m21 = y.z, m22 = z.z;
  const trace = m00 + m11 + m22;
  let w: number, qx: number, qy: number, qz: number;
  if (trace > 0) {
    const s = Math.sqrt(trace + 1) * 2;
    w = s / 4;
    qx = (m21 - m12) / s;
    qy = (m02 - m20) / s;
    qz = (m10 - m01) / s;
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    w = (m21 - m12) / s;
    qx = s / 4;
    qy = (m01 + m10) / s;
    qz = (m02 + m20) / s;
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    w = (m02 - m20) / s;
    qx = (m01 + m10) / s;
    qy = s / 4;
    qz = (m12 + m21) / s;
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    w = (m10 - m01) / s;
    qx = (m02 + m20) / s;
    qy = (m12 + m21) / s;
    qz = s / 4;
  }
  // The hemisphere with w ≥ 0, as attitude systems usually report.
  const sign = w < 0 ? -1 : 1;
  return { w: w * sign, x: qx * sign, y: qy * sign, z: qz * sign };
}

const dot = (a: Vec3, b: Vec3) => a.x * b.x + a.y * b.y + a.z * b.z;
const norm = (a: Vec3) => Math.sqrt(dot(a, a));
const scale = (a: Vec3, k: number): Vec3 => ({ x: a.x * k, y: a.y * k, z: a.z * k });
const cross = (a: Vec3, b: Vec3): Vec3 => ({ x: a.y * b.z - a.z * b.y, y: a.z * b.x - a.x * b.z, z: a.x * b.y - a.y * b.x });
const round2 = (n: number) => Math.round(n * 100) / 100;

/** "2025-10-20T11:03:24.978570Z" from epoch microseconds. */
function microIso(micros: number): string {
  const seconds = Math.floor(micros / 1e6);
  const fraction = String(Math.floor(micros - seconds * 1e6)).padStart(6, '0');
  return `${isoSeconds(seconds * 1000).slice(0, -1)}.${fraction}Z`;
}

/** An RFC 4122 version-4-shaped UUID from a digest's first 16 bytes. */
export function uuidFrom(digest: Uint8Array): string {
  const b = Buffer.from(digest.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
