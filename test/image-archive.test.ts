import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { readRepoTags } from '../src/adapters/docker/image-archive.ts';

// The tags a `docker save` archive names, read as the engine will read them (found with hostile input).

async function archive(entries: [name: string, content: string][]): Promise<Readable> {
  const pack = tarStream.pack();
  for (const [name, content] of entries) pack.entry({ name }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  return Readable.from([Buffer.concat(chunks)]);
}

const manifest = (tags: string[]) => JSON.stringify([{ Config: 'c.json', RepoTags: tags, Layers: [] }]);

describe('readRepoTags', () => {
  it('reads the tags of manifest.json', async () => {
    expect(await readRepoTags(await archive([['manifest.json', manifest(['client1-tool'])]]))).toEqual(['client1-tool:latest']);
  });

  it('refuses a second manifest.json hidden behind a path Docker cleans, and any entry that climbs', async () => {
    const hidden = await archive([
      ['manifest.json', manifest(['client1-tool:latest'])],
      ['x/../manifest.json', manifest(['client1-tool:latest', 'alpine:latest'])],
    ]);
    expect(await readRepoTags(hidden)).toBeNull();
    expect(await readRepoTags(await archive([['manifest.json', manifest(['client1-tool'])], ['../etc/x', 'x']]))).toBeNull();
    expect(await readRepoTags(await archive([['./manifest.json', manifest(['client1-a'])], ['/manifest.json', manifest(['alpine:latest'])]]))).toBeNull();
  });
});
