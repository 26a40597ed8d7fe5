import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/sim.ts';
import { dockerSim, IMAGES, post, run, uplink, waitForState } from './_docker.ts';

// The onboard services as pods reach them on CG2: by their cluster names, on port 80, from any
// node, through the user's own network. Every request here is made from inside a pod on the real
// engine, with the tools the provider's examples use (busybox wget, Python's standard library).

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FRAME = readFileSync(path.join(ROOT, 'src/config/camera/20230608.png'));
const fixture = (dir: string, file: string) => readFileSync(path.join(ROOT, 'fixtures', dir, file));

/** The provider's /api/tags (docs/1-howto/4-ollama.md), first entry verbatim. */
const LLAVA_13B = {
  name: 'llava:13b',
  model: 'llava:13b',
  modified_at: '2025-12-27T12:24:24Z',
  size: 8011256494,
  digest: '0d0eb4d7f485d7d0a21fd9b0c1d5b04da481d2150a097e81b64acb59758fdef6',
  details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama', 'clip'], parameter_size: '13B', quantization_level: 'Q4_0' },
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const xyz = { x: expect.any(Number), y: expect.any(Number), z: expect.any(Number) };

describe('onboard services from pods', () => {
  const user = uniqueName('o');
  const other = uniqueName('p');

  const env = dockerSim([user, other]);

  const read = (file: string, pod = 'default', as = user) => readFileSync(path.join(env.sim.volumeDir(as, pod), file));
  const json = (file: string, pod?: string, as?: string) => JSON.parse(read(file, pod, as).toString('utf8'));

  it('busybox wget reaches every telemetry endpoint, Ollama and LiquidAI by their cluster names, and nothing on other ports', async () => {
    await run(env.sim, user, {
      image: IMAGES.alpine,
      node: 'MPU',
      command: [
        'set -e; cd /data; T=http://satellite-telemetry.dphi-tm',
        'wget -q -O health.json $T/health',
        'wget -q -O latest.json $T/api/telemetry/latest',
        'wget -q -O position.json "$T/api/telemetry/latest?data_type=position"',
        'wget -q -O range.json "$T/api/telemetry?data_type=velocity&limit=3"',
        'wget -q -O types.json $T/api/telemetry/types',
        'wget -q -O stats.json $T/api/telemetry/stats',
        'wget -q -O tle.txt $T/api/telemetry/tle',
        'wget -q -O list.json $T/api/images/list',
        `wget -q -O frame.png --header 'Content-Type: application/json' --post-data '{"images":["20230608.png"]}' $T/api/images`,
        // As the provider's ollama.yaml asks.
        'wget -q -O tags.txt http://ollama-dphi.dphi-public/api/tags',
        `wget -q -O opinion.txt '--header=Content-Type: application/json' '--post-data={"model":"gemma3:4b","prompt":"How cool is it to be running on space, Gemma? .","stream":false}' http://ollama-dphi.dphi-public/api/generate`,
        'wget -q -O liquid.json http://liquid-3b.dphi-public/health',
        'wget -q -O svc.json http://satellite-telemetry.dphi-tm.svc.cluster.local/health',
        // With a timeout, as careful clients call (busybox wget -T works in the stand-in).
        'wget -q -T 5 -O timed.json $T/health',
        '(wget -q -T 5 -O - http://satellite-telemetry.dphi-tm:8000/health 2>&1 || echo "rc=$?") > port8000.txt',
        '(wget -q -T 5 -O - http://example.com/ 2>&1 || echo "rc=$?") > outside.txt',
      ].join('; '),
    });
    const done = await waitForState(env.sim, user, undefined, 'terminated', 120_000);
    const logs = await (await env.sim.fetch('/sim/pods/logs', { user })).json();
    expect(done, JSON.stringify(logs)).toMatchObject({ exitCode: 0 });

    expect(json('health.json')).toEqual({ service: 'satellite-telemetry-api', status: 'healthy', timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/) });
    expect(json('svc.json')).toMatchObject({ service: 'satellite-telemetry-api' });

    const latest = json('latest.json');
    expect(latest).toMatchObject({ success: true, error: null, count: 6 });
    expect(latest.data.map((r: { data_type: string }) => r.data_type)).toEqual(['attitude', 'complete', 'position', 'power', 'temperature', 'velocity']);
    for (const record of latest.data) {
      expect(record).toEqual({ id: expect.stringMatching(UUID), timestamp: expect.stringMatching(SECONDS), original_timestamp: expect.any(Number), data_type: record.data_type, data: expect.anything(), created_at: expect.stringMatching(MICROS) });
      expect(record.original_timestamp * 1000).toBe(Date.parse(record.timestamp));
    }
    const complete = latest.data[1].data;
    expect(complete).toEqual({
      attitude: { angular_velocity: xyz, quaternion: { w: expect.any(Number), ...xyz } },
      position: xyz,
      power: { eclipse: expect.any(Boolean), solar_power_w: expect.any(Number), battery_voltage_v: expect.any(Number) },
      temperature: Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [`sensor${i}`, expect.any(Number)])),
      timestamp: latest.data[1].original_timestamp,
      tle: expect.stringMatching(/^1 99999U .*\n2 99999 /),
      velocity: xyz,
    });
    // A 500 km orbit: about 6878 km from the Earth's centre, about 7.6 km/s.
    const r = Math.hypot(complete.position.x, complete.position.y, complete.position.z);
    expect(r).toBeGreaterThan(6850);
    expect(r).toBeLessThan(6910);
    expect(Math.hypot(complete.velocity.x, complete.velocity.y, complete.velocity.z)).toBeCloseTo(7.61, 1);
    const q = complete.attitude.quaternion;
    expect(Math.hypot(q.w, q.x, q.y, q.z)).toBeCloseTo(1, 9);

    const position = json('position.json');
    expect(position).toMatchObject({ success: true, count: 1, data: [{ data_type: 'position', data: complete.position }] });
    const range = json('range.json');
    expect(range).toMatchObject({ success: true, count: 3 });
    expect(range.data.map((x: { data_type: string }) => x.data_type)).toEqual(['velocity', 'velocity', 'velocity']);
    expect(Date.parse(range.data[0].timestamp) - Date.parse(range.data[1].timestamp)).toBe(60_000); // newest first, one a minute
    expect(json('types.json')).toEqual({ success: true, data: ['attitude', 'complete', 'position', 'power', 'temperature', 'velocity'], error: null, count: 6 });
    const stats = json('stats.json');
    expect(stats).toEqual({
      success: true,
      data: {
        total_records: 6 * 1440,
        data_types_count: 6,
        earliest_timestamp: expect.stringMatching(SECONDS),
        latest_timestamp: latest.data[0].timestamp,
        data_type_breakdown: { attitude: 1440, complete: 1440, position: 1440, power: 1440, temperature: 1440, velocity: 1440 },
      },
      error: null,
      count: null,
    });
    expect(read('tle.txt').toString()).toBe(complete.tle);
    expect(json('list.json')).toEqual({ success: true, data: ['20230608.png'], error: null, count: 1 });
    expect(read('frame.png').equals(FRAME)).toBe(true);

    const tags = json('tags.txt');
    expect(tags.models.map((m: { name: string }) => m.name)).toEqual(['llava:13b', 'ministral-3:8b', 'deepseek-r1:8b', 'llava:7b', 'gemma3:4b']);
    expect(tags.models[0]).toEqual(LLAVA_13B);
    const opinion = json('opinion.txt');
    expect(opinion).toEqual({
      model: 'gemma3:4b',
      created_at: expect.any(String),
      response: expect.stringMatching(/^\[em-sim: simulated gemma3:4b answer; no model ran/),
      done: true,
      done_reason: 'stop',
      context: expect.any(Array),
      total_duration: expect.any(Number),
      load_duration: expect.any(Number),
      prompt_eval_count: expect.any(Number),
      prompt_eval_duration: expect.any(Number),
      eval_count: expect.any(Number),
      eval_duration: expect.any(Number),
    });
    expect(opinion.response).toContain('You asked: "How cool is it to be running on space, Gemma? ."');
    expect(json('liquid.json')).toEqual({ status: 'ok' });

    // Only port 80 of the services, and nothing beyond the network.
    expect(json('timed.json')).toMatchObject({ status: 'healthy' });
    expect(read('port8000.txt').toString()).toMatch(/can't connect to remote host .*Connection refused\nrc=1\n$/);
    expect(read('outside.txt').toString()).toMatch(/bad address 'example\.com'\nrc=1\n$/);
  });

  it("Python's standard library gets Ollama's and llama-server's shapes: streams, vision, embeddings, errors, and the camera's zips", async () => {
    await uplink(env.sim, user, { 'clients.py': CLIENTS_PY, 'frame.png': FRAME }, { pod_name: 'py' });
    await run(env.sim, user, { image: IMAGES.python, pod_name: 'py', node: 'GPU', command: 'python3 /data/clients.py' });
    const done = await waitForState(env.sim, user, 'py', 'terminated', 180_000);
    const logs = await (await env.sim.fetch('/sim/pods/logs?pod_name=py', { user })).json();
    expect(done, JSON.stringify(logs)).toMatchObject({ exitCode: 0 });
    const results = json('results.json', 'py');

    // Vision: the answer is derived from the image's bytes and says what its header says.
    expect(results.vision.status).toBe(200);
    expect(results.vision.body.response).toMatch(/^\[em-sim: simulated llava:7b answer/);
    expect(results.vision.body.response).toContain(`${FRAME.readUInt32BE(16)}x${FRAME.readUInt32BE(20)} PNG of ${FRAME.length} bytes`);
    expect(results.vision.body.prompt_eval_count).toBeGreaterThan(576);
    expect(results.vision_again).toBe(results.vision.body.response);
    expect(results.vision_other_prompt).not.toBe(results.vision.body.response);

    // Streaming is the default: NDJSON, one piece per line, the usage in the last.
    expect(results.stream.content_type).toBe('application/x-ndjson');
    expect(results.stream.lines).toBeGreaterThan(5);
    expect(results.stream.last).toMatchObject({ model: 'gemma3:4b', response: '', done: true, done_reason: 'stop', eval_count: expect.any(Number) });
    expect(results.stream.text).toMatch(/^\[em-sim: simulated gemma3:4b answer/);

    expect(results.chat).toMatchObject({ model: 'ministral-3:8b', message: { role: 'assistant', content: expect.stringMatching(/^\[em-sim/) }, done: true, done_reason: 'stop' });
    expect(results.truncated).toMatchObject({ done_reason: 'length', eval_count: 5 });
    expect(results.thinking).toMatchObject({ model: 'deepseek-r1:8b', thinking: expect.stringMatching(/simulated reasoning/), response: expect.stringMatching(/^\[em-sim/) });
    expect(results.embed).toEqual({ model: 'gemma3:4b', count: 2, dims: [2560, 2560], norm: 1, same_twice: true });
    expect(results.show).toMatchObject({ capabilities: ['completion', 'vision'], details: { family: 'gemma3' }, model_info: { 'general.architecture': 'gemma3' } });
    expect(results.show_get).toEqual({ status: 404, body: '404 page not found' });
    expect(results.version).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(results.ps.map((m: { name: string }) => m.name).sort()).toEqual(['deepseek-r1:8b', 'gemma3:4b', 'llava:7b', 'ministral-3:8b']);
    expect(results.unknown).toEqual({ status: 404, body: { error: "model 'nope:1b' not found" } });
    expect(results.no_vision).toEqual({ status: 400, body: { error: "model 'deepseek-r1:8b' does not support images" } });
    expect(results.no_body).toEqual({ status: 400, body: { error: 'missing request body' } });

    // llama-server's chat completion, with the image part before the text as the provider documents.
    expect(results.liquid).toEqual({
      choices: [{ finish_reason: 'stop', index: 0, message: { role: 'assistant', content: expect.stringMatching(/^\[em-sim: simulated LFM2-VL-3B answer/) } }],
      created: expect.any(Number),
      model: 'local',
      system_fingerprint: expect.any(String),
      object: 'chat.completion',
      usage: { completion_tokens: expect.any(Number), prompt_tokens: expect.any(Number), total_tokens: expect.any(Number) },
      id: expect.stringMatching(/^chatcmpl-/),
      timings: expect.objectContaining({ prompt_n: expect.any(Number), predicted_n: expect.any(Number) }),
    });
    expect(results.liquid.choices[0].message.content).toContain('PNG');
    expect(results.liquid_404).toEqual({ status: 404, body: { error: { code: 404, message: 'File Not Found', type: 'not_found_error' } } });

    // The camera: several names give a zip of exactly those, a missing one the spec's 404, limit 0 an empty zip.
    expect(results.zip_two).toEqual({ status: 404, body: 'File not found' });
    expect(results.zip_limit0).toEqual({ status: 200, type: 'application/zip', names: [] });
    expect(results.zip_all).toEqual({ status: 200, type: 'application/zip', names: ['20230608.png'], stored: true });
    expect(results.images_415).toEqual({ status: 415, body: 'Expected request with `Content-Type: application/json`' });
    expect(results.limit_text).toEqual({ status: 400, body: 'Failed to deserialize query string: limit: invalid digit found in string' });

    // What the calls would be billed for, per model, for this user only.
    const usage = await (await env.sim.fetch('/sim/services/usage', { user })).json();
    const byModel = Object.fromEntries(usage.data.map((u: { model: string }) => [u.model, u]));
    expect(byModel['llava:7b']).toMatchObject({ service: 'ollama', calls: 3, images: 3 });
    expect(byModel['LFM2-VL-3B']).toMatchObject({ service: 'liquidai', calls: 1, images: 1 });
    expect(byModel['gemma3:4b'].calls).toBeGreaterThanOrEqual(3);
  });

  it("the provider's fisheye-api example: built air-gapped, it saves the camera's frames and its insights into the volume", async () => {
    await uplink(env.sim, user, { Dockerfile: fixture('fisheye-api', 'Dockerfile'), 'main.py': fixture('fisheye-api', 'main.py') }, { dest_path: 'fisheye-api' });
    const build = await post(env.sim, user, '/em/pod/image/build', { dockerfile: './fisheye-api/Dockerfile', image: 'fisheye-api', context: './fisheye-api' });
    expect(build).toEqual({ status: 200, body: { message: 'Docker Image built successfully' } });
    await run(env.sim, user, { image: 'fisheye-api', pod_name: 'fisheye', node: 'MPU' });
    const done = await waitForState(env.sim, user, 'fisheye', 'terminated', 120_000);
    expect(done).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(read('20230608.png', 'fisheye').equals(FRAME)).toBe(true);
    expect(json('insights.json', 'fisheye')).toEqual({
      listed: 1,
      images: { '20230608.png': { size_bytes: FRAME.length, format: 'PNG', width: FRAME.readUInt32BE(16), height: FRAME.readUInt32BE(20), bit_depth: FRAME[24], color_type: FRAME[25] } },
      total_images_processed: 1,
    });
  });

  it("a client whose Dockerfile runs pip install fails to build as onboard, where builds have no network", async () => {
    await uplink(env.sim, user, { Dockerfile: fixture('telemetry-client', 'Dockerfile'), 'client.py': fixture('telemetry-client', 'client.py') }, { dest_path: 'telemetry-client' });
    const build = await post(env.sim, user, '/em/pod/image/build', { dockerfile: './telemetry-client/Dockerfile', image: 'telemetry-client', context: './telemetry-client' });
    expect(build.status).toBe(400);
    expect(build.body).toMatchObject({ error: 'BUILD_FAILED' });
    expect(build.body.log_tail.join('\n')).toMatch(/No matching distribution found for requests/);
    // The steps that succeeded before the failing RUN leave no untagged <none> image behind.
    const base = await env.docker.getImage('python:3.11-slim').inspect();
    const leftovers = (await env.docker.listImages({ filters: { dangling: ['true'] } })).filter((i) => i.ParentId === base.Id);
    expect(leftovers).toEqual([]);
  });

  it("another user's pods reach their own network's services, as that user: their Ollama has nothing loaded, their calls are billed to them", async () => {
    await run(env.sim, other, {
      image: IMAGES.alpine,
      command:
        'cd /data && wget -q -O ps.json http://ollama-dphi.dphi-public/api/ps && ' +
        `wget -q -O gen.json --header 'Content-Type: application/json' --post-data '{"model":"llava:13b","prompt":"hello","stream":false}' http://ollama-dphi.dphi-public/api/generate && ` +
        `nslookup ${user}-default > lookup.txt 2>&1 || echo "no ${user}-default" >> lookup.txt`,
    });
    const done = await waitForState(env.sim, other, undefined, 'terminated', 120_000);
    expect(done).toMatchObject({ exitCode: 0 });
    expect(json('ps.json', 'default', other)).toEqual({ models: [] });
    expect(json('gen.json', 'default', other)).toMatchObject({ model: 'llava:13b', done: true });
    expect(read('lookup.txt', 'default', other).toString()).toContain(`no ${user}-default`);

    const theirs = await (await env.sim.fetch('/sim/services/usage', { user: other })).json();
    expect(theirs.data).toEqual([expect.objectContaining({ service: 'ollama', model: 'llava:13b', calls: 1, images: 0 })]);
    const mine = await (await env.sim.fetch('/sim/services/usage', { user })).json();
    expect(mine.data.find((u: { model: string }) => u.model === 'llava:13b')).toBeUndefined();

    const status = await (await env.sim.fetch('/sim/services', { user })).json();
    expect(status.data).toMatchObject({ names_in_pods: expect.arrayContaining(['satellite-telemetry.dphi-tm', 'ollama-dphi.dphi-public', 'liquid-3b.dphi-public']), problem: null });
  });

  it('a relay that is gone (an engine restart, a hand) is made again for the next pod', async () => {
    const relay = `em-sim_services_${env.sim.running.sim.instanceId}_${user}`;
    await run(env.sim, user, { image: IMAGES.alpine, pod_name: 'first', command: 'true' });
    await waitForState(env.sim, user, 'first', 'terminated', 120_000);
    await env.docker.getContainer(relay).remove({ force: true });
    await run(env.sim, user, { image: IMAGES.alpine, pod_name: 'again', command: 'wget -q -O /data/types.json http://satellite-telemetry.dphi-tm/api/telemetry/types' });
    expect(await waitForState(env.sim, user, 'again', 'terminated', 120_000)).toMatchObject({ exitCode: 0 });
    expect(json('types.json', 'again')).toMatchObject({ success: true, count: 6 });
    expect((await env.docker.getContainer(relay).inspect()).State.Running).toBe(true);
  });

  it('the zip the camera sends is a real zip (read back on the host too)', async () => {
    const res = await env.sim.fetch('/sim/services/telemetry/api/images', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"limit":5}' });
    expect(res.status).toBe(200);
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    expect(Object.keys(files)).toEqual(['20230608.png']);
    expect(Buffer.from(files['20230608.png']!).equals(FRAME)).toBe(true);
  });
});

/** Run in a python pod: every call with urllib only, results in /data/results.json. */
const CLIENTS_PY = String.raw`
import base64, io, json, urllib.error, urllib.request, zipfile

O = "http://ollama-dphi.dphi-public"
L = "http://liquid-3b.dphi-public"
T = "http://satellite-telemetry.dphi-tm"
frame = open("/data/frame.png", "rb").read()
b64 = base64.b64encode(frame).decode()
out = {}

def call(url, payload=None, method=None, headers=None, raw=None):
    data = raw if raw is not None else (json.dumps(payload).encode() if payload is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()

def body(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode()

s, _, b = call(O + "/api/generate", {"model": "llava:7b", "prompt": "What do you see?", "images": [b64], "stream": False})
out["vision"] = {"status": s, "body": body(b)}
out["vision_again"] = body(call(O + "/api/generate", {"model": "llava:7b", "prompt": "What do you see?", "images": [b64], "stream": False})[2])["response"]
out["vision_other_prompt"] = body(call(O + "/api/generate", {"model": "llava:7b", "prompt": "Any clouds?", "images": [b64], "stream": False})[2])["response"]

s, ctype, b = call(O + "/api/generate", {"model": "gemma3:4b", "prompt": "Stream please"})
lines = [json.loads(l) for l in b.decode().splitlines() if l.strip()]
out["stream"] = {"content_type": ctype, "lines": len(lines), "last": lines[-1], "text": "".join(l["response"] for l in lines)}

out["chat"] = body(call(O + "/api/chat", {"model": "ministral-3:8b", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello from orbit", "images": [b64]}], "stream": False})[2])
out["truncated"] = body(call(O + "/api/generate", {"model": "gemma3:4b", "prompt": "Short", "stream": False, "options": {"num_predict": 5}})[2])
out["thinking"] = body(call(O + "/api/generate", {"model": "deepseek-r1:8b", "prompt": "Why orbit?", "think": True, "stream": False})[2])

e1 = body(call(O + "/api/embed", {"model": "gemma3:4b", "input": ["first", "second"]})[2])
e2 = body(call(O + "/api/embed", {"model": "gemma3:4b", "input": "first"})[2])
out["embed"] = {"model": e1["model"], "count": len(e1["embeddings"]), "dims": [len(v) for v in e1["embeddings"]],
                "norm": round(sum(x * x for x in e1["embeddings"][0]) ** 0.5, 6), "same_twice": e1["embeddings"][0] == e2["embeddings"][0]}

out["show"] = body(call(O + "/api/show", {"model": "gemma3:4b"})[2])
s, _, b = call(O + "/api/show", method="GET", headers={})
out["show_get"] = {"status": s, "body": body(b)}
out["version"] = body(call(O + "/api/version", method="GET", headers={})[2])
out["ps"] = body(call(O + "/api/ps", method="GET", headers={})[2])["models"]
s, _, b = call(O + "/api/generate", {"model": "nope:1b", "prompt": "x"})
out["unknown"] = {"status": s, "body": body(b)}
s, _, b = call(O + "/api/generate", {"model": "deepseek-r1:8b", "prompt": "x", "images": [b64]})
out["no_vision"] = {"status": s, "body": body(b)}
s, _, b = call(O + "/api/chat", raw=b"")
out["no_body"] = {"status": s, "body": body(b)}

payload = {"model": "local", "messages": [{"role": "user", "content": [
    {"type": "image_url", "image_url": {"url": "data:image/png;base64," + b64}},
    {"type": "text", "text": "describe this"}]}], "max_tokens": 256, "temperature": 0.2, "cache_prompt": False}
out["liquid"] = body(call(L + "/v1/chat/completions", payload)[2])
s, _, b = call(L + "/v1/nothing", method="GET", headers={})
out["liquid_404"] = {"status": s, "body": body(b)}

def zipped(payload):
    s, ctype, b = call(T + "/api/images", payload)
    if s != 200:
        return {"status": s, "body": b.decode()}
    z = zipfile.ZipFile(io.BytesIO(b))
    result = {"status": s, "type": ctype, "names": z.namelist()}
    if z.infolist():
        result["stored"] = all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
    return result

out["zip_two"] = zipped({"images": ["20230608.png", "19990101.png"]})
out["zip_limit0"] = zipped({"limit": 0})
out["zip_all"] = zipped({})
s, _, b = call(T + "/api/images", raw=b"{}", headers={"Content-Type": "text/plain"})
out["images_415"] = {"status": s, "body": b.decode()}
s, _, b = call(T + "/api/telemetry?limit=ten", method="GET", headers={})
out["limit_text"] = {"status": s, "body": b.decode()}

json.dump(out, open("/data/results.json", "w"), indent=1)
print("ok")
`;
