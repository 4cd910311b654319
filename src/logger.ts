import { pino, type Logger } from 'pino';

export type { Logger };

/** Tokens and secrets are redacted wherever they appear in a logged object. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      // SDK errors can carry request bodies (message text) and URLs with tokens: log only
      // what identifies the failure.
      serializers: {
        err: (e: any) =>
          e instanceof Error
            ? { type: e.name, message: e.message, code: (e as any).code, stack: e.stack }
            : { message: String(e) },
      },
      redact: {
        paths: ['*.token', '*.botToken', '*.userToken', '*.accessToken', '*.refreshToken', '*.clientSecret', '*.authorization', 'headers.authorization', '*.text', '*.content'],
        censor: '[redacted]',
      },
    },
    destination as any,
  );
}
