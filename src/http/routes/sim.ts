import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';

/** Simulator-only endpoints, outside /em/ so nobody mistakes them for the EM's API. */
export function simPublicRoutes(info: { version: string }): Hono<AppEnv> {
  const router = new Hono<AppEnv>();
  router.get('/health', (c) => c.json({ status: 'ok', version: info.version }, 200));
  return router;
}
