import { useEffect, useState } from 'preact/hooks';

const made = new Map<string, Promise<string | null>>();

/**
 * A small copy of an output, made in the browser (the API has no thumbnail endpoint): the whole
 * picture scaled to at most `side` px on its long edge, as an object URL. Null when it cannot be made.
 */
export function thumbnail(url: string, side = 320): Promise<string | null> {
  const key = `${side}:${url}`;
  let t = made.get(key);
  if (!t) {
    t = (async () => {
      try {
        const res = await fetch(url);
        if (!res.ok) return null;
        const bitmap = await createImageBitmap(await res.blob());
        const k = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
        const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * k)), Math.max(1, Math.round(bitmap.height * k)));
        const ctx = canvas.getContext('2d')!;
        ctx.imageSmoothingQuality = 'high';
        ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        bitmap.close();
        return URL.createObjectURL(await canvas.convertToBlob({ type: 'image/webp', quality: 0.85 }));
      } catch {
        return null;
      }
    })();
    made.set(key, t);
  }
  return t;
}

/** The thumbnail of `url` once it is made (undefined until then, null if it could not be). */
export function useThumbnail(url: string | undefined, side = 320): string | null | undefined {
  const [state, setState] = useState<{ url: string; thumb: string | null } | null>(null);
  useEffect(() => {
    if (!url) return;
    let live = true;
    void thumbnail(url, side).then((thumb) => live && setState({ url, thumb }));
    return () => {
      live = false;
    };
  }, [url, side]);
  return url && state?.url === url ? state.thumb : undefined;
}
