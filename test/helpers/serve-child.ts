// A server process for tests that kill and restart it: config from the environment, like `reshoot serve`.
import { loadConfig } from '../../src/config.js';
import { startReshoot } from '../../src/main.js';

const r = await startReshoot(loadConfig());
process.stdout.write(`LISTENING ${r.url}\n`);
process.once('SIGTERM', () => void r.close().then(() => process.exit(0)));
