/**
 * Start-up failures as one line each: which setting or dependency failed and what to do about
 * it, instead of a driver's stack trace. The service, the console and the operator CLI print
 * `StartupError.message` as it is and exit non-zero; secrets never appear (URLs lose their
 * password).
 */
import { redactUrl } from './config-fields.js';

export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);
const FOLDER_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'ENOSPC']);

/** The first `code` in the error's cause chain (node, postgres.js, undici and discord.js all nest them). */
export function errorCode(err: unknown): string | undefined {
  for (let e: any = err, depth = 0; e && depth < 6; e = e.cause, depth++) {
    if (typeof e.code === 'string' || typeof e.code === 'number') return String(e.code);
    if (Array.isArray(e.errors) && e.errors[0]?.code) return String(e.errors[0].code);
  }
  return undefined;
}

export function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message.split('\n')[0] ?? '').trim() || (err instanceof Error ? err.name : 'unknown error');
}

/** Opening or migrating the database failed. */
export function databaseFailure(err: unknown, where: { url?: string; dataDir: string }): StartupError {
  if (err instanceof StartupError) return err;
  const code = errorCode(err);
  if (!where.url) {
    // Another process owns the folder and its socket does not answer: its message says what to do.
    if (err instanceof Error && err.name === 'DataDirHeldError') return new StartupError(`DATA_DIR ${err.message}`, { cause: err });
    if (code && FOLDER_CODES.has(code)) {
      return new StartupError(
        `DATA_DIR ${where.dataDir} is not a writable folder (${code}): point DATA_DIR at a folder this user can write, or set DATABASE_URL to use a PostgreSQL server`,
        { cause: err },
      );
    }
    return new StartupError(
      `the embedded database under DATA_DIR ${where.dataDir} could not be opened (${firstLine(err)}): stop any other process using that folder, or point DATA_DIR elsewhere`,
      { cause: err },
    );
  }
  const url = redactUrl(where.url);
  if (code && NETWORK_CODES.has(code)) {
    return new StartupError(`cannot reach the database at ${url} (${code}): check DATABASE_URL and that PostgreSQL is running and accepts connections there`, {
      cause: err,
    });
  }
  if (code === '28P01' || code === '28000') {
    return new StartupError(`the database at ${url} refused the login (${firstLine(err)}): check the user and password in DATABASE_URL`, { cause: err });
  }
  if (code === '3D000') {
    return new StartupError(`the database named in DATABASE_URL does not exist (${url}): create it (createdb NAME) or fix the URL`, { cause: err });
  }
  return new StartupError(`the database at ${url} could not be prepared (${firstLine(err)}): check DATABASE_URL and the server's log`, { cause: err });
}

/** The HTTP server could not listen. */
export function listenFailure(err: unknown, port: number): StartupError {
  const code = errorCode(err);
  if (code === 'EADDRINUSE') {
    return new StartupError(`PORT ${port} is already in use by another process: stop that process or set PORT to a free port`, { cause: err });
  }
  if (code === 'EACCES') {
    return new StartupError(`PORT ${port} needs privileges this user lacks (EACCES): use a port above 1023, e.g. PORT=3000`, { cause: err });
  }
  return new StartupError(`cannot listen on PORT ${port} (${firstLine(err)}): set PORT to a free port`, { cause: err });
}

/** discord.js could not log in or reach READY. */
export function discordFailure(err: unknown, apiUrl: string): StartupError {
  const code = errorCode(err);
  const status = (err as { status?: unknown } | null)?.status;
  if (code === 'TokenInvalid' || status === 401 || code === '0' || /401|unauthori[sz]ed|invalid token/i.test(firstLine(err))) {
    return new StartupError(
      'DISCORD_TOKEN was rejected by Discord (401 Unauthorized): copy the bot token again from the developer portal (Bot, Reset Token) into DISCORD_TOKEN',
      { cause: err },
    );
  }
  if (code === 'DisallowedIntents' || code === '4014') {
    return new StartupError(
      'Discord refused the Message Content intent: turn it on under Bot, Privileged Gateway Intents in the developer portal, or set DISCORD_MESSAGE_CONTENT=false',
      { cause: err },
    );
  }
  if (code && NETWORK_CODES.has(code)) {
    return new StartupError(`cannot reach the Discord API at ${apiUrl} (${code}): check the network and DISCORD_API_URL, or unset DISCORD_TOKEN to run without Discord`, {
      cause: err,
    });
  }
  return new StartupError(`the Discord adapter could not start (${firstLine(err)}): check DISCORD_TOKEN, DISCORD_APPLICATION_ID and DISCORD_API_URL`, { cause: err });
}

/** Bolt could not start (Socket Mode connects at start; HTTP mode only mounts routes). */
export function slackFailure(err: unknown): StartupError {
  const code = errorCode(err);
  if (code && NETWORK_CODES.has(code)) {
    return new StartupError(`cannot reach Slack (${code}): check the network and SLACK_API_URL, or unset the SLACK_* settings to run without Slack`, { cause: err });
  }
  if (/invalid_auth|not_authed|token_revoked|invalid_token/.test(firstLine(err))) {
    return new StartupError(`Slack rejected SLACK_APP_TOKEN (${firstLine(err)}): create an app-level token with connections:write and set it as SLACK_APP_TOKEN`, {
      cause: err,
    });
  }
  return new StartupError(`the Slack adapter could not start (${firstLine(err)}): check the SLACK_* settings`, { cause: err });
}
