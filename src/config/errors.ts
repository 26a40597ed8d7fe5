/** A configuration that cannot be used; the message names the file (or variable), the key and what was expected. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
