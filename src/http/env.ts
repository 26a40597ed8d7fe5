import type { HttpBindings } from '@hono/node-server';

export interface AppEnv {
  Bindings: HttpBindings;
  Variables: {
    /** The authenticated username; set by bearerAuth. */
    user: string;
  };
}
