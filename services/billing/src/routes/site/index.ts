/**
 * The gateway's `/`: what tollgate is, the plans from the catalogue with
 * their prices (rendered here), and an account area (sign up, log in, the
 * subscription with cancel/resume/change, invoices, log out) that
 * /site/account.js builds on the public API. Its tokens live in that
 * script's memory only — never in a URL, a cookie or storage — see
 * architecture/decisions/0013-home-page.md.
 */
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Catalog } from '../../domain/catalog/catalog.js';
import { isAddonProduct, trialDaysOf } from '../../domain/plans/plan-kinds.js';
import { html, money, page } from './layout.js';

const ACCOUNT_JS = readFileSync(new URL('./assets/account.js', import.meta.url));

const Html = Type.String({ description: 'An HTML page' });

type Product = Awaited<ReturnType<Catalog['listSellable']>>[number];

function planCards(products: Product[]): string {
  return products
    .map((p) => {
      const addon = isAddonProduct(p);
      const prices = p.prices.filter((price) => price.interval);
      const rows = prices
        .map((price) => {
          const label = `${p.name}, ${money(price.unitAmount, price.currency)} per ${price.interval}`;
          const trial = addon ? null : trialDaysOf(price, p);
          return `<li><span><span class="price">${html(money(price.unitAmount, price.currency))}</span> <span class="muted">/ ${html(price.interval)}</span>${trial ? ` <span class="tag">${trial}-day free trial</span>` : ''}</span>
<button type="button" data-price="${html(price.id)}" data-label="${html(label)}"${addon ? ' data-addon="true"' : ''}>${addon ? 'Add' : 'Subscribe'}</button></li>`;
        })
        .join('');
      return `<div class="plan" data-product="${html(p.id)}"><h3>${html(p.name)}${addon ? ' <span class="tag">add-on</span>' : ''}</h3>
<p class="muted">${html(p.description ?? '')}</p>
${p.role ? `<p>Grants the role <span class="tag">${html(p.role)}</span></p>` : ''}<ul>${rows}</ul></div>`;
    })
    .join('');
}

function home(products: Product[]): string {
  return page({
    title: 'Subscriptions that grant roles',
    scripts: ['/site/account.js'],
    main: `<section class="hero"><h1>Sign-up, payments and roles, in one place</h1>
<p>tollgate is an open pair of services for a product that sells subscriptions: <strong>auth</strong> signs people up and
logs them in; <strong>billing</strong> takes their payment with Stripe Checkout and gives them the role their plan pays
for. Pick a plan below, pay with the test card <code>4242 4242 4242 4242</code>, and watch the role arrive in your account.</p>
<p class="actions"><a class="button" href="#account">Sign up or log in</a><a class="button secondary" href="/swagger">Explore the API</a></p></section>
<section id="plans"><h2>Plans</h2>
${products.length ? `<p><label>Promotion code <input id="promotion-code" name="promotion_code" autocomplete="off" placeholder="e.g. WELCOME20" maxlength="64"></label> <span class="muted">applied when you subscribe; add-ons need a plan first</span></p><div class="plans">${planCards(products)}</div>` : '<p class="note">No plans yet: the catalogue is mirrored from Stripe at start (<code>npm run -w @tollgate/billing sync-stripe</code> fills it).</p>'}
</section>
<section id="account"><h2>Your account</h2>
<p id="account-note" class="note" role="status" hidden></p>
<div id="account-error" class="alert" role="alert" hidden></div>
<div id="signed-out">
<div class="forms">
<form id="login-form" class="box"><h3>Log in</h3>
<label>Login or email<input name="login" autocomplete="username" required></label>
<label>Password<input name="password" type="password" autocomplete="current-password" required></label>
<div class="actions"><button type="submit">Log in</button><button type="button" class="secondary" id="forgot-open">Forgot your password?</button></div>
<div class="actions" id="social-logins"></div></form>
<form id="forgot-form" class="box" hidden><h3>Forgot your password?</h3>
<label>Login or email<input name="login_or_email" autocomplete="username" required></label>
<div class="actions"><button type="submit">Mail me a reset link</button></div></form>
<form id="reset-form" class="box" hidden><h3>Choose a new password</h3>
<label>New password<input name="password" type="password" autocomplete="new-password" minlength="8" required></label>
<div class="actions"><button type="submit">Set the password</button></div></form>
<form id="signup-form" class="box"><h3>Sign up</h3>
<label>Login<input name="login" autocomplete="username" required></label>
<label>Email<input name="email" type="email" autocomplete="email" required></label>
<label>Password<input name="password" type="password" autocomplete="new-password" minlength="8" required></label>
<div class="actions"><button type="submit">Create account</button></div></form>
</div>
<p class="muted">You stay signed in while this page is open: your session lives in the page's memory only (not in
cookies or storage), so reloading the page or coming back from Stripe asks you to log in again.</p>
</div>
<div id="signed-in" hidden>
<div class="box"><div class="actions">Signed in as <strong id="me-login"></strong> <span class="muted" id="me-email"></span>
<span id="me-roles"></span><button type="button" class="secondary" id="logout">Log out</button></div></div>
<div class="box" id="subscription"></div>
<div id="entitlements"></div>
<h3>Invoices</h3>
<div id="invoices"></div>
</div>
<noscript><p class="note">The account area needs JavaScript. Everything it does is in the API: see <a href="/swagger">/swagger</a>.</p></noscript>
</section>`,
  });
}

export const siteRoutes: FastifyPluginAsyncTypebox<{ catalog: Catalog }> = async (app, { catalog }) => {
  app.get(
    '/',
    {
      schema: {
        tags: ['pages'],
        summary: 'Home page: the plans and the account area',
        produces: ['text/html'],
        response: { 200: Html },
      },
    },
    async (_request, reply) => {
      reply.type('text/html; charset=utf-8');
      return home(await catalog.listSellable());
    },
  );

  app.get('/site/account.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(ACCOUNT_JS),
  );
};
