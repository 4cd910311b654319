/** `npm run db:migrate`: apply migrations to DATABASE_URL (or the embedded database). */
import { loadConfig, readEnvironment } from '../config.js';
import { openDatabase } from './client.js';
import { migrate } from './migrate.js';

const config = loadConfig(readEnvironment());
const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR });
await migrate(database);
console.log(`migrated ${database.kind === 'pglite' ? `embedded database in ${config.DATA_DIR}` : 'DATABASE_URL'}`);
await database.close();
