/**
 * The processes a bench run starts (contender servers, jot-server instances, redis-server) end with it: on a normal
 * exit, and on SIGINT/SIGTERM (Ctrl-C, or `kill` of a long run), which would otherwise leave them serving and
 * spending CPU in the next run's measurements. A SIGKILL of the bench still leaves them; nothing in-process can help.
 */
const running = new Set();
let installed = false;

function killAll() {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

function install() {
  installed = true;
  process.on('exit', killAll);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ]) {
    process.on(signal, () => {
      killAll();
      process.exit(code);
    });
  }
}

/** Registers `child` (a ChildProcess) to be killed when the bench ends; returns it. */
export function owned(child) {
  if (!installed) install();
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}
