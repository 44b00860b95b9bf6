/**
 * Where `npm start`'s logs go. Every service logs pino JSON lines; each line
 * is appended to <data dir>/logs/<service>.log as it is, and echoed to the
 * terminal: as one readable line tagged with the service (pino-pretty) when
 * stdout is a terminal, else as the JSON line itself (for a log collector).
 *
 * Fastify logs a request twice ("incoming request", then "request
 * completed"); in the terminal the pair becomes one line, "GET /path -> 200
 * (3 ms)", printed when the answer is sent.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { prettyFactory } from 'pino-pretty';

export type LogTag = 'auth' | 'billing' | 'gateway' | 'emulator';

export interface LogSink {
  write(line: string): boolean;
}

export interface LogOutput {
  /** The stream a service's logger writes its JSON lines to. */
  sink(tag: LogTag): LogSink;
  dir: string;
  close(): Promise<void>;
}

interface LogLine {
  level?: number;
  msg?: string;
  name?: string;
  reqId?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
  [key: string]: unknown;
}

export interface LogOutputOptions {
  dir: string;
  /** Readable lines (a terminal) instead of JSON on `out`. */
  pretty: boolean;
  out?: { write(text: string): unknown };
}

const TAG_WIDTH = 8;
const PROXY_CHATTER = new Set(['fetching from remote server', 'response received']);

export function createLogOutput(options: LogOutputOptions): LogOutput {
  const out = options.out ?? process.stdout;
  mkdirSync(options.dir, { recursive: true });
  const files = new Map<LogTag, WriteStream>();
  const sinks = new Map<LogTag, LogSink>();
  const prettify = prettyFactory({
    colorize: options.pretty && process.stdout.hasColors?.() === true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,name,reqId,req,res,responseTime,tag',
    singleLine: true,
    messageFormat: (log) => `${String(log.tag).padEnd(TAG_WIDTH)} ${String(log.msg ?? '')}`,
  });

  const sink = (tag: LogTag): LogSink => {
    const existing = sinks.get(tag);
    if (existing) return existing;
    const file = createWriteStream(path.join(options.dir, `${tag}.log`), { flags: 'a' });
    files.set(tag, file);
    const pending = new Map<string, string>();
    const created: LogSink = {
      write(line: string) {
        file.write(line.endsWith('\n') ? line : `${line}\n`);
        if (!options.pretty) {
          out.write(line.endsWith('\n') ? line : `${line}\n`);
          return true;
        }
        let log: LogLine;
        try {
          log = JSON.parse(line) as LogLine;
        } catch {
          out.write(`${tag.padEnd(TAG_WIDTH)} ${line}`);
          return true;
        }
        // @fastify/http-proxy's own two lines per proxied request add nothing to the request line.
        if (PROXY_CHATTER.has(log.msg ?? '') && (log.level ?? 30) <= 30) return true;
        const key = `${log.reqId}`;
        if (log.msg === 'incoming request' && log.req) {
          pending.set(key, `${log.req.method} ${log.req.url}`);
          return true;
        }
        if (log.msg === 'request completed') {
          const request = pending.get(key) ?? 'request';
          pending.delete(key);
          log.msg = `${request} -> ${log.res?.statusCode} (${Math.round(log.responseTime ?? 0)} ms)`;
        }
        out.write(prettify({ ...log, tag }));
        return true;
      },
    };
    sinks.set(tag, created);
    return created;
  };

  return {
    sink,
    dir: options.dir,
    async close() {
      await Promise.all(
        [...files.values()].map((file) => new Promise<void>((resolve) => file.end(() => resolve()))),
      );
    },
  };
}
