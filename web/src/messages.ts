import { ApiError } from './api.js';

/** The API's field names as a person reads them; `input.` is dropped first. */
const FIELDS: Array<[RegExp, (m: RegExpMatchArray) => string]> = [
  // the upload's multipart field: "file: image could not be decoded"
  [/^file: /, () => ''],
  [/\binput_urls\[(\d+)\]/g, (m) => `image ${Number(m[1]) + 1}`],
  [/\binput_urls\b/g, () => 'the images'],
  [/\baspect_ratio\b/g, () => 'aspect ratio'],
  [/\boutput_format\b/g, () => 'file format'],
  [/\bscene_from\b/g, () => 'the scene to reuse'],
  [/\broles\[(\d+)\]/g, (m) => `the role of image ${Number(m[1]) + 1}`],
  [/\bscene\.((?:[a-z_]+\.)*[a-z_]+)/g, (m) => `fine control ${m[1]!.replace(/[._]/g, ' ')}`],
];

/** A message with the API's field names in words (`input_urls[0]: refused` → `image 1: refused`), for inside a sentence. */
export function readableFields(message: string): string {
  let out = message.replace(/\binput\./g, '');
  for (const [re, word] of FIELDS) out = out.replace(re, (...args) => word(args as unknown as RegExpMatchArray));
  return out;
}

/** A server or studio message as a sentence of its own, without raw API field names. */
export function readableMessage(message: string): string {
  const out = readableFields(message);
  return out.charAt(0).toUpperCase() + out.slice(1);
}

/** What the studio says about a failed call: the readable message, with the error code when it is one of the API's. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const text = readableMessage(err.message);
    return err.code.startsWith('HTTP_') ? text : `${text} (${err.code})`;
  }
  return readableMessage((err as Error).message);
}
