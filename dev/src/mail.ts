/**
 * The local mail catcher (MailDev: SMTP in, a web inbox out), started on
 * demand. MailDev loads jsdom (to sanitise HTML mail), socket.io, an MCP
 * server and mailparser when it is imported: about 35 MB of heap and 60 MB
 * of RSS, more than any service here, for mail that most runs never send.
 * So `npm start` listens on its two ports itself, and the first connection
 * to either (auth sending mail, a browser opening the inbox) starts MailDev
 * on two free loopback ports and joins every connection to its own
 * (ADR 0020, "Memory"). Mail kept in `mailDirectory` by an earlier run is
 * there when it starts.
 */
import net from 'node:net';

export interface MailCatcherOptions {
  host: string;
  smtpPort: number;
  webPort: number;
  mailDirectory: string;
}

export interface MailCatcher {
  /** Whether MailDev has been started (by a first connection). */
  readonly started: boolean;
  close(): Promise<void>;
}

interface Backend {
  smtpPort: number;
  webPort: number;
  stop(): Promise<unknown>;
}

async function freeLoopbackPort(host: string): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, host, resolve);
  });
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function startMailDev(options: MailCatcherOptions): Promise<Backend> {
  const [smtpPort, webPort] = [await freeLoopbackPort(options.host), await freeLoopbackPort(options.host)];
  const { MailDev } = await import('maildev');
  const maildev = new MailDev({
    smtp: smtpPort,
    ip: options.host,
    web: webPort,
    webIp: options.host,
    mailDirectory: options.mailDirectory,
    silent: true,
  });
  await maildev.start();
  return { smtpPort, webPort, stop: () => maildev.stop() };
}

/** Listens on the catcher's ports now; MailDev itself starts at the first connection. */
export async function startMailCatcher(
  options: MailCatcherOptions,
  start: (options: MailCatcherOptions) => Promise<Backend> = startMailDev,
): Promise<MailCatcher> {
  let backend: Promise<Backend> | undefined;
  const sockets = new Set<net.Socket>();

  const forwardTo = (which: 'smtpPort' | 'webPort') => (client: net.Socket) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    // Held until MailDev listens: SMTP clients wait for its greeting, browsers for the page.
    client.pause();
    backend ??= start(options);
    backend.then(
      (b) => {
        if (client.destroyed) return;
        const upstream = net.connect(b[which], options.host);
        sockets.add(upstream);
        upstream.once('close', () => sockets.delete(upstream));
        upstream.once('error', () => client.destroy());
        client.once('error', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      },
      (error: unknown) => {
        console.error(`[tollgate] the mail catcher could not start: ${(error as Error).message}`);
        // The next connection tries again.
        backend = undefined;
        client.destroy();
      },
    );
  };

  const servers = [net.createServer(forwardTo('smtpPort')), net.createServer(forwardTo('webPort'))] as const;
  const ports = [options.smtpPort, options.webPort];
  await Promise.all(
    servers.map(
      (server, i) =>
        new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(ports[i], options.host, resolve);
        }),
    ),
  );

  return {
    get started() {
      return backend !== undefined;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      if (backend) await (await backend.catch(() => undefined))?.stop();
    },
  };
}
