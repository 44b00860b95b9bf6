/*
 * The home page's account area, on the public API (auth under /v1/auth,
 * billing under /api/v1). Tokens are kept in this closure only: never in a
 * URL, a cookie, localStorage or sessionStorage, so nothing outlives the
 * page and nothing a script elsewhere could read is left behind
 * (architecture/decisions/0013-home-page.md).
 */
(() => {
  let access = null;
  let refresh = null;
  /** A plan picked before logging in (a button, or /?plan=<price id> from the cancel page). */
  let pendingPlan = null;

  const $ = (id) => document.getElementById(id);
  const plans = [...document.querySelectorAll('button[data-price]')].map((b) => ({
    price: b.dataset.price,
    label: b.dataset.label,
    addon: b.dataset.addon === 'true',
  }));
  const isAddon = (price) => plans.some((p) => p.price === price && p.addon);
  const labelOf = (price) => plans.find((p) => p.price === price)?.label ?? price;

  function show(el, text) {
    el.hidden = !text;
    el.textContent = text || '';
  }

  /** A problem+json answer as a sentence, with a link to its /problems page. */
  function showProblem(problem) {
    const el = $('account-error');
    el.textContent = '';
    el.hidden = false;
    const text = document.createElement('span');
    text.textContent = `${problem.title || 'Something went wrong'}${problem.detail ? `: ${problem.detail}` : ''} `;
    el.append(text);
    if (problem.type) {
      const link = document.createElement('a');
      link.href = problem.type;
      link.textContent = 'What to do';
      el.append(link);
    }
  }

  function clearMessages() {
    show($('account-error'), '');
    show($('account-note'), '');
  }

  async function call(method, path, body, retried = false) {
    const headers = {};
    if (access) headers.authorization = `Bearer ${access}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
    });
    if (response.status === 401 && refresh && !retried && path !== '/v1/auth/refresh-token') {
      if (await refreshTokens()) return call(method, path, body, true);
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error(data?.detail || response.statusText);
      error.problem = data || { title: `HTTP ${response.status}` };
      error.status = response.status;
      throw error;
    }
    return data;
  }

  async function refreshTokens() {
    try {
      const pair = await call('POST', '/v1/auth/refresh-token', { refresh_token: refresh }, true);
      access = pair.access_token;
      refresh = pair.refresh_token;
      return true;
    } catch {
      signOut();
      return false;
    }
  }

  async function guarded(button, action) {
    clearMessages();
    if (button) button.disabled = true;
    try {
      await action();
    } catch (error) {
      showProblem(error.problem || { title: 'Something went wrong', detail: String(error.message) });
    } finally {
      if (button) button.disabled = false;
    }
  }

  /** Signs in with a first factor (a password, a provider's login); a passkey is the second step when the account has one. */
  async function signInWith(firstFactor) {
    let pair;
    try {
      pair = await firstFactor();
    } catch (error) {
      if (error.problem?.code === 'mfa_required' && error.problem.methods?.includes('passkey')) {
        show($('account-note'), 'Confirm with your passkey.');
        return passkeySignIn(error.problem.mfa_ticket);
      }
      throw error;
    }
    await signedIn(pair);
  }

  async function logIn(login, password) {
    await signInWith(() => call('POST', '/v1/auth/login', { login, password }));
  }

  /** Passkey sign-in: usernameless, or the second step of the login that answered `ticket`. */
  async function passkeySignIn(ticket) {
    const optionsJSON = await call('POST', '/v1/auth/login/passkey/options', ticket ? { ticket } : {});
    const response = await window.SimpleWebAuthnBrowser.startAuthentication({ optionsJSON });
    await signedIn(
      await call('POST', '/v1/auth/login/passkey', ticket ? { ticket, response } : { response }),
    );
  }

  async function addPasskey() {
    const optionsJSON = await call('POST', '/v1/auth/mfa/passkeys/registration/options', {});
    const response = await window.SimpleWebAuthnBrowser.startRegistration({ optionsJSON });
    const created = await call('POST', '/v1/auth/mfa/passkeys', { response });
    await renderPasskeys();
    show($('account-note'), `Passkey "${created.name}" added: you can sign in with it now.`);
  }

  async function renderPasskeys() {
    const { passkeys } = await call('GET', '/v1/auth/mfa/passkeys');
    const list = $('passkeys');
    list.textContent = '';
    for (const passkey of passkeys) {
      const item = document.createElement('li');
      const name = document.createElement('span');
      name.className = 'passkey-name';
      name.textContent = passkey.name;
      item.append(
        name,
        button('Delete', 'secondary', async () => {
          await call('DELETE', `/v1/auth/mfa/passkeys/${encodeURIComponent(passkey.id)}`);
          await renderPasskeys();
        }),
      );
      list.append(item);
    }
  }

  async function signedIn(pair) {
    access = pair.access_token;
    refresh = pair.refresh_token;
    await render();
    if (pendingPlan) {
      const plan = pendingPlan;
      pendingPlan = null;
      await subscribe(plan);
    }
  }

  function signOut() {
    access = null;
    refresh = null;
    currentPrice = null;
    $('signed-in').hidden = true;
    $('signed-out').hidden = false;
    for (const b of document.querySelectorAll('button[data-price]')) {
      b.textContent = 'Subscribe';
      b.disabled = false;
    }
  }

  /** The live subscription's price, when there is one: plan buttons then change the plan. */
  let currentPrice = null;

  /** Upgrades now (prorated), downgrades at the period end (shown as a pending change). */
  async function changePlan(price) {
    await call('POST', '/api/v1/subscription/change', { price_id: price });
    await render();
  }

  async function subscribe(price) {
    if (access && currentPrice && !isAddon(price)) {
      if (price === currentPrice) return;
      return changePlan(price);
    }
    if (!access) {
      pendingPlan = price;
      show(
        $('account-note'),
        `Log in or sign up to subscribe to ${labelOf(price)}; the checkout opens right after.`,
      );
      $('account').scrollIntoView();
      return;
    }
    const query = new URLSearchParams({ price_id: price });
    const code = $('promotion-code')?.value.trim();
    if (code) query.set('promotion_code', code);
    const session = await call('GET', `/api/v1/checkout?${query}`);
    window.location.assign(session.checkout_session_url);
  }

  const date = (iso) => (iso ? new Date(iso).toLocaleDateString('en', { dateStyle: 'medium' }) : '—');
  const money = (amount, currency) =>
    new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).format(amount / 100);

  function button(text, className, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    if (className) b.className = className;
    b.addEventListener('click', () => guarded(b, onClick));
    return b;
  }

  function renderSubscription(s) {
    const box = $('subscription');
    box.textContent = '';
    const h = document.createElement('h3');
    h.textContent = 'Subscription';
    box.append(h);
    const p = document.createElement('p');
    p.id = 'subscription-summary';
    const actions = document.createElement('div');
    actions.className = 'actions';
    if (!s || s.status === 'canceled' || s.status === 'incomplete_expired') {
      p.textContent = s
        ? `Your ${s.plan?.product_name ?? ''} subscription ended on ${date(s.ended_at)}. Pick a plan above to subscribe again.`
        : 'No subscription yet: pick a plan above.';
      box.append(p);
      return;
    }
    const plan = s.plan
      ? `${s.plan.product_name}, ${money(s.plan.unit_amount, s.plan.currency)} per ${s.plan.interval}`
      : 'unknown plan';
    p.textContent = s.set_to_cancel
      ? `${plan}: ${s.status}, ends on ${date(s.current_period_end)} (set to cancel).`
      : `${plan}: ${s.status}, renews on ${date(s.current_period_end)}.`;
    box.append(p);
    const dunning = dunningText(s.dunning);
    if (dunning) {
      const d = document.createElement('p');
      d.id = 'dunning-state';
      d.className = 'alert';
      d.textContent = dunning;
      box.append(d);
    }
    for (const [id, text] of extrasOf(s)) {
      const line = document.createElement('p');
      line.id = id;
      line.textContent = text;
      box.append(line);
    }
    if (s.set_to_cancel) {
      actions.append(
        button('Resume', '', async () => {
          renderSubscription(await call('POST', '/api/v1/subscription'));
        }),
      );
    } else {
      actions.append(
        button('Cancel at period end', 'danger', async () => {
          renderSubscription(await call('DELETE', '/api/v1/subscription'));
        }),
      );
    }
    if (s.pending_change) {
      actions.append(
        button(`Keep ${s.plan?.product_name ?? 'the current plan'}`, 'secondary', async () => {
          await call('DELETE', '/api/v1/subscription/change');
          await render();
        }),
      );
    }
    const others = plans.filter((o) => !o.addon && o.price !== s.plan?.price_id);
    if (others.length) {
      const select = document.createElement('select');
      select.id = 'change-plan';
      select.setAttribute('aria-label', 'Change plan to');
      for (const o of others) select.append(new Option(o.label, o.price));
      actions.append(
        select,
        button('Change plan', 'secondary', () => changePlan(select.value)),
      );
    }
    actions.append(
      button('Billing portal', 'secondary', async () => {
        const portal = await call('GET', '/api/v1/portal');
        window.location.assign(portal.url);
      }),
    );
    box.append(actions);
    for (const addon of s.addons ?? []) {
      const line = document.createElement('p');
      line.className = 'addon';
      line.textContent = `Add-on: ${addon.plan?.product_name ?? addon.id}, ${money(addon.plan?.unit_amount ?? 0, addon.plan?.currency ?? 'usd')} per ${addon.plan?.interval}: ${addon.status}${addon.set_to_cancel ? ' (set to cancel)' : ''}.`;
      box.append(line);
    }
  }

  /** The trial, the discount and a pending plan change, as [element id, sentence]. */
  function extrasOf(s) {
    const lines = [];
    const t = s.trial;
    if (t?.outcome === 'granted' && s.status === 'trialing')
      lines.push([
        'subscription-trial',
        `Free trial until ${date(t.ends_at)}${t.will_end_notified_at ? ': it ends soon, then the plan is charged' : ''}.`,
      ]);
    else if (t?.outcome === 'refused') lines.push(['subscription-trial', t.note]);
    const d = s.discount;
    if (d) {
      const off = d.percent_off
        ? `${d.percent_off}% off`
        : `${money(d.amount_off ?? 0, d.currency ?? 'usd')} off`;
      const how =
        d.duration === 'repeating'
          ? ` for ${d.duration_in_months} months`
          : d.duration === 'once'
            ? ' once'
            : '';
      lines.push([
        'subscription-discount',
        `Promotion ${d.promotion_code ?? d.coupon_name ?? ''}: ${off}${how}.`,
      ]);
    }
    if (s.pending_change)
      lines.push([
        'pending-change',
        `Changes to ${s.pending_change.product_name ?? s.pending_change.price_id} on ${date(s.pending_change.effective_at)}.`,
      ]);
    return lines;
  }

  /** The dunning state and the date of its next step (the policy lives in billing's config). */
  function dunningText(d) {
    if (!d || d.state === 'active' || d.state === 'inactive') return '';
    const fix = 'Update your card in the billing portal: access returns as soon as the invoice is paid.';
    const next = d.next_step_at
      ? d.next_state === 'restricted'
        ? ` Reduced access from ${date(d.next_step_at)}.`
        : ` Access ends on ${date(d.next_step_at)}.`
      : '';
    if (d.state === 'past_due')
      return `Payment failed (past due): full access is kept while Stripe retries.${next} ${fix}`;
    if (d.state === 'restricted') return `Payment failed: reduced access (restricted).${next} ${fix}`;
    return `Payment failed: access revoked. ${fix}`;
  }

  function renderEntitlements(e) {
    const box = $('entitlements');
    box.textContent = '';
    const keys = Object.keys(e.features);
    if (!keys.length) return;
    const h = document.createElement('h3');
    h.textContent = 'Your features';
    const ul = document.createElement('ul');
    ul.id = 'feature-list';
    for (const key of keys) {
      const li = document.createElement('li');
      const value = e.features[key];
      li.textContent = value === true ? key : `${key}: ${value}`;
      ul.append(li);
    }
    box.append(h, ul);
  }

  function renderInvoices(invoices) {
    const box = $('invoices');
    box.textContent = '';
    if (!invoices.length) {
      box.textContent = 'No invoices yet.';
      return;
    }
    const table = document.createElement('table');
    table.innerHTML =
      '<thead><tr><th>date</th><th>number</th><th>status</th><th>amount</th><th>discount</th><th></th></tr></thead>';
    const body = document.createElement('tbody');
    for (const i of invoices) {
      const row = document.createElement('tr');
      const discount = i.discount_amount
        ? `−${money(i.discount_amount, i.currency)}${i.promotion_code ? ` (${i.promotion_code})` : ''}`
        : '';
      for (const text of [
        date(i.created),
        i.number ?? i.id,
        i.status,
        money(i.total, i.currency),
        discount,
      ]) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      const link = document.createElement('td');
      if (i.hosted_invoice_url) {
        const a = document.createElement('a');
        a.href = i.hosted_invoice_url;
        a.textContent = 'view';
        link.append(a);
      }
      row.append(link);
      body.append(row);
    }
    table.append(body);
    box.append(table);
  }

  async function render() {
    const me = await call('GET', '/v1/auth/me');
    $('me-login').textContent = me.login;
    $('me-email').textContent = me.email ? `(${me.email})` : '';
    $('me-roles').textContent = me.roles?.length ? `roles: ${me.roles.join(', ')}` : '';
    let subscription = null;
    try {
      subscription = await call('GET', '/api/v1/subscription');
    } catch (error) {
      if (error.status !== 404) throw error;
    }
    renderSubscription(subscription);
    // The plan buttons follow the subscription at once, before the slower reads below.
    const live = subscription && !['canceled', 'incomplete_expired'].includes(subscription.status);
    currentPrice = live ? (subscription.plan?.price_id ?? null) : null;
    const addons = new Set((subscription?.addons ?? []).map((a) => a.plan?.price_id));
    for (const b of document.querySelectorAll('button[data-price]')) {
      if (b.dataset.addon === 'true') {
        const held = addons.has(b.dataset.price);
        b.textContent = held ? 'Added' : 'Add';
        b.disabled = held || !currentPrice;
        continue;
      }
      const mine = currentPrice === b.dataset.price;
      b.textContent = mine ? 'Your plan' : currentPrice ? 'Switch to this' : 'Subscribe';
      b.disabled = mine;
    }
    renderEntitlements(await call('GET', '/api/v1/entitlements'));
    renderInvoices((await call('GET', '/api/v1/invoices')).data);
    await renderPasskeys();
    $('signed-out').hidden = true;
    $('signed-in').hidden = false;
  }

  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    guarded(form.querySelector('button'), () => logIn(form.login.value, form.password.value));
  });

  $('passkey-login').addEventListener('click', (event) =>
    guarded(event.currentTarget, () => passkeySignIn(null)),
  );
  $('passkey-add').addEventListener('click', (event) => guarded(event.currentTarget, addPasskey));

  $('signup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    guarded(form.querySelector('button'), async () => {
      const login = form.login.value;
      const password = form.password.value;
      await call('POST', '/v1/auth/register', { login, password, email: form.email.value });
      await logIn(login, password);
      show($('account-note'), `We mailed a link to ${form.email.value}: open it to confirm the address.`);
    });
  });

  $('logout').addEventListener('click', (event) =>
    guarded(event.currentTarget, async () => {
      await call('POST', '/v1/auth/logout').catch(() => {});
      signOut();
      show($('account-note'), 'Logged out.');
    }),
  );

  for (const b of document.querySelectorAll('button[data-price]')) {
    // Not disabled while busy: render() decides which plan buttons are enabled.
    b.addEventListener('click', () => guarded(null, () => subscribe(b.dataset.price)));
  }

  $('forgot-open').addEventListener('click', () => {
    $('forgot-form').hidden = false;
    $('forgot-form').login_or_email.focus();
  });

  $('forgot-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    guarded(form.querySelector('button'), async () => {
      await call('POST', '/v1/auth/password/forgot', { login_or_email: form.login_or_email.value });
      form.hidden = true;
      show($('account-note'), 'If that account exists, a reset link is on its way to its email address.');
    });
  });

  // Links in account mail carry their token after "#": a fragment never
  // reaches a server (logs, Referer). It is taken out of the address bar and
  // history at once, then posted to the API.
  let resetToken = null;
  $('reset-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    guarded(form.querySelector('button'), async () => {
      await call('POST', '/v1/auth/password/reset', { token: resetToken, password: form.password.value });
      resetToken = null;
      form.hidden = true;
      show(
        $('account-note'),
        'Password changed, and every session logged out. Log in with the new password.',
      );
    });
  });

  function takeMailLink() {
    const mailLink = /^#(verify-email|confirm-email|reset-password)=([A-Za-z0-9_-]+)$/.exec(
      window.location.hash,
    );
    if (!mailLink) return;
    const [, action, token] = mailLink;
    history.replaceState(null, '', window.location.pathname + window.location.search);
    $('account').scrollIntoView();
    if (action === 'reset-password') {
      resetToken = token;
      clearMessages();
      $('reset-form').hidden = false;
      $('reset-form').password.focus();
    } else {
      guarded(null, async () => {
        const { email } = await call('POST', '/v1/auth/email/verify', { token });
        show($('account-note'), `Email address ${email} confirmed. Log in again to use it everywhere.`);
      });
    }
  }
  takeMailLink();
  // A link opened in a tab that already shows the page only changes the fragment.
  window.addEventListener('hashchange', takeMailLink);

  // Social login: one link per available provider; the provider sends the
  // browser back here with a one-time code, exchanged at once for tokens
  // (kept in memory like any others) and removed from the address bar.
  fetch('/v1/auth/oauth/providers', { credentials: 'omit' })
    .then((response) => (response.ok ? response.json() : []))
    .then((providers) => {
      for (const provider of providers.filter((p) => p.available)) {
        const link = document.createElement('a');
        link.href = `/v1/auth/oauth/${encodeURIComponent(provider.name)}/login`;
        link.textContent = `Sign in with ${provider.label}`;
        $('social-logins').append(link);
      }
    })
    .catch(() => {});
  const oauthCode = new URLSearchParams(window.location.search).get('code');
  if (oauthCode) {
    window.history.replaceState(null, '', window.location.pathname);
    guarded(null, () => signInWith(() => call('POST', '/v1/auth/oauth/exchange', { code: oauthCode })));
  }

  const planInUrl = new URLSearchParams(window.location.search).get('plan');
  if (planInUrl && plans.some((p) => p.price === planInUrl)) {
    pendingPlan = planInUrl;
    show(
      $('account-note'),
      `Log in or sign up to subscribe to ${labelOf(planInUrl)}; the checkout opens right after.`,
    );
    $('account').scrollIntoView();
  }
})();
