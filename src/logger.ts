/**
 * The process logger: pino JSON lines for machines, or readable lines (pino-pretty) when a person
 * watches the output on a terminal. pino-pretty is loaded only then, so a production install
 * without it logs JSON as before. Tokens and secrets are redacted wherever they appear.
 */
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Fields that carry a credential or message text. */
const secretKeys = ['token', 'botToken', 'userToken', 'accessToken', 'refreshToken', 'clientSecret', 'authorization', 'text', 'content'];

export interface LoggerOptions {
  /** Where lines go (default stdout). */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Readable lines instead of JSON; `'auto'` means "when the destination is a terminal". */
  pretty?: boolean | 'auto';
}

/** `createLogger(level, stream)` is short for `createLogger(level, { destination: stream })`. */
export function createLogger(level: string, optsOrStream: LoggerOptions | NonNullable<LoggerOptions['destination']> = {}): Logger {
  const opts: LoggerOptions = 'write' in optsOrStream ? { destination: optsOrStream } : optsOrStream;
  const destination = opts.destination ?? process.stdout;
  const pretty = opts.pretty === 'auto' ? Boolean(destination.isTTY) : (opts.pretty ?? false);
  const options = {
    level,
    // SDK errors can carry request bodies (message text) and URLs with tokens: log only
    // what identifies the failure.
    serializers: {
      err: (e: any) =>
        e instanceof Error ? { type: e.name, message: e.message, code: (e as any).code, stack: e.stack } : { message: String(e) },
    },
    // At the top level of a log line and one level down (`{ installation: { botToken } }`).
    redact: { paths: secretKeys.flatMap((k) => [k, `*.${k}`]).concat('headers.authorization'), censor: '[redacted]' },
  };
  const stream = pretty ? prettyStream(destination) : undefined;
  return pino(options, (stream ?? destination) as DestinationStream);
}

/** pino-pretty writing to the destination, or undefined when it is not installed. */
function prettyStream(destination: LoggerOptions['destination'] & object): DestinationStream | undefined {
  let build: (o: Record<string, unknown>) => DestinationStream;
  try {
    build = createRequire(import.meta.url)('pino-pretty') as typeof build;
  } catch {
    return undefined;
  }
  return build({
    destination,
    colorize: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
}
