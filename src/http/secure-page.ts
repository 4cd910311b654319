/**
 * Headers for the pages a browser sees (install pages, OAuth callbacks): never framed, no MIME
 * sniffing, no referrer (the URL carries a code or a state), never cached. Cookies set on such a
 * response get `SameSite=Lax` unless they say otherwise: sent on the provider's top-level redirect
 * back, never on cross-site subrequests.
 */
import type { ServerResponse } from 'node:http';

export const pageSecurityHeaders: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
};

const withSameSite = (cookie: string) => (/;\s*samesite=/i.test(cookie) ? cookie : `${cookie}; SameSite=Lax`);

/** Sets the headers now and makes every later Set-Cookie SameSite; returns the same response. */
export function securePage(res: ServerResponse): ServerResponse {
  for (const [k, v] of Object.entries(pageSecurityHeaders)) res.setHeader(k, v);
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name: string, value: number | string | readonly string[]) => {
    if (name.toLowerCase() === 'set-cookie') {
      value = Array.isArray(value) ? value.map((c) => withSameSite(String(c))) : withSameSite(String(value));
    }
    return setHeader(name, value);
  };
  return res;
}
