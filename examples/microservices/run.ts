/** One command for the demo: `npx vite-node -c vitest.config.ts examples/microservices/run.ts`. */
import { startMicroservices } from './start.js';

const running = await startMicroservices();
console.log(`auth server  ${running.auth}`);
console.log(`orders       ${running.orders}/orders   (Express)`);
console.log(`profile      ${running.profile}/profile  (Hono; /profile/orders calls orders on your behalf)`);
console.log(`reports      ${running.reports}/reports/daily  (node:http; calls orders with its own token)`);
console.log('Ctrl-C to stop.');
const stop = (): void => {
  void running.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
