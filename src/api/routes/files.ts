import type { FastifyInstance } from 'fastify';
import send from '@fastify/send';
import path from 'node:path';
import { isSafeBlobKey } from '../../store/blobs/local-blobs.js';
import { AppError } from '../../errors.js';
import type { ServerDeps } from '../server.js';

const TYPES: Record<string, string> = {
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.avif': 'image/avif', '.tiff': 'image/tiff', '.gif': 'image/gif',
};

/**
 * `GET /files/<key>?expires=&sig=`: outputs and uploads, no auth header needed. The signature covers
 * the path and the expiry; a forged link is 403, an expired one 404 (D8). Range requests, ETag and
 * conditional GETs come from @fastify/send.
 */
export function registerFileRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { signer, blobs } = deps;

  const handler = async (req: import('fastify').FastifyRequest<{ Params: { '*': string }; Querystring: { expires?: string; sig?: string } }>, reply: import('fastify').FastifyReply) => {
    const key = req.params['*'];
    if (!isSafeBlobKey(key)) throw new AppError('NOT_FOUND', 'file not found');
    const verdict = signer.verify(key, req.query.expires, req.query.sig);
    if (verdict === 'forged') throw new AppError('FORBIDDEN', 'invalid or missing file signature');
    if (verdict === 'expired') throw new AppError('NOT_FOUND', 'this link has expired');
    const file = await blobs.locate(key);
    if (!file) throw new AppError('NOT_FOUND', 'file not found');
    const result = await send(req.raw, path.basename(file), {
      root: path.dirname(file),
      etag: true,
      lastModified: true,
      acceptRanges: true,
      cacheControl: false,
      dotfiles: 'deny',
    });
    if (result.type !== 'file') {
      const status = result.statusCode;
      if (status === 404 || result.type === 'directory') throw new AppError('NOT_FOUND', 'file not found');
      if (status >= 500) throw new AppError('STORAGE_UNAVAILABLE', 'the file could not be read');
      // 304, 412 and 416 answers come with the headers @fastify/send computed.
      reply.headers(result.headers).status(status);
      return reply.send(result.stream);
    }
    const expires = Number(req.query.expires);
    reply
      .headers(result.headers)
      .header('content-type', TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream')
      .header('cache-control', `private, max-age=${Math.max(0, expires - Math.floor(Date.now() / 1000))}, immutable`)
      .status(result.statusCode);
    return reply.send(result.stream);
  };
  app.get('/files/*', handler);
}
