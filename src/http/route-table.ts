import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { SimError, type ErrorCode } from '../domain/errors.ts';
import type { AppEnv } from './env.ts';
import { announcesBody, parseParams, readParams } from './params.ts';

/** How many distinct query strings' parameters each route keeps (then it starts again). */
const PARSED_PER_ROUTE = 256;

/** The query string of a GET or HEAD that has no body, whose parameters are the query's alone; null otherwise. */
function bodilessQuery(c: Context<AppEnv>): string | null {
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return null;
  const incoming = c.env?.incoming;
  if (!incoming || announcesBody(incoming)) return null;
  const url = c.req.url;
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

/** Freezes a parsed parameter record and what it holds: it is shared by every request with the same query. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The methods the EM's endpoints take. */
export type Method = 'GET' | 'POST';

/**
 * Everything known about one endpoint. The server mounts routes from these specs and the
 * OpenAPI document is generated from the same specs, so the two cannot drift apart.
 */
export interface RouteSpec<S extends z.ZodObject = z.ZodObject> {
  /** The methods the spec gives, first; later client generations' extra methods after. */
  methods: Method[];
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** false for /auth/ and /sim/health; everything else needs a Bearer token. */
  auth?: boolean;
  /** Parameters, from the query string and any of the three body encodings. */
  params?: S;
  /** Set when the handler reads the body itself (uplink): params are then documented only. */
  rawBody?: {
    contentType: string;
    schema: z.ZodObject;
    /** The multipart field that carries the files, repeatable; documented as binary. Default "files". */
    fileField?: string;
  };
  /**
   * The handler reads its parameters itself (readParams) and answers their errors with bodies of
   * its own, as SimpleJWT's views do: `params` is then documented only, not validated.
   */
  handlerReadsParams?: boolean;
  /** The success response: its description and an example body. */
  success: { status?: number; description: string; example?: unknown; contentType?: string };
  /** Every error code the endpoint can answer with, besides the auth 401 and busy 423. */
  errors: ErrorCode[];
  /** Answers whose bodies are not {"error", "message"} (SimpleJWT's 400 and 401 on /auth/), for the document. */
  otherResponses?: { status: number; description: string; example: unknown }[];
  /** An endpoint that only later client generations call; strict mode refuses it. */
  laterGeneration?: boolean;
}

/** A route's handler: the context and the validated parameters. */
export type Handler<S extends z.ZodObject> = (c: Context<AppEnv>, params: z.infer<S>) => Response | Promise<Response>;

/** Mounts routes from their specs (authentication, strict mode, parameter validation) and keeps the specs for the OpenAPI document. */
export class RouteTable {
  readonly specs: RouteSpec[] = [];

  constructor(
    private readonly app: Hono<AppEnv>,
    private readonly options: {
      strict: boolean;
      /** Checks the Bearer token of every route whose spec does not say `auth: false`. */
      authenticate: MiddlewareHandler<AppEnv>;
    },
  ) {}

  add<S extends z.ZodObject>(spec: RouteSpec<S>, handler: Handler<S>): void {
    this.specs.push(spec as unknown as RouteSpec);
    const [specMethod] = spec.methods;
    // A poll sends the same query string every time: its parameters are validated once.
    const parsed = new Map<string, z.infer<S>>();
    this.app.on(spec.methods, spec.path, async (c) => {
      // /em/* is authenticated by middleware already (before busy windows and the per-user
      // lock, which need the user); any other route is checked here, so that its spec's `auth`
      // is the one place that decides, and what the OpenAPI document says is what is served.
      if (spec.auth !== false && c.get('user') === undefined) {
        const refused = await this.options.authenticate(c, async () => {});
        if (refused) return refused;
      }
      if (this.options.strict) {
        if (spec.laterGeneration) {
          throw new SimError('STRICT_MODE', `Strict mode: ${spec.path} is not in the seed specification (rule: seed endpoints only)`);
        }
        if (c.req.method !== specMethod) {
          throw new SimError('STRICT_MODE', `Strict mode: the specification gives ${spec.path} as ${specMethod}, not ${c.req.method} (rule: spec methods only)`);
        }
      }
      if (!spec.params || spec.rawBody || spec.handlerReadsParams) return handler(c, {} as z.infer<S>);
      const query = bodilessQuery(c);
      let params = query === null ? undefined : parsed.get(query);
      if (params === undefined) {
        params = parseParams(spec.params, await readParams(c));
        if (query !== null) {
          if (parsed.size >= PARSED_PER_ROUTE) parsed.clear();
          parsed.set(query, deepFreeze(params));
        }
      }
      return handler(c, params);
    });
  }
}
