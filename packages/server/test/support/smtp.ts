/**
 * A real SMTP server for tests (the `smtp-server` package) on a spare loopback port, which can be stopped and
 * started again on the same port. It keeps every message it accepted, decoded enough to read subjects and links.
 */
import { createServer as createNetServer } from 'node:net';

import { SMTPServer } from 'smtp-server';

/** A message as received. */
export interface ReceivedMail {
  to: string[];
  from: string;
  subject: string;
  messageId: string;
  text: string;
  html: string;
  raw: string;
}

/** The test SMTP server. */
export interface TestSmtp {
  readonly port: number;
  /** `smtp://127.0.0.1:<port>` */
  readonly url: string;
  readonly messages: ReceivedMail[];
  /** Waits (polling, with a deadline) for a message matching `match`. */
  waitFor(match: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A TCP port nothing listens on right now (bind port 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function decodeBody(headers: string, body: string): string {
  const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(headers)?.[1]?.toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

function decodeHeader(value: string): string {
  return value.replace(/=\?utf-8\?([BQ])\?([^?]*)\?=/gi, (_m, kind: string, data: string) =>
    kind.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64').toString('utf8')
      : decodeQuotedPrintable(data.replace(/_/g, ' ')),
  );
}

/** Splits a MIME message (as nodemailer writes it) into its text and HTML parts. */
export function parseMail(raw: string): Omit<ReceivedMail, 'to' | 'from'> {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const header = (name: string): string =>
    decodeHeader(new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(unfolded)?.[1]?.trim() ?? '');
  const body = rest.join('\n\n');
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(unfolded)?.[1];
  let text = '';
  let html = '';
  const parts = boundary === undefined ? [`${head}\n\n${body}`] : body.split(`--${boundary}`);
  for (const part of parts) {
    const [partHead = '', ...partBody] = part.replace(/^\r?\n/, '').split(/\r?\n\r?\n/);
    const content = decodeBody(partHead, partBody.join('\n\n').replace(/\r?\n$/, ''));
    if (/content-type:\s*text\/plain/i.test(partHead)) text = content;
    else if (/content-type:\s*text\/html/i.test(partHead)) html = content;
  }
  return { subject: header('Subject'), messageId: header('Message-ID'), text, html, raw };
}

/** Starts a test SMTP server on a spare port. */
export async function startSmtp(): Promise<TestSmtp> {
  const port = await freePort();
  const messages: ReceivedMail[] = [];
  let server: SMTPServer | undefined;

  async function start(): Promise<void> {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          messages.push({
            ...parseMail(raw),
            to: session.envelope.rcptTo.map((r) => r.address),
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          });
          callback();
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server!.listen(port, '127.0.0.1', () => resolve());
      server!.server.once('error', reject);
    });
  }

  await start();
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async waitFor(match, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find(match);
        if (found !== undefined) return found;
        if (Date.now() > deadline) {
          throw new Error(
            `no matching message within ${timeoutMs} ms (got: ${messages.map((m) => m.subject).join(', ')})`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    start,
  };
}

/** The link in a message's text (the first URL). */
export function linkIn(mail: ReceivedMail): string {
  const match = /https?:\/\/\S+/.exec(mail.text);
  if (match === null) throw new Error(`no link in "${mail.subject}"`);
  return match[0];
}

/** The `token` query parameter of a web-UI link (`…/#/route?token=…`). */
export function tokenIn(link: string): string {
  const query = link.split('?')[1] ?? '';
  const token = new URLSearchParams(query).get('token');
  if (token === null) throw new Error(`no token in ${link}`);
  return token;
}
