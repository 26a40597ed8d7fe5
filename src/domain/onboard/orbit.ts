import * as sgp4 from 'satellite.js';

/*
 * The satellite's orbit: a two-line element set propagated with SGP4 (satellite.js, the
 * JavaScript port of Vallado's reference implementation, https://github.com/shashwatak/satellite-js).
 * Everything the telemetry twin reports about where the satellite is, whether it is sunlit, and
 * where its ground track runs comes from here, on the simulated clock.
 */

/**
 * The default orbit: a 500 km circular sun-synchronous orbit (97.4°, 15.22 revolutions a day),
 * epoch 2026-12-01T00:00:00Z, catalogue number 99999 (the number analysts use for objects that
 * have none). CG2's own elements are not published; configure services.telemetry.tle to fly
 * another orbit.
 */
export const DEFAULT_TLE: readonly [string, string] = [
  '1 99999U 26001A   26335.00000000  .00000000  00000+0  10000-3 0  9996',
  '2 99999  97.4000 290.0000 0001000  90.0000 270.0000 15.21936487    14',
];

/** A 3-vector in kilometres (position) or kilometres per second (velocity). */
export interface Vec3 {
  x: number;
  y: number;
  z: number;
}

/** The satellite at one moment. */
export interface OrbitState {
  /** Simulated epoch milliseconds. */
  at: number;
  /** TEME (SGP4's true-equator, mean-equinox inertial frame), kilometres. */
  position: Vec3;
  /** TEME, kilometres per second. */
  velocity: Vec3;
  /** Unit vector from the Earth to the Sun (TEME, close enough to J2000 for shadows). */
  sun: Vec3;
  /** Fraction of the Sun's disc hidden by the Earth: 0 lit, 1 umbra (satellite.js shadowFraction). */
  shadow: number;
  /** Geodetic latitude and longitude in degrees, altitude above the WGS-84 ellipsoid in km. */
  latitude: number;
  longitude: number;
  altitudeKm: number;
}

/** Why a TLE is not usable: the line and what is wrong, for the configuration error. */
export class TleError extends Error {
  override name = 'TleError';
}

/** Whether a TLE line's last digit is its modulo-10 checksum (digits count, "-" counts 1). */
export function tleChecksumOk(line: string): boolean {
  let sum = 0;
  for (const ch of line.slice(0, 68)) {
    if (ch >= '0' && ch <= '9') sum += Number(ch);
    else if (ch === '-') sum += 1;
  }
  return line.length === 69 && Number(line[68]) === sum % 10;
}

/**
 * Checks two TLE lines as a propagator reads them (69 columns, line numbers, matching catalogue
 * numbers, checksums) and that SGP4 accepts them. Throws TleError saying which line and why.
 */
export function checkTle(lines: readonly string[]): [string, string] {
  return parseTle(lines).lines;
}

/** checkTle, with the SGP4 record it made (made once: its first initialisation costs milliseconds). */
function parseTle(lines: readonly string[]): { lines: [string, string]; rec: sgp4.SatRec } {
  if (lines.length !== 2) throw new TleError(`a TLE is two lines, got ${lines.length}`);
  const [l1, l2] = lines.map((l) => l.trimEnd()) as [string, string];
  for (const [n, line] of [
    [1, l1],
    [2, l2],
  ] as const) {
    if (line.length !== 69) throw new TleError(`line ${n} has ${line.length} characters; a TLE line has 69`);
    if (line[0] !== String(n)) throw new TleError(`line ${n} must start with "${n} "`);
    if (!tleChecksumOk(line)) throw new TleError(`line ${n}'s checksum (column 69) does not match its contents`);
  }
  if (l1.slice(2, 7) !== l2.slice(2, 7)) throw new TleError('the two lines name different catalogue numbers');
  const rec = sgp4.twoline2satrec(l1, l2);
  if (rec.error !== 0) throw new TleError(`SGP4 refuses these elements (error ${rec.error})`);
  return { lines: [l1, l2], rec };
}

/** One satellite's orbit from its TLE; pure, deterministic, cheap (a propagation is microseconds). */
export class Orbit {
  readonly tle: readonly [string, string];
  private readonly rec: sgp4.SatRec;

  /** Throws TleError for lines SGP4 cannot use. */
  constructor(tle: readonly string[] = DEFAULT_TLE) {
    const { lines, rec } = parseTle(tle);
    this.tle = lines;
    this.rec = rec;
  }

  /** The TLE's epoch, epoch milliseconds. */
  get epoch(): number {
    return (this.rec.jdsatepoch - 2440587.5) * 86400000;
  }

  /** The period in seconds (from the mean motion, revolutions per day). */
  get periodSeconds(): number {
    // SatRec.no is the mean motion in radians per minute.
    return ((2 * Math.PI) / this.rec.no) * 60;
  }

  /** Where the satellite is at `at` (epoch ms). Throws when SGP4 cannot propagate that far (decayed). */
  stateAt(at: number): OrbitState {
    const date = new Date(at);
    const pv = sgp4.propagate(this.rec, date);
    if (!pv) throw new Error(`SGP4 cannot propagate the TLE to ${date.toISOString()} (error ${this.rec.error})`);
    const { position, velocity } = pv;
    const jd = sgp4.jday(date);
    const sunAu = sgp4.sunPos(jd).rsun;
    const sunNorm = Math.hypot(sunAu.x, sunAu.y, sunAu.z);
    const geo = sgp4.eciToGeodetic(position, sgp4.gstime(date));
    return {
      at,
      position: { x: position.x, y: position.y, z: position.z },
      velocity: { x: velocity.x, y: velocity.y, z: velocity.z },
      sun: { x: sunAu.x / sunNorm, y: sunAu.y / sunNorm, z: sunAu.z / sunNorm },
      shadow: sgp4.shadowFraction(sunAu, position),
      latitude: sgp4.degreesLat(geo.latitude),
      longitude: sgp4.degreesLong(geo.longitude),
      altitudeKm: geo.height,
    };
  }

  /** Whether the satellite sees the Sun at `at` (less than half its disc hidden). */
  sunlit(at: number): boolean {
    return this.stateAt(at).shadow < 0.5;
  }

  /**
   * The satellite's elevation in degrees above a ground station's horizon at `at`
   * (satellite.js ecfToLookAngles). Station: degrees and kilometres.
   */
  elevation(at: number, station: { latitude: number; longitude: number; altitudeKm: number }): number {
    const date = new Date(at);
    const pv = sgp4.propagate(this.rec, date);
    if (!pv) return -90;
    const ecf = sgp4.eciToEcf(pv.position, sgp4.gstime(date));
    const look = sgp4.ecfToLookAngles(
      { latitude: sgp4.degreesToRadians(station.latitude), longitude: sgp4.degreesToRadians(station.longitude), height: station.altitudeKm },
      ecf,
    );
    return sgp4.radiansToDegrees(look.elevation);
  }
}
