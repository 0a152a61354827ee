// Pod template hashes as kube-controller-manager computes them: FNV-32a over the template (Go hashes
// its spew dump of the struct; we hash canonical JSON, so names differ from a real cluster's but are
// just as stable), the collision count appended when set, and the decimal sum encoded with
// rand.SafeEncodeString — each digit mapped into "bcdfghjklmnpqrstvwxz2456789" — which is why real
// hashes only use the characters 4-9, b, c, d and f.
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with keys sorted at every level, undefined members dropped. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function fnv32a(text: string, seed = 0x811c9dc5): number {
  let hash = seed;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function safeEncodeString(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += SAFE_ALPHABET[text.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** controller.ComputeHash: the pod-template-hash of a template (and a collision count). */
export function computeHash(template: unknown, collisionCount?: number): string {
  let text = canonicalJson(template);
  if (collisionCount !== undefined && collisionCount !== null) text += String(collisionCount);
  return safeEncodeString(String(fnv32a(text)));
}
