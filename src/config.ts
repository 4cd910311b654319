/**
 * One zod schema over the environment. A bad value stops start-up with one line that names the
 * variable and what it expects (see ConfigError).
 */
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const url = z.url({ message: 'a URL such as http://127.0.0.1:11434' });
const int = (min: number, max: number) =>
  z.coerce.number({ message: `a whole number from ${min} to ${max}` }).int().min(min).max(max);
const base64Key = z.string().refine((v) => Buffer.from(v, 'base64').length === 32, {
  message: 'a 32-byte key in base64 (openssl rand -base64 32)',
});
const pgUrl = z.string().regex(/^postgres(ql)?:\/\//, { message: 'a postgres:// URL' });

export const configSchema = z.object({
  PORT: int(0, 65535).default(3000),
  PUBLIC_URL: url.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Message text is kept out of logs unless an operator turns this on to debug. */
  LOG_MESSAGE_TEXT: bool.default(false),

  DATABASE_URL: pgUrl.optional(),
  DATA_DIR: z.string().min(1).default('./data'),

  OLLAMA_HOST: url.default('http://127.0.0.1:11434'),
  OLLAMA_CHAT_MODEL: z.string().min(1).default('llama3.2:3b'),
  OLLAMA_EMBED_MODEL: z.string().min(1).default('nomic-embed-text'),
  OLLAMA_PARALLEL: int(1, 256).default(4),
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
  DEFAULT_PLAN: z.string().min(1).default('free'),

  QDRANT_URL: url.optional(),
  QDRANT_API_KEY: z.string().optional(),
  QDRANT_COLLECTION: z.string().min(1).default('tenant_knowledge'),
  /** Most knowledge passages put into one prompt. */
  RETRIEVAL_TOP_K: int(1, 50).default(4),
  /** Cosine similarity below which a passage is not used (depends on the embedding model). */
  RETRIEVAL_MIN_SCORE: z.coerce.number({ message: 'a number from -1 to 1' }).min(-1).max(1).default(0.35),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, { message: 'a redis:// URL' }).optional(),
  ENCRYPTION_KEY: base64Key.optional(),
  /** Earlier keys still able to decrypt, as "id:base64,id:base64", while rows are re-sealed. */
  ENCRYPTION_OLD_KEYS: z.string().optional(),

  SLACK_SIGNING_SECRET: z.string().optional(),
  SLACK_CLIENT_ID: z.string().optional(),
  SLACK_CLIENT_SECRET: z.string().optional(),
  SLACK_STATE_SECRET: z.string().optional(),
  SLACK_APP_TOKEN: z.string().optional(),
  SLACK_API_URL: url.default('https://slack.com/api/'),

  DISCORD_TOKEN: z.string().optional(),
  DISCORD_APPLICATION_ID: z.string().optional(),
  DISCORD_CLIENT_SECRET: z.string().optional(),
  DISCORD_API_URL: url.default('https://discord.com/api'),
  /** Register slash commands in this guild only (instant, for development). */
  DISCORD_DEV_GUILD_ID: z.string().optional(),
  /** Shards this process runs, e.g. "0,1", out of DISCORD_SHARD_COUNT. */
  DISCORD_SHARD_IDS: z.string().regex(/^\d+(,\d+)*$/, { message: 'shard ids such as 0,1' }).optional(),
  DISCORD_SHARD_COUNT: int(1, 10_000).optional(),
  /** Ask for the privileged Message Content intent (needed only for channel mode `all`). */
  DISCORD_MESSAGE_CONTENT: bool.default(false),
});

export type Config = z.infer<typeof configSchema> & { PUBLIC_URL: string };

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError whose message is one line per bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  const result = configSchema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      return `invalid configuration: ${name} must be ${i.message} (got ${JSON.stringify(cleaned[name] ?? '')})`;
    });
    throw new ConfigError(lines.join('\n'));
  }
  const c = result.data;
  const slackParts = [c.SLACK_SIGNING_SECRET, c.SLACK_CLIENT_ID, c.SLACK_CLIENT_SECRET];
  if (slackParts.some(Boolean) && !slackParts.every(Boolean)) {
    throw new ConfigError(
      'invalid configuration: SLACK_SIGNING_SECRET, SLACK_CLIENT_ID and SLACK_CLIENT_SECRET must be set together',
    );
  }
  if (c.DISCORD_TOKEN && !c.DISCORD_APPLICATION_ID) {
    throw new ConfigError('invalid configuration: DISCORD_APPLICATION_ID must be set when DISCORD_TOKEN is');
  }
  if (slackParts.every(Boolean) && !c.ENCRYPTION_KEY) {
    throw new ConfigError('invalid configuration: ENCRYPTION_KEY must be set (32 bytes, base64) when Slack is on, to seal tokens');
  }
  return { ...c, PUBLIC_URL: (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/$/, '') };
}
