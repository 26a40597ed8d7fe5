/**
 * ISO 8601 date-times that must carry a timezone, as scheduled_time, /sim/clock's `set` and the
 * configured windows do (api-decisions.md: "scheduled_time without a timezone is refused").
 * Date.parse alone rolls "2030-02-31" over into March; this refuses dates that do not exist.
 */
const ISO_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Epoch milliseconds, or null when the text is not an existing ISO time with a timezone.
 * Surrounding whitespace is ignored.
 */
export function parseZonedIso(text: string): number | null {
  const m = ISO_WITH_ZONE.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as number[];
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth || hour! > 23 || minute! > 59 || second! > 59) return null;
  let zone = m[7]!;
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(`${text.trim().slice(0, m[0].length - m[7]!.length).replace(' ', 'T')}${zone.toUpperCase()}`);
  return Number.isNaN(ms) ? null : ms;
}

/** Whole seconds, UTC, no fraction: "2025-05-22T10:10:00Z", as Kubernetes writes its times. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Nanoseconds as Go's RFC 3339 writes them: "2025-11-04T08:10:20.259000000Z" (the digits below a millisecond are zeros). */
export function isoNanos(ms: number): string {
  return new Date(Math.floor(ms)).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** Milliseconds, UTC: "2025-05-22T10:10:00.000Z"; null stays null. */
export function isoMillis(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
