import { z } from 'zod';
import type { ErrorCode } from '../domain/errors.ts';
import { STATUS_OF } from './error-table.ts';
import type { Method, RouteSpec } from './route-table.ts';

/*
 * The OpenAPI 3.1 document, generated from the same RouteSpecs the server mounts its routes
 * from, so that the description cannot drift from what is served. OpenAPI 3.1 takes JSON Schema
 * 2020-12 as it is, which is what zod writes.
 */

type Json = Record<string, unknown>;

const BODY_TYPES = ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'] as const;

// Every /em/* request may meet these, whatever its own errors are.
const AUTH_401 = {
  description:
    'No token, or a bad, tampered, wrongly signed, `alg: none` or expired one (SimpleJWT\'s bodies). Clients fetch a new token and retry once.',
  content: {
    'application/json': {
      schema: { $ref: '#/components/schemas/AuthError' },
      examples: {
        missing: { value: { detail: 'Authentication credentials were not provided.' } },
        invalid: {
          value: {
            detail: 'Given token not valid for any token type',
            code: 'token_not_valid',
            messages: [{ token_class: 'AccessToken', token_type: 'access', message: 'Token is invalid or expired' }],
          },
        },
      },
    },
  },
};

const ERROR_EXAMPLE_MESSAGES: Partial<Record<ErrorCode, Json>> = {
  NO_FILES: { error: 'NO_FILES', message: 'No files were provided for uplink!' },
  MAX_UPLINK_SIZE_EXCEEDED: { error: 'MAX_UPLINK_SIZE_EXCEEDED', message: 'Total upload size exceeds 2 GB' },
  BUILD_FAILED: {
    error: 'BUILD_FAILED',
    message: 'Docker build failed',
    log_tail: ['unable to prepare context: path "/clients/client1-pvc/new-software" not found\n'],
  },
  IMAGE_LOAD_FAILED: {
    error: 'IMAGE_LOAD_FAILED',
    message: 'Docker Image tarfile failed to load',
    log_tail: ['sh: line 1: /clients/client1-pvc/test2.tar: No such file or directory\n'],
  },
  CG2_BUSY: { error: 'CG2_BUSY', message: 'CG2 is busy until 2025-05-22T12:20:00.000Z; retry after it' },
};

/** The document's info block. */
export interface OpenApiInfo {
  version: string;
  /** The server's own URL, so that "Try it out" on the docs page reaches it. */
  serverUrl?: string;
}

/** The OpenAPI 3.1 document of the route table: every path, method, parameter, body encoding, answer and error. */
export function buildOpenApi(specs: readonly RouteSpec[], info: OpenApiInfo): Json {
  const paths: Record<string, Json> = {};
  for (const spec of specs) {
    const path = toOpenApiPath(spec.path);
    const item = (paths[path] ??= {});
    for (const method of spec.methods) item[method.toLowerCase()] = operation(spec, method);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'em-sim: the ClusterGate-2 Engineering Model API, simulated',
      version: info.version,
      description:
        'The EM API of ClusterGate-2 as em-sim serves it: `/auth/` and `/em/*` as on the real EM, plus simulator-only ' +
        'endpoints under `/sim/`. Every POST accepts multipart/form-data, application/x-www-form-urlencoded and ' +
        'application/json; every endpoint also reads its parameters from the query string; an empty string or null ' +
        'means "not given". Every error body is `{"error": CODE, "message": ...}` unless noted.',
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    tags: [
      { name: 'auth', description: 'Tokens (SimpleJWT behaviour)' },
      { name: 'files', description: 'Volumes: uplink, list, downlink, delete' },
      { name: 'images', description: 'Build, load and list your images' },
      { name: 'pods', description: 'Namespaces, runs and their status' },
      { name: 'nodes', description: 'FPGA, GPU and MPU nodes (later clients)' },
      { name: 'volumes', description: 'Your volumes, as PVCs (later clients)' },
      { name: 'sim', description: 'Simulator only: not on the real EM' },
      { name: 'operations', description: "Simulator only: the provider's dashboard operations, their executions and namespace files" },
    ],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string', description: 'a stable UPPER_SNAKE code' },
            message: { type: 'string', description: 'what happened and what to do' },
            log_tail: { type: 'array', items: { type: 'string' }, description: 'builds and loads: the last 100 lines of the log' },
          },
        },
        AuthError: {
          type: 'object',
          required: ['detail'],
          properties: {
            detail: { type: 'string' },
            code: { type: 'string' },
            messages: { type: 'array', items: { type: 'object' } },
          },
        },
      },
    },
  };
}

const PATH_PARAMETER = /:([A-Za-z_][A-Za-z0-9_]*)/g;

/** Hono's `/docs/:file` is OpenAPI's `/docs/{file}`. */
export function toOpenApiPath(path: string): string {
  return path.replace(PATH_PARAMETER, '{$1}');
}

