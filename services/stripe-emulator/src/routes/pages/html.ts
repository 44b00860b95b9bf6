export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export function formatAmount(amount: number | null, currency: string | null): string {
  const cur = (currency ?? 'usd').toUpperCase();
  const value = ((amount ?? 0) / 100).toFixed(2);
  return cur === 'USD' ? `$${value}` : `${value} ${cur}`;
}

export function formatDate(ts: number | null): string {
  return ts === null ? '' : new Date(ts * 1000).toISOString().slice(0, 10);
}

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 34rem; margin: 2rem auto; padding: 0 1rem; color: #1a1f36; }
  .banner { background: #ffde92; padding: .4rem .8rem; border-radius: 4px; font-size: .85rem; }
  table { width: 100%; border-collapse: collapse; margin: 1rem 0; }
  td, th { text-align: left; padding: .3rem 0; border-bottom: 1px solid #e3e8ee; }
  label { display: block; margin-top: .8rem; font-size: .9rem; }
  input { width: 100%; padding: .5rem; box-sizing: border-box; font-size: 1rem; }
  button { margin-top: 1rem; padding: .6rem 1.2rem; font-size: 1rem; background: #635bff; color: #fff; border: 0; border-radius: 4px; }
  .error { color: #df1b41; margin-top: 1rem; }
  .muted { color: #697386; font-size: .85rem; }
</style>
</head>
<body>
<p class="banner">TEST MODE: tollgate Stripe emulator. No real money moves.</p>
${body}
</body>
</html>`;
}
