/**
 * The Slack adapter: one Bolt app for every installed workspace (each its own tenant).
 *
 * HTTP mode (default): Bolt's HTTPReceiver verifies the v0 signature and the 5-minute timestamp
 * window and acks at once (processBeforeResponse=false); its request listener is mounted on the
 * core's HTTP shell at POST /slack/events. Socket Mode (SLACK_APP_TOKEN set) is for development.
 * OAuth install routes are mounted in both modes through one InstallProvider, and every Web API
 * client — the App's per-workspace clients, the code exchange, progress clients — follows
 * SLACK_API_URL.
 */
import { App, HTTPReceiver, SocketModeReceiver, type Receiver } from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import { LRUCache } from 'lru-cache';
import type { Core } from '../../src/app.js';
import { TokenSealer } from '../../src/security/sealing.js';
import { OAuthStates } from '../../src/security/oauth-states.js';
import { boltLogger } from './bolt-logger.js';
import { SlackAdminCheck } from './inbound.js';
import { PostgresInstallationStore } from './installation-store.js';
import { mustRetry, registerListeners } from './listeners.js';
import { createInstaller, mountInstallRoutes, stateSecretOf } from './oauth.js';
import { FeaturePolicy, StreamingPolicy } from './feature-policy.js';
import { SlackRestorer } from './restore.js';
import { registerAssistant } from './assistant.js';
import { ThreadHistoryReader, ThreadReadBudget } from './thread-history.js';

export type SlackCore = Pick<Core, 'config' | 'logger' | 'database' | 'tenants' | 'jobs' | 'controls' | 'dedupe' | 'http'>;

export interface StartSlackOptions {
  /** Try chat.startStream before falling back to chat.update (default true). */
  nativeStreaming?: boolean;
  /** Socket Mode instead of HTTP; defaults to "SLACK_APP_TOKEN is set". */
  socketMode?: boolean;
  maxMessageChars?: number;
  minUpdateIntervalMs?: number;
  /** Slack's authorize page, for proxies and tests. */
  authorizationUrl?: string;
  /** Seconds a users.info admin answer is trusted. */
  adminCacheMs?: number;
  /** A streaming message older than this goes on in a new one (Slack stops streams after about 5 minutes). */
  maxStreamAgeMs?: number;
  /** One conversations.replies per workspace this often (Slack's limit for unlisted apps). @defaultValue 60000 */
  threadReadIntervalMs?: number;
  /** Called once per delivery when it is done with: its job settled, or the listener let it go (tests wait on it). */
  onHandled?: (what: string) => void;
}

export interface SlackAdapter {
  app: App;
  store: PostgresInstallationStore;
  close(): Promise<void>;
}

