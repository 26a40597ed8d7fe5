/*
 * How pods reach the onboard services (onboard-platform.md section 3): on every user's network,
 * the services' cluster names resolve to a relay that forwards port 80 to the simulator, which
 * serves the twins. Implemented by src/adapters/docker/service-relays.ts (one small container per
 * user network, on a network of this simulator instance whose only other member is the host).
 */

/** Where a relay forwards to: the simulator's services listener. */
export interface RelayTarget {
  host: string;
  port: number;
}

/** The relays of one simulator instance. */
export interface ServiceRelays {
  /**
   * Makes the instance's services network (once) and resolves with the host's address on it:
   * where the services listener must listen so that relays, and only they, reach it.
   */
  gateway(): Promise<string>;
  /**
   * Gives `network` a relay answering to `names` on port 80 and forwarding to `target`, replacing
   * an older one of the user. Resolves with the relay's address on the services network, which
   * is how the listener knows whose pod is calling.
   */
  ensure(user: string, network: string, names: string[], target: RelayTarget): Promise<string>;
  /** Whether the user's relay is running (an engine restart or a hand stops it). */
  running(user: string): Promise<boolean>;
  /** Removes every relay and the services network of this instance (a stop, a reset). */
  removeAll(): Promise<void>;
}

/** The services listener: an HTTP server on the host, for relays only. */
export interface ServiceListener {
  /** Listens on `host` (an ephemeral port, once); resolves with the port. */
  listen(host: string): Promise<number>;
  close(): Promise<void>;
}
