/*
 * The fisheye camera's frames as the telemetry twin serves them (/api/images). Implemented by
 * src/adapters/fs/camera-images.ts: the provider's published frame shipped with em-sim, plus the
 * PNG files of services.telemetry.images_dir.
 */

/** The port itself. */
export interface CameraImages {
  /** The frames' names ("20230608.png"), in no particular order; re-read on every call. */
  list(): Promise<string[]>;
  /** A frame's bytes; null when no frame has that exact name. */
  read(name: string): Promise<Uint8Array | null>;
}
