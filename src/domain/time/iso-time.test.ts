import { describe, expect, it } from 'vitest';
import { isoNanos, parseZonedIso } from './iso-time.ts';

describe('parseZonedIso', () => {
  it('reads the forms clients send', () => {
    expect(parseZonedIso('2025-05-22T12:10:00+02:00')).toBe(Date.UTC(2025, 4, 22, 10, 10));
    expect(parseZonedIso('2025-05-22T10:10:00Z')).toBe(Date.UTC(2025, 4, 22, 10, 10));
    // Python's datetime.isoformat() with microseconds.
    expect(parseZonedIso('2025-05-22T12:10:00.123456+02:00')).toBe(Date.UTC(2025, 4, 22, 10, 10, 0, 123));
    expect(parseZonedIso('2025-05-22 12:10+0200')).toBe(Date.UTC(2025, 4, 22, 10, 10));
    expect(parseZonedIso('2025-05-22T12:10:00-05')).toBe(Date.UTC(2025, 4, 22, 17, 10));
  });

  it('refuses times without a timezone and dates that do not exist', () => {
    for (const bad of ['2025-05-22T12:10:00', '2025-05-22', 'tomorrow', '2030-02-31T10:00:00Z', '2025-13-01T00:00:00Z', '2025-01-01T24:00:00Z', '2025-01-01T10:61:00Z']) {
      expect(parseZonedIso(bad), bad).toBeNull();
    }
    expect(parseZonedIso('2028-02-29T10:00:00Z')).not.toBeNull();
  });

  it("writes Go's nanosecond RFC 3339", () => {
    expect(isoNanos(Date.UTC(2025, 10, 4, 8, 10, 20, 259))).toBe('2025-11-04T08:10:20.259000000Z');
  });
});
