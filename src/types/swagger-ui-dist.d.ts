// swagger-ui-dist ships no types; this is the one function em-sim uses.
declare module 'swagger-ui-dist' {
  /** The folder holding the Swagger UI bundle's files. */
  export function getAbsoluteFSPath(): string;
}
