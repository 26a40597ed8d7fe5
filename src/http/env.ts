import type { HttpBindings } from '@hono/node-server';

/** The Hono environment of every route: Node's request and response, and the authenticated user. */
export interface AppEnv {
  Bindings: HttpBindings;
  Variables: {
    /** The authenticated username; set by bearerAuth. */
    user: string;
  };
}
