import { z } from 'zod';
import { STANDIN_KINDS } from '../domain/images/catalog.ts';
import { ImageReference } from '../domain/images/image-reference.ts';
import type { NodeName } from '../domain/nodes/node-schedule.ts';
import { checkTle, DEFAULT_TLE } from '../domain/onboard/orbit.ts';
import { ORBIT_WINDOWS } from '../domain/onboard/orbit-windows.ts';
import { LOG_LEVELS } from '../domain/ports/logger.ts';
import { parseZonedIso } from '../domain/time/iso-time.ts';

// Keys are snake_case because they are the names users type in sim-config.yaml and the ones
// outside scripts rely on. Defaults live here so the schema is the one source of truth. The
// composition root (src/simulator.ts) translates the parsed configuration into the domain's terms.

const isoWithZone = z
  .string()
  .refine((text) => parseZonedIso(text) !== null, 'an existing ISO 8601 date-time with a timezone, e.g. 2025-05-22T12:10:00+02:00');

/** A window from `start` to `end`, ISO 8601 with a timezone. */
export const absoluteWindowSchema = z.strictObject({
  start: isoWithZone,
  end: isoWithZone,
});

/** A window of `duration` seconds every `every` seconds (an orbit's pass, say). */
export const recurringWindowSchema = z.strictObject({
  every: z.number().positive().describe('period in seconds'),
  duration: z.number().positive().describe('length of each window in seconds'),
  offset: z.number().default(0).describe('a moment at which a window starts, seconds from the Unix epoch; windows repeat every `every` seconds before and after it'),
});

/** busy_windows and nodes.*.availability entries: a window, or one that follows the orbit. */
export const windowSchema = z.union([absoluteWindowSchema, recurringWindowSchema, z.enum(ORBIT_WINDOWS)]);
/** A configured window (the domain's WindowSpec, or the name of an orbit window). */
export type WindowConfig = z.infer<typeof windowSchema>;

/** A list of windows; one orbit window's name alone (`availability: sunlit`) means a list of it. */
const windowList = z.preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(windowSchema));

const nodeSchema = (cpus: number, memoryMb: number) =>
  z
    .strictObject({
      cpus: z.number().positive().default(cpus),
      memory_mb: z.number().int().positive().default(memoryMb),
      availability: windowList.optional(),
    })
    .prefault({});

/** Each node's default CPUs and memory (MB); typed by the domain's node names, so a node added there must be added here. */
const NODE_DEFAULTS: Record<NodeName, [cpus: number, memoryMb: number]> = { FPGA: [1, 1024], GPU: [2, 4096], MPU: [1, 512] };

/** An image reference Docker accepts (ImageReference.isValid). */
const imageRef = z.string().min(1).refine((text) => ImageReference.isValid(text.trim()), 'an image reference Docker accepts, e.g. alpine:3.19 or grafana/grafana:9.3.6');

const catalogEntrySchema = z.union([
  imageRef,
  z.strictObject({
    image: imageRef,
    standin: z.enum(STANDIN_KINDS).optional(),
    version: z.string().min(1).optional().describe('the upstream version to pull for this tag'),
  }),
]);

/** images.prepare's default: what the README's first pod and the provider's first example use. */
export const DEFAULT_PREPARE = ['alpine:latest', 'python:3.10-slim'];

