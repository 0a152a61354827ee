// Protocol framing as AWS does it: AWS JSON 1.1 and AWS Query (XML responses), errors included
// (REST-JSON's framing is in rest-json.ts),
// and the mapping of SigV4 failures and injected faults to each protocol's error codes.
import type { ServerResponse } from 'node:http';
import { AwsError } from '../service.js';
import type { FaultKind } from './faults.js';
import type { SigV4ErrorKind } from './sigv4.js';
import { sendRestJsonError } from './rest-json.js';

/**
 * 'ec2' is EC2's flavour of Query: same requests and error codes, its own response framing.
 * 'rest-json' (EKS) has JSON 1.1's error codes, in a header, with 403 for every refusal.
 */
export type Protocol = 'json1.1' | 'query' | 'ec2' | 'rest-json';

// ---------------------------------------------------------------------------------------------
// AWS JSON 1.1

/**
 * JSON as AWS JSON 1.1 writes it. Timestamps are epoch seconds (numbers, fractional allowed):
 * Date values anywhere in the output are converted, so operations may return Dates.
 */
export function toAwsJson(value: unknown): string {
  return JSON.stringify(value ?? {}, function (this: Record<string, unknown>, key, v: unknown) {
    const original = this[key];
    if (original instanceof Date) return original.getTime() / 1000;
    return v;
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  const payload = toAwsJson(body);
  res.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(payload),
    'x-amzn-RequestId': requestId,
  });
  res.end(payload);
}

export function sendJsonError(res: ServerResponse, error: AwsError, requestId: string): void {
  const payload = toAwsJson({ ...error.members, __type: error.code, message: error.message });
  res.writeHead(error.statusCode, {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(payload),
    'x-amzn-RequestId': requestId,
    'x-amzn-ErrorType': error.code,
  });
  res.end(payload);
}

// ---------------------------------------------------------------------------------------------
// AWS Query (XML)

