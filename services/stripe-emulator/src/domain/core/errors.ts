/**
 * Errors in Stripe's shape: `{ error: { type, code, message, param, ... } }`
 * with Stripe's HTTP statuses. Domain code throws these; one handler renders them.
 */
export type StripeErrorType =
  | 'invalid_request_error'
  | 'card_error'
  | 'idempotency_error'
  | 'api_error'
  | 'authentication_error';

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  doc_url?: string;
  request_log_url?: string;
  [extra: string]: unknown;
}

export class StripeApiError extends Error {
  readonly statusCode: number;
  readonly body: StripeErrorBody;

  constructor(statusCode: number, body: StripeErrorBody) {
    super(body.message);
    this.name = 'StripeApiError';
    this.statusCode = statusCode;
    this.body = body;
  }
}

const DOCS = 'https://stripe.com/docs/error-codes';

export function invalidRequest(message: string, param?: string, code?: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'invalid_request_error',
    message,
    ...(code ? { code, doc_url: `${DOCS}/${code.replaceAll('_', '-')}` } : {}),
    ...(param ? { param } : {}),
  });
}

export function missingParam(param: string): StripeApiError {
  return invalidRequest(`Missing required param: ${param}.`, param, 'parameter_missing');
}

export function invalidParam(param: string, message: string, code?: string): StripeApiError {
  return invalidRequest(message, param, code);
}

export function unknownParam(param: string): StripeApiError {
  return invalidRequest(`Received unknown parameter: ${param}`, param, 'parameter_unknown');
}

export function resourceMissing(kind: string, id: string, param = 'id'): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    doc_url: `${DOCS}/resource-missing`,
    message: `No such ${kind}: '${id}'`,
    param,
  });
}

export function cardError(
  code: string,
  declineCode: string | undefined,
  message: string,
  extra = {},
): StripeApiError {
  return new StripeApiError(402, {
    type: 'card_error',
    code,
    ...(declineCode ? { decline_code: declineCode } : {}),
    doc_url: `${DOCS}/${code.replaceAll('_', '-')}`,
    message,
    ...extra,
  });
}

export function idempotencyError(key: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'idempotency_error',
    message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
  });
}

export function authenticationError(message: string): StripeApiError {
  // Stripe answers 401 with type invalid_request_error; the SDK maps the status to StripeAuthenticationError.
  return new StripeApiError(401, { type: 'invalid_request_error', message });
}

export function notEmulated(method: string, url: string): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    message: `Unrecognized request URL (${method}: ${url}). The tollgate Stripe emulator does not emulate this endpoint; see services/stripe-emulator/README.md for what it covers.`,
  });
}
