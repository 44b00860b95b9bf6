/**
 * The account mails, each as a subject, a plain-text body and an HTML body.
 * Links carry their token after `#`: a fragment is never sent to a server,
 * so it stays out of access logs, proxies and Referer headers; the page it
 * opens reads it and posts it to the API.
 */

export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

function layout(title: string, paragraphs: string[], action?: { label: string; url: string }): string {
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  const button = action
    ? `<p><a href="${escapeHtml(action.url)}" style="display:inline-block;padding:10px 16px;background:#1f4bd8;color:#fff;border-radius:6px;text-decoration:none">${escapeHtml(action.label)}</a></p>
<p style="color:#555;font-size:13px">Or paste this address into your browser: ${escapeHtml(action.url)}</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:560px;margin:24px auto;color:#111">
<h1 style="font-size:20px">${escapeHtml(title)}</h1>
${body}
${button}
<p style="color:#555;font-size:13px">tollgate</p>
</body></html>`;
}

function text(paragraphs: string[], url?: string): string {
  return `${[...paragraphs, ...(url ? [url] : [])].join('\n\n')}\n\n-- \ntollgate\n`;
}

export function verifyEmailMail(login: string, url: string, hours: number): MailContent {
  const subject = 'Confirm your email address';
  const lines = [
    `Hello ${login},`,
    'Please confirm that this is your email address by opening the link below.',
    `The link works once, for ${hours} hours. If you did not create a tollgate account, ignore this mail.`,
  ];
  return {
    subject,
    text: text(lines, url),
    html: layout(subject, lines, { label: 'Confirm my email', url }),
  };
}

export function resetPasswordMail(login: string, url: string, minutes: number): MailContent {
  const subject = 'Reset your password';
  const lines = [
    `Hello ${login},`,
    'Someone asked to reset the password of your tollgate account. Open the link below to choose a new one; doing so logs you out everywhere.',
    `The link works once, for ${minutes} minutes. If it was not you, ignore this mail: your password stays as it is.`,
  ];
  return {
    subject,
    text: text(lines, url),
    html: layout(subject, lines, { label: 'Choose a new password', url }),
  };
}

export function confirmEmailChangeMail(login: string, url: string, hours: number): MailContent {
  const subject = 'Confirm your new email address';
  const lines = [
    `Hello ${login},`,
    'You asked to use this address for your tollgate account. Open the link below to confirm it; until then your old address stays in use.',
    `The link works once, for ${hours} hours.`,
  ];
  return {
    subject,
    text: text(lines, url),
    html: layout(subject, lines, { label: 'Confirm the new address', url }),
  };
}

export function emailChangeNoticeMail(login: string, newEmail: string): MailContent {
  const subject = 'Your email address is being changed';
  const lines = [
    `Hello ${login},`,
    `Someone logged in to your tollgate account asked to change its email address to ${newEmail}. The change happens when the new address is confirmed.`,
    'If this was not you, change your password now: that logs everyone else out.',
  ];
  return { subject, text: text(lines), html: layout(subject, lines) };
}
