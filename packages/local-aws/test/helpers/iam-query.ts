// An IAM call through the Query protocol, signed (no IAM client among the SDKs installed here): how
// tests set up roles, policies and OIDC providers in local-aws.
import { signedRequest } from './signing.js';

export async function iamQuery(
  endpoint: string,
  action: string,
  params: Record<string, string>,
  credentials?: { accessKeyId: string; secretAccessKey: string },
): Promise<void> {
  const res = await signedRequest({
    endpoint,
    service: 'iam',
    ...(credentials ? { credentials } : {}),
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams({ Action: action, Version: '2010-05-08', ...params }).toString(),
  });
  if (res.status !== 200) throw new Error(`IAM ${action}: ${res.status} ${res.body}`);
}
