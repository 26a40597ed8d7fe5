/**
 * A failure the CLI reports as one line (no stack trace): what went wrong and what to do. The
 * entry point prints `em-sim: MESSAGE` and exits with `exitCode`.
 */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
