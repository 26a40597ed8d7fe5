/**
 * The base images a Dockerfile starts FROM, with what the air-gapped builder needs to judge them
 * (api-decisions.md: builds are air-gapped; FROM may name only the onboard catalog, an earlier
 * stage or the user's own images).
 */
export interface FromLine {
  /** The image as written after FROM (and after --platform=…). */
  base: string;
  /** The name of an earlier stage it refers to, lowercased, when it does. */
  earlierStage: boolean;
}

/** Every FROM line, in order; line continuations are joined first. */
export function fromLines(dockerfile: string): FromLine[] {
  const stages = new Set<string>();
  const out: FromLine[] = [];
  const logical = dockerfile.replace(/\\\r?\n/g, ' ');
  for (const line of logical.split(/\r?\n/)) {
    const match = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!match) continue;
    const base = match[1]!;
    out.push({ base, earlierStage: stages.has(base.toLowerCase()) });
    if (match[2]) stages.add(match[2].toLowerCase());
  }
  return out;
}