/** A TLE: two lines (a list, or one text with a line break), checked as SGP4 reads them. */
const tleSchema = z
  .union([z.array(z.string()), z.string()])
  .transform((value) => (Array.isArray(value) ? value : value.split(/\r?\n/).filter((line) => line.trim())))
  .superRefine((lines, ctx) => {
    // A three-line set's name line is allowed and dropped.
    const two = lines.length === 3 ? lines.slice(1) : lines;
    try {
      checkTle(two);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a usable TLE: ${(err as Error).message}` });
    }
  })
  .transform((lines) => (lines.length === 3 ? lines.slice(1) : lines).map((line) => line.trimEnd()));

/** The most records of one type the telemetry twin keeps (history_hours * 3600 / interval_seconds). */
export const MAX_TELEMETRY_POINTS = 100_000;

const servicesSchema = z
  .strictObject({
    telemetry: z
      .strictObject({
        enabled: z.boolean().default(true),
        tle: tleSchema.default([...DEFAULT_TLE]),
        interval_seconds: z.number().int().min(1).max(86400).default(60),
        history_hours: z.number().positive().default(24),
        images_dir: z.string().min(1).optional().describe('a folder whose *.png files the camera serves besides the provider\'s frame'),
        // Where `ground-passes` windows are seen from (default: DPhi Space's home, Lausanne).
        ground_station: z
          .strictObject({
            latitude: z.number().min(-90).max(90).default(46.52),
            longitude: z.number().min(-180).max(180).default(6.63),
            altitude_m: z.number().min(-500).max(9000).default(500),
            min_elevation_deg: z.number().min(0).max(89).default(10),
          })
          .prefault({}),
      })
      .prefault({})
      .refine((t) => (t.history_hours * 3600) / t.interval_seconds <= MAX_TELEMETRY_POINTS, {
        message: `history_hours * 3600 / interval_seconds must be at most ${MAX_TELEMETRY_POINTS} records per type`,
      }),
    ollama: z
      .strictObject({
        enabled: z.boolean().default(true),
        version: z.string().min(1).default('0.13.5'),
      })
      .prefault({}),
    liquidai: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
    // Answers arrive at the models' simulated speed (on the simulated clock) instead of at once.
    pace: z.boolean().default(false),
  })
  .prefault({});

/** sim-config.yaml: every key with its default; unknown keys are errors. */
export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8000),
    })
    .prefault({}),
  data_dir: z.string().min(1).default('./data'),
  // At stop, remove everything this instance made on the engine (pods, networks, relays, users'
  // images), as a throwaway simulator in a test should (the Testcontainers module sets it).
  ephemeral: z.boolean().default(false),
  users: z
    .array(
      z.strictObject({
        username: z
          .string()
          .regex(
            /^[a-z][a-z0-9]{0,30}$/,
            'a lowercase name of letters and digits (no "-": container names are USER-POD), at most 31 characters',
          ),
        password: z.string().min(1),
      }),
    )
    .default([{ username: 'client1', password: 'client1-password' }])
    .refine((users) => new Set(users.map((u) => u.username)).size === users.length, 'usernames must be unique'),
  auth: z
    .strictObject({
      access_token_lifetime: z.number().int().positive().default(300),
      refresh_token_lifetime: z.number().int().positive().default(86400),
      signing_secret: z.string().min(32, 'at least 32 characters').optional(),
    })
    .prefault({}),
  limits: z
    .strictObject({
      uplink_max_bytes: z.number().int().positive().default(2 * 1024 ** 3),
      // The EM answers 423 to a user's request while another of theirs is in progress; load
      // benchmarks that drive one user over many connections turn this off.
      one_request_per_user: z.boolean().default(true),
    })
    .prefault({}),
  compat: z
    .strictObject({
      strict: z.boolean().default(false),
      downlink_base64: z.boolean().default(false),
    })
    .prefault({}),
  operations: z
    .strictObject({
      // The provider's dashboard failed a downlink of a missing file after exactly 60 s
      // (onboard-platform.md 1.3): it waits for a pod that may still be writing it.
      downlink_wait_seconds: z.number().min(0).default(60),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info'),
    })
    .prefault({}),
  images: z
    .strictObject({
      registry: z
        .string()
        .regex(/^[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*(:[0-9]+)?(\/[a-z0-9._-]+)*\/?$/, 'a registry host[:port], e.g. fpga.dphi.space:5000 (no scheme)')
        .default('fpga.dphi.space:5000'),
      // The provider's published list (src/config/onboard-images.tsv) is onboard unless this is false.
      provider_catalog: z.boolean().default(true),
      catalog: z.array(catalogEntrySchema).default([]),
      prepare: z.array(imageRef).default(DEFAULT_PREPARE),
    })
    .prefault({}),
  platform: z
    .strictObject({
      architecture: z.enum(['auto', 'arm64', 'native']).default('auto'),
    })
    .prefault({}),
  nodes: z
    .strictObject({
      FPGA: nodeSchema(...NODE_DEFAULTS.FPGA),
      GPU: nodeSchema(...NODE_DEFAULTS.GPU),
      MPU: nodeSchema(...NODE_DEFAULTS.MPU),
      on_unavailable: z.enum(['stop', 'continue']).default('stop'),
    })
    .prefault({}),
  busy_windows: windowList.default([]),
  clock: z
    .strictObject({
      speed: z.number().positive().default(1),
      control: z.boolean().default(false),
    })
    .prefault({}),
  services: servicesSchema,
});

/** A parsed configuration, defaults filled in. */
export type SimConfig = z.infer<typeof configSchema>;
/** What a configuration file (or test) may write. */
export type SimConfigInput = z.input<typeof configSchema>;
