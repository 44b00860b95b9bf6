import { type TSchema, Type } from '@sinclair/typebox';

export const ProblemRef = Type.Ref('Problem');

/** Problem responses for the given statuses. */
export function problems(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ProblemRef]));
}

export const LOGIN_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{2,63}$';

export const Login = Type.String({
  pattern: LOGIN_PATTERN,
  description: '3-64 characters: letters, digits, ".", "_" and "-", starting with a letter or digit',
  examples: ['foo'],
});
export const Email = Type.String({ format: 'email', maxLength: 254, examples: ['foo@bar.com'] });
/** Length rules (8..128) are checked by the password policy, with a clearer message than a schema error. */
export const Password = Type.String({ minLength: 1, maxLength: 1024, examples: ['correct horse battery'] });

export const TokenPair = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
});

export const UserView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  login: Type.String(),
  email: Type.String(),
});

export const bearerSecurity = [{ bearerAuth: [] }];