function operation(spec: RouteSpec, method: Method): Json {
  const op: Json = {
    tags: [spec.tag],
    summary: spec.summary,
    operationId: operationId(method, spec.path),
  };
  const notes = [spec.description];
  if (method !== spec.methods[0]) notes.push(`${method} is what later clients send; the specification gives ${spec.methods[0]}. Strict mode refuses it.`);
  if (spec.laterGeneration) notes.push('Only later client generations call this endpoint; strict mode refuses it.');
  const description = notes.filter(Boolean).join('\n\n');
  if (description) op.description = description;
  if (spec.auth !== false) op.security = [{ bearerAuth: [] }];

  const pathParameters = [...spec.path.matchAll(PATH_PARAMETER)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const schema = spec.rawBody?.schema ?? spec.params;
  const fields = schema ? objectSchema(schema) : null;

  if (method === 'GET') {
    op.parameters = [...pathParameters, ...(fields ? queryParameters(fields) : [])];
  } else {
    if (pathParameters.length) op.parameters = pathParameters;
    if (spec.rawBody && spec.rawBody.contentType !== 'multipart/form-data') {
      // The body is the thing itself (an operation's YAML, a file's bytes); the fields are in the query.
      if (fields) op.parameters = [...pathParameters, ...queryParameters(fields)];
      const binary = spec.rawBody.contentType === 'application/octet-stream';
      op.requestBody = { required: true, content: { [spec.rawBody.contentType]: { schema: { type: 'string', ...(binary ? { format: 'binary' } : {}) } } } };
    } else if (spec.rawBody) {
      const fileField = spec.rawBody.fileField ?? 'files';
      const withFiles = {
        ...fields,
        properties: {
          [fileField]: { type: 'array', items: { type: 'string', format: 'binary' }, description: 'the files; repeat the field for several' },
          ...(fields?.properties as Json),
        },
        required: [fileField, ...((fields?.required as string[] | undefined) ?? [])],
      };
      op.requestBody = { required: true, content: { [spec.rawBody.contentType]: { schema: withFiles } } };
    } else if (fields && Object.keys(fields.properties as Json).length) {
      op.requestBody = {
        required: Boolean((fields.required as string[] | undefined)?.length),
        content: Object.fromEntries(BODY_TYPES.map((type) => [type, { schema: fields }])),
      };
    }
  }
  op.responses = responses(spec, method, (fields?.required as string[] | undefined) ?? []);
  return op;
}

function operationId(method: Method, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

/** The parameters' JSON Schema, as they arrive after the lenient readers of params.ts. */
function objectSchema(schema: z.ZodObject): Json {
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Json;
  delete json.$schema;
  delete json.additionalProperties;
  return json;
}

function queryParameters(fields: Json): Json[] {
  const required = new Set((fields.required as string[] | undefined) ?? []);
  return Object.entries(fields.properties as Record<string, Json>).map(([name, prop]) => {
    const { description, ...schema } = prop;
    return {
      name,
      in: 'query',
      required: required.has(name),
      ...(description ? { description } : {}),
      // A list is a repeated field; an object travels as a JSON string.
      ...(schema.type === 'object' ? { content: { 'application/json': { schema } } } : { schema }),
      ...(schema.type === 'array' ? { style: 'form', explode: true } : {}),
    };
  });
}

function responses(spec: RouteSpec, method: Method, required: string[]): Json {
  const out: Record<string, Json> = {};
  const success = spec.success;
  const contentType = success.contentType ?? 'application/json';
  out[String(success.status ?? 200)] = {
    description: success.description,
    ...(success.example !== undefined || contentType !== 'application/json'
      ? {
          content: {
            [contentType]:
              contentType === 'application/json'
                ? { example: success.example }
                : { schema: { type: 'string', format: contentType.startsWith('text/') ? undefined : 'binary' } },
          },
        }
      : {}),
  };

  const byStatus = new Map<number, ErrorCode[]>();
  const codes = new Set<ErrorCode>(spec.errors);
  // What the shared parameter reader and the body limit answer, on top of the route's own errors.
  const readsParams = Boolean(spec.params) && !spec.rawBody;
  if (readsParams || method === 'POST') codes.add('INVALID_PARAMETER');
  if (readsParams) codes.add('UNSUPPORTED_MEDIA_TYPE');
  if (readsParams && !spec.handlerReadsParams && required.length) codes.add('MISSING_PARAMETER');
  // The spec gives 423 and 500 on every endpoint of the EM.
  if (spec.path.startsWith('/em/')) for (const code of ['CG2_BUSY', 'INTERNAL_ERROR'] as const) codes.add(code);
  for (const code of codes) {
    const status = STATUS_OF[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = {
      description: group.map((code) => `\`${code}\``).join(', ') + (status === 423 ? ' (with Retry-After when the end is known)' : ''),
      ...(status === 423 ? { headers: { 'Retry-After': { description: 'seconds until the busy window ends', schema: { type: 'integer' } } } } : {}),
      content: {
        'application/json': {
          schema: {
            allOf: [{ $ref: '#/components/schemas/Error' }, { type: 'object', properties: { error: { enum: group } } }],
          },
          examples: Object.fromEntries(group.map((code) => [code, { value: ERROR_EXAMPLE_MESSAGES[code] ?? { error: code, message: '…' } }])),
        },
      },
    };
  }
  for (const other of spec.otherResponses ?? []) {
    const key = String(other.status);
    const shared = out[key] as { description: string; content: { 'application/json': { schema: Json; examples: Json } } } | undefined;
    if (!shared) {
      out[key] = { description: other.description, content: { 'application/json': { example: other.example } } };
      continue;
    }
    // Both kinds of body share the status (SimpleJWT's on /auth/, and the parameter reader's).
    const json = shared.content['application/json'];
    shared.description = `${other.description}; or ${shared.description}`;
    json.schema = { oneOf: [json.schema, { type: 'object' }] };
    json.examples = { simplejwt: { value: other.example }, ...json.examples };
  }
  if (spec.auth !== false && !out['401']) out['401'] = AUTH_401;
  return out;
}
