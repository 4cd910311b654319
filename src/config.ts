/**
 * One zod schema over the environment (and a `.env` file in the working folder, which the real
 * environment overrides). A bad value stops start-up with one line per problem that names the
 * variable and what it expects, and never shows a secret (see ConfigError, config-fields.ts).
 * `.env.example` and the README's settings table list exactly these names (a test checks it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import {
  base64Key,
  bool,
  httpUrl,
  int,
  modelName,
  oldKeys,
  keepAlive,
  ollamaHosts,
  planName,
  secret,
  showValue,
  slotCounts,
} from './config-fields.js';

const pgUrl = z.string().regex(/^postgres(ql)?:\/\/\S+$/, { message: 'a postgres:// URL' });
const digits = (what: string) => z.string().regex(/^\d{1,20}$/, { message: `${what} (digits only)` });

export const configSchema = z.object({
  PORT: int(0, 65535).default(3000),
  PUBLIC_URL: httpUrl.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'one of fatal, error, warn, info, debug, trace, silent' }).default('info'),
  /** Message text is kept out of logs unless an operator turns this on to debug. */
  LOG_MESSAGE_TEXT: bool.default(false),
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  METRICS_TOKEN: z.string().regex(/^\S{16,}$/, { message: 'at least 16 characters without spaces (openssl rand -hex 32)' }).optional(),

  DATABASE_URL: pgUrl.optional(),
  DATA_DIR: z.string().min(1).default('./data'),

  /** One Ollama server, or a comma-separated list of them (a pool). */
  OLLAMA_HOST: ollamaHosts.default(['http://127.0.0.1:11434']),
  OLLAMA_CHAT_MODEL: modelName.default('llama3.2:3b'),
  OLLAMA_EMBED_MODEL: modelName.default('nomic-embed-text'),
  /** Requests in flight to each backend at once: one number for all, or one per backend in OLLAMA_HOST's order. */
  OLLAMA_PARALLEL: slotCounts(1, 256).default([4]),
  /** Context size every call sends for a model (mixed num_ctx makes Ollama reload the model). */
  OLLAMA_NUM_CTX: int(256, 1_048_576).default(8192),
  /** How long Ollama keeps a model loaded after a call, sent with every call. */
  OLLAMA_KEEP_ALIVE: keepAlive.default('30m'),
  /** Pull missing models at start-up (with progress in the log). */
  OLLAMA_PULL: bool.default(false),
  /** Longest silence inside a streamed answer before it is abandoned, in ms. */
  OLLAMA_STALL_MS: int(100, 600_000).default(30_000),
  /** Longest whole request, in ms. */
  OLLAMA_TIMEOUT_MS: int(100, 3_600_000).default(300_000),

  /** Requests waiting for the backend across all tenants before new ones get "busy". */
  QUEUE_MAX: int(1, 100_000).default(200),
  /** Longest wait in the queue before a request gets "busy", in ms. */
  QUEUE_WAIT_MS: int(100, 3_600_000).default(120_000),
  /** Plan of newly installed tenants; see the README for why a new install starts on `team`. */
  DEFAULT_PLAN: planName.default('team'),
  /** Longest question accepted; longer ones get a reply saying the limit. */
  MAX_QUESTION_CHARS: int(1, 1_000_000).default(8000),
  /** How long a stopping instance lets running answers finish, in ms. */
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(25_000),
  /** An interrupted answer younger than this is answered again after a restart; older ones get a notice. */
  RESUME_MAX_AGE_S: int(0, 86_400).default(600),
  /** How long an answer's lease lasts unrenewed: after a crash, another instance takes the answer over after this. */
  ANSWER_LEASE_MS: int(1_000, 600_000).default(30_000),

  QDRANT_URL: httpUrl.optional(),
  QDRANT_API_KEY: secret('an API key').optional(),
  QDRANT_COLLECTION: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, { message: 'a collection name (letters, digits, _ and -)' }).default('tenant_knowledge'),
  /** Most knowledge passages put into one prompt. */
  RETRIEVAL_TOP_K: int(1, 50).default(4),
  /** Cosine similarity below which a passage is not used (depends on the embedding model). */
  RETRIEVAL_MIN_SCORE: z.coerce.number({ message: 'a number from -1 to 1' }).min(-1).max(1).default(0.35),
  REDIS_URL: z.string().regex(/^rediss?:\/\/\S+$/, { message: 'a redis:// URL' }).optional(),
  ENCRYPTION_KEY: base64Key.optional(),
  /** Earlier keys still able to decrypt, as "label:base64,label:base64", while rows are re-sealed. */
  ENCRYPTION_OLD_KEYS: oldKeys.optional(),

  SLACK_SIGNING_SECRET: secret('the signing secret').optional(),
  SLACK_CLIENT_ID: z.string().regex(/^[\w.-]+$/, { message: 'the client id from Basic Information, such as 1234.5678' }).optional(),
  SLACK_CLIENT_SECRET: secret('the client secret').optional(),
  SLACK_STATE_SECRET: secret('a long random string (openssl rand -hex 32)').optional(),
  SLACK_APP_TOKEN: z.string().regex(/^xapp-\S+$/, { message: 'an app-level token starting with xapp-' }).optional(),
  SLACK_API_URL: httpUrl.default('https://slack.com/api/'),

  DISCORD_TOKEN: secret('the bot token').optional(),
  DISCORD_APPLICATION_ID: digits('the application id').optional(),
  DISCORD_CLIENT_SECRET: secret('the OAuth2 client secret').optional(),
  DISCORD_API_URL: httpUrl.default('https://discord.com/api'),
  /** Register slash commands in this guild only (instant, for development). */
  DISCORD_DEV_GUILD_ID: digits('a guild id').optional(),
  /** Shards this process runs, e.g. "0,1", out of DISCORD_SHARD_COUNT. */
  DISCORD_SHARD_IDS: z.string().regex(/^\d+(,\d+)*$/, { message: 'shard ids such as 0,1' }).optional(),
  DISCORD_SHARD_COUNT: int(1, 10_000).optional(),
  /** Ask for the privileged Message Content intent (needed only for channel mode `all`). */
  DISCORD_MESSAGE_CONTENT: bool.default(false),
});

