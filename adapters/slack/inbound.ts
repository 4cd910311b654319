/**
 * Turning Slack deliveries into the core's InboundMessage parts: the caller (with its admin
 * check), thread history, attached files. Every Web API call here uses the workspace's own
 * client (its own bot token).
 */
import type { WebClient } from '@slack/web-api';
import { LRUCache } from 'lru-cache';
import type { InboundFile } from '../../src/ports/messages.js';
import { BotError, ErrorCode } from '../../src/ports/errors.js';

/** Removes the bot's own mention (`<@U123>` or `<@U123|name>`) from a message. */
export function stripBotMention(text: string, botUserId: string | undefined): string {
  if (!botUserId) return text.trim();
  return text.replace(new RegExp(`<@${botUserId}(\\|[^>]*)?>`, 'g'), ' ').replace(/\s+/g, ' ').trim();
}

export interface InstallerLookup {
  /** The user who installed the app into this workspace (tenant.installedBy). */
  installerOf(workspaceKey: string): Promise<string | null>;
}

/**
 * Admin = workspace admin or owner (users.info), or the installing user. Answers are cached
 * briefly: admin rights change rarely and every settings command asks.
 */
export class SlackAdminCheck {
  private readonly cache: LRUCache<string, boolean>;

  constructor(
    private readonly installers: InstallerLookup,
    ttlMs = 60_000,
  ) {
    this.cache = new LRUCache({ max: 10_000, ttl: ttlMs });
  }

  async isAdmin(client: WebClient, workspaceKey: string, userId: string): Promise<boolean> {
    const k = `${workspaceKey}\u0000${userId}`;
    const hit = this.cache.get(k);
    if (hit !== undefined) return hit;
    let admin = (await this.installers.installerOf(workspaceKey)) === userId;
    if (!admin) {
      const res = await client.users.info({ user: userId }).catch((err: unknown) => {
        // A member of another workspace in a shared channel is not ours to ask about.
        if (platformError(err) === 'user_not_found') throw new BotError(ErrorCode.CallerForeign, undefined, { cause: err });
        throw err;
      });
      // In a shared channel users.info can answer for a member of the other organisation.
      const team = (res.user as { team_id?: string; enterprise_user?: { enterprise_id?: string } } | undefined)?.team_id;
      const enterprise = (res.user as { enterprise_user?: { enterprise_id?: string } } | undefined)?.enterprise_user?.enterprise_id;
      if (team && team !== workspaceKey && enterprise !== workspaceKey) throw new BotError(ErrorCode.CallerForeign);
      admin = Boolean(res.user?.is_admin || res.user?.is_owner || res.user?.is_primary_owner);
    }
    this.cache.set(k, admin);
    return admin;
  }
}

const platformError = (e: unknown): string | undefined =>
  (e as { code?: string } | null)?.code === 'slack_webapi_platform_error' ? (e as { data?: { error?: string } }).data?.error : undefined;

export interface SlackFileLike {
  id?: string;
  name?: string;
  title?: string;
  mimetype?: string;
  size?: number;
  url_private?: string;
  url_private_download?: string;
}

/**
 * Slack files as InboundFiles. The bot token is only ever sent to Slack's own file hosts (or the
 * configured Web API host, for proxies and tests), never to a URL someone put in a payload.
 */
export function inboundFiles(client: WebClient, token: string, files: SlackFileLike[] | undefined, apiUrl: string): InboundFile[] {
  return (files ?? []).map((f) => ({
    filename: f.name ?? f.title ?? 'file',
    mimeType: f.mimetype ?? 'application/octet-stream',
    size: f.size ?? 0,
    async read() {
      let url = f.url_private_download ?? f.url_private;
      if (!url && f.id) {
        // Events sometimes carry only the id ("file_access": "check_file_info").
        const info = (await client.files.info({ file: f.id })) as { file?: SlackFileLike };
        url = info.file?.url_private_download ?? info.file?.url_private;
      }
      const name = f.name ?? f.title ?? 'the file';
      if (!url) throw new BotError(ErrorCode.FileDownloadFailed, `Slack gave me no download link for ${name}.`);
      if (!trustedFileHost(url, apiUrl)) throw new BotError(ErrorCode.FileForeignHost);
      const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, redirect: 'follow' }).catch((err: unknown) => {
        throw new BotError(ErrorCode.FileDownloadFailed, `Could not download ${name} from Slack.`, { cause: err });
      });
      if (!res.ok) throw new BotError(ErrorCode.FileDownloadFailed, `Could not download ${name} from Slack (HTTP ${res.status}).`);
      return Buffer.from(await res.arrayBuffer());
    },
  }));
}

export function trustedFileHost(url: string, apiUrl: string): boolean {
  try {
    const u = new URL(url);
    const api = new URL(apiUrl);
    if (u.origin === api.origin) return true;
    return u.protocol === 'https:' && (u.hostname === 'slack.com' || u.hostname.endsWith('.slack.com'));
  } catch {
    return false;
  }
}
