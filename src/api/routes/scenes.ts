import type { FastifyInstance } from 'fastify';
import type { LibrarySceneInfo } from '../../contract/scenes.js';
import { AppError } from '../../errors.js';
import { thumbnailKey } from '../../scenes/library.js';
import { ok } from '../envelope.js';
import type { ServerDeps } from '../server.js';

/** Thumbnail links last at least an hour and change once an hour, so a browser's cached copy stays good. */
const LINK_HOUR = 3600;

/**
 * `GET /v1/scenes` (reshoot extension, docs/contract.md §16): the operator's scene library — id,
 * title, tags, size, content hash and a signed thumbnail link. The thumbnails (made when the library
 * was read) go into the blob store on the first listing, under content-addressed keys, and are served
 * by `/files` like every other file. No library: an empty list.
 */
export function registerSceneRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { blobs, signer } = deps;
  const scenes = deps.scenes?.scenes ?? [];
  let published: Promise<void> | null = null;
  const publish = () => {
    published ??= Promise.all(
      scenes.map(async (s) => {
        const key = thumbnailKey(s);
        if (!(await blobs.exists(key))) await blobs.put(key, s.thumbnail);
      }),
    ).then(
      () => undefined,
      (err: unknown) => {
        published = null; // the next listing tries again
        throw new AppError('STORAGE_UNAVAILABLE', 'the scene thumbnails could not be stored', { cause: err, retryAfter: 10 });
      },
    );
    return published;
  };

  app.get('/v1/scenes', async () => {
    await publish();
    const expireAt = (Math.floor(Date.now() / 1000 / LINK_HOUR) + 2) * LINK_HOUR;
    return ok(
      scenes.map((s): LibrarySceneInfo => ({
        id: s.id,
        title: s.title,
        tags: s.tags,
        width: s.width,
        height: s.height,
        sha256: s.sha256,
        thumbnail_url: signer.sign(thumbnailKey(s), expireAt),
        expireAt,
      })),
    );
  });
}
