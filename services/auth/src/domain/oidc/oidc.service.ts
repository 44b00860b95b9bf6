/**
 * Social login: the authorization-code flow with PKCE, state and nonce
 * (openid-client checks the ID token against the provider's JWKS), the
 * one-time code the front end exchanges for a token pair, and the linking
 * of provider identities to accounts (architecture/decisions/0024-social-login.md).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as oidc from 'openid-client';
import type { OidcConfig } from '../../config.js';
import { isUniqueViolation } from '../../db/prisma.js';
import { Problems } from '../../errors.js';
import type { AuthService, ClientInfo, TokenPair } from '../sessions/auth.service.js';
import type { UserRecord, UsersRepository } from '../users/users.repository.js';
import { decideLink, loginCandidate } from './linking.js';
import type { OidcRepository } from './oidc.repository.js';
import type { OidcProviders } from './providers.js';

/** How long a started login may take at the provider. */
export const FLOW_TTL_SECONDS = 600;
/** How long the front end has to exchange its one-time code. */
export const CODE_TTL_SECONDS = 60;

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const randomToken = () => randomBytes(32).toString('base64url');

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export interface OidcServiceDeps {
  providers: OidcProviders;
  repository: OidcRepository;
  users: Pick<UsersRepository, 'findById' | 'findByEmail' | 'findByLogin' | 'create'>;
  auth: Pick<AuthService, 'startSession'>;
  config: OidcConfig;
  /**
   * Whether the account's own email is verified (context.ts: a verification,
   * reset or change link was followed). Without it, every account counts as
   * verified and the provider's assertion alone decides.
   */
  isAccountEmailVerified?: (user: UserRecord) => boolean;
  log: { warn(obj: object, msg: string): void };
}

