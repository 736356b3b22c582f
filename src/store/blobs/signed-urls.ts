import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Download links that need no auth header: `<publicUrl>/files/<key>?expires=<unix s>&sig=<hmac>`.
 * The signature covers the key and the expiry, so neither can be changed.
 */
export interface UrlSigner {
  sign(key: string, expireAt: number): string;
  /** the blob key of a link this server signed and that is still valid, or why not */
  verify(key: string, expires: string | undefined, sig: string | undefined, nowSec?: number): 'ok' | 'expired' | 'forged';
  /** the blob key behind one of our own full URLs, if it is one and still valid */
  ownKey(url: string, nowSec?: number): string | null;
}

/** `publicUrl` is read on every use: with port 0 it is known only once the server listens. */
export function createUrlSigner(secret: string, publicUrl: () => string): UrlSigner {
  const mac = (key: string, expireAt: string) => createHmac('sha256', secret).update(`${key}\n${expireAt}`).digest('base64url');
  const verify: UrlSigner['verify'] = (key, expires, sig, nowSec = Math.floor(Date.now() / 1000)) => {
    if (!expires || !sig || !/^\d{1,12}$/.test(expires)) return 'forged';
    const want = Buffer.from(mac(key, expires));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'forged';
    return Number(expires) < nowSec ? 'expired' : 'ok';
  };
  return {
    sign: (key, expireAt) => `${publicUrl()}/files/${key}?expires=${expireAt}&sig=${mac(key, String(expireAt))}`,
    verify,
    ownKey(url, nowSec) {
      const prefix = `${publicUrl()}/files/`;
      if (!url.startsWith(prefix) || !URL.canParse(url)) return null;
      const u = new URL(url);
      const key = decodeURIComponent(u.pathname.slice(new URL(prefix).pathname.length));
      return verify(key, u.searchParams.get('expires') ?? undefined, u.searchParams.get('sig') ?? undefined, nowSec) === 'ok' ? key : null;
    },
  };
}
