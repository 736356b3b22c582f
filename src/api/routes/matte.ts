import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { TASK_ID_RE } from '../../contract/ids.js';
import type { ReshootExtension } from '../../contract/task.js';
import { AppError } from '../../errors.js';
import { matteKey } from '../../store/blobs/blob-store.js';
import type { StoredOutput, TaskRow } from '../../store/types.js';
import type { ServerDeps } from '../server.js';

type RefRequest = { Params: { id: string }; Querystring: { ref?: string } };

/** The image type of a stored source, from its first bytes (sources are kept under a hash, without an extension). */
export function sniffImageType(head: Uint8Array): string {
  const at = (i: number, ...bytes: number[]) => bytes.every((b, k) => head[i + k] === b);
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return 'image/png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp';
  if (at(4, 0x66, 0x74, 0x79, 0x70)) return 'image/avif';
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return 'image/tiff';
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  return 'application/octet-stream';
}

/**
 * reshoot's additions for the studio's Fix cutout, authenticated like `GET /v1/tasks/:id` and
 * answering 404 for another key's task:
 *
 * - `GET /v1/tasks/:id/matte?ref=N`: the matte the render cut reference N (0-based, default 0) out
 *   with, an 8-bit grey PNG at the reference's size (`reshoot.mattes` lists them);
 * - `GET /v1/tasks/:id/source?ref=N`: the reference itself as the render read it (for a later turn,
 *   the first turn's photo, not the parent's output).
 *
 * Both stream from the blob store (local disk or a bucket), so any API node answers whichever
 * worker rendered the task. A task whose output has expired or been deleted has no matte any more.
 */
export function registerMatteRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { blobs, store } = deps;

  async function ownedTask(keyId: string, id: string): Promise<TaskRow> {
    if (!TASK_ID_RE.test(id)) throw new AppError('NOT_FOUND', `task ${id} not found`);
    const row = await store.tasks.getOwned(id, keyId);
    if (!row) throw new AppError('NOT_FOUND', `task ${id} not found`);
    return row;
  }

  async function send(reply: FastifyReply, key: string, type: string | ((head: Uint8Array) => string)): Promise<FastifyReply> {
    const unavailable = (err: unknown) => new AppError('STORAGE_UNAVAILABLE', 'the file could not be read', { cause: err });
    const stat = await blobs.stat(key).catch((err: unknown) => {
      throw unavailable(err);
    });
    if (!stat) return Promise.reject(new AppError('NOT_FOUND', 'the file is no longer stored'));
    let contentType = typeof type === 'string' ? type : 'application/octet-stream';
    if (typeof type !== 'string' && stat.size > 0) {
      const head = await readAll(await blobs.stream(key, { start: 0, end: Math.min(stat.size, 16) - 1 }).catch((err: unknown) => Promise.reject(unavailable(err))));
      contentType = type(head);
    }
    const body = await blobs.stream(key).catch(async (err: unknown) => {
      if (!(await blobs.exists(key).catch(() => true))) throw new AppError('NOT_FOUND', 'the file is no longer stored');
      throw unavailable(err);
    });
    // the bytes under a key never change: a matte and a source are written once
    return reply
      .header('content-type', contentType)
      .header('content-length', stat.size)
      .header('etag', stat.etag)
      .header('cache-control', 'private, max-age=3600')
      .send(body);
  }

  app.get<RefRequest>('/v1/tasks/:id/matte', async (req, reply) => {
    const ref = parseRef(req.query.ref);
    const row = await ownedTask(req.apiKey.id, req.params.id);
    const ext = row.reshoot ? (JSON.parse(row.reshoot) as ReshootExtension) : undefined;
    if (row.status !== 'success' || !ext?.mattes?.some((m) => m.ref === ref)) {
      throw new AppError('NOT_FOUND', `task ${row.id} has no matte for reference ${ref}${row.status === 'success' ? '' : ` (it is ${row.status})`}`);
    }
    if (!outputKept(row)) throw new AppError('NOT_FOUND', `task ${row.id}'s output has expired, and its mattes with it`);
    return send(reply, matteKey(row.id, ref), 'image/png');
  });

  app.get<RefRequest>('/v1/tasks/:id/source', async (req, reply) => {
    const ref = parseRef(req.query.ref);
    const row = await ownedTask(req.apiKey.id, req.params.id);
    const sources = row.sources ? (JSON.parse(row.sources) as string[]) : [];
    const key = sources[ref];
    if (!key) throw new AppError('NOT_FOUND', `task ${row.id} has no reference ${ref}${row.sources ? '' : ' yet'}`);
    return send(reply, key, sniffImageType);
  });
}

/** `ref`: a reference's 0-based index, 0 when absent. */
function parseRef(v: string | undefined): number {
  if (v === undefined || v === '') return 0;
  if (!/^\d{1,2}$/.test(v)) throw new AppError('INVALID_REQUEST', `ref: expected a reference's 0-based index (received ${JSON.stringify(v)})`);
  return Number(v);
}

/** Whether the task's output is still served: not deleted, and persistent or unexpired. */
function outputKept(row: TaskRow): boolean {
  const outs = row.outputs ? (JSON.parse(row.outputs) as StoredOutput[]) : [];
  const now = Math.floor(Date.now() / 1000);
  return outs.some((o) => !o.deleted && (o.persistent || o.expireAt >= now));
}

async function readAll(stream: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}