export function createOidcService(deps: OidcServiceDeps) {
  const accountEmailVerified = deps.isAccountEmailVerified ?? (() => true);

  function callbackUrl(provider: string): string {
    return `${deps.config.publicBaseUrl}/v1/auth/oauth/${provider}/callback`;
  }

  /** The front-end URL to return to: one of the allow-list, exactly; the first by default. */
  function frontendUrl(requested: string | undefined): string {
    if (requested === undefined) return deps.config.frontendUrls[0] as string;
    let normalised: string;
    try {
      normalised = new URL(requested).href;
    } catch {
      throw Problems.oauthRedirectNotAllowed('redirect_uri is not a URL');
    }
    if (!deps.config.frontendUrls.includes(normalised))
      throw Problems.oauthRedirectNotAllowed('redirect_uri is not one of the configured front-end URLs');
    return normalised;
  }

  async function createAccount(email: string | undefined, verified: boolean): Promise<UserRecord> {
    // An unverified email is not given to the account: it would keep the
    // mailbox's owner from registering it. The account gets a placeholder.
    const accountEmail = verified && email ? email : `${randomBytes(8).toString('hex')}@users.invalid`;
    for (let attempt = 0; attempt < 5; attempt++) {
      const login = loginCandidate(
        verified ? email : undefined,
        attempt === 0 ? undefined : randomBytes(3).toString('hex'),
      );
      if (attempt === 0 && (await deps.users.findByLogin(login))) continue;
      try {
        return await deps.users.create({ login, email: accountEmail, passwordHash: null });
      } catch (error) {
        if (isUniqueViolation(error, 'login')) continue;
        if (isUniqueViolation(error, 'email')) throw Problems.emailTaken('this email is already registered');
        throw error;
      }
    }
    throw Problems.loginTaken('could not find a free login for the new account; try again');
  }

  return {
    providers: () => deps.providers.list(),

    /**
     * Starts a login (or, with linkUserId, a link) at the provider. Returns
     * where to send the browser and the binding to set as its cookie.
     */
    async start(
      providerName: string,
      options: { redirectUri?: string; linkUserId?: string },
    ): Promise<{ authorizationUrl: string; binding: string }> {
      const provider = deps.providers.get(providerName);
      const redirectUri = frontendUrl(options.redirectUri);
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const binding = randomToken();
      await deps.repository.saveFlow({
        stateHash: sha256(state),
        provider: providerName,
        bindingHash: sha256(binding),
        codeVerifier,
        nonce,
        redirectUri,
        linkUserId: options.linkUserId ?? null,
        expiresAt: new Date(Date.now() + FLOW_TTL_SECONDS * 1000),
      });
      const url = oidc.buildAuthorizationUrl(provider.client, {
        redirect_uri: callbackUrl(providerName),
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return { authorizationUrl: url.href, binding };
    },

    /**
     * The provider sent the browser back. Checks that this browser started
     * this flow, redeems the code (PKCE, ID token signature, issuer, audience,
     * nonce), and decides the account. Returns the front-end URL to go to.
     */
    async callback(
      providerName: string,
      query: URLSearchParams,
      binding: string | undefined,
    ): Promise<string> {
      const state = query.get('state');
      const flow = state ? await deps.repository.takeFlow(sha256(state)) : null;
      if (!state || !flow || flow.provider !== providerName)
        throw Problems.oauthStateInvalid('no login in progress has this state; start again');
      // The state alone could have been lured out of someone else's browser.
      if (!binding || !sameHash(sha256(binding), flow.bindingHash))
        throw Problems.oauthStateInvalid('this login was started in another browser; start again');
      const provider = deps.providers.get(providerName);
      const providerError = query.get('error');
      if (providerError)
        throw Problems.oauthCallbackFailed(`the provider answered ${providerError.slice(0, 100)}`);

      let claims: oidc.IDToken;
      try {
        const currentUrl = new URL(`${callbackUrl(providerName)}?${query.toString()}`);
        const tokens = await oidc.authorizationCodeGrant(provider.client, currentUrl, {
          pkceCodeVerifier: flow.codeVerifier,
          expectedState: state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims();
        if (!idClaims) throw new Error('no ID token');
        claims = idClaims;
      } catch (error) {
        deps.log.warn({ provider: providerName, err: error }, 'provider login failed its checks');
        throw Problems.oauthCallbackFailed('the provider login could not be verified; start again');
      }
      const issuer = claims.iss;
      const subject = claims.sub;
      const email = typeof claims.email === 'string' ? claims.email.toLowerCase() : undefined;
      const emailVerified = claims.email_verified === true;
      const existing = await deps.repository.findIdentity(issuer, subject);
      const back = new URL(flow.redirectUri);
      /** Links this identity to `userId`; `taken` says why when the unique keys refuse it. */
      const addIdentity = async (userId: string, taken: string) => {
        try {
          await deps.repository.addIdentity({ userId, provider: providerName, issuer, subject, email });
        } catch (error) {
          if (isUniqueViolation(error)) throw Problems.identityLinkedElsewhere(taken);
          throw error;
        }
      };

      if (flow.linkUserId) {
        if (existing && existing.userId !== flow.linkUserId)
          throw Problems.identityLinkedElsewhere('this identity already belongs to another account');
        if (!existing)
          await addIdentity(
            flow.linkUserId,
            'this account already has an identity from this provider, or this identity belongs to another account',
          );
        back.searchParams.set('linked', providerName);
        return back.href;
      }

      const account = email ? await deps.users.findByEmail(email) : null;
      const decision = decideLink({
        linkedUserId: existing?.userId ?? null,
        asserted: { email, emailVerified },
        accountWithEmail: account ? { id: account.id, emailVerified: accountEmailVerified(account) } : null,
      });
      let userId: string;
      switch (decision.kind) {
        case 'linked':
          userId = decision.userId;
          break;
        case 'link_by_email':
          // Refused when the account already has another identity from this provider.
          await addIdentity(decision.userId, 'this account already has an identity from this provider');
          userId = decision.userId;
          break;
        case 'create': {
          const user = await createAccount(email, emailVerified);
          await deps.repository.addIdentity({
            userId: user.id,
            provider: providerName,
            issuer,
            subject,
            email,
          });
          userId = user.id;
          break;
        }
        case 'refuse_unverified':
          throw Problems.oauthEmailUnverified(
            'an account has this email but the provider does not assert it verified; log in with your password and link the provider from your account',
          );
      }
      const code = randomToken();
      await deps.repository.saveCode({
        codeHash: sha256(code),
        userId,
        provider: providerName,
        expiresAt: new Date(Date.now() + CODE_TTL_SECONDS * 1000),
      });
      back.searchParams.set('code', code);
      return back.href;
    },

    /** The one-time code from the callback, for the usual token pair (once). */
    async exchange(code: string, client: ClientInfo): Promise<TokenPair> {
      const redeemed = await deps.repository.takeCode(sha256(code));
      if (!redeemed) throw Problems.oauthCodeInvalid('unknown, expired or already used code');
      const user = await deps.users.findById(redeemed.userId);
      if (!user) throw Problems.oauthCodeInvalid('the account of this code no longer exists');
      return deps.auth.startSession(user, client, redeemed.provider);
    },

    async identities(userId: string) {
      return deps.repository.identitiesOf(userId);
    },

    async unlink(userId: string, providerName: string): Promise<void> {
      const outcome = await deps.repository.removeIdentity(userId, providerName);
      if (outcome === 'none') throw Problems.identityNotFound(`no identity from "${providerName}" is linked`);
      if (outcome === 'last')
        throw Problems.lastLoginMethod(
          'this is the only way to log in to this account; set a password or link another provider first',
        );
    },
  };
}

export type OidcService = ReturnType<typeof createOidcService>;
