import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerDeps } from '../server.js';

/** The web studio's built files (web/dist), served at `/` next to the API. */
export async function registerStudio(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  const root = deps.config.http.webDir ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web/dist');
  if (!fs.existsSync(path.join(root, 'index.html'))) {
    app.log.warn({ root }, 'web studio not built (npm run build:web); serving the API only');
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    setHeaders(reply, file) {
      // Hashed asset names can be cached for good; the page itself must revalidate.
      reply.header('cache-control', file.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
    },
  });
}
