// How ECS reads a container's `secrets[].valueFrom` (and `repositoryCredentials.credentialsParameter`):
// a Secrets Manager secret ARN — full (with its 6-character suffix) or partial, optionally followed
// by `:<json-key>:<version-stage>:<version-id>` — or an SSM parameter, by ARN or by name (then in the
// task's account and region). The Secrets Manager and SSM modules resolve these; ECS asks them
// before a task starts, as its agent does, and stops the task when one cannot be read.

/** What a valueFrom names, parsed (pure). */
export type SecretValueFrom =
  | {
      service: 'secretsmanager';
      /** The secret ARN as written, without the JSON key / stage / version id parts. */
      secretArn: string;
      accountId: string;
      region: string;
      jsonKey?: string;
      versionStage?: string;
      versionId?: string;
    }
  | {
      service: 'ssm';
      /** `/name` or `name`, as IAM's parameter ARN form puts it after `parameter`. */
      name: string;
      accountId: string;
      region: string;
    };

/** What the owning module found for a valueFrom. */
export interface SecretResolution {
  /** The resource ARN IAM evaluates reading it against (the secret's full ARN, the parameter's ARN). */
  arn: string;
  /** Undefined when it exists; otherwise the error the agent reports (AWS's words). */
  missing?: string;
  /** The customer managed KMS key that encrypts it, when one is set (kms:Decrypt is then needed). */
  kmsKeyId?: string;
}

/** Resolves a parsed valueFrom in the owning module's state. */
export type SecretResolver = (ref: SecretValueFrom) => SecretResolution;

/**
 * Parses a valueFrom in the task's account and region (pure); undefined when it is neither form.
 * `arn:aws:secretsmanager:<region>:<account>:secret:<name>[:<json-key>:<stage>:<version-id>]`,
 * `arn:aws:ssm:<region>:<account>:parameter/<name>`, or a parameter name.
 */
export function parseValueFrom(
  valueFrom: string,
  accountId: string,
  region: string,
): SecretValueFrom | undefined {
  const sm =
    /^(arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):(\d{12}):secret:[^:]+)(?::([^:]*):([^:]*):([^:]*))?$/.exec(
      valueFrom,
    );
  if (sm) {
    const [, secretArn = '', smRegion = '', smAccount = '', jsonKey, versionStage, versionId] = sm;
    return {
      service: 'secretsmanager',
      secretArn,
      accountId: smAccount,
      region: smRegion,
      ...(jsonKey ? { jsonKey } : {}),
      ...(versionStage ? { versionStage } : {}),
      ...(versionId ? { versionId } : {}),
    };
  }
  const ssmArn = /^arn:aws[a-z-]*:ssm:([a-z0-9-]+):(\d{12}):parameter(\/.+)$/.exec(valueFrom);
  if (ssmArn) return { service: 'ssm', region: ssmArn[1]!, accountId: ssmArn[2]!, name: ssmArn[3]! };
  if (/^[A-Za-z0-9_.\-/]{1,2048}$/.test(valueFrom))
    return { service: 'ssm', name: valueFrom, accountId, region };
  return undefined;
}
