import type { IncomingMessage } from 'node:http';
import { finished, PassThrough } from 'node:stream';
import { z } from 'zod';
import { SimError } from '../../domain/errors.ts';
import type { NamespaceFiles } from '../../domain/operations/namespace-files.ts';
import type { OperationService } from '../../domain/operations/operation-service.ts';
import { PARAMETER_BODY_LIMIT } from '../limits.ts';
import { RefusedBody } from '../multipart.ts';
import { integer, text } from '../params.ts';
import type { RouteTable } from '../route-table.ts';
import { sendStream } from '../streaming.ts';

/** What the operation routes use. */
export interface OperationRoutesDeps {
  operations: OperationService;
  namespaces: NamespaceFiles;
  /** limits.uplink_max_bytes: the largest namespace file an upload takes. */
  uploadMaxBytes: number;
}

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'];

const executionExample = {
  id: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
  namespace: 'em_testing',
  operation: 'hello-from-space',
  revision: 1,
  state: 'COMPLETED',
  state_history: [
    { state: 'CREATED', date: '2026-12-01T10:00:00.000Z' },
    { state: 'SCHEDULED', date: '2026-12-01T10:00:00.000Z' },
    { state: 'RUNNING', date: '2026-12-01T10:00:00.010Z' },
    { state: 'COMPLETED', date: '2026-12-01T10:00:04.210Z' },
  ],
  started: '2026-12-01T10:00:00.010Z',
  ended: '2026-12-01T10:00:04.210Z',
  labels: { name: 'First test' },
  errors: [],
  tasks: [
    {
      id: 'downlink_results',
      type: 'dphi.space.cg2.downlink',
      state: 'SUCCESS',
      state_history: [
        { state: 'CREATED', date: '2026-12-01T10:00:00.000Z' },
        { state: 'SCHEDULED', date: '2026-12-01T10:00:03.900Z' },
        { state: 'RUNNING', date: '2026-12-01T10:00:03.900Z' },
        { state: 'SUCCESS', date: '2026-12-01T10:00:04.200Z' },
      ],
      started: '2026-12-01T10:00:03.900Z',
      ended: '2026-12-01T10:00:04.200Z',
      duration_s: 0.3,
      outputs: {
        files: [{ path: '/first_test/hello-from-space.txt', version: 2 }],
        uri: '/sim/executions/1b4e28ba-2fa1-41d2-883f-0016d3cca427/tasks/downlink_results/artifact',
        contentType: 'application/zip',
        contentLength: 161,
      },
      errors: [],
      logs: [{ time: '2026-12-01T10:00:03.901Z', level: 'INFO', message: 'Downlinking hello-from-space.txt (21 bytes) to /first_test/hello-from-space.txt' }],
    },
  ],
};

/** The YAML body of a request, as text: at most PARAMETER_BODY_LIMIT bytes. */
async function yamlBody(c: Parameters<Parameters<RouteTable['add']>[1]>[0]): Promise<string> {
  const type = (c.req.header('content-type') ?? 'application/yaml').split(';')[0]!.trim().toLowerCase();
  if (!YAML_TYPES.includes(type)) {
    throw new SimError('UNSUPPORTED_MEDIA_TYPE', `Send the operation's YAML as the body with Content-Type: application/yaml (got ${type})`);
  }
  const body = await c.req.text();
  if (Buffer.byteLength(body) > PARAMETER_BODY_LIMIT) throw new SimError('INVALID_PARAMETER', `The operation is larger than ${PARAMETER_BODY_LIMIT} bytes`);
  if (!body.trim()) throw new SimError('MISSING_PARAMETER', 'The body is empty: send the operation\'s YAML');
  return body;
}

/**
 * Operations, executions and namespace files under /sim/ (simulator only: the provider's
 * dashboard has its own, unpublished API). Same Bearer tokens as /em/*; each user sees only
 * their own executions and namespaces. operations-decisions.md has the format and the record.
 */
