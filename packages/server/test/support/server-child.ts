/**
 * A Jot server in a child process, configured only by its environment (JOT_*), for tests that kill the process
 * (SIGKILL: no shutdown hooks run) and start it again on the same data. Prints `READY <port>` once listening.
 */
import { createServer, loadConfig } from '@jot/server';

const config = loadConfig({ file: false });
const app = await createServer({ config, logger: false });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`READY ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
