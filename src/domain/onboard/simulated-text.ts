import { createHash } from 'node:crypto';

/*
 * The deterministic stand-in for a language model's answer (onboard-platform.md 3.4): every word
 * derives from a hash of the model, the prompt and the image bytes, so the same request always
 * gets the same answer, a different one a different answer, and nothing pretends to be a model:
 * the first words of every answer say it is simulated. No weights, no sampling.
 */

/** What a frame's bytes reveal without decoding it. */
export interface ImageFacts {
  format: 'PNG' | 'JPEG' | 'GIF' | 'WEBP' | 'unknown';
  width?: number;
  height?: number;
  bytes: number;
}

/** The format and size of an image from its header (PNG IHDR, JPEG SOFn, GIF, WebP VP8/VP8L/VP8X). */
export function imageFacts(data: Uint8Array): ImageFacts {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const bytes = b.length;
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.toString('latin1', 12, 16) === 'IHDR') {
    return { format: 'PNG', width: b.readUInt32BE(16), height: b.readUInt32BE(20), bytes };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 9 < b.length && b[i] === 0xff) {
      const marker = b[i + 1]!;
      const length = b.readUInt16BE(i + 2);
      // SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC) carry the frame's size.
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { format: 'JPEG', height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7), bytes };
      }
      i += 2 + length;
    }
    return { format: 'JPEG', bytes };
  }
  if (b.length >= 10 && b.toString('latin1', 0, 3) === 'GIF') return { format: 'GIF', width: b.readUInt16LE(6), height: b.readUInt16LE(8), bytes };
  if (b.length >= 30 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') {
    const chunk = b.toString('latin1', 12, 16);
    if (chunk === 'VP8X') return { format: 'WEBP', width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3), bytes };
    if (chunk === 'VP8 ') return { format: 'WEBP', width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff, bytes };
    if (chunk === 'VP8L') {
      const bits = b.readUInt32LE(21);
      return { format: 'WEBP', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1, bytes };
    }
    return { format: 'WEBP', bytes };
  }
  return { format: 'unknown', bytes };
}

/**
 * The text as a rough BPE tokenizer would cut it: a short word is one token, a long one two,
 * punctuation one each, whitespace going with the token after it. Joined, the pieces are the
 * text. A stream sends one piece per chunk, as Ollama and llama-server send one token.
 */
export function streamPieces(text: string): string[] {
  const pieces: string[] = [];
  let end = 0;
  for (const match of text.matchAll(/\s*([\p{L}\p{N}]+|[^\s\p{L}\p{N}])/gu)) {
    const piece = match[0];
    const word = match[1]!;
    if (word.length > 7) {
      const cut = piece.length - Math.ceil(word.length / 2);
      pieces.push(piece.slice(0, cut), piece.slice(cut));
    } else pieces.push(piece);
    end = match.index + piece.length;
  }
  if (end < text.length && pieces.length) pieces[pieces.length - 1] += text.slice(end);
  return pieces;
}

/** How many tokens the text is (its stream pieces): what usage and the timing fields count. */
export function countTokens(text: string): number {
  return streamPieces(text).length;
}

const IMAGE_SENTENCES = [
  'The frame shows the curved limb of the Earth against black space.',
  'Cloud bands cover much of the visible surface, with a bright sunglint near the centre.',
  'The fisheye lens bends the horizon into an arc around the edge of the frame.',
  'Part of the spacecraft structure is visible at the border of the image.',
  'The lower half is dominated by ocean, darker where the clouds thin out.',
  'A thin blue layer of atmosphere separates the surface from space.',
  'The exposure is high enough that the sunlit clouds are close to saturation.',
  'Coastlines are hard to make out at this resolution.',
];

