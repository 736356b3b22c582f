import type { FastifyInstance } from 'fastify';
import { newId } from '../../contract/ids.js';
import { checkImage } from '../../engine/codec.js';
import { AppError } from '../../errors.js';
import { ok } from '../envelope.js';
import { requireDiskSpace, type ServerDeps } from '../server.js';

const EXT: Record<string, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif', heif: 'avif', tiff: 'tiff', gif: 'gif' };

/**
 * `POST /v1/uploads`: one image as multipart/form-data → a signed URL usable in `input_urls`, for
 * clients that have no public URL for a local file. The worker resolves these URLs locally.
 */
export function registerUploadRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { blobs, signer, config, store } = deps;

  app.post('/v1/uploads', async (req) => {
    requireDiskSpace(deps.disk);
    if (!req.isMultipart()) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be multipart/form-data with one image file');
    }
    let bytes: Buffer;
    let truncated: boolean;
    try {
      const file = await req.file();
      if (!file) throw new AppError('INVALID_REQUEST', 'file: expected one image file in the form');
      bytes = await file.toBuffer();
      truncated = file.file.truncated;
    } catch (err) {
      if (err instanceof AppError || (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw err;
      // busboy's own words for a form it cannot read: no boundary, no closing boundary, bad headers
      throw new AppError('INVALID_REQUEST', `body: malformed multipart form (${(err as Error).message})`);
    }
    if (truncated) {
      throw new AppError('PAYLOAD_TOO_LARGE', `file: over the ${config.http.uploadLimitBytes / 1024 / 1024} MB limit`);
    }
    if (bytes.length === 0) throw new AppError('INVALID_REQUEST', 'file: the file is empty');
    let info: { format: string; width: number; height: number };
    try {
      info = await checkImage(bytes, config.engine.maxInputPixels);
    } catch (err) {
      throw new AppError('INVALID_REQUEST', `file: ${(err as Error).message}`);
    }
    const ext = EXT[info.format];
    if (!ext) throw new AppError('INVALID_REQUEST', `file: unsupported image format ${info.format}`);
    const id = newId('up');
    const key = `uploads/${id}.${ext}`;
    const created = Math.floor(Date.now() / 1000);
    // The row first: a file is never on disk without the row that lets the sweep expire it. A put
    // that fails takes its row back; a process killed in between leaves a row whose file is missing,
    // which the sweep marks as it would an expired one (and stray files are swept as orphans).
    await store.uploads.insert({ id, key_id: req.apiKey.id, blob: key, mime: `image/${info.format}`, bytes: bytes.length, created });
    try {
      await blobs.put(key, bytes);
    } catch (err) {
      await store.uploads.remove(id).catch(() => {});
      throw new AppError('STORAGE_UNAVAILABLE', 'the upload could not be saved', { cause: err });
    }
    const expireAt = created + config.tasks.outputTtlSeconds;
    return ok({ url: signer.sign(key, expireAt), expireAt, width: info.width, height: info.height, bytes: bytes.length });
  });
}
