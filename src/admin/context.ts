/**
 * What the operator CLI works on, built by the composition root like everything else: the
 * service's own database (DATABASE_URL, or the embedded PGlite under DATA_DIR), migrated as the
 * service migrates it, and the same stores, with no cache in front of tenant reads so the CLI
 * sees what a running service wrote a moment ago. Nothing reaches Ollama or Qdrant until a
 * command uses the knowledge base.
 */
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { createServices, type Services } from '../services.js';
import type { AdminDeps } from './commands.js';

export interface AdminContext {
  deps: AdminDeps;
  close(): Promise<void>;
}

/** The operator's view of the services. */
export function adminDeps(services: Services): AdminDeps {
  return {
    db: services.database.db,
    tenants: services.tenants,
    usage: services.usage,
    audit: services.audit,
    answers: services.answers,
    knowledge: services.knowledge
      ? { knowledge: services.knowledge }
      : { knowledge: undefined, reason: services.knowledgeUnavailable ?? 'knowledge is not available in this deployment' },
    ...(services.knowledge ? { passages: services.knowledge.passagesOf.bind(services.knowledge) } : {}),
  };
}

export async function openAdminContext(config: Config, opts: { logger: Logger; database?: Database; now?: () => Date }): Promise<AdminContext> {
  const services = await createServices(config, { ...opts, freshReads: true, maxConnections: 2 });
  return { deps: { ...adminDeps(services), ...(opts.now ? { now: opts.now } : {}) }, close: () => services.close() };
}
