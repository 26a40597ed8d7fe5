import type { PodOwner } from '../../domain/ports/container-runtime.ts';
import type { StandinMark, StandsFor } from '../../domain/ports/image-store.ts';

/*
 * The labels em-sim puts on what it creates on the Docker engine, so that a restart finds its own
 * containers and nothing is orphaned (testcontainers' labels are the model). The one place their
 * keys are spelt.
 */

export const LABEL = {
  /** "true" on every container, network and image any em-sim made. */
  managed: 'em-sim.managed',
  /** The simulator instance (DATA_DIR/instance-id) a container belongs to. */
  instance: 'em-sim.instance',
  user: 'em-sim.user',
  pod: 'em-sim.pod',
  /** The pod run's generation. */
  generation: 'em-sim.generation',
  /** "true" on a stand-in image for catalog images, with its kind and recipe version. */
  standin: 'em-sim.standin',
  standinKind: 'em-sim.standin.kind',
  standinRecipe: 'em-sim.standin.recipe',
  standinArchitecture: 'em-sim.standin.architecture',
  /** On one catalog tag's stand-in: the reference it stands for, and the real image's version. */
  standinFor: 'em-sim.standin.for',
  standinUpstreamVersion: 'em-sim.standin.upstream-version',
  /** What an instance's container or network is when it is not a pod's: "services-relay", "services". */
  role: 'em-sim.role',
} as const;

/** The role of the relays that bring the onboard services onto users' networks. */
export const RELAY_ROLE = 'services-relay';

/** The filter that selects one instance's containers. */
export function instanceFilter(instanceId: string): string[] {
  return [`${LABEL.instance}=${instanceId}`];
}

/** A pod container's labels. */
export function podLabels(instanceId: string, owner: PodOwner): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.instance]: instanceId,
    [LABEL.user]: owner.user,
    [LABEL.pod]: owner.pod,
    [LABEL.generation]: String(owner.generation),
  };
}

/** The owner a pod container's labels name; null when they do not name one. */
export function ownerOf(labels: Record<string, string> | undefined): PodOwner | null {
  const user = labels?.[LABEL.user];
  const pod = labels?.[LABEL.pod];
  const generation = Number(labels?.[LABEL.generation]);
  return user && pod && Number.isInteger(generation) ? { user, pod, generation } : null;
}

/** Whether any em-sim made it. */
export function isManaged(labels: Record<string, string> | undefined): boolean {
  return labels?.[LABEL.managed] === 'true';
}

/** A stand-in's kind and recipe version, from its labels; null for any other image. */
export function standinOf(labels: Record<string, string> | undefined): { kind: string; recipe: string } | null {
  if (labels?.[LABEL.standin] !== 'true') return null;
  return { kind: labels[LABEL.standinKind] ?? '', recipe: labels[LABEL.standinRecipe] ?? '' };
}
/** A services relay container, or (without a user) the instance's services network. */
export function relayLabels(instanceId: string, user?: string): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.instance]: instanceId,
    [LABEL.role]: user ? RELAY_ROLE : 'services',
    ...(user ? { [LABEL.user]: user } : {}),
  };
}

/** A user's network of one simulator instance. */
export function networkLabels(instanceId: string, user: string): Record<string, string> {
  return { [LABEL.managed]: 'true', [LABEL.instance]: instanceId, [LABEL.user]: user };
}

/**
 * An image a user built. The stand-in labels it would inherit from a stand-in base (or set in its
 * own Dockerfile) are overwritten: a user's image is never taken for one of em-sim's stand-ins.
 */
export function userImageLabels(instanceId: string, user: string): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.instance]: instanceId,
    [LABEL.user]: user,
    [LABEL.standin]: 'false',
    [LABEL.standinKind]: '',
    [LABEL.standinRecipe]: '',
    [LABEL.standinArchitecture]: '',
    [LABEL.standinFor]: '',
    [LABEL.standinUpstreamVersion]: '',
  };
}

/** A stand-in image's labels. */
export function standinLabels(mark: StandinMark): Record<string, string> {
  return {
    [LABEL.standin]: 'true',
    [LABEL.standinKind]: mark.kind,
    [LABEL.standinRecipe]: mark.recipe,
    [LABEL.standinArchitecture]: mark.architecture,
  };
}

/** One catalog tag's stand-in: what it stands for, in em-sim's labels and the OCI description. */
export function standsForLabels(standsFor: StandsFor): Record<string, string> {
  return {
    [LABEL.standinFor]: standsFor.ref,
    ...(standsFor.upstreamVersion ? { [LABEL.standinUpstreamVersion]: standsFor.upstreamVersion } : {}),
    'org.opencontainers.image.description': `em-sim stand-in for ${standsFor.ref}: ${standsFor.contents}`,
  };
}
