/**
 * Adding the bot to a server: GET /discord/install redirects to Discord's OAuth2 consent page
 * with the bot and applications.commands scopes and the smallest permission set;
 * GET /discord/oauth_callback checks the state, exchanges the code and shows a success page.
 *
 * State is stateless and bound to the browser: `expiry.nonce.hmac` signed with a key derived
 * from DISCORD_CLIENT_SECRET, and the nonce also sits in an HttpOnly cookie that the callback
 * must carry back (so a link crafted by someone else does not complete an install here).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpRouter } from '../../src/http/router.js';
import type { Logger } from '../../src/logger.js';
import type { OAuthStates } from '../../src/security/oauth-states.js';
import { securePage } from '../../src/http/secure-page.js';

/**
 * What the bot needs in a channel, and nothing more:
 * View Channels (see the channel), Send Messages (mention replies, late answers),
 * Send Messages in Threads (answers inside threads), Read Message History (a reply that
 * references the asking message requires it). Slash command answers use the interaction
 * webhook, which needs no permission.
 */
export const BOT_PERMISSIONS = (1n << 10n) | (1n << 11n) | (1n << 38n) | (1n << 16n);
export const OAUTH_SCOPES = 'bot applications.commands';
const STATE_TTL_MS = 10 * 60_000;
const COOKIE = 'discord_oauth_state';

export interface InstallDeps {
  applicationId: string;
  clientSecret?: string;
  apiUrl: string;
  publicUrl: string;
  onInstalled(guild: { id: string; name: string }): Promise<void>;
  /** Records each issued state so a callback can use it once. */
  states: OAuthStates;
  log: Logger;
  now?: () => number;
}

export function registerInstallRoutes(router: HttpRouter, deps: InstallDeps): void {
  const now = deps.now ?? Date.now;
  const redirectUri = `${deps.publicUrl}/discord/oauth_callback`;
  const stateKey = deps.clientSecret ? createHmac('sha256', 'discord-oauth-state').update(deps.clientSecret).digest() : null;
  const sign = (payload: string) => createHmac('sha256', stateKey!).update(payload).digest('base64url');

  router.route('GET', '/discord/install', async (_req, res) => {
    securePage(res);
    const url = new URL(`${deps.apiUrl}/oauth2/authorize`);
    url.searchParams.set('client_id', deps.applicationId);
    url.searchParams.set('scope', OAUTH_SCOPES);
    url.searchParams.set('permissions', BOT_PERMISSIONS.toString());
    url.searchParams.set('integration_type', '0');
    const headers: Record<string, string> = {};
    if (stateKey) {
      // With a client secret we run the code grant and come back to our callback.
      const nonce = randomBytes(16).toString('base64url');
      const payload = `${now() + STATE_TTL_MS}.${nonce}`;
      await deps.states.issue('discord', { state: nonce, ttlMs: STATE_TTL_MS });
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('state', `${payload}.${sign(payload)}`);
      headers['set-cookie'] = `${COOKIE}=${nonce}; Path=/discord; HttpOnly; SameSite=Lax; Max-Age=${STATE_TTL_MS / 1000}`;
    }
    res.writeHead(302, { location: url.toString(), ...headers }).end();
  });

  router.route('GET', '/discord/oauth_callback', async (req, res) => {
    securePage(res);
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    if (!stateKey) return page(res, 404, 'Not configured', 'Set DISCORD_CLIENT_SECRET to use the install flow.');
    if (q.get('error')) return page(res, 400, 'Not installed', 'The install was cancelled on Discord. You can close this page.');
    const problem = checkState(q.get('state'), cookieOf(req, COOKIE), now(), sign);
    if (problem) return page(res, 400, 'Install link expired', `${problem} Start again from the install link.`);
    // Signed and fresh is not enough: each state works once (a replayed callback URL fails).
    if (!(await deps.states.consume('discord', q.get('state')!.split('.')[1]!))) {
      return page(res, 400, 'Install link already used', 'This install link was already used. Start again from the install link.');
    }
    const code = q.get('code');
    if (!code) return page(res, 400, 'Not installed', 'Discord did not send an authorization code.');
    try {
      const token = await fetch(`${deps.apiUrl}/oauth2/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${deps.applicationId}:${deps.clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }),
      });
      if (!token.ok) {
        deps.log.warn({ status: token.status }, 'discord oauth code exchange refused');
        return page(res, 400, 'Not installed', 'Discord refused the authorization code. Start again from the install link.');
      }
      // We keep no OAuth token: the bot acts with its own bot token. The guild comes along.
      const body = (await token.json()) as { guild?: { id: string; name: string } };
      if (body.guild) await deps.onInstalled({ id: body.guild.id, name: body.guild.name });
      const where = body.guild ? ` to ${escapeHtml(body.guild.name)}` : '';
      res.setHeader('set-cookie', `${COOKIE}=; Path=/discord; HttpOnly; SameSite=Lax; Max-Age=0`);
      return page(res, 200, 'Installed', `The bot was added${where}. Mention it or use <code>/ask</code> in a channel; admins see <code>/llm help</code>.`);
    } catch (err) {
      deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'discord oauth callback failed');
      return page(res, 502, 'Not installed', 'Could not reach Discord. Please try again.');
    }
  });
}

/** Null when the state is ours, unexpired and matches this browser's cookie; else the reason. */
function checkState(state: string | null, cookieNonce: string | undefined, now: number, sign: (p: string) => string): string | null {
  const parts = state?.split('.') ?? [];
  if (parts.length !== 3) return 'The request did not come from our install link.';
  const [expiry, nonce, mac] = parts as [string, string, string];
  const expected = Buffer.from(sign(`${expiry}.${nonce}`));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'The request did not come from our install link.';
  if (Number(expiry) < now) return 'The install link is more than 10 minutes old.';
  if (cookieNonce !== nonce) return 'The install was started in another browser.';
  return null;
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res: ServerResponse, status: number, title: string, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><p>${html}</p>`);
}
