/** Raw HTTP/1.1 over a socket, for what fetch cannot send (malformed requests, CONNECT, an `Expect` header). */
import { connect } from 'node:net';

/** The first answer on a raw connection. */
export interface RawAnswer {
  status: number;
  /** The status line and header lines, lower-cased. */
  headers: string;
  body: Record<string, unknown>;
  /** Everything received, for checks that no second answer came. */
  received: string;
  /** Whether the server closed the connection after answering (within the deadline). */
  closed: boolean;
}

/** Sends `request` as raw bytes to the server at `url` and reads the first answer, waiting up to 5 s for a close. */
export async function rawRequest(url: string, request: string): Promise<RawAnswer> {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  socket.on('error', () => undefined);
  const closed = new Promise<boolean>((resolve) => socket.once('close', () => resolve(true)));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(request);
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    closed,
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5000))),
  ]);
  clearTimeout(timer);
  socket.destroy();
  const [head = '', text = ''] = received.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  return {
    status,
    headers: head.toLowerCase(),
    body: JSON.parse(text) as Record<string, unknown>,
    received,
    closed: ended,
  };
}
