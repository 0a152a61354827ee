// IAM's SimulatePrincipalPolicy, answered with local-aws's own evaluator (platform/iam-policy.ts):
// the principal's identity-based policies (a role's inline and attached ones, or a configured
// key's policy for a user) and the PolicyInputList, evaluated for each action on each resource with
// the context entries given — and only those: as IAM's simulator does, nothing is filled in for a
// key the request does not carry (aws:CurrentTime included), so a condition on it lists the key in
// MissingContextValues. Pure apart from the lookups it is given.
import {
  evaluate,
  type AuthorizationRequest,
  type ContextValue,
  type PolicyDocument,
  type PolicyStatement,
} from '../platform/iam-policy.js';
import type { XmlValue } from '../ec2/wire.js';

export type PolicySourceType =
  'user' | 'group' | 'role' | 'aws-managed' | 'user-managed' | 'resource' | 'none';

/** One policy taking part in a simulation, with the text its positions are counted in. */
export interface SimulatedPolicy {
  /** SourcePolicyId: the policy's name, or "PolicyInputList.N". */
  id: string;
  /** SourcePolicyType; undefined for the PolicyInputList (IAM names no type for those). */
  type?: PolicySourceType;
  document: PolicyDocument;
  /** The document's text, as stored or given (positions are counted in it). */
  text: string;
}

type Position = {
  Line: number;
  Column: number;
};

type MatchedStatement = {
  SourcePolicyId: string;
  SourcePolicyType?: PolicySourceType;
  StartPosition?: Position;
  EndPosition?: Position;
};

export type EvalDecision = 'allowed' | 'implicitDeny' | 'explicitDeny';

export interface SimulationResult {
  action: string;
  resource: string;
  decision: EvalDecision;
  matched: MatchedStatement[];
  missing: string[];
}

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/**
 * Where each statement of a policy's text starts and ends, as IAM reports it: 1-based lines, and
 * the column just past the statement's opening and closing braces (IAM's own examples: a statement
 * whose `{` is the 37th character of line 1 starts at column 38). Statements it cannot find get
 * no position.
 */
export function statementPositions(text: string): Array<{ start: Position; end: Position } | undefined> {
  const at = (offset: number): Position => {
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - (before.lastIndexOf('\n') + 1) + 2;
    return { Line: line, Column: column };
  };
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const skipString = () => {
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  /** Skips one JSON value, returning its [start, end] offsets (end: its last character). */
  const skipValue = (): [number, number] => {
    ws();
    const start = i;
    if (text[i] === '"') skipString();
    else if (text[i] === '{' || text[i] === '[') {
      let depth = 0;
      while (i < text.length) {
        const c = text[i]!;
        if (c === '"') {
          skipString();
          continue;
        }
        if (c === '{' || c === '[') depth++;
        if (c === '}' || c === ']') depth--;
        i++;
        if (depth === 0) break;
      }
    } else while (i < text.length && !/[,}\]\s]/.test(text[i]!)) i++;
    return [start, i - 1];
  };
  const spans: Array<[number, number]> = [];
  try {
    ws();
    if (text[i] !== '{') return [];
    i++;
    for (;;) {
      ws();
      if (text[i] !== '"') break;
      const keyStart = i;
      skipString();
      const key = JSON.parse(text.slice(keyStart, i)) as string;
      ws();
      i++; // ':'
      ws();
      if (key === 'Statement' && text[i] === '[') {
        i++;
        for (;;) {
          ws();
          if (text[i] === ']') break;
          spans.push(skipValue());
          ws();
          if (text[i] === ',') i++;
          else break;
        }
        break;
      }
      const span = skipValue();
      if (key === 'Statement') {
        spans.push(span);
        break;
      }
      ws();
      if (text[i] === ',') i++;
      else break;
    }
  } catch {
    return [];
  }
  return spans.map(([s, e]) => ({ start: at(s), end: at(e) }));
}

/** The condition keys a statement names, as written. */
function conditionKeys(s: PolicyStatement): string[] {
  return Object.values(s.Condition ?? {}).flatMap((block) => Object.keys(block));
}

const hasKey = (context: Record<string, ContextValue>, key: string) =>
  Object.keys(context).some((k) => k.toLowerCase() === key.toLowerCase());

/** Evaluates one action on one resource against the policies, as IAM's simulator reports it. */
export function simulateOne(
  policies: readonly SimulatedPolicy[],
  action: string,
  resource: string,
  context: Record<string, ContextValue>,
): SimulationResult {
  const request: AuthorizationRequest = { action, resource, context };
  const allows: MatchedStatement[] = [];
  const denies: MatchedStatement[] = [];
  const missing: string[] = [];
  for (const policy of policies) {
    const positions = statementPositions(policy.text);
    asList(policy.document.Statement).forEach((s, index) => {
      // Whether the statement is about this action and resource at all (its condition aside).
      const { Condition: _condition, ...bare } = s;
      if (evaluate([{ Statement: bare }], request).decision === 'implicit-deny') return;
      for (const key of conditionKeys(s))
        if (!hasKey(context, key) && !missing.some((m) => m.toLowerCase() === key.toLowerCase()))
          missing.push(key);
      if (evaluate([{ Statement: s }], request).decision === 'implicit-deny') return;
      const at = positions[index];
      const matched: MatchedStatement = {
        SourcePolicyId: policy.id,
        ...(policy.type !== undefined ? { SourcePolicyType: policy.type } : {}),
        ...(at ? { StartPosition: at.start, EndPosition: at.end } : {}),
      };
      (s.Effect === 'Deny' ? denies : allows).push(matched);
    });
  }
  const decision: EvalDecision =
    denies.length > 0 ? 'explicitDeny' : allows.length > 0 ? 'allowed' : 'implicitDeny';
  return {
    action,
    resource,
    decision,
    matched: decision === 'explicitDeny' ? denies : decision === 'allowed' ? allows : [],
    missing,
  };
}

/** A context entry's values as the evaluator reads them: a list type is a set, others one value. */
export function contextValue(type: string | undefined, values: string[]): ContextValue {
  if (type?.endsWith('List') || values.length !== 1) return values;
  return values[0]!;
}

/** One EvaluationResult member; with resources named, the ResourceSpecificResults carry the detail. */
export function evaluationResultXml(result: SimulationResult, resourcesNamed: boolean): XmlValue {
  const matched = result.matched.map((m): XmlValue => ({ ...m }));
  if (!resourcesNamed)
    return {
      EvalActionName: result.action,
      EvalResourceName: result.resource,
      EvalDecision: result.decision,
      MatchedStatements: matched,
      MissingContextValues: result.missing,
    };
  return {
    EvalActionName: result.action,
    EvalResourceName: result.resource,
    EvalDecision: result.decision,
    MatchedStatements: matched,
    MissingContextValues: [],
    ResourceSpecificResults: [
      {
        EvalResourceName: result.resource,
        EvalResourceDecision: result.decision,
        MatchedStatements: matched,
        MissingContextValues: result.missing,
      },
    ],
  };
}
