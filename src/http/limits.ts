/**
 * The largest body of parameters any endpoint but /em/files/uplink takes, in bytes (form, JSON or
 * a GET's body), and the largest single form field of an uplink. A megabyte is generous.
 */
export const PARAMETER_BODY_LIMIT = 1 << 20;

/** Reads and writes of file bodies go in pieces of this many bytes. */
export const STREAM_CHUNK = 1 << 20;
