/**
 * Runs the real nginx binary on the gateway template, the way the official
 * nginx image would: the template rendered with envsubst semantics (only the
 * named variables), included in an http block like the image's nginx.conf.
 * Everything nginx writes (pid, temp files, logs) stays in a temp directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@tollgate/test-kit';

export const TEMPLATE_PATH = path.join(
  import.meta.dirname,
  '..',
  '..',
  'nginx',
  'templates',
  'default.conf.template',
);

/** The variables the image substitutes (compose restricts NGINX_ENVSUBST_FILTER to them). */
export const TEMPLATE_VARIABLES = [
  'AUTH_UPSTREAM',
  'BILLING_UPSTREAM',
  'UPSTREAM_SERVER_FLAGS',
  'NGINX_RESOLVER',
  'TRUSTED_PROXY',
] as const;

/**
 * envsubst with an explicit variable list: `$NAME` and `${NAME}` for the
 * listed names only; every other `$...` (nginx's own variables) is left alone.
 */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (match, braced, bare) => {
      const name = (braced ?? bare) as string;
      return Object.hasOwn(values, name) ? (values[name] as string) : match;
    },
  );
}

export { freePort };

export interface NginxOptions {
  /**
   * host:port of the auth service, as AUTH_UPSTREAM (e.g. `127.0.0.1:3001`,
   * `auth:3000`), or one per replica: the template's one `server` line is
   * then written once per address, which is what `resolve` makes of a name
   * with several addresses in compose and Kubernetes (Debian's nginx 1.22
   * has no `resolve`, and loopback replicas differ by port, not address).
   */
  authUpstream: string | string[];
  billingUpstream: string | string[];
  /**
   * TRUSTED_PROXY: the hop (CIDR) whose X-Forwarded-Proto/-For nginx believes, e.g. a
   * TLS terminator; default 127.0.0.1/32, as in compose (nothing in front).
   */
  trustedProxy?: string;
  /** Where nginx listens on 127.0.0.1 (default: a free port). */
  port?: number;
  /** Default /usr/sbin/nginx (Debian's package), else NGINX_BIN. */
  binary?: string;
  /** How long to wait for the port to accept connections. */
  startTimeoutMs?: number;
  /**
   * Keep-alive for clients (default on, 65 s, as the image's nginx.conf).
   * Off for tests that reload nginx under traffic (setUpstreams): a reload
   * closes the old workers' idle client connections, and a client that
   * reuses one at that moment sees the connection drop.
   */
  clientKeepalive?: boolean;
}

export interface RunningNginx {
  url: string;
  port: number;
  /** The temp directory with nginx.conf, conf.d/default.conf and the logs. */
  dir: string;
  /** The rendered conf.d/default.conf. */
  config: string;
  readErrorLog(): Promise<string>;
  /**
   * Rewrites the upstream servers and reloads nginx (SIGHUP; old workers
   * finish their requests), as an endpoints change does in Kubernetes;
   * resolves once the new workers run.
   */
  setUpstreams(upstreams: { auth: string | string[]; billing: string | string[] }): Promise<void>;
  /** What nginx wrote to the access log (the template's format). */
  readAccessLog(): Promise<string>;
  stop(): Promise<void>;
}

/** The image's http block, reduced to what the template relies on, with every path under `dir`. */
function mainConfig(dir: string, clientKeepalive = true): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;

events {
    worker_connections 256;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log ${dir}/access.log;
    sendfile on;
    keepalive_timeout ${clientKeepalive ? 65 : 0};
    client_body_temp_path ${dir}/tmp/client_body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
    include ${dir}/conf.d/*.conf;
}
`;
}

function waitForPort(port: number, child: ChildProcess, timeoutMs: number, stderr: () => string) {
  const deadline = Date.now() + timeoutMs;
  return new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`nginx exited with ${code} before listening:\n${stderr()}`));
    child.once('exit', onExit);
    const attempt = () => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        child.off('exit', onExit);
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) {
          child.off('exit', onExit);
          reject(new Error(`nginx did not listen on ${port} within ${timeoutMs} ms:\n${stderr()}`));
        } else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

export async function startNginx(options: NginxOptions): Promise<RunningNginx> {
  const binary = options.binary ?? process.env.NGINX_BIN ?? '/usr/sbin/nginx';
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-nginx-'));
  // Workers drop to an unprivileged user when nginx runs as root: they must reach the temp paths.
  await chmod(dir, 0o755);
  await mkdir(path.join(dir, 'conf.d'));
  await mkdir(path.join(dir, 'tmp'));

  const template = await readFile(TEMPLATE_PATH, 'utf8');
  const render = (auth: string | string[], billing: string | string[]) => {
    const first = (upstream: string | string[]) => (Array.isArray(upstream) ? upstream[0] : upstream) ?? '';
    let rendered = renderTemplate(template, {
      AUTH_UPSTREAM: first(auth),
      BILLING_UPSTREAM: first(billing),
      // Debian's nginx has no `resolve`; loopback addresses need no re-resolution.
      UPSTREAM_SERVER_FLAGS: '',
      NGINX_RESOLVER: '127.0.0.1',
      TRUSTED_PROXY: options.trustedProxy ?? '127.0.0.1/32',
    });
    for (const upstream of [auth, billing]) {
      if (!Array.isArray(upstream)) continue;
      const line = new RegExp(`^(\\s*)server ${first(upstream).replaceAll('.', '\\.')}( .*)$`, 'm');
      if (!line.test(rendered)) throw new Error(`no server line for ${first(upstream)}`);
      rendered = rendered.replace(line, (_m, indent: string, rest: string) =>
        upstream.map((address) => `${indent}server ${address}${rest}`).join('\n'),
      );
    }
    // The image listens on :80 inside its container; here, a free loopback port.
    const config = rendered.replace(/^(\s*)listen\s+80;$/m, `$1listen 127.0.0.1:${port};`);
    if (config === rendered) throw new Error('the template has no `listen 80;` line to move');
    // The image's access log (a symlink to stdout there) goes to the temp directory.
    return config.replaceAll('/var/log/nginx/access.log', path.join(dir, 'access.log'));
  };
  const logged = render(options.authUpstream, options.billingUpstream);
  await writeFile(path.join(dir, 'conf.d', 'default.conf'), logged);
  await writeFile(path.join(dir, 'nginx.conf'), mainConfig(dir, options.clientKeepalive));

  const child = spawn(
    binary,
    ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) => reject(new Error(`cannot run ${binary}: ${error.message}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const readErrorLog = () => readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
  const readAccessLog = () => readFile(path.join(dir, 'access.log'), 'utf8').catch(() => '');

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };

  const setUpstreams = async (upstreams: { auth: string | string[]; billing: string | string[] }) => {
    await writeFile(path.join(dir, 'conf.d', 'default.conf'), render(upstreams.auth, upstreams.billing));
    const started = async () => ((await readErrorLog()).match(/start worker process/g) ?? []).length;
    const before = await started();
    child.kill('SIGHUP');
    const deadline = Date.now() + 10_000;
    while ((await started()) <= before) {
      if (Date.now() > deadline) throw new Error(`nginx did not reload:\n${await readErrorLog()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  try {
    await spawned;
    await waitForPort(port, child, options.startTimeoutMs ?? 10_000, () => stderr);
  } catch (error) {
    const log = await readErrorLog();
    await stop();
    throw new Error(`${(error as Error).message}\n${log}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    config: logged,
    readErrorLog,
    readAccessLog,
    setUpstreams,
    stop,
  };
}
