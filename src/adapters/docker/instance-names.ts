/*
 * The names em-sim gives things on a Docker engine that other simulators share. Container and
 * network names are global on an engine, so the domain's names (USER-POD, em-sim-USER) carry
 * the simulator instance (DATA_DIR/instance-id) as a suffix there: two simulators with the same
 * users and pod names never meet. "." appears in no username and no pod name, so a suffixed
 * name cannot be any other pod's. What pods see is unchanged: a pod's host name and network
 * aliases are its USER-POD and POD.
 */

/** The engine's name for a container or network the domain calls `name`: "client1-default.a1b2c3d4e5f6". */
export function onEngine(name: string, instanceId: string): string {
  return instanceId ? `${name}.${instanceId}` : name;
}

/** A container id as the engine gives it (64 hex digits), as opposed to a name. */
export function isContainerId(idOrName: string): boolean {
  return /^[0-9a-f]{12,64}$/.test(idOrName);
}
