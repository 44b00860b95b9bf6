/**
 * A real OpenID provider on this machine, in place of Google: the
 * `oidc-provider` package with one confidential client, test users with
 * passwords, and a login page. Tests (and `npm start`) point auth at it.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface ProviderUser {
  sub: string;
  email: string;
  emailVerified: boolean;
  password: string;
}

export interface LocalOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  users: Map<string, ProviderUser>;
  addUser(user: Partial<ProviderUser> & { email: string }): ProviderUser;
  close(): Promise<void>;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid: string, error?: string): string {
  return `<!doctype html><html><head><title>Sign in - local Google</title></head><body>
<h1>Sign in</h1><p>to continue to tollgate</p>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>Email <input name="login" type="email" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Next</button></form></body></html>`;
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Starts the provider on `port` (0: any free port) with a client whose callback is `redirectUris`. */
export async function startOidcProvider(options: {
  redirectUris: string[];
  port?: number;
  clientId?: string;
  clientSecret?: string;
}): Promise<LocalOidcProvider> {
  const users = new Map<string, ProviderUser>();
  const clientId = options.clientId ?? 'tollgate';
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('base64url');
  let provider: Provider | undefined;

  const server: Server = createServer((req, res) => {
    const match = /^\/interaction\/([^/?]+)(\/login)?/.exec(req.url ?? '');
    if (!match || !provider) {
      provider?.callback()(req, res);
      return;
    }
    const uid = match[1] as string;
    const handle = async () => {
      await provider!.interactionDetails(req, res);
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(uid));
        return;
      }
      const form = await formBody(req);
      const user = [...users.values()].find((u) => u.email === form.get('login')?.toLowerCase());
      if (!user || user.password !== form.get('password')) {
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(loginPage(uid, 'Wrong email or password'));
        return;
      }
      await provider!.interactionFinished(
        req,
        res,
        { login: { accountId: user.sub } },
        { mergeWithLastSubmission: false },
      );
    };
    handle().catch((error: unknown) => {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'email', 'profile'],
    cookies: { keys: [randomBytes(16).toString('hex')] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    // Like Google: email and email_verified in the ID token itself.
    conformIdTokenClaims: false,
    // Like Google for a first-party client: no consent screen after the login.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client!.clientId,
        accountId: ctx.oidc.session!.accountId!,
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
    async findAccount(_ctx, sub) {
      const user = users.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, email: user.email, email_verified: user.emailVerified }),
      };
    },
  });
  // The dev provider speaks plain http on loopback.
  provider.proxy = true;

  return {
    issuer,
    clientId,
    clientSecret,
    users,
    addUser(partial) {
      const user: ProviderUser = {
        sub: partial.sub ?? randomBytes(8).toString('hex'),
        email: partial.email.toLowerCase(),
        emailVerified: partial.emailVerified ?? true,
        password: partial.password ?? 'provider-password',
      };
      users.set(user.sub, user);
      return user;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