type Parsed = z.infer<typeof configSchema>;

/** One Ollama server of the pool and its slots. */
export interface OllamaBackendConfig {
  host: string;
  parallel: number;
}

export type Config = Omit<Parsed, 'OLLAMA_HOST' | 'OLLAMA_PARALLEL'> & {
  PUBLIC_URL: string;
  /** The backends (OLLAMA_HOST with OLLAMA_PARALLEL), in the order given. */
  OLLAMA_BACKENDS: OllamaBackendConfig[];
  /** The backends' URLs joined by ", ", for messages and logs (may carry credentials: redact before showing). */
  OLLAMA_HOST: string;
  /** Slots over all backends (the sum of their OLLAMA_PARALLEL): calls running at once at most. */
  OLLAMA_PARALLEL: number;
};

/** Every setting's name, in the schema's order. */
export const settingNames = Object.keys(configSchema.shape) as (keyof typeof configSchema.shape)[];

/** Its message is one line per problem, safe to print: no secret appears in it. */
export class ConfigError extends Error {}

/**
 * The environment the service reads: `.env` in `cwd` when there is one, with every variable of
 * the real environment taking precedence over it.
 */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): NodeJS.ProcessEnv {
  let text: string;
  try {
    text = readFileSync(join(cwd, '.env'), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return env;
    throw new ConfigError(`invalid configuration: .env in ${cwd} cannot be read (${code}): fix its permissions or remove it`);
  }
  return { ...parseEnv(text), ...env };
}

/** Parses the environment; throws ConfigError whose message is one line per bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  const result = configSchema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      return `invalid configuration: ${name} must be ${i.message} (got ${showValue(name, cleaned[name])})`;
    });
    throw new ConfigError([...new Set(lines)].join('\n'));
  }
  const c = result.data;
  const problems = combinationProblems(c);
  if (problems.length) throw new ConfigError(problems.map((p) => `invalid configuration: ${p}`).join('\n'));
  const backends = c.OLLAMA_HOST.map((host, i) => ({ host, parallel: c.OLLAMA_PARALLEL.length === 1 ? c.OLLAMA_PARALLEL[0]! : c.OLLAMA_PARALLEL[i]! }));
  return {
    ...c,
    PUBLIC_URL: (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/$/, ''),
    OLLAMA_BACKENDS: backends,
    OLLAMA_HOST: c.OLLAMA_HOST.join(', '),
    OLLAMA_PARALLEL: backends.reduce((n, b) => n + b.parallel, 0),
  };
}

/** Settings that are each valid but do not fit together (a half-configured app runs nowhere). */
function combinationProblems(c: Parsed): string[] {
  const out: string[] = [];
  if (c.OLLAMA_PARALLEL.length > 1 && c.OLLAMA_PARALLEL.length !== c.OLLAMA_HOST.length) {
    out.push(
      `OLLAMA_PARALLEL lists ${c.OLLAMA_PARALLEL.length} numbers but OLLAMA_HOST names ${c.OLLAMA_HOST.length} backend(s): ` +
        'give one number for every backend, or one per backend in OLLAMA_HOST\'s order',
    );
  }
  const slack = { SLACK_SIGNING_SECRET: c.SLACK_SIGNING_SECRET, SLACK_CLIENT_ID: c.SLACK_CLIENT_ID, SLACK_CLIENT_SECRET: c.SLACK_CLIENT_SECRET };
  const missing = Object.entries(slack).filter(([, v]) => !v).map(([k]) => k);
  const slackOn = missing.length === 0;
  if (missing.length > 0 && missing.length < 3) {
    out.push(
      `SLACK_SIGNING_SECRET, SLACK_CLIENT_ID and SLACK_CLIENT_SECRET must be set together (missing ${missing.join(', ')}); ` +
        'copy them from the Slack app\'s Basic Information, or unset all three to run without Slack',
    );
  }
  if (c.SLACK_APP_TOKEN && !slackOn) out.push('SLACK_APP_TOKEN is set but Slack is off: set SLACK_SIGNING_SECRET, SLACK_CLIENT_ID and SLACK_CLIENT_SECRET too, or unset it');
  if (slackOn && !c.ENCRYPTION_KEY) out.push('ENCRYPTION_KEY must be set (32 bytes, base64: openssl rand -base64 32) when Slack is on, to seal tokens');
  if (c.DISCORD_TOKEN && !c.ENCRYPTION_KEY) {
    out.push('ENCRYPTION_KEY must be set (32 bytes, base64: openssl rand -base64 32) when Discord is on, to seal the interaction tokens pending answers keep');
  }
  if (c.ENCRYPTION_OLD_KEYS && !c.ENCRYPTION_KEY) out.push('ENCRYPTION_OLD_KEYS is set without ENCRYPTION_KEY: set the new key as ENCRYPTION_KEY');
  if (c.DISCORD_TOKEN && !c.DISCORD_APPLICATION_ID) {
    out.push('DISCORD_APPLICATION_ID must be set when DISCORD_TOKEN is (the application id from the Discord developer portal)');
  }
  if (c.QDRANT_API_KEY && !c.QDRANT_URL) out.push('QDRANT_API_KEY is set without QDRANT_URL: set QDRANT_URL, or unset the key');
  if (c.DISCORD_SHARD_COUNT !== undefined && !c.DISCORD_SHARD_IDS) {
    out.push('DISCORD_SHARD_COUNT is set without DISCORD_SHARD_IDS: name the shards this process runs, e.g. DISCORD_SHARD_IDS=0,1');
  }
  if (c.DISCORD_SHARD_IDS) {
    const ids = c.DISCORD_SHARD_IDS.split(',').map(Number);
    if (new Set(ids).size !== ids.length) out.push(`DISCORD_SHARD_IDS lists a shard twice (got "${c.DISCORD_SHARD_IDS}")`);
    const count = c.DISCORD_SHARD_COUNT;
    const over = count === undefined ? [] : ids.filter((id) => id >= count);
    if (over.length) {
      out.push(`DISCORD_SHARD_IDS must be below DISCORD_SHARD_COUNT (${count}): shard ids count from 0 (got ${over.join(', ')})`);
    }
  }
  return out;
}
