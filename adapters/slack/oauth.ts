/**
 * The OAuth install flow through Bolt's InstallProvider: `GET /slack/install` sets the state
 * cookie and redirects to Slack's authorize page; `GET /slack/oauth_redirect` checks the state
 * (cookie + signed state), exchanges the code against SLACK_API_URL, creates or reactivates the
 * tenant, stores the sealed installation and DMs the installer a welcome.
 */
import { createHmac } from 'node:crypto';
import slackOAuth, {
  InstallProvider,
  InvalidStateError,
  type Installation,
  type InstallationStore,
  type InstallURLOptions,
  type Logger as SlackLogger,
  type StateStore,
} from '@slack/oauth';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { HttpRouter } from '../../src/http/router.js';
import type { Logger } from '../../src/logger.js';
import type { TenantRegistry } from '../../src/tenancy/registry.js';
import type { OAuthStates } from '../../src/security/oauth-states.js';
import { securePage } from '../../src/http/secure-page.js';
import { installationKeyOf } from './installation-store.js';

/** Bot scopes the app asks for (kept in step with slack-app-manifest.json; a test checks). */
export const BOT_SCOPES = [
  'app_mentions:read',
  'assistant:write',
  'channels:history',
  'groups:history',
  'im:history',
  'mpim:history',
  'chat:write',
  'commands',
  'files:read',
  'users:read',
];

export const WELCOME_TEXT = [
  ':wave: Thanks for installing me! Here is how to use me:',
  '• Mention me in a channel (`@bot your question`) and I answer in the thread.',
  '• Send me a direct message to talk privately.',
  '• `/llm help` lists the commands; as the installer you are an admin and can set personas, channel mode (`/llm channel mode all`) and knowledge (`/llm knowledge add <title>: <text>`).',
].join('\n');

export interface SlackOAuthOptions {
  clientId: string;
  clientSecret: string;
  stateSecret: string;
  publicUrl: string;
  installationStore: InstallationStore;
  clientOptions: WebClientOptions;
  tenants: Pick<TenantRegistry, 'install'>;
  /** Makes each state work once, across instances. */
  states: OAuthStates;
  logger: Logger;
  slackLogger: SlackLogger;
  /** Slack's authorize page (a test or proxy may point elsewhere). */
  authorizationUrl?: string;
}

/** SLACK_STATE_SECRET when set; else a secret derived from the client secret (stable across instances). */
export function stateSecretOf(stateSecret: string | undefined, clientSecret: string): string {
  return stateSecret ?? createHmac('sha256', clientSecret).update('slack-oauth-state').digest('hex');
}

/**
 * States signed with SLACK_STATE_SECRET (Slack's ClearStateStore: tamper-proof, 10-minute life)
 * and recorded when issued, so a callback consumes its state: a replayed callback URL fails.
 */
export class SingleUseStateStore implements StateStore {
  private readonly signed: InstanceType<typeof ClearStateStore>;

  constructor(
    secret: string,
    private readonly states: OAuthStates,
  ) {
    this.signed = new ClearStateStore(secret, 600);
  }

  async generateStateParam(installOptions: InstallURLOptions, now: Date): Promise<string> {
    const state = await this.signed.generateStateParam(installOptions, now);
    // Keyed by a digest: the signed value is long and carries the install options.
    await this.states.issue('slack', { state: digestOf(state), ttlMs: 600_000 });
    return state;
  }

  async verifyStateParam(now: Date, state: string): Promise<InstallURLOptions> {
    const options = await this.signed.verifyStateParam(now, state);
    const used = await this.states.consume('slack', digestOf(state));
    if (!used) throw new InvalidStateError('The state was already used or has expired; start the install again.');
    return options;
  }
}

// ClearStateStore is on the CommonJS module's default export only (Node's ESM loader does not
// see it as a named export).
const { ClearStateStore } = slackOAuth;

const digestOf = (state: string) => createHmac('sha256', 'slack-state').update(state).digest('base64url');

export function createInstaller(o: SlackOAuthOptions): InstallProvider {
  return new InstallProvider({
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    stateStore: new SingleUseStateStore(o.stateSecret, o.states),
    installationStore: o.installationStore,
    directInstall: true,
    logger: o.slackLogger,
    // The code exchange and its auth.test use this client: it must follow SLACK_API_URL too.
    clientOptions: o.clientOptions,
    ...(o.authorizationUrl ? { authorizationUrl: o.authorizationUrl } : {}),
  });
}

export function mountInstallRoutes(router: HttpRouter, installer: InstallProvider, o: SlackOAuthOptions): void {
  const redirectUri = `${o.publicUrl}/slack/oauth_redirect`;
  router.route('GET', '/slack/install', (req, res) =>
    installer.handleInstallPath(req, securePage(res), {}, { scopes: BOT_SCOPES, redirectUri }),
  );
  router.route('GET', '/slack/oauth_redirect', (req, res) =>
    installer.handleCallback(req, securePage(res), {
      // Runs before the installation is stored: the row needs its tenant.
      afterInstallation: async (installation) => {
        const key = installationKeyOf(installation);
        const name = installation.team?.name ?? installation.enterprise?.name ?? key;
        await o.tenants.install('slack', key, { name, installedBy: installation.user?.id ?? null });
        o.logger.info({ workspace: key, enterprise: installation.isEnterpriseInstall === true }, 'slack app installed');
        return true;
      },
      successAsync: async (installation, _opts, _req, res) => {
        await sendWelcome(installation, o).catch((err) =>
          o.logger.warn({ err: (err as { code?: string }).code ?? 'error' }, 'slack welcome DM failed'),
        );
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end('<html><body><h1>Installed</h1><p>The bot is ready. Mention it in a channel or send it a direct message. You can close this tab.</p></body></html>');
      },
      failure: (error, _opts, _req, res) => {
        o.logger.warn({ code: error.code }, 'slack install failed');
        res.writeHead(400, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end('<html><body><h1>Install failed</h1><p>Please start again from the install link.</p></body></html>');
      },
    }),
  );
}

async function sendWelcome(installation: Installation, o: SlackOAuthOptions): Promise<void> {
  const token = installation.bot?.token;
  const user = installation.user?.id;
  if (!token || !user) return;
  const client = new WebClient(token, { ...o.clientOptions, ...(installation.team?.id ? { teamId: installation.team.id } : {}) });
  // Posting to a user id opens (or reuses) the app's DM with that user.
  await client.chat.postMessage({ channel: user, text: WELCOME_TEXT });
}
