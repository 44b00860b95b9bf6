/**
 * Sends mail through SMTP (nodemailer). Without SMTP_URL there is nowhere
 * to send to: each mail is logged (recipient and subject, never the body,
 * whose links carry tokens) and dropped.
 */
import { lazy } from '@tollgate/service-kit';
import type { Transporter } from 'nodemailer';
import type { MailContent } from './templates.js';

export interface Mailer {
  send(to: string, content: MailContent): Promise<void>;
  close(): void;
}

export interface MailerLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export function createMailer(options: { smtpUrl?: string; from: string; log: MailerLog }): Mailer {
  if (!options.smtpUrl) {
    return {
      async send(to, content) {
        options.log.warn({ to, subject: content.subject }, 'SMTP_URL is not set: mail not sent');
      },
      close() {},
    };
  }
  const smtpUrl = options.smtpUrl;
  // nodemailer (~40 modules, ~5 MB resident) is loaded by the first mail, not at start:
  // most processes send none between restarts.
  let made: Transporter | undefined;
  const transport = lazy(async () => {
    const { default: nodemailer } = await import('nodemailer');
    made = nodemailer.createTransport(smtpUrl);
    return made;
  });
  return {
    async send(to, content) {
      const info = await (await transport()).sendMail({ from: options.from, to, ...content });
      options.log.info({ to, subject: content.subject, messageId: info.messageId }, 'mail sent');
    },
    close() {
      made?.close();
    },
  };
}
