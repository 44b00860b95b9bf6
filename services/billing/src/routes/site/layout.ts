/**
 * The frame of every HTML page billing serves (home, success, cancel,
 * /problems): tollgate's mark, colours and header. Styles are inline and
 * the mark is an inline SVG: the gateway's CSP for these pages allows inline
 * styles and nothing from elsewhere, and the pages must work offline.
 */
import { BRAND, LOGO_DATA_URL, LOGO_SVG } from '@tollgate/service-kit';

export const html = (value: unknown) =>
  String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function money(amount: number | null | undefined, currency: string | null | undefined): string {
  if (amount == null || !currency) return '';
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).format(
      amount / 100,
    );
  } catch {
    return `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;
  }
}

const b = BRAND;
const STYLE = `
*{box-sizing:border-box}
body{margin:0;font-family:${b.font};color:${b.ink};background:${b.paper};line-height:1.5}
a{color:${b.primary}}
header.top{background:${b.primaryDark};color:#fff}
header.top .in{max-width:60rem;margin:0 auto;padding:.7rem 1.25rem;display:flex;align-items:center;gap:1.5rem}
header.top a.brand{display:flex;align-items:center;gap:.6rem;color:#fff;text-decoration:none;font-weight:700;font-size:1.25rem;letter-spacing:.01em}
header.top a.brand svg{width:2rem;height:2rem}
header.top nav{margin-left:auto;display:flex;gap:1.1rem}
header.top nav a{color:#d5ebe6;text-decoration:none}
header.top nav a:hover{color:#fff}
main{max-width:60rem;margin:0 auto;padding:1.5rem 1.25rem 3rem}
main.narrow{max-width:40rem}
h1{font-size:1.8rem;margin:.6rem 0 1rem;line-height:1.25}
h2{font-size:1.3rem;margin:2rem 0 .8rem}
h3{font-size:1.05rem;margin:0 0 .6rem}
.box{background:#fff;border:1px solid ${b.line};border-radius:10px;padding:1rem 1.25rem;margin:1rem 0}
.muted{color:${b.muted}}
dt{color:${b.muted};font-size:.9rem}dd{margin:0 0 .6rem 0;font-weight:600}
.button,button{display:inline-block;background:${b.primary};color:#fff;border:0;padding:.55rem 1.05rem;border-radius:7px;text-decoration:none;font:inherit;font-weight:600;cursor:pointer}
.button:hover,button:hover{background:${b.primaryDark}}
button.secondary,.button.secondary{background:#fff;color:${b.primary};border:1px solid ${b.primary}}
button.danger{background:#fff;color:${b.danger};border:1px solid ${b.danger}}
button:disabled{opacity:.55;cursor:default}
.plans{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:1rem}
.plan{background:#fff;border:1px solid ${b.line};border-top:5px solid ${b.accent};border-radius:10px;padding:1rem 1.25rem}
.plan .price{font-size:1.5rem;font-weight:700}
.plan ul{list-style:none;padding:0;margin:.5rem 0 0}
.plan li{display:flex;align-items:center;justify-content:space-between;gap:.5rem;padding:.4rem 0;border-top:1px solid ${b.line}}
.hero{background:#fff;border:1px solid ${b.line};border-radius:12px;padding:1.5rem 1.75rem;margin-top:1rem}
.hero p{font-size:1.08rem;max-width:44rem}
form{display:grid;gap:.55rem}
label{display:grid;gap:.2rem;font-size:.92rem;color:${b.muted}}
input,select{font:inherit;padding:.5rem .6rem;border:1px solid ${b.line};border-radius:6px;background:#fff;color:${b.ink}}
.forms{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid ${b.line};font-size:.95rem}
th{color:${b.muted};font-weight:600}
.alert{border-left:4px solid ${b.danger};background:#fff4f2;padding:.6rem .9rem;border-radius:6px}
.note{border-left:4px solid ${b.accent};background:#fffaf0;padding:.6rem .9rem;border-radius:6px}
.tag{display:inline-block;background:#e3f1ee;color:${b.primaryDark};border-radius:99px;padding:.05rem .6rem;font-size:.85rem;font-weight:600}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-top:.6rem}
code{background:#eef3f1;padding:.05rem .3rem;border-radius:4px}
footer{max-width:60rem;margin:0 auto;padding:1rem 1.25rem 2rem;color:${b.muted};font-size:.9rem}
`;

export interface PageOptions {
  title: string;
  main: string;
  /** Scripts (same origin) the page loads, deferred. */
  scripts?: string[];
  narrow?: boolean;
}

export function page({ title, main, scripts = [], narrow = false }: PageOptions): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(title)} · tollgate</title>
<link rel="icon" href="${LOGO_DATA_URL}">
<style>${STYLE}</style>
${scripts.map((src) => `<script src="${html(src)}" defer></script>`).join('\n')}
</head><body>
<header class="top"><div class="in"><a class="brand" href="/">${LOGO_SVG}<span>tollgate</span></a>
<nav><a href="/#plans">Plans</a><a href="/#account">Account</a><a href="/swagger">API</a></nav></div></header>
<main${narrow ? ' class="narrow"' : ''}>${main}</main>
<footer>tollgate · <a href="/swagger">API documentation</a> · <a href="/problems">error codes</a></footer>
</body></html>`;
}