export function registerOperationRoutes(routes: RouteTable, deps: OperationRoutesDeps): void {
  const { operations, namespaces } = deps;
  const fileParam = text().optional().describe('the file name the operation came from (its id when the file has none), e.g. ollama.yaml');

  routes.add(
    {
      methods: ['POST'],
      path: '/sim/operations/validate',
      tag: 'operations',
      summary: 'Check an operation without running it: every error and warning with its line and column',
      rawBody: { contentType: 'application/yaml', schema: z.object({ file: fileParam }) },
      success: {
        description: 'The check; `valid` is false when there are errors',
        example: { valid: false, errors: [{ line: 12, column: 5, key: 'tasks[1].volumes', message: 'unknown key "volumes"; did you mean "volume"?' }], warnings: [] },
      },
      errors: ['UNSUPPORTED_MEDIA_TYPE', 'MISSING_PARAMETER', 'INVALID_PARAMETER'],
    },
    async (c) => {
      const checked = operations.check(await yamlBody(c), c.req.query('file'));
      return c.json({ valid: checked.errors.length === 0, errors: checked.errors, warnings: checked.warnings, ...(checked.operation ? { namespace: checked.operation.namespace, operation: checked.operation.id } : {}) }, 200);
    },
  );

  const savedExample = { namespace: 'em_testing', operation: 'hello-from-space', revision: 2, created: '2026-12-01T10:00:00.000Z' };

  routes.add(
    {
      methods: ['POST'],
      path: '/sim/operations',
      tag: 'operations',
      summary: 'Save an operation without running it (its YAML as the body): a new revision when the text changed',
      description:
        'What the dashboard\'s editor does on Save. The operation is checked first: an invalid one answers 400 INVALID_OPERATION ' +
        'with every problem in `errors`, and nothing is saved. The same text as the latest revision saves nothing new.',
      rawBody: { contentType: 'application/yaml', schema: z.object({ file: fileParam }) },
      success: { status: 201, description: 'The revision saved, and how many there are (200 with the latest, and nothing saved, when the text is unchanged)', example: { ...savedExample, revisions: 2 } },
      errors: ['UNSUPPORTED_MEDIA_TYPE', 'MISSING_PARAMETER', 'INVALID_PARAMETER', 'INVALID_OPERATION'],
    },
    async (c) => {
      const { added, ...saved } = operations.save(c.get('user'), await yamlBody(c), c.req.query('file'));
      if (!added) return c.json(saved, 200);
      return c.json(saved, 201, { Location: `/sim/operations/${encodeURIComponent(saved.namespace)}/${encodeURIComponent(saved.operation)}` });
    },
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/sim/operations',
      tag: 'operations',
      summary: 'Your operations: the latest revision of each, by namespace then id',
      success: { description: 'One entry per operation', example: { data: [{ ...savedExample, revisions: 2 }] } },
      errors: [],
    },
    (c) => c.json({ data: operations.operations(c.get('user')) }, 200),
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/sim/operations/:namespace/:id',
      tag: 'operations',
      summary: 'One of your operations: its YAML (the latest revision, or the one asked for) and the list of its revisions',
      params: z.object({ revision: integer(1).optional().describe('a revision, 1 or more; omitted: the latest') }),
      success: {
        description: 'The revision, with `source` its YAML',
        example: { ...savedExample, source: 'id: hello-from-space\nnamespace: em_testing\ntasks: …', revisions: [{ revision: 1, created: '2026-11-30T09:00:00.000Z' }, { revision: 2, created: savedExample.created }] },
      },
      errors: ['INVALID_PARAMETER', 'OPERATION_NOT_FOUND'],
    },
    (c, p) => c.json(operations.operation(c.get('user'), c.req.param('namespace')!, c.req.param('id')!, p.revision), 200),
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/sim/namespaces',
      tag: 'operations',
      summary: 'The namespaces you have used: those of your operations and of your namespace files',
      success: { description: 'The names, sorted', example: { data: ['default', 'em_testing'] } },
      errors: [],
    },
    (c) => c.json({ data: operations.namespaces(c.get('user')) }, 200),
  );

  routes.add(
    {
      methods: ['POST'],
      path: '/sim/executions',
      tag: 'operations',
      summary: 'Execute an operation (its YAML as the body); answers at once with the new execution',
      description:
        'The operation is checked first: an invalid one answers 400 INVALID_OPERATION with every problem in `errors` and nothing runs. ' +
        'A user\'s executions run one at a time, in order. Follow one with GET /sim/executions/{id}.',
      rawBody: { contentType: 'application/yaml', schema: z.object({ file: fileParam }) },
      success: { status: 201, description: 'The execution record (SCHEDULED)', example: { ...executionExample, state: 'SCHEDULED' } },
      errors: ['UNSUPPORTED_MEDIA_TYPE', 'MISSING_PARAMETER', 'INVALID_PARAMETER', 'INVALID_OPERATION'],
    },
    async (c) => {
      const record = operations.submit(c.get('user'), await yamlBody(c), c.req.query('file'));
      return c.json(record, 201, { Location: `/sim/executions/${record.id}` });
    },
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/sim/executions',
      tag: 'operations',
      summary: 'Your executions, newest first',
      params: z.object({ limit: integer().refine((n) => n >= 1 && n <= 1000, 'expected 1 to 1000').optional().describe('at most this many (default 100)') }),
      success: {
        description: 'One summary per execution',
        example: { data: [{ id: executionExample.id, namespace: 'em_testing', operation: 'hello-from-space', revision: 1, state: 'COMPLETED', started: executionExample.started, ended: executionExample.ended, tasks: 2, failed_tasks: [] }] },
      },
      errors: ['INVALID_PARAMETER'],
    },
    (c, p) => c.json({ data: operations.list(c.get('user'), p.limit ?? 100) }, 200),
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/sim/executions/:id',
      tag: 'operations',
      summary: 'An execution: its state history, task runs, outputs, errors and logs',
      success: { description: 'The execution record', example: executionExample },
      errors: ['EXECUTION_NOT_FOUND'],
    },
    (c) => c.json(operations.record(c.get('user'), c.req.param('id')!), 200),
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/sim/executions/:id/logs',
      tag: 'operations',
      summary: 'The log lines of every task of an execution, in order',
      params: z.object({ task: text().optional().describe('only this task\'s lines') }),
      success: {
        description: 'The lines',
        example: { data: [{ task: 'downlink_results', time: '2026-12-01T10:00:03.901Z', level: 'INFO', message: 'Downlinking hello-from-space.txt (21 bytes) to /first_test/hello-from-space.txt' }] },
      },
      errors: ['EXECUTION_NOT_FOUND'],
    },
    (c, p) => {
      const record = operations.record(c.get('user'), c.req.param('id')!);
      if (p.task !== undefined && !record.tasks.some((t) => t.id === p.task)) {
        throw new SimError('EXECUTION_NOT_FOUND', `Execution ${record.id} has no task "${p.task}"; its tasks: ${record.tasks.map((t) => t.id).join(', ')}`);
      }
      const data = record.tasks.filter((t) => p.task === undefined || t.id === p.task).flatMap((t) => t.logs.map((l) => ({ task: t.id, ...l })));
      return c.json({ data: data.sort((a, b) => a.time.localeCompare(b.time)) }, 200);
    },
  );

  routes.add(
    {
      methods: ['POST'],
      path: '/sim/executions/:id/kill',
      tag: 'operations',
      summary: 'Kill an execution: its running task ends KILLED (a pod is stopped), later tasks SKIPPED',
      success: { description: 'The execution record, KILLED', example: { ...executionExample, state: 'KILLED' } },
      errors: ['EXECUTION_NOT_FOUND', 'EXECUTION_ENDED'],
    },
    async (c) => c.json(await operations.kill(c.get('user'), c.req.param('id')!), 200),
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/sim/executions/:id/tasks/:task/artifact',
      tag: 'operations',
      summary: "A task's `uri` output: the downlink's zip, or the listing's JSON",
      success: { description: 'The file', contentType: 'application/octet-stream' },
      errors: ['EXECUTION_NOT_FOUND', 'FILE_NOT_FOUND'],
    },
    (c) => {
      const { artifact, stream } = operations.artifact(c.get('user'), c.req.param('id')!, c.req.param('task')!);
      return sendStream(c, stream, { size: artifact.size, name: artifact.fileName, contentType: artifact.contentType });
    },
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/sim/namespaces/:namespace/files',
      tag: 'operations',
      summary: "Your namespace's files (the file area uplinks read and downlinks write), each with its versions",
      success: {
        description: 'One entry per path, with the latest version first in its fields',
        example: {
          data: [
            {
              path: '/first_test/hello-from-space.txt',
              version: 2,
              size: 21,
              sha256: '8e2d1e0e…',
              updated: '2026-12-01T10:00:04.200Z',
              versions: [
                { version: 1, size: 20, sha256: '1f0c…', created: '2026-11-30T09:00:00.000Z' },
                { version: 2, size: 21, sha256: '8e2d…', created: '2026-12-01T10:00:04.200Z' },
              ],
            },
          ],
        },
      },
      errors: ['INVALID_PARAMETER'],
    },
    (c) => c.json({ data: namespaces.list(c.get('user'), c.req.param('namespace')!) }, 200),
  );

  routes.add(
    {
      methods: ['POST'],
      path: '/sim/namespaces/:namespace/files',
      tag: 'operations',
      summary: 'Upload a file to your namespace (the body is its bytes); a path written again gets a new version',
      rawBody: {
        contentType: 'application/octet-stream',
        schema: z.object({ path: text().describe('where in the namespace, e.g. /vlms.py or /tests/calibration.json') }),
      },
      success: { status: 201, description: 'The version stored', example: { path: '/vlms.py', version: 3, size: 2048, sha256: '9c1b…' } },
      errors: ['MISSING_PARAMETER', 'INVALID_PARAMETER', 'INVALID_PATH', 'ILLEGAL_PATH', 'MAX_UPLINK_SIZE_EXCEEDED', 'UPLINK_FAILED', 'DISK_FULL'],
    },
    async (c) => {
      const path = c.req.query('path');
      if (path === undefined) throw new SimError('MISSING_PARAMETER', 'Parameter "path" is required: where in the namespace, e.g. ?path=/vlms.py');
      const declared = Number(c.req.header('content-length') ?? NaN);
      const tooLarge = () => new SimError('MAX_UPLINK_SIZE_EXCEEDED', `The file is larger than ${deps.uploadMaxBytes} bytes (limits.uplink_max_bytes); nothing was kept`);
      if (declared > deps.uploadMaxBytes) throw new RefusedBody(tooLarge());
      // The body goes through a pass-through, so that a refused upload stops reading without
      // destroying the connection the answer must still go out on.
      const incoming = c.env.incoming as IncomingMessage;
      const body = new PassThrough();
      incoming.pipe(body);
      finished(incoming, { writable: false }, (err) => {
        if (err) body.destroy(err);
      });
      try {
        const v = await namespaces.upload(c.get('user'), c.req.param('namespace')!, path, body);
        return c.json({ path: v.path, version: v.version, size: v.size, sha256: v.sha256 }, 201);
      } catch (err) {
        incoming.unpipe(body);
        // The rest of a refused body is not read: answer, then close the connection.
        if (err instanceof SimError && (err.code === 'MAX_UPLINK_SIZE_EXCEEDED' || err.code === 'DISK_FULL')) throw new RefusedBody(err);
        if (err instanceof SimError) throw err;
        if (incoming.destroyed || incoming.readableAborted || !incoming.complete) {
          throw new SimError('UPLINK_FAILED', 'The upload was interrupted before the whole file arrived; nothing was kept. Send it again.');
        }
        throw err;
      }
    },
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/sim/namespaces/:namespace/files/content',
      tag: 'operations',
      summary: 'Download a namespace file (its latest version, or the one asked for)',
      params: z.object({ path: text().describe('the file, e.g. /first_test/hello-from-space.txt'), version: integer().refine((n) => n >= 1, 'expected a version, 1 or more').optional().describe('a version; omitted: the latest') }),
      success: { description: 'The bytes', contentType: 'application/octet-stream' },
      errors: ['MISSING_PARAMETER', 'INVALID_PARAMETER', 'INVALID_PATH', 'ILLEGAL_PATH', 'FILE_NOT_FOUND'],
    },
    (c, p) => {
      const { file, stream } = namespaces.open(c.get('user'), c.req.param('namespace')!, p.path, p.version);
      return sendStream(c, stream, { size: file.size, name: file.path.split('/').pop()!, contentType: 'application/octet-stream' });
    },
  );
}
