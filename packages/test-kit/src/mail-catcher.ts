/**
 * A real SMTP server for tests: auth sends mail to it over TCP, tests wait
 * for a message to an address and read its links as a user would.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailCatcher {
  smtpUrl: string;
  /** The `nth` (1-based) mail to `to` whose subject matches, waiting for it to arrive. */
  waitFor(to: string, subject: RegExp, nth?: number): Promise<CaughtMail>;
  /** Every mail received so far to `to`. */
  to(address: string): CaughtMail[];
  close(): Promise<void>;
}

export async function startMailCatcher(): Promise<MailCatcher> {
  const mails: CaughtMail[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          for (const rcpt of session.envelope.rcptTo) {
            mails.push({
              to: rcpt.address.toLowerCase(),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
            });
          }
          for (const wake of waiters) wake();
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const find = (to: string, subject: RegExp, nth: number) =>
    mails.filter((m) => m.to === to.toLowerCase() && subject.test(m.subject))[nth - 1];

  return {
    smtpUrl: `smtp://127.0.0.1:${port}`,
    to: (address) => mails.filter((m) => m.to === address.toLowerCase()),
    waitFor(to, subject, nth = 1) {
      const timeoutMs = 10_000;
      const found = find(to, subject, nth);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no mail to ${to} matching ${subject} within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          const mail = find(to, subject, nth);
          if (!mail) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(mail);
        };
        waiters.add(check);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The link of a mail (its plain-text body), and the token after `#<action>=`. */
export function linkIn(mail: CaughtMail, action: string): { url: URL; token: string } {
  const match = new RegExp(`(https?://\\S+/#${action}=([A-Za-z0-9_-]+))`).exec(mail.text);
  if (!match?.[1] || !match[2]) throw new Error(`no ${action} link in: ${mail.text}`);
  return { url: new URL(match[1]), token: match[2] };
}
