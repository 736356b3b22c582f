export const DOWNLOAD_FORMATS = [
  { ext: 'png', mime: 'image/png', label: 'PNG' },
  { ext: 'jpg', mime: 'image/jpeg', label: 'JPEG' },
  { ext: 'webp', mime: 'image/webp', label: 'WebP' },
] as const;
export type DownloadFormat = (typeof DOWNLOAD_FORMATS)[number];

/**
 * Saves a result in the chosen format. The file is re-encoded in the browser only when the server's
 * format differs, so a PNG result downloads as PNG byte for byte.
 */
export async function downloadResult(url: string, baseName: string, format: DownloadFormat): Promise<void> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`The file could not be fetched (HTTP ${res.status}); it may have expired.`);
  let blob = await res.blob();
  const sameFormat = blob.type === format.mime || (blob.type === '' && format.ext === 'png');
  if (!sameFormat) blob = await reencode(blob, format);
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = `${baseName}.${format.ext}`;
  document.body.append(a);
  a.click();
  a.remove();
  // Give the browser time to start the download before the blob goes away.
  setTimeout(() => URL.revokeObjectURL(href), 30_000);
}

async function reencode(blob: Blob, format: DownloadFormat): Promise<Blob> {
  const bitmap = await createImageBitmap(blob);
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('This browser cannot convert images.');
  if (format.mime === 'image/jpeg') {
    // JPEG has no alpha: flatten a transparent result onto white rather than black.
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const out = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, format.mime, 0.92));
  if (!out || out.type !== format.mime) throw new Error(`This browser cannot write ${format.label} files.`);
  return out;
}