const GENERAL_SENTENCES = [
  'Running close to the data saves downlink bandwidth, which is the scarcest resource of a small satellite.',
  'Onboard processing lets a payload react within one pass instead of waiting for the ground.',
  'Power and thermal margins decide how long a workload may keep the GPU busy.',
  'A careful experiment writes its results and logs into the volume so they can be downlinked.',
  'Radiation can flip bits, so results worth keeping deserve a checksum.',
  'The ground station pass is short, so the smallest useful answer is the best one to send down.',
  'Edge inference in orbit trades model size for latency and energy.',
  'Every call to an onboard model is metered, so a dry run is the cheap place to iterate.',
];

/** What the model was asked, as far as the simulated answer depends on it. */
export interface SimulatedPrompt {
  model: string;
  prompt: string;
  images: Uint8Array[];
  /** Extra material that changes the answer (a system prompt, earlier messages). */
  context?: string;
}

/** The seed of an answer: a hash of the model, the prompt, the context and every image byte. */
export function answerSeed(p: SimulatedPrompt): Buffer {
  const hash = createHash('sha256').update(p.model).update('\0').update(p.context ?? '').update('\0').update(p.prompt);
  for (const image of p.images) hash.update('\0').update(image);
  return hash.digest();
}

/**
 * The simulated answer: a marker saying so, what the images are (from their headers), the
 * prompt's opening words, and two to four sentences picked by the seed.
 */
export function simulatedAnswer(p: SimulatedPrompt): string {
  const seed = answerSeed(p);
  const parts = [`[em-sim: simulated ${p.model} answer; no model ran, onboard the text will differ]`];
  p.images.forEach((image, i) => {
    const facts = imageFacts(image);
    const size = facts.width && facts.height ? `${facts.width}x${facts.height} ` : '';
    const label = p.images.length > 1 ? `Image ${i + 1}` : 'The image';
    parts.push(`${label} is a ${size}${facts.format === 'unknown' ? 'picture' : facts.format} of ${facts.bytes} bytes.`);
    parts.push(pick(IMAGE_SENTENCES, seed, 2 + i));
  });
  const asked = p.prompt.slice(0, 400).trim().replace(/\s+/g, ' ');
  if (asked) parts.push(`You asked: "${asked.length > 80 ? `${asked.slice(0, 77)}...` : asked}".`);
  const count = 2 + (seed[0]! % 3);
  const used = new Set<string>();
  for (let i = 0; used.size < count && i < 16; i++) used.add(pick(GENERAL_SENTENCES, seed, 8 + i));
  parts.push(...used);
  return parts.join(' ');
}

/** The reasoning a thinking model shows before its answer (deterministic, marked). */
export function simulatedThinking(p: SimulatedPrompt): string {
  const seed = answerSeed(p);
  return `[em-sim: simulated reasoning] The question is about "${p.prompt.slice(0, 400).trim().slice(0, 40)}". ${pick(GENERAL_SENTENCES, seed, 30)}`;
}

/** At most maxTokens tokens of `text` (whole pieces), and whether it was cut. */
export function truncateTokens(text: string, maxTokens: number | undefined): { text: string; truncated: boolean } {
  if (maxTokens === undefined || maxTokens < 0) return { text, truncated: false };
  const pieces = streamPieces(text);
  if (pieces.length <= maxTokens) return { text, truncated: false };
  return { text: pieces.slice(0, maxTokens).join(''), truncated: true };
}

/** A unit vector of `dimensions` floats derived from the model and the text (an embedding's stand-in). */
export function simulatedEmbedding(model: string, text: string, dimensions: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dimensions; block++) {
    const digest = createHash('sha256').update(`${model}\0${block}\0${text}`).digest();
    for (let i = 0; i + 2 <= digest.length && values.length < dimensions; i += 2) values.push(digest.readUInt16BE(i) / 32767.5 - 1);
  }
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0)) || 1;
  return values.map((v) => Math.round((v / norm) * 1e8) / 1e8);
}

function pick<T>(list: readonly T[], seed: Buffer, index: number): T {
  return list[seed[index % seed.length]! % list.length]!;
}
