import { pino, type Logger } from 'pino';

export type { Logger };

/** Tokens and secrets are redacted wherever they appear in a logged object. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: ['*.token', '*.botToken', '*.userToken', '*.accessToken', '*.refreshToken', '*.clientSecret', '*.authorization', 'headers.authorization', '*.text', '*.content'],
        censor: '[redacted]',
      },
    },
    destination as any,
  );
}