export async function startSlack(core: SlackCore, opts: StartSlackOptions = {}): Promise<SlackAdapter> {
  const c = core.config;
  if (!c.SLACK_SIGNING_SECRET || !c.SLACK_CLIENT_ID || !c.SLACK_CLIENT_SECRET) {
    throw new Error('Slack is off: set SLACK_SIGNING_SECRET, SLACK_CLIENT_ID and SLACK_CLIENT_SECRET');
  }
  const logger = core.logger.child({ adapter: 'slack' });
  const slackLogger = boltLogger(core.logger, { debug: c.LOG_MESSAGE_TEXT && c.LOG_LEVEL === 'debug' });
  const sealer = TokenSealer.fromConfig(c.ENCRYPTION_KEY, c.ENCRYPTION_OLD_KEYS);
  const store = new PostgresInstallationStore(core.database.db, sealer, core.tenants);

  // Interactive calls: a couple of quick retries, never Slack's default of ~30 minutes.
  const clientOptions = (): WebClientOptions => ({
    slackApiUrl: c.SLACK_API_URL,
    retryConfig: { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 5_000, maxRetryTime: 10_000 },
    timeout: 15_000,
    logger: slackLogger,
  });
  // One pair of clients per bot token: bounded retries for posts and final edits, and one that
  // rejects rate-limited calls at once for progress edits.
  const clients = new LRUCache<string, { client: WebClient; progress: WebClient }>({ max: 1_000, ttl: 10 * 60_000 });
  const clientsFor = (token: string) => {
    let pair = clients.get(token);
    if (!pair) {
      pair = {
        client: new WebClient(token, clientOptions()),
        progress: new WebClient(token, { ...clientOptions(), rejectRateLimitedCalls: true, retryConfig: { retries: 0 } }),
      };
      clients.set(token, pair);
    }
    return pair;
  };

  const stateSecret = stateSecretOf(c.SLACK_STATE_SECRET, c.SLACK_CLIENT_SECRET);
  if (!c.SLACK_STATE_SECRET) logger.warn('SLACK_STATE_SECRET unset: deriving the OAuth state secret from SLACK_CLIENT_SECRET');
  const oauth = {
    clientId: c.SLACK_CLIENT_ID,
    clientSecret: c.SLACK_CLIENT_SECRET,
    stateSecret,
    publicUrl: c.PUBLIC_URL,
    installationStore: store,
    clientOptions: clientOptions(),
    tenants: core.tenants,
    states: new OAuthStates(core.database.db),
    logger,
    slackLogger,
    authorizationUrl: opts.authorizationUrl,
  };
  const installer = createInstaller(oauth);
  mountInstallRoutes(core.http, installer, oauth);

  const socketMode = opts.socketMode ?? Boolean(c.SLACK_APP_TOKEN);
  let receiver: Receiver;
  let httpReceiver: HTTPReceiver | undefined;
  if (socketMode) {
    if (!c.SLACK_APP_TOKEN) throw new Error('Socket Mode needs SLACK_APP_TOKEN (an xapp- token with connections:write)');
    receiver = new SocketModeReceiver({
      appToken: c.SLACK_APP_TOKEN,
      logger: slackLogger,
      // apps.connections.open on SLACK_API_URL; reconnects may retry longer than interactive calls.
      installerOptions: { clientOptions: { ...clientOptions(), retryConfig: { retries: 10, factor: 1.3 } } },
    });
  } else {
    httpReceiver = new HTTPReceiver({
      signingSecret: c.SLACK_SIGNING_SECRET,
      endpoints: '/slack/events',
      logger: slackLogger,
      // The ack waits for the durable accept (one insert; the installation and tenant are cached),
      // never for the answer: "acked" then means "stored".
      processBeforeResponse: true,
      // Not stored within Slack's 3 s (the database is slow to answer or down): Slack will send it
      // again either way, so say so plainly rather than Bolt's default 404.
      unhandledRequestHandler: ({ response }) => {
        logger.warn('slack delivery not stored within 3 s; answered 503 so Slack retries');
        if (!response.headersSent) response.writeHead(503, { 'retry-after': '30' });
        response.end();
      },
      // A delivery that could not be stored is answered 503, so Slack sends it again.
      processEventErrorHandler: async ({ error, response, logger: boltLog }) => {
        if (response.headersSent) return false;
        const retry = mustRetry(error);
        if (retry) logger.warn('slack delivery not stored (database unavailable); answered 503 so Slack retries');
        else boltLog.error(`slack delivery failed: ${(error as Error).message}`);
        response.writeHead(retry ? 503 : 500, retry ? { 'retry-after': '30' } : {});
        response.end();
        return true;
      },
    });
    receiver = httpReceiver;
  }

  const app = new App({
    receiver,
    authorize: (source) => installer.authorize(source),
    clientOptions: clientOptions(),
    logger: slackLogger,
    ignoreSelf: true,
  });

  const admin = new SlackAdminCheck(
    {
      installerOf: async (key) => (await core.tenants.resolve('slack', key))?.installedBy ?? null,
    },
    opts.adminCacheMs ?? 60_000,
  );
  core.jobs.register(
    'slack',
    new SlackRestorer({
      installer,
      clients: clientsFor,
      admin,
      streaming: new StreamingPolicy(opts.nativeStreaming ?? true),
      statuses: new FeaturePolicy(),
      threads: new ThreadHistoryReader(new ThreadReadBudget(opts.threadReadIntervalMs ?? 60_000), logger),
      apiUrl: c.SLACK_API_URL,
      logger,
      maxMessageChars: opts.maxMessageChars,
      minUpdateIntervalMs: opts.minUpdateIntervalMs,
      maxStreamAgeMs: opts.maxStreamAgeMs,
    }),
  );
  if (opts.onHandled) core.jobs.onSettled((job, how) => job.platform === 'slack' && opts.onHandled!(`job:${how}`));
  registerListeners(app, {
    intake: core.jobs,
    tenants: core.tenants,
    store,
    dedupe: core.dedupe,
    logger,
    onHandled: opts.onHandled,
  });
  registerAssistant(app, {
    controls: core.controls,
    tenants: core.tenants,
    admin,
    clientFor: (token) => clientsFor(token).client,
    logger,
    onHandled: opts.onHandled,
  });

  if (httpReceiver) {
    const listener = httpReceiver.requestListener;
    core.http.route('POST', '/slack/events', (req, res) => {
      // Bolt refuses requests older than 5 minutes; one dated further ahead is refused the same way.
      const ts = Number(req.headers['x-slack-request-timestamp']);
      if (Number.isFinite(ts) && ts > Date.now() / 1000 + 5 * 60) {
        logger.warn({ skewSeconds: Math.round(ts - Date.now() / 1000) }, 'slack request dated in the future refused');
        res.writeHead(401).end();
        return;
      }
      return listener(req, res);
    });
    logger.info({ mode: 'http', path: '/slack/events' }, 'slack adapter ready');
  } else {
    await app.start();
    logger.info({ mode: 'socket' }, 'slack adapter ready');
  }

  return {
    app,
    store,
    async close() {
      if (socketMode) await app.stop();
      clients.clear();
    },
  };
}

