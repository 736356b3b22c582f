import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isSafeBlobKey } from '../../store/blobs/blob-store.js';
import { AppError } from '../../errors.js';
import { notModified, preconditionFailed, requestedRange } from '../conditional.js';
import type { ServerDeps } from '../server.js';

type FileRequest = FastifyRequest<{ Params: { '*': string }; Querystring: { expires?: string; sig?: string } }>;

/**
 * `GET /files/<key>?expires=&sig=`: outputs and uploads, no auth header needed. The signature covers
 * the path and the expiry; a forged link is 403, an expired one 404 (D8). The bytes come from the blob
 * store, on local disk or in a bucket, with ETag, conditional GETs and single ranges (conditional.ts).
 * With RESHOOT_S3_PRESIGN the answer is instead a 302 to a presigned GET on the bucket that lasts as
 * long as the link.
 */
export function registerFileRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { signer, blobs } = deps;
  const presign = deps.config.blobs.kind === 's3' && deps.config.blobs.presign && blobs.presign ? blobs.presign.bind(blobs) : null;

  const unavailable = (err: unknown) => new AppError('STORAGE_UNAVAILABLE', 'the file could not be read', { cause: err });

  const handler = async (req: FileRequest, reply: FastifyReply) => {
    const key = req.params['*'];
    if (!isSafeBlobKey(key)) throw new AppError('NOT_FOUND', 'file not found');
    const verdict = signer.verify(key, req.query.expires, req.query.sig);
    if (verdict === 'forged') throw new AppError('FORBIDDEN', 'invalid or missing file signature');
    if (verdict === 'expired') throw new AppError('NOT_FOUND', 'this link has expired');
    const stat = await blobs.stat(key).catch((err: unknown) => {
      throw unavailable(err);
    });
    if (!stat) throw new AppError('NOT_FOUND', 'file not found');
    const secondsLeft = Math.max(0, Number(req.query.expires) - Math.floor(Date.now() / 1000));

    if (presign) {
      const target = await presign(key, secondsLeft).catch((err: unknown) => {
        throw unavailable(err);
      });
      // each answer names a freshly signed URL, so the redirect itself is not for keeping
      return reply.header('cache-control', 'no-store').redirect(target, 302);
    }

    reply.headers({ etag: stat.etag, 'last-modified': new Date(stat.mtimeMs).toUTCString(), 'accept-ranges': 'bytes' });
    if (preconditionFailed(req.headers, stat)) return reply.status(412).send();
    if (notModified(req.headers, stat)) return reply.status(304).send();
    const range = requestedRange(req.headers, stat);
    if (range === 'unsatisfiable') return reply.status(416).header('content-range', `bytes */${stat.size}`).send();

    // Opened before the headers go on, so a failure answers in the JSON envelope, not as an image.
    const body =
      req.method === 'HEAD'
        ? null
        : await blobs.stream(key, range ?? undefined).catch(async (err: unknown) => {
            // gone between the stat and the read (deleted, swept), or the store failed
            if (!(await blobs.exists(key).catch(() => true))) throw new AppError('NOT_FOUND', 'file not found');
            throw unavailable(err);
          });
    reply
      .header('content-type', stat.contentType)
      .header('cache-control', `private, max-age=${secondsLeft}, immutable`)
      .header('content-length', range ? range.end - range.start + 1 : stat.size);
    if (range) reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${stat.size}`);
    return body ? reply.send(body) : reply.send();
  };
  // HEAD has its own route (registered first, so GET does not add one) to keep the Content-Length
  // computed above: Fastify's automatic HEAD route sets it to 0 for an empty body.
  app.head('/files/*', handler);
  app.get('/files/*', handler);
}