export function xmlEscape(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** `<Name>escaped value</Name>` for each defined member, in order: a helper for Query services. */
export function xmlMembers(members: Record<string, string | number | boolean | undefined>): string {
  return Object.entries(members)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
    .join('');
}

export function queryNamespace(signingName: string, version: string): string {
  return `https://${signingName}.amazonaws.com/doc/${version}/`;
}

export function sendQuery(
  res: ServerResponse,
  action: string,
  resultXml: string,
  xmlns: string,
  requestId: string,
): void {
  const payload =
    `<${action}Response xmlns="${xmlns}">\n` +
    `  <${action}Result>${resultXml}</${action}Result>\n` +
    `  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n` +
    `</${action}Response>\n`;
  res.writeHead(200, {
    'Content-Type': 'text/xml',
    'Content-Length': Buffer.byteLength(payload),
    'x-amzn-RequestId': requestId,
  });
  res.end(payload);
}

export function sendQueryError(res: ServerResponse, error: AwsError, xmlns: string, requestId: string): void {
  const type = error.statusCode >= 500 ? 'Receiver' : 'Sender';
  const payload =
    `<ErrorResponse xmlns="${xmlns}">\n` +
    `  <Error>\n    <Type>${type}</Type>\n    <Code>${xmlEscape(error.code)}</Code>\n` +
    `    <Message>${xmlEscape(error.message)}</Message>\n  </Error>\n` +
    `  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`;
  res.writeHead(error.statusCode, {
    'Content-Type': 'text/xml',
    'Content-Length': Buffer.byteLength(payload),
    'x-amzn-RequestId': requestId,
  });
  res.end(payload);
}

/** EC2's answer: the members straight under <{Action}Response>, after a lower-case <requestId>. */
export function sendEc2Query(
  res: ServerResponse,
  action: string,
  resultXml: string,
  xmlns: string,
  requestId: string,
): void {
  const payload =
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${xmlns}">\n` +
    `  <requestId>${requestId}</requestId>\n  ${resultXml}\n</${action}Response>\n`;
  res.writeHead(200, {
    'Content-Type': 'text/xml;charset=UTF-8',
    'Content-Length': Buffer.byteLength(payload),
    'x-amzn-RequestId': requestId,
  });
  res.end(payload);
}

/** EC2's error: <Response><Errors><Error>, no namespace and no Type, and <RequestID> in capitals. */
export function sendEc2Error(res: ServerResponse, error: AwsError, requestId: string): void {
  const payload =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlEscape(error.code)}</Code>` +
    `<Message>${xmlEscape(error.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>\n`;
  res.writeHead(error.statusCode, {
    'Content-Type': 'text/xml;charset=UTF-8',
    'Content-Length': Buffer.byteLength(payload),
    'x-amzn-RequestId': requestId,
  });
  res.end(payload);
}

export function sendError(
  res: ServerResponse,
  protocol: Protocol,
  error: AwsError,
  requestId: string,
  xmlns = queryNamespace('sts', '2011-06-15'),
): void {
  if (protocol === 'json1.1') sendJsonError(res, error, requestId);
  else if (protocol === 'rest-json') sendRestJsonError(res, error, requestId);
  else if (protocol === 'ec2') sendEc2Error(res, error, requestId);
  else sendQueryError(res, error, xmlns, requestId);
}

// ---------------------------------------------------------------------------------------------
// Errors the server itself raises, in each protocol's terms

const AUTH_CODES: Record<SigV4ErrorKind, { json: [string, number]; query: [string, number] }> = {
  missing: { json: ['MissingAuthenticationTokenException', 403], query: ['MissingAuthenticationToken', 403] },
  incomplete: { json: ['IncompleteSignatureException', 400], query: ['IncompleteSignature', 400] },
  'unknown-key': { json: ['UnrecognizedClientException', 400], query: ['InvalidClientTokenId', 403] },
  'bad-token': { json: ['UnrecognizedClientException', 400], query: ['InvalidClientTokenId', 403] },
  mismatch: { json: ['InvalidSignatureException', 403], query: ['SignatureDoesNotMatch', 403] },
  expired: { json: ['InvalidSignatureException', 403], query: ['SignatureDoesNotMatch', 403] },
  scope: { json: ['InvalidSignatureException', 403], query: ['SignatureDoesNotMatch', 403] },
  'expired-token': { json: ['ExpiredTokenException', 400], query: ['ExpiredToken', 403] },
};

export function authError(kind: SigV4ErrorKind, message: string, protocol: Protocol): AwsError {
  const [code, jsonStatus] =
    protocol === 'json1.1' || protocol === 'rest-json' ? AUTH_CODES[kind].json : AUTH_CODES[kind].query;
  // REST-JSON services (behind API Gateway's front door) refuse every credential with a 403.
  const status = protocol === 'rest-json' && jsonStatus === 400 && kind !== 'incomplete' ? 403 : jsonStatus;
  const text =
    kind === 'missing' && protocol === 'query' ? 'Request is missing Authentication Token' : message;
  return new AwsError(code, text, status);
}

export function faultError(
  kind: Exclude<FaultKind, 'latency' | 'drop'>,
  protocol: Protocol,
  override: { code?: string; message?: string; status?: number } = {},
): AwsError {
  const defaults: Record<typeof kind, [string, string, number]> = {
    throttling:
      protocol === 'ec2'
        ? ['RequestLimitExceeded', 'Request limit exceeded.', 503]
        : protocol === 'rest-json'
          ? ['ThrottlingException', 'Rate exceeded', 429]
          : [protocol === 'json1.1' ? 'ThrottlingException' : 'Throttling', 'Rate exceeded', 400],
    'internal-error': [
      'InternalFailure',
      'The request processing has failed because of an unknown error, exception or failure.',
      500,
    ],
    unavailable: [
      'ServiceUnavailable',
      'The request has failed due to a temporary failure of the server.',
      503,
    ],
  };
  const [code, message, status] = defaults[kind];
  return new AwsError(override.code ?? code, override.message ?? message, override.status ?? status);
}

export function internalFailure(): AwsError {
  return new AwsError(
    'InternalFailure',
    'The request processing has failed because of an unknown error, exception or failure.',
    500,
  );
}

/**
 * IAM's refusal in each protocol's terms: JSON 1.1 AccessDeniedException (400), Query AccessDenied
 * (403), and EC2's UnauthorizedOperation (403), whose message leads with its own sentence and names
 * no resource for actions that have none.
 */
export function accessDenied(protocol: Protocol, message: string): AwsError {
  if (protocol === 'json1.1') return new AwsError('AccessDeniedException', message, 400);
  if (protocol === 'rest-json') return new AwsError('AccessDeniedException', message, 403);
  if (protocol === 'ec2') {
    return new AwsError(
      'UnauthorizedOperation',
      `You are not authorized to perform this operation. ${message.replace(' on resource: * ', ' ')}`,
      403,
    );
  }
  return new AwsError('AccessDenied', message, 403);
}
