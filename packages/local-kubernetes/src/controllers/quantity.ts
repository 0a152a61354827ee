// Resource quantities as the scheduler compares them: cpu in millicores, memory in bytes.
const SUFFIXES: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
};

/** The value of a quantity string ("500m" → 0.5, "1Gi" → 1073741824); NaN when it is not one. */
export function parseQuantity(quantity: unknown): number {
  if (typeof quantity === 'number') return quantity;
  if (typeof quantity !== 'string') return NaN;
  const match = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(
    quantity.trim(),
  );
  if (!match) return NaN;
  return Number(match[1]) * SUFFIXES[match[2] ?? '']!;
}

export const milliCpu = (quantity: unknown) => Math.round((parseQuantity(quantity) || 0) * 1000);
export const bytes = (quantity: unknown) => Math.round(parseQuantity(quantity) || 0);
