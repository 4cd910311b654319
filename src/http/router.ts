/**
 * The HTTP shell's routing port. Adapters register their routes (Slack events, OAuth, Discord
 * install) on it; the core serves health, readiness and metrics.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpRouter {
  /** `path` is matched exactly, without the query string. */
  route(method: 'GET' | 'POST', path: string, handler: HttpHandler): void;
}
